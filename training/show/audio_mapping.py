"""Conditioning -> image latent: the audio mapping of an image show. TorchScript-able.

`AudioMapping` is a small causal temporal convolution over the window of conditioning rows (one
per frame, newest last): dilated convolutions padded on the past side only, the output read at
the newest row, so nothing after the frame is used. A stream whose window is shorter than the
mapping's sees zeros in its older rows (`window_mask`), as the show's layout declares.

It is trained with the image model (image_model.py): its output is the audio part of the image
latent, learnt end to end through the decoder. What it cannot say (which shot, where the subject
is) is the footage part, carried by the shots (daemon/show/shots.py), so the picture stays sharp.

`AffineMapping` is the film project's mode for `--mapping direct`: one conditioning column
(loudness) moves latent dimension 0, the largest audio-driven change.
"""
from __future__ import annotations

import torch
import torch.nn as nn
import torch.nn.functional as F


def window_mask(dim: int, context: int, layout: list[tuple[int, int, int]]) -> torch.Tensor:
    """(context, dim) 1 where a stream's window reaches, per layout (first column, columns, window)."""
    mask = torch.zeros(context, dim)
    for first, cols, window in layout:
        mask[context - window :, first : first + cols] = 1.0
    return mask


class CausalBlock(nn.Module):
    def __init__(self, channels: int, dilation: int) -> None:
        super().__init__()
        self.pad = 2 * dilation
        self.conv = nn.Conv1d(channels, channels, 3, dilation=dilation)
        self.mix = nn.Conv1d(channels, channels, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """x: (B, C, T) -> (B, C, T), each step from itself and earlier steps only."""
        return x + self.mix(F.silu(self.conv(F.pad(x, (self.pad, 0)))))


class AudioMapping(nn.Module):
    def __init__(self, dim: int, context: int, latent: int, layout: list[tuple[int, int, int]],
                 hidden: int = 96, dilations: tuple[int, ...] = (1, 2, 4)) -> None:
        super().__init__()
        self.context = context
        self.register_buffer("mask", window_mask(dim, context, layout))
        self.inp = nn.Conv1d(dim, hidden, 1)
        self.blocks = nn.Sequential(*[CausalBlock(hidden, d) for d in dilations])
        self.out = nn.Sequential(nn.SiLU(), nn.Linear(hidden, hidden), nn.SiLU(), nn.Linear(hidden, latent))

    def forward(self, c: torch.Tensor) -> torch.Tensor:
        """c: (B, context, dim) standardised conditioning -> (B, latent) whitened image latent."""
        x = (c * self.mask).transpose(1, 2)  # (B, dim, context)
        h = self.blocks(self.inp(x))  # (B, hidden, context)
        return self.out(h[:, :, -1])


class AffineMapping(nn.Module):
    """z = weight @ c_newest + bias: fixed, fitted outside (the film project's loudness mode)."""

    def __init__(self, weight: torch.Tensor, bias: torch.Tensor) -> None:
        super().__init__()
        self.register_buffer("weight", weight.float())  # (latent, dim)
        self.register_buffer("bias", bias.float())  # (latent,)

    def forward(self, c: torch.Tensor) -> torch.Tensor:
        """c: (B, context, dim) -> (B, latent)."""
        return c[:, -1] @ self.weight.T + self.bias


class PaddedMapping(nn.Module):
    """What an image show exports: the mapping's (whitened) audio part of the latent, then zeros
    for the footage part, which the show's shots add (daemon/show/shots.py)."""

    def __init__(self, mapping: nn.Module, footage: int) -> None:
        super().__init__()
        self.mapping = mapping
        self.footage = footage

    def forward(self, c: torch.Tensor) -> torch.Tensor:
        """c: (B, context, dim) -> (B, audio + footage)."""
        a = self.mapping(c)
        return torch.cat([a, a.new_zeros(a.shape[0], self.footage)], dim=1)
