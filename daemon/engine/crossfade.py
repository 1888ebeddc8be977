"""A fade between two shows: the outgoing show's frame and the incoming one's, mixed by a weight
that goes 0 -> 1 over the fade's media time.

Mixing sRGB-coded values directly darkens the middle of a fade between two bright, different
pictures (half of 255 red and half of 255 green shows as a muddy 128, 128); the default mixes
in linear light, as a projector's light adds up: each value goes through a table to linear,
is mixed, and comes back through a finer table. `mode = "srgb"` mixes the coded values.

The mix runs in torch on the decoders' device: on a GPU both frames are mixed where the decoders
left them and only the mix is copied to the host (mixing on the host took 12 ms at 512x512 and
49 ms at 1024x1024 on the CI machine's CPU); on the CPU the tensors are views of the host frames.
The buffers are made once per fade, by the renderer when it takes the incoming show.
"""
from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import torch

if TYPE_CHECKING:
    from ..show.frame_decoder import FrameDecoder
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
                 pipeline: FramePipeline | None = None, latency: float = 0.0,
                 device: torch.device = torch.device("cpu")) -> None:
        if mode not in FADE_MODES:
            raise ValueError(f"fade mode {mode!r}: one of {', '.join(FADE_MODES)}")
        self.seconds, self.start, self.mode = seconds, start, mode
        self.pipeline, self.latency = pipeline, latency
        self.device = device
        self.outgoing = np.zeros((height, width, 4), dtype=np.uint8)  # the outgoing show's frame, (H, W, 4)
        on = dict(device=device)
        self._still = torch.zeros((height, width, 4), dtype=torch.uint8, **on)  # a still, on the device
        self._to_lin = torch.from_numpy(TO_LINEAR).to(**on)  # (256,)
        self._from_lin = torch.from_numpy(FROM_LINEAR).to(**on)  # (_LEVELS,)
        self._a = torch.zeros((height, width, 3), dtype=torch.float32, **on)
        self._b = torch.zeros((height, width, 3), dtype=torch.float32, **on)
        self._i = torch.zeros((height, width, 3), dtype=torch.int64, **on)  # table indices
        self._u8 = torch.zeros((height, width, 3), dtype=torch.uint8, **on)  # the mix, coded

    def weight(self, media: float) -> float:
        """The incoming show's share at media time `media`: 0 at the start, 1 at the end."""
        return 1.0 if self.seconds <= 0 else min(1.0, max(0.0, (media - self.start) / self.seconds))

    def hold(self, frame: np.ndarray) -> None:
        """Fade from this still (H, W, 4) instead of a show."""
        self.outgoing[...] = frame
        self._still.copy_(torch.from_numpy(frame))

    def draw(self, media: float, frame: np.ndarray, fast_latency: float, upto: tuple[int, int] | None = None,
             incoming: FrameDecoder | None = None) -> bool:
        """Render thread: mix the outgoing picture at media time `media` into `frame` (the incoming
        show's, drawn by `incoming`); True once the fade is over. `upto`: the outgoing clocks'
        recorded latents."""
        w = self.weight(media)
        if self.pipeline is not None:
            self.pipeline.make(media - self.latency, self.outgoing, media - fast_latency, upto)
            out_t = _device_frame(self.pipeline.runtime.decoder, self.outgoing)
        else:
            out_t = self._still if self.device.type != "cpu" else torch.from_numpy(self.outgoing)
        in_t = _device_frame(incoming, frame)
        self.mix_tensors(in_t, out_t, w)
        if in_t.device.type != "cpu" and incoming is not None and incoming.host_copy:
            torch.from_numpy(frame).copy_(in_t)  # the mix is the frame the host sinks get
        return w >= 1.0

    def mix(self, incoming: np.ndarray, w: float) -> None:
        """incoming: (H, W, 4) uint8 on the host, overwritten with (1 - w) outgoing + w incoming."""
        self.mix_tensors(torch.from_numpy(incoming), torch.from_numpy(self.outgoing), w)

    @torch.no_grad()
    def mix_tensors(self, incoming: torch.Tensor, outgoing: torch.Tensor, w: float) -> None:
        """(H, W, 4) uint8 tensors on this fade's device: incoming becomes the mix; alpha stays.
        Every step writes into the fade's own buffers (no allocation per frame)."""
        a, b, i, u8 = self._a, self._b, self._i, self._u8
        if self.mode == "linear":  # the tables: codes -> linear light, through an index buffer
            i.copy_(outgoing[..., :3])
            torch.index_select(self._to_lin, 0, i.view(-1), out=a.view(-1))
            i.copy_(incoming[..., :3])
            torch.index_select(self._to_lin, 0, i.view(-1), out=b.view(-1))
        else:
            a.copy_(outgoing[..., :3])
            b.copy_(incoming[..., :3])
        b.sub_(a).mul_(w).add_(a)  # the mix, linear (0..1) or coded (0..255)
        if self.mode == "linear":
            b.mul_(_LEVELS - 1).round_()
            i.copy_(b)
            torch.index_select(self._from_lin, 0, i.view(-1), out=u8.view(-1))
        else:
            u8.copy_(b.round_())
        incoming[..., :3].copy_(u8)


def _device_frame(decoder: FrameDecoder | None, host: np.ndarray) -> torch.Tensor:
    """The frame `decoder` drew last, where it is: its device buffer on a GPU, the host frame on
    the CPU (a view, no copy)."""
    if decoder is not None and decoder.device.type != "cpu":
        return decoder.device_frame if decoder.device_frame is not None else decoder.rgba
    return torch.from_numpy(host)
