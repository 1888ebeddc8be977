"""Rows made once per output frame, read back as a model's window at the rate it was trained at.

A show's mapping reads its conditioning as a window of rows one training frame apart (30 fps for
a video cut at 30 fps), and a decoder with context its latents the same way. Played at 60 fps, a
window of one row per output frame would span half the time the model learnt, and every flash,
onset decay and motion it shapes would run twice as fast. The history keeps (window - 1) * stride
+ 1 rows, stride = output fps / the model's fps rounded (at least 1), and the window takes every
stride-th, newest last: exact at whole multiples (60 on 30), within half an output frame
otherwise.
"""
from __future__ import annotations

import numpy as np


def stride_for(out_fps: float, model_fps: float) -> int:
    return max(1, round(out_fps / model_fps))


class RowHistory:
    def __init__(self, window: int, dim: int, stride: int) -> None:
        self._ring = np.zeros(((window - 1) * stride + 1, dim), dtype=np.float32)  # oldest first
        self._pick = np.arange(0, len(self._ring), stride)  # (window,) rows of the ring the model reads
        self.window = np.zeros((window, dim), dtype=np.float32)  # (window, dim) newest last
        self.newest = self._ring[-1]  # (dim,) the row to fill for this frame, after advance()

    def advance(self) -> np.ndarray:
        """Make room for this frame's row; returns it, to be written in place."""
        if len(self._ring) > 1:
            self._ring[:-1] = self._ring[1:]
        return self.newest

    def read(self) -> np.ndarray:
        """The window as the model reads it: (window, dim), newest last; reused between frames."""
        if len(self._ring) == len(self.window):
            return self._ring
        np.take(self._ring, self._pick, axis=0, out=self.window)
        return self.window
