"""The render thread's side of the controls: applies the newest values to one latent per frame,
without the lock. Order: permute -> scale -> bias -> noise -> smoothing -> freeze. A preset morph
advances by each frame's dt, so live and render (same frames, same dt) agree.
"""
from __future__ import annotations

import math

import numpy as np

from .state import Control, ControlValues, blend


class ControlApplier:
    """Render-thread side: applies the latest control values to one latent per frame."""

    def __init__(self, control: Control, seed: int = 0) -> None:
        self.control = control
        self._version = -1
        self._v = control.snapshot()
        self._rng = np.random.default_rng(seed)
        self._noise = np.zeros(self._v.dim, dtype=np.float32)
        self._state: np.ndarray | None = None  # smoothed output (dim,)
        self._morph_serial = 0  # the morph being followed (0: none yet)
        self._morph_t = 0.0  # its time so far, s
        self._shown = self._v.copy()  # the values of this frame during a morph

    def skip(self, frames: int) -> None:
        """Frames the renderer dropped: draw their noise anyway, so later frames keep the sequence
        an undisturbed (or offline) run would have."""
        self._rng.standard_normal((frames, len(self._noise)))

    def apply(self, z: np.ndarray, dt: float, out: np.ndarray) -> None:
        """z: (dim,) standardised latent -> out: (dim,) what the decoder receives."""
        if self.control.version != self._version:
            self._version = self.control.version
            self._v = self.control.snapshot()
            if self._v.dim != len(self._noise):
                self._noise = np.zeros(self._v.dim, dtype=np.float32)
                self._state = None
            if self._v.dim != self._shown.dim:
                self._shown = self._v.copy()
            m = self._v.morph
            if m is not None and m.serial != self._morph_serial:
                self._morph_serial, self._morph_t = m.serial, 0.0
        v = self._morphing(dt)
        # The noise draw happens every frame whatever the settings, so the random sequence (and
        # with it render == live) does not depend on when the performer touched the noise knob.
        self._noise[:] = self._rng.standard_normal(v.dim)
        if v.dim != len(z):  # controls of another show's size (not reset yet): the latent as trained
            out[:] = z
            return
        if v.freeze and self._state is not None:
            out[:] = self._state
            return
        np.take(z, v.permutation, out=out)
        out *= v.scales
        out *= v.scale
        out += v.biases
        if v.noise > 0.0:
            out += v.noise * self._noise
        if v.smooth > 0.0 and self._state is not None:
            keep = math.exp(-dt / v.smooth)
            out *= 1.0 - keep
            out += keep * self._state
        if self._state is None:
            self._state = out.copy()
        else:
            self._state[:] = out

    def _morphing(self, dt: float) -> ControlValues:
        """This frame's values: the snapshot's, or a morph's blend towards them; then its time moves on."""
        v, m = self._v, self._v.morph
        if m is None or m.serial != self._morph_serial or self._morph_t >= m.seconds:
            return v
        blend(m.start, v, m.progress(self._morph_t), m.left, self._shown)
        self._morph_t += dt
        return self._shown
