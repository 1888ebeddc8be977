"""Resizing the decoder's frame on its device: two resampling matrices made once, two matmuls a frame.

A separable filter is a matrix per axis: `out = Ry @ img @ Rx.T` per channel, with Ry (H_out, H_in)
and Rx (W_out, W_in). Each row holds one output pixel's weights over the input pixels; rows sum
to 1, so a flat picture stays flat. Pixel centres as F.interpolate's align_corners=False: output
pixel i sits at input coordinate (i + 0.5) * in / out - 0.5; taps that fall outside the picture
count as the border pixel (replicate).

- lanczos (default): Lanczos-3, sharp without the blocks of nearest or the blur of bilinear; it
  rings a little at hard edges (clamped to [0, 1]). Downscaling widens the kernel by the scale
  factor, so a pattern finer than the output's pixels averages out instead of aliasing.
- bicubic, bilinear, nearest: exactly F.interpolate's (align_corners=False, antialias=False),
  the same filters as before, kept for a look the VJ prefers.
"""
from __future__ import annotations

import math

import torch

FILTERS = ("lanczos", "bicubic", "bilinear", "nearest")
LANCZOS_A = 3
CUBIC_A = -0.75  # F.interpolate's bicubic coefficient


def _lanczos(t: torch.Tensor, a: int = LANCZOS_A) -> torch.Tensor:
    return torch.where(t.abs() < a, torch.sinc(t) * torch.sinc(t / a), torch.zeros_like(t))


def _cubic(t: torch.Tensor, a: float = CUBIC_A) -> torch.Tensor:
    t = t.abs()
    near = ((a + 2) * t - (a + 3)) * t * t + 1
    far = ((a * t - 5 * a) * t + 8 * a) * t - 4 * a
    return torch.where(t <= 1, near, torch.where(t < 2, far, torch.zeros_like(t)))


def _linear(t: torch.Tensor) -> torch.Tensor:
    return (1 - t.abs()).clamp_(min=0)


def resample_matrix(n_out: int, n_in: int, filt: str = "lanczos",
                    device: torch.device | None = None, dtype: torch.dtype = torch.float32) -> torch.Tensor:
    """(n_out, n_in) weights taking n_in samples to n_out, rows summing to 1. Built in float64."""
    if filt not in FILTERS:
        raise ValueError(f"upscale filter {filt!r}: expected one of {', '.join(FILTERS)}")
    scale = n_in / n_out
    i = torch.arange(n_out, dtype=torch.float64)
    m = torch.zeros((n_out, n_in), dtype=torch.float64)
    if filt == "nearest":  # F.interpolate's 'nearest': floor(i * in / out), not the pixel centre
        m[torch.arange(n_out), (i * scale).floor().long().clamp_(max=n_in - 1)] = 1.0
        return m.to(device=device, dtype=dtype)
    x = (i + 0.5) * scale - 0.5  # (n_out,) input coordinate of each output pixel
    if filt == "lanczos":
        width = max(scale, 1.0)  # > 1 when downscaling: the kernel widens and antialiases
        kernel, support = (lambda t: _lanczos(t / width)), LANCZOS_A * width
    elif filt == "bicubic":
        kernel, support = _cubic, 2.0
    else:
        kernel, support = _linear, 1.0
        x = x.clamp(min=0.0)  # as F.interpolate's linear modes
    reach = math.ceil(support)
    taps = torch.arange(-reach + 1, reach + 1, dtype=torch.float64)  # (T,)
    j = x.floor()[:, None] + taps  # (n_out, T) input pixels under the kernel
    w = kernel(x[:, None] - j)  # (n_out, T)
    m.scatter_add_(1, j.long().clamp_(0, n_in - 1), w)  # off the edge: the border pixel
    m /= m.sum(dim=1, keepdim=True)
    return m.to(device=device, dtype=dtype)


class Resampler:
    """(3, H_in, W_in) -> (3, H_out, W_out) float32 in [0, 1] on the device; sizes are (W, H).

    The matrices and every buffer are made here, once; a call is two matmuls into them and a
    clamp. The returned tensor is this resampler's buffer: valid, and the caller's to change in
    place, until the next call."""

    def __init__(self, in_size: tuple[int, int], out_size: tuple[int, int], filt: str = "lanczos",
                 device: torch.device | None = None, channels: int = 3) -> None:
        (w_in, h_in), (w_out, h_out) = in_size, out_size
        self.filter = filt
        self.ry = resample_matrix(h_out, h_in, filt, device)  # (H_out, H_in)
        self.rxt = resample_matrix(w_out, w_in, filt, device).T.contiguous()  # (W_in, W_out)
        f32 = dict(dtype=torch.float32, device=device)
        self._src = torch.empty((channels, h_in, w_in), **f32)  # only used for other dtypes (fp16)
        # the cheaper order first: rows then columns, or columns then rows
        rows_first_cost = h_out * h_in * w_in + h_out * w_in * w_out
        cols_first_cost = h_in * w_in * w_out + h_out * h_in * w_out
        self.rows_first = rows_first_cost <= cols_first_cost
        mid = (channels, h_out, w_in) if self.rows_first else (channels, h_in, w_out)
        self._mid = torch.empty(mid, **f32)
        self._out = torch.empty((channels, h_out, w_out), **f32)

    def __call__(self, img: torch.Tensor) -> torch.Tensor:
        if img.dtype != torch.float32:
            img = self._src.copy_(img)
        if self.rows_first:  # Ry @ img per channel, then one (C*H_out, W_in) @ (W_in, W_out)
            torch.matmul(self.ry, img, out=self._mid)
            torch.mm(self._mid.view(-1, self._mid.shape[2]), self.rxt, out=self._out.view(-1, self._out.shape[2]))
        else:  # one (C*H_in, W_in) @ (W_in, W_out), then Ry @ that per channel
            torch.mm(img.reshape(-1, img.shape[2]), self.rxt, out=self._mid.view(-1, self._mid.shape[2]))
            torch.matmul(self.ry, self._mid, out=self._out)
        return self._out.clamp_(0.0, 1.0)
