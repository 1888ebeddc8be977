"""`latentvj render --replay TAKE`: a recorded set through the same engine on a simulated clock.

At the recorded frame rate the schedule is the take's own: each frame at its recorded media
time, reading exactly as many latents from each clock as the live frame could (frames.bin), the
frames dropped live skipped as live skipped them, each show drawn from the frame the live
renderer took it and each control snapshot from the frame that first used it. The frames the
live run published come out again (tested), at the recorded size or, with --size, decoded at
each show's own size and resized on the device (show/upscale.py; Lanczos-3 by default).

At another frame rate the frames follow the new grid: each stream is fed as far as the frame's
media time needs (as `render` does), shows and control snapshots come in at the first frame at
or after their recorded media time, so fades and morphs keep their length in seconds.

The audio side is replayed from the take's audio by position: each show starts hearing it at
the sample where the live encoder installed it, and audio the live engine lost is skipped there.
"""
from __future__ import annotations

import logging
import math
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace


from ..control.state import ControlValues
from ..record.control_json import values_from_json
from ..record.take import Take
from ..record.take_format import RecordError
from ..show.bundle import ShowError, show_digest
from ..show.runtime import RuntimeOptions, ShowRuntime
from ..sinks import FramePool, Sink, SinkSet, StreamInfo
from .engine_options import EngineOptions, latency_seconds, picture_offset
from .frame_maker import FrameMaker
from .offline import RenderResult
from .show_feed import ShowFeed

log = logging.getLogger("latentvj.replay")

PUSH = 256  # source frames pushed at a time while a stream is short of what a frame reads
AUDIO_AHEAD_S = 1.0  # how far the sinks' audio runs ahead of the frames


def engine_options(take: Take, fps: float | None) -> EngineOptions:
    e = take.header["engine"]
    channel = e.get("channel", -1)
    return EngineOptions(fps=float(fps or e["fps"]), latency_margin_ms=float(e["latency_margin_ms"]),
                         features_latency_ms=float(e["features_latency_ms"]), seed=int(e["seed"]),
                         channel=None if channel < 0 else int(channel), interpolate=bool(e["interpolate"]),
                         fade_mode=str(e["fade_mode"]))


def resolve_shows(take: Take, overrides: dict[str, str]) -> dict[int, str]:
    """serial -> the bundle to load for it: the recorded one if it is still the same (checksum),
    or the one `--show NAME=BUNDLE` gives for its name. RecordError naming the show otherwise."""
    unknown = set(overrides) - {e["show"] for e in take.shows().values()}
    if unknown:
        raise RecordError(f"--show {', '.join(sorted(unknown))}: the take plays no show of that name "
                          f"(it plays {', '.join(sorted({e['show'] for e in take.shows().values()}))})")
    specs: dict[int, str] = {}
    checked: dict[str, str] = {}
    for serial, ev in sorted(take.shows().items()):
        name = ev["show"]
        if name in overrides:
            specs[serial] = overrides[name]
            continue
        source = ev["source"]
        if source not in checked:
            try:
                _, digest = show_digest(source)
            except ShowError as exc:
                raise RecordError(f"show {name!r}: {exc}; give it with --show {name}=BUNDLE") from exc
            if digest != ev["checksum"]:
                raise RecordError(f"show {name!r}: {source} changed since the take was recorded (checksum "
                                  f"{digest[:12]}, recorded {ev['checksum'][:12]}); replay it with another bundle "
                                  f"by --show {name}=BUNDLE")
            checked[source] = digest
        specs[serial] = source
    return specs


