"""The live engine: an encoder thread and a render thread around one AudioSource.

    source --ring--> encoder thread: HopStream (mixdown, resample, hops) -> ShowRuntime.encode_hop -> clock
                                      fine HopStream -> encode_music_hop -> music clock; onsets -> OSC at once
    render thread, fps grid: clock.sample(media time - latency) -> controls -> decoder -> sinks, OSC
                             music_clock.sample(media time - features latency) -> OSC

The renderer never waits on audio: it renders the fps grid from wall time, holding the newest
latent when audio is late or gone. A frame that cannot start within its slot is dropped (the
grid index skips), so the output keeps real time. A new show is loaded and warmed up beside the
playing one and swapped in between frames.
"""
from __future__ import annotations

import logging
import math
import threading
import time

import numpy as np

from .audio.hop_stream import HopStream
from .audio.music_analysis import EVENTS
from .control.osc_out import OscOut
from .control.state import Control, ControlError
from .engine_options import EngineOptions, latency_seconds, picture_offset
from .frame_pipeline import FramePipeline
from .latest_slot import LatestSlot
from .run_stats import STAT_CAPACITY, RunStats
from .show.bundle import ShowError
from .show.heap import give_back_freed_memory
from .show.runtime import RuntimeOptions, ShowRuntime
from .sinks import FramePool, Sink, SinkSet, StreamInfo
from .sinks.sink_set import route_device_frames

log = logging.getLogger("latentvj.engine")

POLL_S = 0.001  # encoder thread's wait for more audio: part of the music stream's offset
CHECK_EVERY_S = 0.25  # how often the sound card's health is checked
PUMP_S = 0.05  # the main thread's wait between runs of the sinks' event loops
SWAP_WAIT_S = 5.0  # how long a show switch waits for the renderer to take the new show


