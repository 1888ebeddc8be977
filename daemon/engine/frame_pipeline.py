"""Media time -> one RGBA frame: the part that live and offline rendering share, so that both
produce the same pixels for the same audio and seed.

    clock.sample(t)             -> [z | features] --\
    music_clock.sample(t_music) -> music row -------+-> conditioning -> show's mapping -> controls
                                                        -> decoder window -> RGBA
Each stream is read at its own offset: the music stream's is a few ms, the encoder's a hop more.
An image show's mapping reads a window of conditioning rows (one per training frame, newest last:
row_history.py keeps that spacing at any output fps) and the shot in effect at the frame's music
time; its decoder takes one latent.
"""
from __future__ import annotations

import time

import numpy as np

from ..control.applier import ControlApplier
from ..control.state import Control
from ..show.runtime import ShowRuntime
from .row_history import RowHistory, stride_for


class FramePipeline:
    def __init__(self, runtime: ShowRuntime, control: Control, fps: float, seed: int) -> None:
        self.fps = fps
        self.applier = ControlApplier(control, seed)
        self.decode_ms = 0.0  # last frame's decoder time
        self.set_runtime(runtime)

    def set_runtime(self, rt: ShowRuntime) -> None:
        self.runtime = rt
        self._row = np.zeros(rt.encoder_dim + rt.n_features, dtype=np.float32)  # raw [z | features]
        stride = stride_for(self.fps, rt.manifest.fps)  # output frames per frame the show was trained at
        # standardised streams side by side, one row per frame: read as (mapping window, cond_dim)
        self._cond = RowHistory(rt.latent_map.window, rt.cond_dim, stride)
        self.conditioning = self._cond.newest  # (cond_dim,) this frame's
        self._zin = np.zeros(rt.latent_dim, dtype=np.float32)
        self.latent = np.zeros(rt.latent_dim, dtype=np.float32)  # what the decoder got, newest
        self._latents = RowHistory(rt.context, rt.latent_dim, stride)  # read as (context, latent_dim)
        self._music_row = np.zeros(rt.music.dim + rt.n_shot, dtype=np.float32)  # [music row | shot row]
        self.music = self._music_row[: rt.music.dim]  # the music row at the frame's music time
        self._shot = self._music_row[rt.music.dim :]
        self._t_music = 0.0  # the music time of the frame being read
        self._staged: tuple[np.ndarray, ...] | None = None  # prepare_batch's (conditioning, latents, shots, times)

    def make(self, t_media: float, out: np.ndarray, t_music: float | None = None,
             upto: tuple[int, int] | None = None) -> bool:
        """Render media time t_media into out (H, W, 4), reading the music stream at t_music
        (its own, shorter offset; None: at t_media); False when a stream the picture reads was late."""
        fresh = self.prepare(t_media, t_music, upto)
        t = time.perf_counter()
        self.runtime.decoder.decode(self.window, out)
        self.decode_ms = (time.perf_counter() - t) * 1e3
        return fresh

    @property
    def window(self) -> np.ndarray:
        """What the decoder reads for the newest frame: (context, latent_dim), newest last."""
        return self._latents.read()

    @property
    def counts(self) -> tuple[int, int]:
        """(encoder clock, music clock) latents the last frame could read: with its media time,
        all a replay needs to give the same frame."""
        rt = self.runtime
        return rt.clock.last_count, rt.music_clock.last_count

    def prepare(self, t_media: float, t_music: float | None = None, upto: tuple[int, int] | None = None) -> bool:
        """Everything of `make` but the decoder: the newest frame's `window`. Render batches the
        decoder over several prepared frames. `upto`: read each clock as if it held only that
        many latents (a replay's recorded `counts`)."""
        fresh = self._read(t_media, t_music, upto)
        self.runtime.to_decoder_latent(self._cond.read(), self._zin, self._shot, self._t_music)
        self._control()
        return fresh

    def prepare_batch(self, frames: list[tuple[float, float, tuple[int, int]]], windows: np.ndarray) -> None:
        """`prepare` for several frames in order, (media time, music time, clock counts) each,
        with one call of the show's mapping for all of them: windows (B, context, latent_dim) gets
        each frame's decoder window. The counts are what each clock held when the frame was due,
        so the encoder may run ahead of the frames read (render)."""
        rt, b = self.runtime, len(frames)
        if self._staged is None or len(self._staged[0]) < b:  # render's buffers, made at its first batch
            self._staged = (np.zeros((b, *self._cond.read().shape), np.float32),
                            np.zeros((b, rt.latent_dim), np.float32), np.zeros((b, self._shot.size), np.float32),
                            np.zeros(b))
        cs, zins, shots, times = self._staged
        for k, (t, t_music, upto) in enumerate(frames):
            self._read(t, t_music, upto)
            cs[k], shots[k], times[k] = self._cond.read(), self._shot, self._t_music
        rt.latent_map.batch(cs[:b], zins[:b], shots[:b], times[:b])
        for k in range(b):
            self._zin[:] = zins[k]
            self._control()
            windows[k] = self.window

    def _read(self, t_media: float, t_music: float | None, upto: tuple[int, int] | None) -> bool:
        """The streams at the frame's times -> this frame's conditioning row; False when late."""
        rt = self.runtime
        fresh = rt.clock.sample(t_media, self._row, upto and upto[0]) or not rt.uses_clock
        self._t_music = t_media if t_music is None else t_music
        music_fresh = rt.music_clock.sample(self._t_music, self._music_row, upto and upto[1])
        fresh = fresh and (music_fresh or not rt.uses_music)
        rt.condition(self._row, self.music, self._cond.advance())
        return fresh

    def _control(self) -> None:
        """The controls over this frame's latent, into the decoder's window."""
        self.applier.apply(self._zin, 1.0 / self.fps, self.latent)
        self._latents.advance()[:] = self.latent
