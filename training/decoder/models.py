"""Decoders (latent -> image) for `train decoder`. All are TorchScript-able.

Decoder contract (README): forward(z) with z (B, D), or (B, context, D) when context > 1,
returns (B, 3, H, W) in [0, 1]. D is the show's conditioning (its streams side by side); a
stream whose window is shorter than the context is read from the newest rows only (`layout`).

- `LatentDecoder` (ours): an MLP over the latent window, then nearest-upsample + 3x3 conv
  stages with GroupNorm and SiLU (no checkerboard from transposed convs), trained with L1 plus
  an SSIM term and small latent noise, so it stays sharp and steady between training latents.
- `BaselineDecoder`: the RAVE music-video project's shape: one fully connected layer to a 4x4
  map, transposed convolutions with ReLU, a sigmoid, a plain pixel loss.
(The image model of image shows, whose decoder is also a `LatentDecoder`, is in image_model.py.)
"""
from __future__ import annotations

import math

import torch
import torch.nn as nn
import torch.nn.functional as F


def stages(width: int, height: int, base: int) -> tuple[int, int, int]:
    """Number of x2 stages and the start map (h0, w0) for an output size."""
    n = int(math.log2(min(width, height) // base))
    if n < 1 or width % (1 << n) or height % (1 << n):
        raise ValueError(f"output {width}x{height}: each side must be a multiple of {base * 2} "
                         f"times a power of two (e.g. 128x128, 256x256, 512x288)")
    return n, height >> n, width >> n


def window_columns(latent_dim: int, context: int, layout: list[tuple[int, int, int]] | None) -> torch.Tensor:
    """Flat indices into a (context, latent_dim) window of what the model reads: per stream
    (first column, columns, window), its columns in its newest `window` rows."""
    if layout is None:
        return torch.arange(context * latent_dim)
    take = [row * latent_dim + first + c for first, cols, window in layout
            for row in range(context - window, context) for c in range(cols)]
    return torch.tensor(sorted(take), dtype=torch.long)


class LatentDecoder(nn.Module):
    def __init__(self, latent_dim: int, context: int = 1, width: int = 256, height: int = 256,
                 widths: tuple[int, ...] = (128, 96, 64, 48, 24, 12, 8), base: int = 4,
                 layout: list[tuple[int, int, int]] | None = None) -> None:
        super().__init__()
        self.context = context
        self.n_up, self.h0, self.w0 = stages(width, height, base)
        chans = [widths[min(i, len(widths) - 1)] for i in range(self.n_up + 1)]
        self.c0 = chans[0]
        hidden = 256
        take = window_columns(latent_dim, context, layout)
        self.select = len(take) < context * latent_dim  # some streams read fewer rows than the context
        self.register_buffer("take", take, persistent=False)
        self.mlp = nn.Sequential(nn.Linear(len(take), hidden), nn.SiLU(),
                                 nn.Linear(hidden, self.c0 * self.h0 * self.w0))
        blocks: list[nn.Module] = []
        for i, (a, b) in enumerate(zip(chans[:-1], chans[1:])):
            blocks += [nn.Upsample(scale_factor=2.0, mode="nearest"), nn.Conv2d(a, b, 3, padding=1),
                       nn.GroupNorm(math.gcd(8, b), b), nn.SiLU()]
            if (self.h0 << (i + 1)) <= 64:  # a second conv where it is cheap; full size stays light for CPUs
                blocks += [nn.Conv2d(b, b, 3, padding=1), nn.SiLU()]
        self.body = nn.Sequential(*blocks)
        self.to_rgb = nn.Conv2d(chans[-1], 3, 1)

    def logits(self, z: torch.Tensor) -> torch.Tensor:
        """The picture before its sigmoid: (B, 3, H, W), for a stage that grades it (image shows)."""
        flat = z.reshape(z.shape[0], -1)  # (B, context * D)
        if self.select:
            flat = flat.index_select(1, self.take)
        x = self.mlp(flat).view(z.shape[0], self.c0, self.h0, self.w0)
        return self.to_rgb(self.body(x))

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        return torch.sigmoid(self.logits(z))  # (B, 3, H, W)


class BaselineDecoder(nn.Module):
    def __init__(self, latent_dim: int, context: int = 1, width: int = 256, height: int = 256,
                 channels: int = 256, base: int = 4) -> None:
        super().__init__()
        self.context = context
        self.n_up, self.h0, self.w0 = stages(width, height, base)
        self.c0 = channels
        self.fc = nn.Linear(latent_dim * context, channels * self.h0 * self.w0)
        layers: list[nn.Module] = []
        c = channels
        for i in range(self.n_up):
            last = i == self.n_up - 1
            nxt = 3 if last else max(c // 2, 16)
            layers.append(nn.ConvTranspose2d(c, nxt, 4, stride=2, padding=1))
            layers.append(nn.Sigmoid() if last else nn.ReLU())
            c = nxt
        self.body = nn.Sequential(*layers)

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        x = F.relu(self.fc(z.reshape(z.shape[0], -1))).view(z.shape[0], self.c0, self.h0, self.w0)
        return self.body(x)


def build_model(arch: str, latent_dim: int, context: int, width: int, height: int,
                layout: list[tuple[int, int, int]] | None = None) -> nn.Module:
    if arch == "ours":
        return LatentDecoder(latent_dim, context, width, height, layout=layout)
    if arch == "baseline":
        return BaselineDecoder(latent_dim, context, width, height)
    raise ValueError(f"unknown arch {arch!r} (ours, baseline)")
