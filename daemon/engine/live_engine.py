"""The live engine: an encoder thread and a render thread around one AudioSource.

    source --ring--> encoder thread: HopStream (mixdown, resample, hops) -> ShowRuntime.encode_hop -> clock
                                      fine HopStream -> encode_music_hop -> music clock; onsets -> OSC at once
    render thread, fps grid: clock.sample(media time - latency) -> controls -> decoder -> sinks, OSC
                             music_clock.sample(media time - features latency) -> OSC

The renderer never waits on audio: it renders the fps grid from wall time, holding the newest
latent when audio is late or gone. A frame that cannot start within its slot is dropped (the
grid index skips), so the output keeps real time. A new show is loaded and warmed up beside the
playing one and swapped in between frames, or faded in: then both shows hear the same audio
(the encoder feeds both) and the renderer draws both and mixes them (crossfade.py) until the
fade ends. A switch asked for during a fade fades from the picture on screen at that moment.

Who owns what (each piece of state is written by one thread; the others get it by a hand-over):
- the show worker (`switch_show`, show_switcher.py) loads and warms a show and hands it to the
  encoder (LatestSlot);
- the encoder thread owns the audio side: each fed show's hop streams and clocks (the outgoing
  one's too while a fade runs; it stops feeding it once the status says the fade is over), its
  counters (`EncoderTally`, its `counts` swapped whole); it hands each installed show to the renderer
  (another LatestSlot) once its clock starts where the audio is;
- the render thread owns the FrameMaker (frame_maker.py: the pipelines, two during a fade, the
  show it draws, the fade, the controls as each frame sees them), the frame statistics, and
  publishes `EngineStatus` once a frame (one reference swap of an immutable object): the only
  thing other threads (web page, map reloads, the show worker waiting for its show to play) read
  while the engine runs. `stats` and `tally`'s per-hop times are for after `stop()`;
- a recording (`record`) is set by a control thread; the encoder thread gives it the audio, the
  show installs and losses, the render thread each frame's schedule and control snapshots; it
  writes them on its own thread (record/recorder.py).
"""
from __future__ import annotations

import logging
import math
import threading
import time
from collections.abc import Callable
from dataclasses import replace

import numpy as np

from ..audio.pcm24 import to_pcm24
from ..control.osc_out import OscOut
from ..control.state import Control
from .engine_options import EngineOptions, latency_seconds, picture_offset
from .engine_status import EncoderTally, EngineStatus, frozen_copy
from .frame_maker import FrameMaker
from .latest_slot import LatestSlot
from .show_switcher import ShowSwitcher
from .show_feed import ShowFeed
from .run_stats import RunStats
from ..show.runtime import RuntimeOptions, ShowRuntime
from ..sinks import FramePool, Sink, SinkSet, StreamInfo
from ..sinks.sink_set import route_device_frames
from ..record.recorder import Recorder, show_fields

log = logging.getLogger("latentvj.engine")

