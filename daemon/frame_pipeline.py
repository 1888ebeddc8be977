"""Media time -> one RGBA frame: the part that live and offline rendering share, so that both
produce the same pixels for the same audio and seed.

    clock.sample(t) -> [z | features] -> show's mapping -> controls -> decoder window -> RGBA
    music_clock.sample(t_music) -> music row (features, beat), for OSC now and conditioning later
"""
from __future__ import annotations

import time

import numpy as np

from .control.applier import ControlApplier
from .control.state import Control
from .show.runtime import ShowRuntime


class FramePipeline:
    def __init__(self, runtime: ShowRuntime, control: Control, fps: float, seed: int) -> None:
        self.fps = fps
        self.applier = ControlApplier(control, seed)
        self.decode_ms = 0.0  # last frame's decoder time
        self.set_runtime(runtime)

    def set_runtime(self, rt: ShowRuntime) -> None:
        self.runtime = rt
        self._row = np.zeros(rt.encoder_dim + rt.n_features, dtype=np.float32)  # [z | features]
        self._zin = np.zeros(rt.latent_dim, dtype=np.float32)
        self.latent = np.zeros(rt.latent_dim, dtype=np.float32)  # what the decoder got, newest
        self.features = self._row[rt.encoder_dim :]
        self._window = np.zeros((rt.context, rt.latent_dim), dtype=np.float32)  # (context, dim), newest last
        self.music = np.zeros(rt.music.dim, dtype=np.float32)  # the music row at the frame's music time

    def make(self, t_media: float, out: np.ndarray, t_music: float | None = None) -> bool:
        """Render media time t_media into out (H, W, 4), reading the music stream at t_music
        (its own, shorter offset); False when the latent was late."""
        rt = self.runtime
        fresh = rt.clock.sample(t_media, self._row)
        if t_music is not None:
            rt.music_clock.sample(t_music, self.music)
        rt.to_decoder_latent(self._row[: rt.encoder_dim], self._zin)
        self.applier.apply(self._zin, 1.0 / self.fps, self.latent)
        if rt.context > 1:
            self._window[:-1] = self._window[1:]
        self._window[-1] = self.latent
        t = time.perf_counter()
        rt.decoder.decode(self._window, out)
        self.decode_ms = (time.perf_counter() - t) * 1e3
        return fresh
