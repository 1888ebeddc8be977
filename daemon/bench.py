"""`latentvj bench`: the live engine on generated audio, and the figures that matter on stage.

The audio is silence with a short click every 1.37 s (after a 2 s lead-in), played at
real-time pace like a sound card. Audio->frame latency is the wall time from the moment a click
is due at the input to the first published frame that differs from the one before it; the
frames before each click must have been still, so the decoder's settling is not counted.
"""
from __future__ import annotations

import time

import numpy as np
import torch

from .audio.sources import PacedSource
from .config import RunConfig
from .control.state import Control
from .engine import LiveEngine
from .engine_options import EngineOptions
from .run_stats import STAT_CAPACITY
from .show.runtime import RuntimeOptions, ShowRuntime
from .sinks import make_sink

LEAD_IN_S = 2.0
CLICK_EVERY_S = 1.37  # not a multiple of the hop or the frame, so clicks land at all phases
STILL_FRAMES = 3  # a click counts only if this many frames before it were unchanged
CHANGE_LEVEL = 0.5  # mean absolute RGB change (0..255) that counts as "the frame changed"


def click_track(sample_rate: int, seconds: float) -> tuple[np.ndarray, list[float]]:
    n = int(seconds * sample_rate)
    audio = np.zeros((n, 1), dtype=np.float32)
    burst = (np.random.default_rng(1).standard_normal(int(0.005 * sample_rate)) * 0.8).astype(np.float32)
    times = list(np.arange(LEAD_IN_S, seconds - 0.5, CLICK_EVERY_S))
    for t in times:
        i = int(t * sample_rate)
        audio[i : i + len(burst), 0] = burst
    return audio, times


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
    """Render-thread observer: when did each frame differ from the one before?"""

    def __init__(self) -> None:
        self.prev: np.ndarray | None = None
        self.changed_at: list[float] = []  # wall time of each changed frame
        self.still_since: list[float] = []  # for each changed frame, when the stillness before it began
        self._still_from = 0.0
        self._still_count = 0

    def __call__(self, index: int, frame: np.ndarray, done: float) -> None:
        rgb = frame[..., :3]
        if self.prev is None:
            self.prev = rgb.astype(np.int16)
            return
        diff = float(np.abs(rgb.astype(np.int16) - self.prev).mean())
        self.prev[...] = rgb
        if diff > CHANGE_LEVEL:
            if self._still_count >= STILL_FRAMES:
                self.changed_at.append(done)
                self.still_since.append(self._still_from)
            self._still_count = 0
        else:
            if self._still_count == 0:
                self._still_from = done
            self._still_count += 1


def run_bench(cfg: RunConfig, opts: RuntimeOptions, seconds: float = 10.0) -> str:
    rt = ShowRuntime.load(cfg.show, opts)
    model_delay = encoder_delay_hops(rt)
    audio, clicks = click_track(rt.sample_rate, seconds)
    source = PacedSource("clicks", audio, rt.sample_rate, loop=False)
    watcher = ChangeWatcher()
    rt.decoder.profile = True  # split the network's time from the RGBA conversion and copy
    sinks = [make_sink(spec) for spec in (cfg.sink or ["null"])]
    engine = LiveEngine(source, rt, Control(rt.latent_dim), sinks, None,
                        EngineOptions.from_config(cfg), opts,
                        observer=watcher)
    engine.start()
    engine.pump_until(deadline=time.monotonic() + seconds + 1.0)
    engine.stop()
    s = engine.stats
    latencies = []
    for t in clicks:
        due = source.start_time + t
        # the first change after the click whose still period began before the click
        after = [c for c, st in zip(watcher.changed_at, watcher.still_since) if c >= due - 0.2 and st <= due]
        if after:
            latencies.append((after[0] - due) * 1e3)
    f50, f95, f99 = s.percentiles("frame_ms")
    d50, _, d99 = s.percentiles("decode_ms")
    r50, _, r99 = s.percentiles("rgba_ms")
    enc = engine.encode_ms[: min(engine.encoded_hops, STAT_CAPACITY)]
    hop_ms = rt.period * 1e3
    target = hop_ms + 1e3 / cfg.fps
    lat = np.array(latencies) if latencies else np.array([np.nan])
    lines = [
        f"bench: {rt.describe()}",
        f"       device {opts.device}, {torch.get_num_threads()} torch threads, {cfg.fps:g} fps target, "
        f"{seconds:g} s of clicks at real-time pace",
        f"fps achieved         {s.fps():.2f}  (published {s.published}, dropped {s.dropped}, late latents {s.late})",
        f"frame time ms        p50 {f50:.2f}  p95 {f95:.2f}  p99 {f99:.2f}  (budget {1e3 / cfg.fps:.1f})",
        f"encoder ms per hop   mean {enc.mean():.2f}  p99 {np.percentile(enc, 99):.2f}  "
        f"(hop {hop_ms:.1f} ms: {hop_ms / max(enc.mean(), 1e-9):.0f}x real time)",
        f"decoder ms per frame p50 {d50:.2f}  p99 {d99:.2f}  (of which to RGBA uint8 + copy to host: "
        f"p50 {r50:.2f}  p99 {r99:.2f}; {rt.decoder.width}x{rt.decoder.height})",
        *engine.sinks.report(),  # each sink writes on its own thread
        f"audio->frame latency {len(latencies)}/{len(clicks)} clicks seen: median {np.median(lat):.1f} ms, "
        f"max {lat.max():.1f} ms  (target <= hop + frame = {target:.1f} ms)",
        f"   of which          the encoder model's own delay {model_delay:.1f} hops ({model_delay * hop_ms:.0f} ms); "
        f"the daemon's fixed offset {engine.latency * 1e3:.1f} ms ({cfg.interpolation} interpolation)",
    ]
    return "\n".join(lines)