POLL_S = 0.001  # encoder thread's wait for more audio: part of the music stream's offset
CHECK_EVERY_S = 0.25  # how often the sound card's health is checked
PUMP_S = 0.05  # the main thread's wait between runs of the sinks' event loops
JOIN_S = 5.0  # how long stop() waits for each thread


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
        # bench: called as observer(index, frame, done_time, status) on the render thread
        self.observer = observer
        self.control = control
        self.osc_out = osc_out
        self.opts = opts
        self.runtime_opts = runtime_opts
        w, h = runtime.decoder.width, runtime.decoder.height
        self.size = (w, h)
        info = StreamInfo(w, h, opts.fps, audio_rate=source.sample_rate, audio_channels=source.channels,
                          audio_delay=picture_offset(runtime, opts))
        self.sinks = SinkSet(sinks, info, opts.sink_queue)
        self._sink_list = sinks
        self._prepare_decoder(runtime)
        self.fast_latency = opts.features_latency_ms / 1e3
        self._stop = threading.Event()
        self.done = threading.Event()  # set when a non-looping file has played out
        # -- the show worker's: loads a show and hands it to the encoder (switcher.pending)
        self.switcher = ShowSwitcher(replace(runtime_opts, size=self.size), self._prepare_decoder, self.status,
                                     self._stop)
        # -- the encoder thread's
        self._enc_rt = runtime
        self._enc_serial = 0
        self._enc_latency = latency_seconds(runtime, opts)
        self._feed = ShowFeed(runtime, source.sample_rate, opts.channel)
        self._out_feed: ShowFeed | None = None  # the outgoing show during a fade
        self._src_frames = 0  # source frames consumed, lost ones included
        self.tally = EncoderTally()  # hops, onsets, lost audio; `tally.counts` is what the renderer publishes
        # encoder -> renderer: (show, serial, fade s, fade from a still of the picture on screen)
        self._installed: LatestSlot[tuple[ShowRuntime, int, float, bool]] = LatestSlot()
        # -- the render thread's
        self.pool = FramePool(w, h, opts.sink_queue)
        self.maker = FrameMaker(runtime, control, opts, self.size, self.pool.next())  # the show drawn, the fade
        self.stats = RunStats()  # read after stop
        self.late_frames: list[int] = []  # the first 1000 frames that held a late latent
        # -- a recording (record/recorder.py), set and cleared by `record` on a control thread; each
        # engine thread notices a new one at its next block or frame and tells it where it stands
        self._recorder: Recorder | None = None
        self._status = self._publish(-1, math.nan)
        self._threads = [
            threading.Thread(target=self._encode_loop, name="encoder", daemon=True),
            threading.Thread(target=self._render_loop, name="renderer", daemon=True),
        ]
        if opts.latency_margin_ms < 2 * runtime.encode_ms:
            log.warning("latency margin %.0f ms is less than twice the encoder's %.1f ms per hop: "
                        "frames may hold stale latents (raise --latency-margin-ms)",
                        opts.latency_margin_ms, runtime.encode_ms)

    def status(self) -> EngineStatus:
        """The newest frame's status (any thread; never blocks)."""
        return self._status

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
    def switch_show(self, spec: str, fade: float = 0.0, faded: Callable[[str | None], None] | None = None) -> str:
        """Load `spec` beside the playing show and cut or fade to it (show_switcher.py); runs on
        the caller's thread (the control's show worker)."""
        return self.switcher.switch(spec, fade, faded)

    @property
    def recording(self) -> Recorder | None:
        """The take being recorded, if any."""
        return self._recorder

    def media_now(self) -> float:
        """The input's media time now (any thread): when a control message came, for a take."""
        return self._media_now()

    def record(self, recorder: Recorder | None) -> Recorder | None:
        """Start a take (or end it with None); returns the one it replaces, for the caller to close:
        the engine's threads move to the new one at their next block or frame, and a call they
        make on the old one after it is closed is ignored."""
        old, self._recorder = self._recorder, recorder
        return old

    # ---- threads ------------------------------------------------------------------------------
    def start(self) -> None:
        rt = self._enc_rt
        rt.reset()
        rt.new_clock(0.0, self.opts.interpolate, self.opts.seed)
        self._feed = ShowFeed(rt, self.source.sample_rate, self.opts.channel)
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

    def _install(self, rt: ShowRuntime, serial: int, fade: float, rec: Recorder | None) -> None:
        """Encoder thread: start the new show's clock where the audio is now, then hand it on. For
        a fade the playing show is fed on beside it; during a fade, the next fades from a still."""
        still = fade > 0 and self._out_feed is not None
        self._out_feed = self._feed if fade > 0 and not still else None
        rt.reset()
        t0 = self._src_frames / self.source.sample_rate
        rt.new_clock(t0, self.opts.interpolate, self.opts.seed)
        if rec is not None:
            rec.event("install", at=rec.samples, t0=t0, serial=serial, fade=fade, still=still, **show_fields(rt))
        self._feed = ShowFeed(rt, self.source.sample_rate, self.opts.channel)
        self._enc_rt, self._enc_serial = rt, serial
        self._enc_latency = latency_seconds(rt, self.opts)
        self._installed.put((rt, serial, fade, still))  # the renderer picks it up at its next frame

    def _feed_outgoing(self, block: np.ndarray) -> None:
        """Encoder thread, during a fade: the outgoing show hears the same audio (no OSC, no
        counts: those are the incoming show's); fed no longer once the renderer's fade is over."""
        st = self._status
        if st.show_serial >= self._enc_serial and not st.fading:
            self._out_feed = None
        else:
            self._out_feed.feed(block)

    def _encode_loop(self) -> None:
        ring = self.source.ring
        block = np.zeros((4096, ring.channels), dtype=np.float32)  # (frames, channels)
        osc, tally = self.osc_out, self.tally
        lost_seen = 0
        next_check = 0.0
        rec_seen: Recorder | None = None
        while not self._stop.is_set():
            rec = self._recorder
            if rec is not rec_seen:
                rec_seen = rec
                if rec is not None:  # a take starts here: the show as the audio reaches it
                    rec.event("start", at=0, t0=self._src_frames / self.source.sample_rate,
                              serial=self._enc_serial, **show_fields(self._enc_rt))
            pending = self.switcher.pending.take()
            if pending is not None:
                self._install(*pending, rec)
            rt, feed = self._enc_rt, self._feed
            n = ring.read(block)
            if ring.lost != lost_seen:  # we fell a whole ring behind: keep the stamps aligned
                lost = ring.lost - lost_seen
                lost_seen = ring.lost
                self._src_frames += lost
                tally.lost += lost
                for fed in (feed, self._out_feed):
                    if fed is not None:
                        fed.skip(lost)
                if rec is not None:
                    rec.event("lost", at=rec.samples, frames=lost)
                tally.publish()
            now = time.monotonic()
            if now >= next_check:
                next_check = now + CHECK_EVERY_S
                self.source.check(now)
                if self.source.finished and ring.available() == 0 and n == 0:
                    self._finish_when_shown(rt)
            if n == 0:
                time.sleep(POLL_S)
                continue
            self._src_frames += n
            to_pcm24(block[:n])  # what a recording keeps exactly (pcm24.py)
            if rec is not None:
                rec.audio(block[:n])
            if self.sinks.wants_audio:
                self.sinks.audio(block[:n].copy())
            changed = False
            for events, ms in feed.music_hops(block[:n]):  # the fast path first: it must not wait for RAVE
                tally.music(events, ms)
                if events:
                    changed = True
                    if osc is not None:
                        osc.events(events)
            for ms in feed.latent_hops(block[:n]):
                tally.latent(ms)
                changed = True
            if changed:
                tally.publish()
            if self._out_feed is not None:
                self._feed_outgoing(block[:n])

    def _finish_when_shown(self, rt: ShowRuntime) -> None:
        """A file without --loop ends once its last latent has been on screen."""
        if not self.done.is_set() and self._media_now() - self._enc_latency > rt.clock.newest_time():
            self.done.set()

    def _media_now(self) -> float:
        return self.source.media_time(time.monotonic())

    def _take_show(self, j: int, media: float, rec: Recorder | None) -> None:
        """Render thread: draw with the show the encoder installed last, if there is a new one;
        for a fade, keep drawing the playing one (or a still of the picture now) beside it."""
        installed = self._installed.take()
        if installed is None:
            return
        rt, serial, fade, still = installed
        self.maker.take_show(rt, serial, fade, still, media)
        if rec is not None:
            rec.event("take", frame=j, t=media, serial=serial, fade=fade, still=still)

    def _publish(self, j: int, latency_ms: float) -> EngineStatus:
        m, s = self.maker, self.stats
        rt, p = m.rt, m.pipeline
        return EngineStatus(j, rt.name, m.serial, rt.latent_dim, rt.uses_clock, rt.uses_music, m.latency,
                            self.fast_latency, s.fps(), latency_ms, s.dropped, s.late, m.decode_errors,
                            frozen_copy(p.latent), frozen_copy(p.music), frozen_copy(p.conditioning), self.tally.counts,
                            m.fade is not None)

    def _render_loop(self) -> None:
        fps = self.opts.fps
        period = 1.0 / fps
        start = self.stats.started
        paced = self.source.paced
        stats, maker = self.stats, self.maker
        rec_seen: Recorder | None = None
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
                maker.skip(behind)
                j += behind
                due = start + j * period
            # Paced sources define media time by the grid itself: exactly what `render` computes.
            media = j / fps if paced else self.source.media_time(due)
            rec = self._recorder
            self._take_show(j, media, rec)
            rt = maker.rt
            frame = self.pool.next()
            if not maker.draw(j, media, frame) and not self.source.finished:
                stats.late += 1  # (after a file's end, holding the last latent is expected)
                if len(self.late_frames) < 1000:
                    self.late_frames.append(j)
            if rec is not None:
                if maker.latched is not None or rec is not rec_seen:  # a new take starts with the values
                    rec.state(j, media, maker.latch.snapshot())
                rec.frame(j, media, *maker.counts())
            rec_seen = rec
            self.sinks.frame(frame, j, rt.decoder.device_frame)
            done = time.monotonic()
            # measured latency: from when the newest audio each clock gave this frame was captured, to now
            age = done - due + media + self.source.input_latency
            clock_ms, music_ms = (age - rt.clock.last_stamp) * 1e3, (age - rt.music_clock.last_stamp) * 1e3
            latency_ms = min(clock_ms if rt.uses_clock else math.inf, music_ms if rt.uses_music else math.inf)
            pipe = maker.pipeline
            stats.record((done - due) * 1e3, latency_ms, pipe.decode_ms, rt.decoder.rgba_ms, done,
                         clock_ms, music_ms)
            self._status = status = self._publish(j, latency_ms)
            if self.observer is not None:
                self.observer(j, frame, done, status)
            if self.osc_out is not None:
                self.osc_out.publish(j, pipe.latent, pipe.music, (status.fps, latency_ms, stats.dropped))
            j += 1

    def stop(self) -> None:
        self._stop.set()
        for t in self._threads:
            t.join(timeout=JOIN_S)
            if t.is_alive():
                log.warning("the %s thread did not stop within %.0f s; the run's figures may be incomplete",
                            t.name, JOIN_S)
        self.stats.ended = time.monotonic()
        self.source.stop()
        self.sinks.stop()
        if self.osc_out is not None:
            self.osc_out.close()