class _Feed:
    """One installed show's audio side: its ShowFeed, fed from the take's audio from the sample
    where the live encoder installed it, each stream (latents, music) as far as a frame needs."""

    def __init__(self, rt: ShowRuntime, at: int, take: Take, channel: int | None, lost: list[tuple[int, int]]) -> None:
        self.rt = rt
        self.feed = ShowFeed(rt, take.sample_rate, channel)
        self.audio = take.audio
        self.cursor = {"latent": at, "music": at}
        self.lost = {"latent": [x for x in lost if x[0] >= at], "music": [x for x in lost if x[0] >= at]}
        self.end = math.inf  # a cut: the live encoder fed this show no further than the next install

    def _push(self, stream: str) -> bool:
        """One step of audio into one stream; False at the end of what it may hear."""
        pos = self.cursor[stream]
        lost = self.lost[stream]
        while lost and lost[0][0] <= pos:
            self.feed.skip(lost.pop(0)[1], latent=stream == "latent", music=stream == "music")
        limit = min(self.end, self.audio.samples, lost[0][0] if lost else math.inf)
        n = int(min(PUSH, limit - pos))
        if n <= 0:
            return False
        block = self.audio.read(pos, n)
        self.cursor[stream] = pos + n
        hops = self.feed.latent_hops(block) if stream == "latent" else self.feed.music_hops(block)
        for _ in hops:
            pass
        return True

    def reach(self, upto: tuple[int, int] | None, need: float, music_need: float) -> None:
        """Feed until the clocks hold `upto` latents (the recorded counts), or else until they cover
        media time `need` (encoder clock) and `music_need` (music clock)."""
        rt = self.rt
        if upto is not None:
            while rt.clock.count < upto[0] and self._push("latent"):
                pass
            while rt.music_clock.count < upto[1] and self._push("music"):
                pass
            return
        while rt.clock.newest_time() <= need and self._push("latent"):
            pass
        while rt.music_clock.newest_time() <= music_need and self._push("music"):
            pass


@dataclass
class _Slot:
    """One frame to draw: its index in the output, its recorded grid index, media time and (at the
    recorded rate) the latents each clock read."""
    out: int
    j: int
    media: float
    upto: tuple[int, int] | None
    fade_upto: tuple[int, int] | None


def _schedule(take: Take, fps: float, exact: bool) -> Iterator[_Slot]:
    frames = take.playable_frames()
    if not len(frames):
        return
    if exact:
        j0 = int(frames["frame"][0])
        for r in frames:
            fade = (int(r["fade_clock"]), int(r["fade_music"])) if r["fade_clock"] >= 0 else None
            yield _Slot(int(r["frame"]) - j0, int(r["frame"]), float(r["media"]),
                        (int(r["clock"]), int(r["music"])), fade)
        return
    first, last = float(frames["media"][0]), float(frames["media"][-1])
    for k in range(int(math.floor((last - first) * fps + 1e-9)) + 1):
        yield _Slot(k, k, first + k / fps, None, None)


