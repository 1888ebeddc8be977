"""`latentvj bench`: the live engine on generated audio, and the figures that matter on stage.

The audio is silence with a short click every 1.37 s (after a 2 s lead-in), played at
real-time pace like a sound card. Which frame a click first changes, and by how much against the
picture's own motion, comes from render's simulated clock: the same audio with and without the
click (click_effect.py). The live run then gives that frame's wall time: audio->frame latency is
from the moment the click is due at the input to the moment that frame was published, and the
live frame must equal render's (it does when no latent was late). Per conditioning stream, when
its part of the decoder's input first moved after the click (these parts are still between
clicks; the music stream should move a frame or so after it, RAVE a hop later).
"""
from __future__ import annotations

import socket
import threading
import time

import numpy as np

from ..audio.sources import PacedSource
from ..config import RunConfig
from ..control.osc_out import OscOut
from ..control.state import Control
from ..engine.engine_status import EngineStatus
from ..engine.live_engine import LiveEngine
from ..engine.engine_options import EngineOptions
from ..engine.run_stats import STAT_CAPACITY
from ..engine.thread_budget import ThreadBudget
from ..show.runtime import RuntimeOptions, ShowRuntime
from ..sinks import make_sink
from .click_effect import click_audio, click_effects, click_times, summary

MEASURED_CLICKS = 10  # clicks whose effect is measured; a longer run measures only its other figures over the rest
STILL_FRAMES = 3  # a stream's move counts only if this many frames before it were unchanged
STREAM_CHANGE_LEVEL = 0.01  # mean absolute change of a stream's standardised input that counts as moved


def encoder_delay_hops(rt: ShowRuntime) -> float:
    """How many hops after the hop holding a click the encoder's latent first moves (the model's
    own delay: streaming RAVE aligns its cached convolutions by delaying), averaged over phases."""
    hop, delays = rt.hop, []
    burst = np.random.default_rng(1).standard_normal(int(0.005 * rt.sample_rate)).astype(np.float32) * 0.8
    for phase in (0.1, 0.5, 0.9):
        x = np.zeros(hop * 32, dtype=np.float32)
        at = 20 * hop + int(phase * (hop - len(burst)))
        x[at : at + len(burst)] = burst
        rt.reset()
        z = np.stack([rt.encoder.encode_hop(x[i : i + hop]).copy() for i in range(0, len(x), hop)])
        moved = np.abs(np.diff(z, axis=0)).sum(axis=1) > 1e-3  # moved[k]: latent k+1 differs from k
        delays.append(int(np.argmax(moved[19:])))  # moved[19]: the click's own latent (20) moved: delay 0
    rt.reset()
    return float(np.mean(delays))


class ChangeWatcher:
    """When did a per-frame array (a stream's part of the decoder input) differ from the frame
    before's by more than `level` (mean absolute difference)?"""

    def __init__(self, level: float = STREAM_CHANGE_LEVEL) -> None:
        self.level = level
        self.prev: np.ndarray | None = None
        self.changed_at: list[float] = []  # wall time of each changed frame
        self.still_since: list[float] = []  # for each changed frame, when the stillness before it began
        self._still_from = 0.0
        self._still_count = 0

    def see(self, x: np.ndarray, done: float) -> None:
        if self.prev is None:
            self.prev = x.astype(np.float32)
            return
        diff = float(np.abs(x - self.prev).mean())
        self.prev[...] = x
        if diff > self.level:
            if self._still_count >= STILL_FRAMES:
                self.changed_at.append(done)
                self.still_since.append(self._still_from)
            self._still_count = 0
        else:
            if self._still_count == 0:
                self._still_from = done
            self._still_count += 1

    def delays(self, clicks: list[float]) -> list[float]:
        """ms from each click to the first change after it whose still period began before it."""
        out = []
        for due in clicks:
            after = [c for c, st in zip(self.changed_at, self.still_since) if c >= due - 0.2 and st <= due]
            if after:
                out.append((after[0] - due) * 1e3)
        return out


def _summary(ms: list[float], total: int) -> str:
    if not ms:
        return f"0/{total} clicks seen"
    return f"{len(ms)}/{total} clicks seen: median {np.median(ms):.1f} ms, max {np.max(ms):.1f} ms"


class OnsetListener:
    """Records when each /latentvj/onset/* datagram arrives on a loopback socket."""

    def __init__(self) -> None:
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.settimeout(0.1)
        self.arrived: list[float] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="bench-onsets", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                data = self.sock.recv(512)
            except socket.timeout:
                continue
            if data.startswith(b"/latentvj/onset/"):
                self.arrived.append(time.monotonic())

    def close(self) -> None:
        self._stop.set()
        self._thread.join(timeout=1.0)
        self.sock.close()


def first_after(times: list[float], events: list[float], window: float = 0.2) -> list[float]:
    """ms from each time to the first event within `window` after it."""
    out = []
    for t in times:
        later = [e for e in events if t - 0.002 <= e < t + window]
        if later:
            out.append((later[0] - t) * 1e3)
    return out


