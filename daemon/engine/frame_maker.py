"""The render thread's state and its one step: which show is drawn (and the fade from the one
before), the controls as this frame sees them, and the frame itself.

The live engine's render thread and a replay of a recorded set both draw every frame through
`FrameMaker.draw`, so a replay gives the live frames by construction: the live loop adds the
wall clock (dropping frames it cannot start in time), the replay adds the recorded schedule.
"""
from __future__ import annotations

import logging

import numpy as np

from ..control.latch import ControlLatch
from ..control.state import Control, ControlValues
from ..show.runtime import ShowRuntime
from .crossfade import Crossfade
from .engine_options import EngineOptions, latency_seconds
from .frame_pipeline import FramePipeline

log = logging.getLogger("latentvj.engine")

Counts = tuple[int, int]  # (encoder clock, music clock) latents a pipeline's frame could read


class FrameMaker:
    def __init__(self, runtime: ShowRuntime, control: Control | None, opts: EngineOptions,
                 size: tuple[int, int], first: np.ndarray) -> None:
        """control: the live controls (None: a replay sets each frame's values on `latch`);
        first: (H, W, 4) the frame that stands before the first one (repeated if that fails)."""
        self.opts = opts
        self.size = size
        self.control = control
        self.latch = ControlLatch(control, runtime.latent_dim)
        self.fast_latency = opts.features_latency_ms / 1e3
        self.rt, self.serial = runtime, 0
        self.latency = latency_seconds(runtime, opts)
        self.pipeline = FramePipeline(runtime, self.latch, opts.fps, opts.seed)
        self.fade: Crossfade | None = None  # a show fade under way: it draws and mixes the outgoing show
        self.last_frame = first
        self.latched: ControlValues | None = None  # the values the last frame took up, if they changed
        self.decode_errors = 0

    def take_show(self, rt: ShowRuntime, serial: int, fade: float, still: bool, media: float) -> None:
        """Draw `rt` from this frame on; for a fade, keep drawing the playing show (or, `still`, the
        picture on screen now) beside it until the fade's media time is over."""
        if rt.latent_dim != self.rt.latent_dim and self.control is not None:
            self.control.reset(rt.latent_dim)
        if fade > 0:
            w, h = self.size
            self.fade = Crossfade(w, h, fade, media, self.opts.fade_mode, None if still else self.pipeline,
                                  self.latency, rt.decoder.device)
            if still:  # a switch during a fade: from the picture as it is
                self.fade.hold(self.last_frame)
            self.pipeline = FramePipeline(rt, self.latch, self.opts.fps, self.opts.seed)
        else:
            self.fade = None
            self.pipeline.set_runtime(rt)
        self.rt, self.serial = rt, serial
        self.latency = latency_seconds(rt, self.opts)

    def skip(self, frames: int) -> None:
        """Frames dropped from the grid: the controls' noise moves on as if they had been drawn."""
        self.pipeline.applier.skip(frames)

    def draw(self, j: int, media: float, frame: np.ndarray, upto: Counts | None = None,
             fade_upto: Counts | None = None) -> bool:
        """Frame j at media time `media` into `frame` (H, W, 4); False when a stream it reads was
        late. `upto`, `fade_upto`: the clocks' latents as a recording kept them (replay).

        A failure in torch (out of memory, a device gone) or a bug repeats the last frame: the
        frames go on."""
        self.latched = self.latch.latch()
        fresh = True
        try:
            fresh = self.pipeline.make(media - self.latency, frame, media - self.fast_latency, upto)
            if self.fade is not None and self.fade.draw(media, frame, self.fast_latency, fade_upto, self.rt.decoder):
                self.fade = None  # over: the outgoing show's last reference here
        except Exception as exc:  # noqa: BLE001 - the frames go on
            self.decode_errors += 1
            if self.decode_errors in (1, 10, 100, 1000):
                log.error("frame %d failed (%s: %s); repeating the last frame (%d failures)",
                          j, type(exc).__name__, str(exc).splitlines()[0] if str(exc) else "", self.decode_errors)
            frame[...] = self.last_frame
        self.last_frame = frame
        return fresh

    def counts(self) -> tuple[Counts, Counts | None]:
        """What the last frame's clocks could read: the incoming show's, and the outgoing one's
        during a fade (None without one, or when the fade holds a still)."""
        f = self.fade
        return self.pipeline.counts, (f.pipeline.counts if f is not None and f.pipeline is not None else None)