def replay(take: Take, runtime_opts: RuntimeOptions, sinks: list[Sink], fps: float | None = None,
           overrides: dict[str, str] | None = None, progress: Callable[[int, int], None] | None = None) -> RenderResult:
    """Render `take` into `sinks`; runtime_opts.size: the output size (None: the recorded one)."""
    opts = engine_options(take, fps)
    exact = fps is None or abs(fps - take.fps) < 1e-9
    specs = resolve_shows(take, overrides or {})
    e = take.header["engine"]
    size = runtime_opts.size or (int(e["width"]), int(e["height"]))
    ropts = replace(runtime_opts, size=size)
    if take.header.get("runtime", {}).get("stochastic"):
        log.warning("the live run sampled RAVE's posterior (--stochastic): the replay's pictures differ from it")
    for note in take.notes:
        log.warning("%s", note)

    installs = [ev for ev in take.events if ev["kind"] in ("start", "install")]
    lost = [(ev["at"], ev["frames"]) for ev in take.events if ev["kind"] == "lost"]
    takes = [ev for ev in take.events if ev["kind"] == "take"]
    states = [ev for ev in take.events if ev["kind"] == "state"]
    feeds: dict[int, _Feed] = {}  # serial -> its audio side, while a frame may read it

    def install(ev: dict) -> _Feed:
        rt = ShowRuntime.load(specs[ev["serial"]], ropts)
        rt.reset()
        rt.new_clock(float(ev["t0"]), opts.interpolate, opts.seed)
        return _Feed(rt, int(ev["at"]), take, opts.channel, lost)

    start = take.start_event()
    feeds[start["serial"]] = first = install(start)
    w, h = size
    info = StreamInfo(w, h, opts.fps, audio_rate=take.sample_rate, audio_channels=take.audio.channels,
                      audio_delay=picture_offset(first.rt, opts))
    sink_set = SinkSet(sinks, info, opts.sink_queue, blocking=True)
    pool = FramePool(w, h, opts.sink_queue)
    maker = FrameMaker(first.rt, None, opts, size, pool.next())
    maker.serial = start["serial"]
    fast = opts.features_latency_ms / 1e3
    slots = list(_schedule(take, opts.fps, exact))
    t0 = float(start["t0"])
    sent_audio = 0
    sink_set.start()
    began = time.perf_counter()
    prev_j = None
    pending = [i for i in installs if i is not start]  # installs not yet reached by a take
    encoder_serial = start["serial"]  # the show the live encoder fed last
    try:
        for n_done, slot in enumerate(slots, 1):
            media = slot.media
            at_frame = (lambda ev: ev["frame"] <= slot.j) if exact else (lambda ev: ev["t"] <= media + 1e-9)
            while takes and at_frame(takes[0]):
                ev = takes.pop(0)
                while pending and pending[0]["serial"] <= ev["serial"]:  # the encoder's installs up to it
                    encoder_serial = _installed(pending.pop(0), feeds, encoder_serial)
                inst = next(i for i in installs if i["serial"] == ev["serial"])
                feed = feeds[ev["serial"]] = feeds.get(ev["serial"]) or install(inst)
                maker.take_show(feed.rt, ev["serial"], float(ev["fade"]), bool(ev["still"]), media)
            while states and at_frame(states[0]):
                maker.latch.set(_values(states.pop(0), take))
            if exact and prev_j is not None and slot.j - prev_j > 1:
                maker.skip(slot.j - prev_j - 1)  # frames the live renderer dropped
            prev_j = slot.j
            _reach(feeds, maker, slot, media, fast, opts)
            while sink_set.wants_audio and sent_audio < min(take.audio.samples,
                                                            (media - t0 + AUDIO_AHEAD_S) * take.sample_rate):
                block = take.audio.read(sent_audio, take.sample_rate)
                sink_set.audio(block)
                sent_audio += len(block)
            frame = pool.next()
            maker.draw(slot.j, media, frame, slot.upto, slot.fade_upto)
            sink_set.frame(frame, slot.out)
            _forget(feeds, maker)
            if progress is not None:
                progress(n_done, len(slots))
        while sink_set.wants_audio and sent_audio < take.audio.samples:
            block = take.audio.read(sent_audio, take.sample_rate)
            sink_set.audio(block)
            sent_audio += len(block)
    finally:
        sink_set.stop()
    media_seconds = (slots[-1].media - slots[0].media + 1 / opts.fps) if slots else 0.0
    return RenderResult(len(slots), time.perf_counter() - began, media_seconds, picture_offset(maker.rt, opts))


def _values(ev: dict, take: Take) -> ControlValues:
    try:
        return values_from_json(ev["values"])
    except (KeyError, TypeError, ValueError) as exc:
        raise RecordError(f"{take.folder}: the control state of frame {ev['frame']} is malformed ({exc!r})") from exc


def _installed(inst: dict, feeds: dict[int, _Feed], current: int) -> int:
    """The live encoder installed `inst`: it fed no show but the new one from there on, except the
    playing one through a fade (not one faded from a still). Returns the encoder's show now."""
    keep = current if inst["fade"] > 0 and not inst["still"] else None
    for serial, feed in feeds.items():
        if serial != keep:
            feed.end = min(feed.end, int(inst["at"]))
    return int(inst["serial"])


def _reach(feeds: dict[int, _Feed], maker: FrameMaker, slot: _Slot, media: float, fast: float,
           opts: EngineOptions) -> None:
    """Feed the drawn show (and the outgoing one of a fade) as far as this frame reads."""
    by_rt = {id(f.rt): f for f in feeds.values()}
    pipes = [(maker.pipeline, slot.upto)]
    if maker.fade is not None and maker.fade.pipeline is not None:
        pipes.append((maker.fade.pipeline, slot.fade_upto))
    for pipe, upto in pipes:
        rt = pipe.runtime
        latency = latency_seconds(rt, opts)
        need = media - latency if opts.interpolate else media - latency - rt.period
        by_rt[id(rt)].reach(upto, need, media - fast - rt.music_period)


def _forget(feeds: dict[int, _Feed], maker: FrameMaker) -> None:
    """Drop the audio side of shows no frame draws any more (their models go with them)."""
    used = {id(maker.rt)}
    if maker.fade is not None and maker.fade.pipeline is not None:
        used.add(id(maker.fade.pipeline.runtime))
    for serial in [s for s, f in feeds.items() if id(f.rt) not in used]:
        del feeds[serial]