def music_cost_alone(rt: ShowRuntime, audio: np.ndarray) -> float:
    """CPU us per fine hop of the music stream on its own (no decoder beside it), over `audio`."""
    hop = rt.music.hop
    n = min(len(audio) // hop, 2000)
    t = time.thread_time()
    for k in range(n):
        rt.music.encode_hop(audio[k * hop : (k + 1) * hop, 0])
    rt.music.reset()
    return (time.thread_time() - t) / max(n, 1) * 1e6


def run_bench(cfg: RunConfig, opts: RuntimeOptions, budget: ThreadBudget, seconds: float = 10.0) -> str:
    rt = ShowRuntime.load(cfg.show, opts)
    engine_opts = EngineOptions.from_config(cfg)
    model_delay = encoder_delay_hops(rt)
    clicks = click_times(seconds)
    audio = click_audio(rt.sample_rate, seconds, clicks)
    alone_us = music_cost_alone(rt, audio)
    # render's pairs, before the live run: the first MEASURED_CLICKS (each pair renders up to its click)
    effects = click_effects(rt, engine_opts, seconds, clicks[:MEASURED_CLICKS])
    wanted = {e.frame: e for e in effects if e.visible}
    live_at: dict[int, tuple[float, bool]] = {}  # frame -> (published, equal to render's)
    source = PacedSource("clicks", audio, rt.sample_rate, loop=False)
    streams = {stream.kind: (sl, ChangeWatcher()) for stream, sl in rt.conditioning.slices()}

    def observe(index: int, frame: np.ndarray, done: float, status: EngineStatus) -> None:
        e = wanted.get(index)
        if e is not None:
            live_at[index] = (done, bool(np.array_equal(frame[..., :3], e.picture)))
        for sl, w in streams.values():
            w.see(status.conditioning[sl], done)

    rt.decoder.profile = True  # split the network's time from the RGBA conversion and copy
    sinks = [make_sink(spec, budget.h264) for spec in (cfg.sink or ["null"])]
    listener = OnsetListener()
    osc = OscOut([listener.sock.getsockname()], cfg.fps, 0, 0, 0, onset_events=True)
    engine = LiveEngine(source, rt, Control(rt.latent_dim), sinks, osc, engine_opts, opts, observer=observe)
    engine.start()
    engine.pump_until(deadline=time.monotonic() + seconds + 1.0)
    engine.stop()
    listener.close()
    onset_ms = np.array(first_after([source.start_time + t for t in clicks], listener.arrived) or [np.nan])
    counts = engine.status().encoder
    music = engine.tally.music_ms[: min(counts.music_hops, STAT_CAPACITY)]
    music_share = music.mean() / (rt.music_period * 1e3) * 100 if len(music) else float("nan")
    s = engine.stats
    dues = [source.start_time + t for t in clicks]
    live = [(live_at[e.frame][0] - source.start_time - e.due) * 1e3 for e in wanted.values() if e.frame in live_at]
    agree = sum(live_at[j][1] for j in live_at)
    f50, f95, f99 = s.percentiles("frame_ms")
    d50, _, d99 = s.percentiles("decode_ms")
    r50, _, r99 = s.percentiles("rgba_ms")
    enc = engine.tally.encode_ms[: min(counts.hops, STAT_CAPACITY)]
    hop_ms = rt.period * 1e3
    lines = [
        f"bench: {rt.describe()}",
        f"       device {opts.device}, {cfg.fps:g} fps target, {seconds:g} s of clicks at real-time pace",
        f"       {budget.describe()}",
        f"fps achieved         {s.fps():.2f}  (published {s.published}, dropped {s.dropped}, late latents {s.late})",
        f"frame time ms        p50 {f50:.2f}  p95 {f95:.2f}  p99 {f99:.2f}  (budget {1e3 / cfg.fps:.1f})",
        f"encoder ms per hop   mean {enc.mean():.2f}  p99 {np.percentile(enc, 99):.2f}  "
        f"(hop {hop_ms:.1f} ms: {hop_ms / max(enc.mean(), 1e-9):.0f}x real time)",
        f"decoder ms per frame p50 {d50:.2f}  p99 {d99:.2f}  (of which to RGBA uint8 + copy to host: "
        f"p50 {r50:.2f}  p99 {r99:.2f}; {rt.decoder.width}x{rt.decoder.height})",
        *engine.sinks.report(),  # each sink writes on its own thread
        f"click -> picture     {summary(effects)}  (render: the same audio with and without each click)",
        f"audio->frame latency {_summary(live, len(effects))}  (click due at the input -> that frame published, "
        f"live; {agree}/{len(live_at)} of those frames equal to render's)",
        *(f"   {kind + ' stream':<17} {_summary(w.delays(dues), len(clicks))}  (click -> its part of the decoder "
          f"input moved; offset {(engine.fast_latency if kind == 'music' else engine.status().latency_s) * 1e3:.1f} ms)"
          for kind, (_, w) in streams.items()),
        f"   of which          the encoder model's own delay {model_delay:.1f} hops ({model_delay * hop_ms:.0f} ms); "
        f"the encoder clock's offset {engine.status().latency_s * 1e3:.1f} ms ({cfg.interpolation} interpolation), "
        f"the music stream's {engine.fast_latency * 1e3:.1f} ms",
        f"measured latency     p50 {s.percentiles('latency_ms', (50,))[0]:.1f} ms (publish - capture of the newest "
        f"audio the picture read, every frame; what /latentvj/status reports)",
        f"click->/latentvj/onset {np.sum(np.isfinite(onset_ms))}/{len(clicks)} clicks: median {np.median(onset_ms):.1f} ms, "
        f"max {np.max(onset_ms):.1f} ms  (the music stream: fine hop {rt.music.hop} = {rt.music_period * 1e3:.1f} ms, "
        f"sent from the encoder thread)",
        f"music analysis       {music.mean() * 1e3 if len(music) else float('nan'):.0f} us CPU per fine hop = "
        f"{music_share:.1f}% of one core beside the decoder; alone {alone_us:.0f} us = "
        f"{alone_us / (rt.music_period * 1e6) * 100:.1f}%; frames read it {engine.fast_latency * 1e3:.0f} ms after the sound",
    ]
    return "\n".join(lines)
