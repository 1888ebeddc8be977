"""A fade between two shows: the outgoing show's frame and the incoming one's, mixed by a weight
that goes 0 -> 1 over the fade's media time.

Mixing sRGB-coded values directly darkens the middle of a fade between two bright, different
pictures (half of 255 red and half of 255 green shows as a muddy 128, 128); the default mixes
in linear light, as a projector's light adds up: each value goes through a table to linear,
is mixed, and comes back through a finer table. `mode = "srgb"` mixes the coded values. The
buffers are made once per fade, by the renderer when it takes the incoming show.
"""
from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from .frame_pipeline import FramePipeline

FADE_MODES = ("linear", "srgb")
_LEVELS = 4096  # the table back from linear light: fine enough that no two codes collapse


def _to_linear() -> np.ndarray:
    c = np.arange(256, dtype=np.float64) / 255.0
    return np.where(c <= 0.04045, c / 12.92, ((c + 0.055) / 1.055) ** 2.4).astype(np.float32)


def _from_linear() -> np.ndarray:
    x = np.arange(_LEVELS, dtype=np.float64) / (_LEVELS - 1)
    c = np.where(x <= 0.0031308, 12.92 * x, 1.055 * x ** (1 / 2.4) - 0.055)
    return np.clip(np.rint(c * 255.0), 0, 255).astype(np.uint8)


TO_LINEAR, FROM_LINEAR = _to_linear(), _from_linear()


class Crossfade:
    """`pipeline` (with its stream offset `latency`) draws the outgoing show each frame; without
    one, `outgoing` holds a still: the picture on screen when a switch came during another fade."""

    def __init__(self, width: int, height: int, seconds: float, start: float, mode: str = "linear",
                 pipeline: FramePipeline | None = None, latency: float = 0.0) -> None:
        if mode not in FADE_MODES:
            raise ValueError(f"fade mode {mode!r}: one of {', '.join(FADE_MODES)}")
        self.seconds, self.start, self.mode = seconds, start, mode
        self.pipeline, self.latency = pipeline, latency
        self.outgoing = np.zeros((height, width, 4), dtype=np.uint8)  # the outgoing show's frame, (H, W, 4)
        self._a = np.zeros((height, width, 3), dtype=np.float32)
        self._b = np.zeros((height, width, 3), dtype=np.float32)
        self._i = np.zeros((height, width, 3), dtype=np.int32)

    def weight(self, media: float) -> float:
        """The incoming show's share at media time `media`: 0 at the start, 1 at the end."""
        return 1.0 if self.seconds <= 0 else min(1.0, max(0.0, (media - self.start) / self.seconds))

    def draw(self, media: float, frame: np.ndarray, fast_latency: float, upto: tuple[int, int] | None = None) -> bool:
        """Render thread: mix the outgoing picture at media time `media` into `frame` (the incoming
        show's, drawn); True once the fade is over. `upto`: the outgoing clocks' recorded latents."""
        w = self.weight(media)
        if self.pipeline is not None:
            self.pipeline.make(media - self.latency, self.outgoing, media - fast_latency, upto)
        self.mix(frame, w)
        return w >= 1.0

    def mix(self, incoming: np.ndarray, w: float) -> None:
        """incoming: (H, W, 4) uint8, overwritten with (1 - w) outgoing + w incoming; alpha stays."""
        a, b = self._a, self._b
        if self.mode == "linear":
            np.take(TO_LINEAR, self.outgoing[..., :3], out=a)
            np.take(TO_LINEAR, incoming[..., :3], out=b)
        else:
            np.copyto(a, self.outgoing[..., :3])
            np.copyto(b, incoming[..., :3])
        b -= a
        b *= w
        b += a  # the mix, linear (0..1) or coded (0..255)
        if self.mode == "linear":
            b *= _LEVELS - 1
            np.rint(b, out=b)
            np.copyto(self._i, b, casting="unsafe")
            np.take(FROM_LINEAR, self._i, out=incoming[..., :3])
        else:
            np.rint(b, out=b)
            np.copyto(incoming[..., :3], b, casting="unsafe")
