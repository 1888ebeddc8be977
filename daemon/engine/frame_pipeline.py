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
        rt = self.runtime
        fresh = rt.clock.sample(t_media, self._row, upto and upto[0]) or not rt.uses_clock
        t_music = t_media if t_music is None else t_music
        music_fresh = rt.music_clock.sample(t_music, self._music_row, upto and upto[1])
        fresh = fresh and (music_fresh or not rt.uses_music)
        rt.condition(self._row, self.music, self._cond.advance())
        rt.to_decoder_latent(self._cond.read(), self._zin, self._shot, t_music)
        self.applier.apply(self._zin, 1.0 / self.fps, self.latent)
        self._latents.advance()[:] = self.latent
        return fresh