class LiveEngine:
    def __init__(
        self,
        source,
        runtime: ShowRuntime,
        control: Control,
        sinks: list[Sink],
        osc_out: OscOut | None,
        opts: EngineOptions,
        runtime_opts: RuntimeOptions,
        observer=None,
    ) -> None:
        self.source = source
        self.observer = observer  # bench: called as observer(index, frame, done_time) on the render thread
        self.runtime = runtime
        self.control = control
        self.osc_out = osc_out
        self.opts = opts
        self.runtime_opts = runtime_opts
        self.latency = latency_seconds(runtime, opts)
        w, h = runtime.decoder.width, runtime.decoder.height
        self.size = (w, h)
        info = StreamInfo(w, h, opts.fps, audio_rate=source.sample_rate, audio_channels=source.channels,
                          audio_delay=picture_offset(runtime, opts))
        self.sinks = SinkSet(sinks, info, opts.sink_queue)
        self._sink_list = sinks
        self._prepare_decoder(runtime)
        self.pool = FramePool(w, h, opts.sink_queue)
        self.pipeline = FramePipeline(runtime, control, opts.fps, opts.seed)
        self.stats = RunStats()
        self.encoded_hops = 0
        self.encode_ms = np.zeros(STAT_CAPACITY)  # per hop
        self.music_ms = np.zeros(STAT_CAPACITY)  # per fine hop: the music stream's CPU time (not waits)
        self.music_hops = 0
        self.decode_errors = 0
        self.late_frames: list[int] = []  # the first 1000 frames that held a late latent
        self.onset_counts = [0] * len(EVENTS)  # onsets detected so far, per event (the web page flashes them)
        self.status = (0.0, math.nan, 0)  # fps, measured latency ms, dropped: the newest frame's
        self._last_frame = self.pool.next()
        self.lost_frames = 0
        self._hops = HopStream(source.sample_rate, opts.channel)
        self._fine = HopStream(source.sample_rate, opts.channel)  # the music stream's own hops
        self.fast_latency = opts.features_latency_ms / 1e3
        self._pending: LatestSlot[ShowRuntime] = LatestSlot()  # loaded on a control thread, installed by the encoder
        self._switch_lock = threading.Lock()
        self._switches = 0  # switches handed over so far (the newest one's trim waits for it to play)
        self._stop = threading.Event()
        self.done = threading.Event()  # set when a non-looping file has played out
        self._src_frames = 0  # source frames consumed, lost ones included
        self._threads = [
            threading.Thread(target=self._encode_loop, name="encoder", daemon=True),
            threading.Thread(target=self._render_loop, name="renderer", daemon=True),
        ]
        if opts.latency_margin_ms < 2 * runtime.encode_ms:
            log.warning("latency margin %.0f ms is less than twice the encoder's %.1f ms per hop: "
                        "frames may hold stale latents (raise --latency-margin-ms)",
                        opts.latency_margin_ms, runtime.encode_ms)

    def _prepare_decoder(self, rt: ShowRuntime) -> None:
        """--gpu-texture: sinks that take this device's frames get them; the rest get host frames."""
        device = rt.decoder.device.type
        device_frames, host_copy = route_device_frames(self._sink_list, device, self.opts.gpu_texture)
        if self.opts.gpu_texture and not device_frames:
            log.warning("--gpu-texture: no sink here takes %s frames (Syphon takes mps, Spout takes cuda); "
                        "frames go through host memory", device)
        if device_frames:
            rt.decoder.use_device_frames(self.opts.sink_queue + 3, host_copy=host_copy)

    # ---- control from other threads -----------------------------------------------------------
    def switch_show(self, spec: str) -> str:
        """Load, check and warm up `spec` beside the playing show, then swap it in between frames;
        returns its name.

        Runs on the caller's thread (the control's show worker, never the OSC server's); a bad
        show raises ControlError and the playing one goes on."""
        if not self._switch_lock.acquire(blocking=False):
            raise ControlError(f"show: still loading the previous request; {spec!r} ignored")
        try:
            t = time.perf_counter()
            rt = ShowRuntime.load(spec, RuntimeOptions(
                self.runtime_opts.device, self.size, self.runtime_opts.half, self.runtime_opts.deterministic))
        except ShowError as exc:
            raise ControlError(f"show: {exc}; still playing '{self.runtime.name}'") from exc
        finally:
            self._switch_lock.release()
        self._prepare_decoder(rt)
        log.info("loaded %s in %.1f s; switching", rt.describe(), time.perf_counter() - t)
        self._switches += 1
        mine = self._switches
        replaced = self._pending.put(rt)
        if replaced is not None:
            log.info("show '%s' was replaced by '%s' before it played", replaced.name, rt.name)
            replaced = None  # our last reference to it: freed before the trim
        name = rt.name
        self._release_old_show(rt, mine)
        return name

    def _release_old_show(self, rt: ShowRuntime, mine: int) -> None:
        """Control thread: once the renderer draws with `rt`, the old show has no references
        left; give its memory back to the system. A newer switch (it trims after itself) or the
        engine stopping ends the wait."""
        end = time.monotonic() + SWAP_WAIT_S
        while (self.pipeline.runtime is not rt and self._switches == mine and not self._stop.is_set()
               and time.monotonic() < end):
            time.sleep(POLL_S * 5)
        if self.pipeline.runtime is rt:
            give_back_freed_memory()

    # ---- threads ------------------------------------------------------------------------------
    def start(self) -> None:
        self.runtime.reset()
        self.runtime.new_clock(0.0, self.opts.interpolate, self.opts.seed)
        self._hops.reset(self.runtime.sample_rate, self.runtime.hop)
        self._fine.reset(self.runtime.sample_rate, self.runtime.music.hop)
        self.sinks.start()
        self.stats.started = time.monotonic()
        self.source.start(at=self.stats.started)
        for t in self._threads:
            t.start()

    def pump_until(self, stop: threading.Event | None = None, deadline: float | None = None) -> None:
        """Main thread, between start and stop: run the sinks' main-thread event loops (Syphon's
        discovery) until `stop` is set, `deadline` (monotonic) passes or the engine is done."""
        while not self.done.is_set() and not (stop is not None and stop.is_set()):
            if deadline is not None and time.monotonic() >= deadline:
                return
            self.sinks.pump(PUMP_S)

    def _install(self, rt: ShowRuntime) -> None:
        """Encoder thread: start the new show's clock where the audio is now."""
        rt.reset()
        rt.new_clock(self._src_frames / self.source.sample_rate, self.opts.interpolate, self.opts.seed)
        self._hops.reset(rt.sample_rate, rt.hop)
        self._fine.reset(rt.sample_rate, rt.music.hop)
        self.runtime = rt  # the renderer picks it up at its next frame

    def _encode_loop(self) -> None:
        ring = self.source.ring
        block = np.zeros((4096, ring.channels), dtype=np.float32)  # (frames, channels)
        hops, fine = self._hops, self._fine
        osc = self.osc_out
        lost_seen = 0
        next_check = 0.0
        while not self._stop.is_set():
            pending = self._pending.take()
            if pending is not None:
                self._install(pending)
            rt = self.runtime
            n = ring.read(block)
            if ring.lost != lost_seen:  # we fell a whole ring behind: keep the stamps aligned
                lost = ring.lost - lost_seen
                lost_seen = ring.lost
                self._src_frames += lost
                self.lost_frames += lost
                lost_show = int(lost * rt.sample_rate / self.source.sample_rate)
                rt.clock.skip(lost_show // rt.hop)
                rt.music_clock.skip(lost_show // rt.music.hop)
            now = time.monotonic()
            if now >= next_check:
                next_check = now + CHECK_EVERY_S
                self.source.check(now)
                if self.source.finished and ring.available() == 0 and n == 0:
                    self._finish_when_shown()
            if n == 0:
                time.sleep(POLL_S)
                continue
            self._src_frames += n
            if self.sinks.wants_audio:
                self.sinks.audio(block[:n].copy())
            fine.push(block[:n])
            while (mono := fine.next_hop()) is not None:  # the fast path first: it must not wait for RAVE
                t = time.thread_time()
                events = rt.encode_music_hop(mono)
                self.music_ms[self.music_hops % STAT_CAPACITY] = (time.thread_time() - t) * 1e3
                self.music_hops += 1
                if events:
                    counts = self.onset_counts
                    for k in range(len(counts)):
                        counts[k] += (events >> k) & 1
                    if osc is not None:
                        osc.events(events)
            hops.push(block[:n])
            while (mono := hops.next_hop()) is not None:
                t = time.perf_counter()
                rt.encode_hop(mono)
                self.encode_ms[self.encoded_hops % STAT_CAPACITY] = (time.perf_counter() - t) * 1e3
                self.encoded_hops += 1

    def _finish_when_shown(self) -> None:
        """A file without --loop ends once its last latent has been on screen."""
        if not self.done.is_set() and self._media_now() - self.latency > self.runtime.clock.newest_time():
            self.done.set()

    def _media_now(self) -> float:
        return self.source.media_time(time.monotonic())

    def _render_loop(self) -> None:
        fps = self.opts.fps
        period = 1.0 / fps
        start = self.stats.started
        paced = self.source.paced
        stats = self.stats
        j = 0
        last = self.opts.max_frames
        while not self._stop.is_set():
            if last is not None and j >= last:
                self.done.set()
                return
            due = start + j * period
            now = time.monotonic()
            if now < due:
                time.sleep(due - now)
                now = time.monotonic()
            behind = int((now - due) * fps)
            if behind >= 1:  # a whole slot late: drop frames to stay on the wall clock
                if last is not None:
                    behind = min(behind, last - j - 1)
                stats.dropped += behind
                self.pipeline.applier.skip(behind)
                j += behind
                due = start + j * period
            rt = self.runtime
            if rt is not self.pipeline.runtime:
                if rt.latent_dim != self.pipeline.runtime.latent_dim:
                    self.control.reset(rt.latent_dim)
                self.pipeline.set_runtime(rt)
                self.latency = latency_seconds(rt, self.opts)
            # Paced sources define media time by the grid itself: exactly what `render` computes.
            media = j / fps if paced else self.source.media_time(due)
            prev, frame = self._last_frame, self.pool.next()
            try:
                if not self.pipeline.make(media - self.latency, frame, media - self.fast_latency) \
                        and not self.source.finished:
                    stats.late += 1  # (after a file's end, holding the last latent is expected)
                    if len(self.late_frames) < 1000:
                        self.late_frames.append(j)
            except RuntimeError as exc:  # torch at run time (out of memory, a device gone): repeat the last frame
                self.decode_errors += 1
                if self.decode_errors in (1, 10, 100, 1000):
                    log.error("decoder failed on frame %d (%s); repeating the last frame (%d failures)",
                              j, str(exc).splitlines()[0], self.decode_errors)
                frame[...] = prev
            self._last_frame = frame
            self.sinks.frame(frame, j, rt.decoder.device_frame)
            done = time.monotonic()
            if self.observer is not None:
                self.observer(j, frame, done)
            # measured latency: from when the newest audio each clock gave this frame was captured, to now
            age = done - due + media + self.source.input_latency
            clock_ms, music_ms = (age - rt.clock.last_stamp) * 1e3, (age - rt.music_clock.last_stamp) * 1e3
            latency_ms = min(clock_ms if rt.uses_clock else math.inf, music_ms if rt.uses_music else math.inf)
            stats.record((done - due) * 1e3, latency_ms, self.pipeline.decode_ms, rt.decoder.rgba_ms, done,
                         clock_ms, music_ms)
            self.status = status = (self.current_fps(), latency_ms, stats.dropped)
            if self.osc_out is not None:
                self.osc_out.publish(j, self.pipeline.latent, self.pipeline.music, status)
            j += 1

    def current_fps(self) -> float:
        return self.stats.fps()

    def stop(self) -> None:
        self._stop.set()
        for t in self._threads:
            t.join(timeout=5.0)
        self.stats.ended = time.monotonic()
        self.source.stop()
        self.sinks.stop()
        if self.osc_out is not None:
            self.osc_out.close()
