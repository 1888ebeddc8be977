"""The footage itself on screen: a show's decoder that plays its training frames, relit by the sound.

Why: a decoder that draws every frame of a music video from a code keeps about two thirds of the
footage's fine detail at what a CPU can train in an hour (sharpness of the footage shown 0.63 at
64x64, 0.67 at 128x128, against 0.8 wanted; a narrower posterior did not change it, measured), and
the detail it loses is the camera's: grain, hair, text. But the shots the daemon plays are the
training frames' own codes (daemon/show/shots.py), so the frame a code stands for is known. Here
the decoder keeps those frames and, when its footage input is one of their codes, puts the frame
itself through the light stage (image_model.GradedDecoder.graded) instead of the drawing: every
pixel of the footage, moving exactly as the source moved, lit by the sound of now.

- A source that flashed on its kicks would flash again wherever the walk plays those frames,
  whatever the new song does. So each kept frame's own flash (its light per cell over the median
  of its shot within half a second, `flashes`) is taken out, and the frame is lit by the grade of
  the sound of now relative to that of the mean sound (per cell: M_now M_rest^-1, and the offsets
  to match): at the mean sound it is the frame as filmed, less its flash. On the footage bench at
  128x128 (training/bench/parts_bench.py, the held-out song), against the source's own figures:
  undoing instead the grade the model gives each frame's own sound made the walk flicker (motion
  2.12x, flash r 0.88x); a fixed grade without taking the flashes out, motion 1.81x, flash r
  0.68x; this, motion 1.71x, flash r 0.94x. Undoing the grade pixel by pixel before storing did
  not fit 8 bits: the grade scales the decoder's logits tenfold.
- Away from every kept code (a VJ moving a footage slider, the noise control, a morph) the frame
  fades into the drawing over `radius` (the bank's median distance from a code to its nearest
  other code), so a slider moves the picture continuously; within `radius / 20` it is the frame
  alone, and the drawing is not computed at all.
- Contract unchanged: forward([audio | footage directions]) -> (B, 3, H, W), so the daemon plays it
  as any image show. The frames travel inside decoder.ts in 8 bits at the show's size (49 KB a
  frame at 128x128, and 192 bytes of flash; `footage_mb` caps the total).
"""
from __future__ import annotations

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

from latentvj.training.data.dataset import FrameDataset, device_images
from latentvj.training.show.image_model import GradedDecoder, apply_grade

MIN_RADIUS = 0.05  # whitened units: a bank of (near) duplicate codes still fades over some distance
SNAP = 0.05  # within this share of the radius the kept frame alone is shown
FLASH_WINDOW_S = 0.5  # a frame's own flash: its light over the median of its shot within this many seconds each side
# the mean sound's grade matrix is inverted as (M^T M + RIDGE s I)^-1 M^T, s its scale: a cell it crushed stays crushed
RIDGE = 1e-6


class FootageFrames(nn.Module):
    """[a | p] (B, audio + footage) -> (B, 3, H, W): the kept frame whose code p is, its own flashes
    taken out and lit by a; away from the kept codes, the decoder's drawing of p."""

    def __init__(self, decoder: GradedDecoder, codes: torch.Tensor, frames: torch.Tensor, flashes: torch.Tensor,
                 radius: float) -> None:
        """decoder: the PCA-folded graded decoder; codes (N, footage) whitened; frames (N, 3, H, W)
        uint8; flashes (N, 3, cells, cells): each frame's light over its shot's, in logits (`flashes`)."""
        super().__init__()
        self.decoder = decoder
        self.audio = decoder.audio
        self.register_buffer("codes", codes.float().contiguous())
        self.register_buffer("frames", frames.contiguous())
        self.register_buffer("flashes", flashes.float().contiguous())
        # the grade of the mean sound, per cell: what a frame's own light is taken to be
        rest = reference_grade(decoder)  # (12, c, c)
        self.register_buffer("rest_inverse", rest[:9].clone())  # (9, c, c) rows of M_rest^-1
        self.register_buffer("rest_offset", rest[9:].clone())  # (3, c, c)
        self.radius = float(radius)
        self.snap = float(radius) * SNAP

    def forward(self, latent: torch.Tensor) -> torch.Tensor:
        a, p = latent[:, : self.audio], latent[:, self.audio :]
        d, k = (p.unsqueeze(1) - self.codes.unsqueeze(0).to(p.dtype)).pow(2).sum(2).min(1)  # (B,), (B,)
        w = ((self.radius - d.sqrt()) / (self.radius - self.snap)).clamp(0.0, 1.0)  # (B,) 1: the frame alone
        x = (self.frames[k].to(p.dtype) + 0.5) / 256.0  # (B, 3, H, W), never exactly 0 or 1
        out = self._lit(torch.log(x) - torch.log1p(-x), a, k)  # (B, 3, H, W) logits
        if bool((w < 1.0).any()):
            w4 = w.view(-1, 1, 1, 1)
            out = w4 * out + (1.0 - w4) * self._drawn(p, a)
        return torch.sigmoid(out)

    def _lit(self, y: torch.Tensor, a: torch.Tensor, k: torch.Tensor) -> torch.Tensor:
        """y (B, 3, H, W) the kept frames' logits, k (B,) their rows -> lit by a: their own flash
        out, then a's grade relative to the mean sound's (no sound: the footage as it was)."""
        if self.audio == 0:
            return y
        now = self.decoder.cell_grades(a)  # (B, 12, c, c)
        b, c = now.shape[0], now.shape[-1]
        m_now = now[:, :9].reshape(b, 3, 3, c, c).permute(0, 3, 4, 1, 2)  # (B, c, c, 3, 3)
        t = m_now @ self.rest_inverse.to(y.dtype).reshape(3, 3, c, c).permute(2, 3, 0, 1)  # (B, c, c, 3, 3)
        base = (self.rest_offset.to(y.dtype) + self.flashes[k].to(y.dtype)).permute(0, 2, 3, 1)  # (B, c, c, 3)
        o = now[:, 9:].permute(0, 2, 3, 1) - (t @ base.unsqueeze(-1)).squeeze(-1)  # (B, c, c, 3)
        rel = torch.cat([t.permute(0, 3, 4, 1, 2).reshape(b, 9, c, c), o.permute(0, 3, 1, 2)], 1)  # (B, 12, c, c)
        return apply_grade(self.decoder.spread(rel), y)

    def _drawn(self, p: torch.Tensor, a: torch.Tensor) -> torch.Tensor:
        """The decoder's own picture of p under a, as logits (B, 3, H, W)."""
        f = self.decoder.frame.logits(p)
        return f if self.audio == 0 else apply_grade(self.decoder.grade(a), f)


@torch.no_grad()
def reference_grade(decoder: GradedDecoder) -> torch.Tensor:
    """The grade of the mean sound (whitened audio directions 0) per cell -> (12, c, c): the rows of
    its matrix's (ridge) inverse, then its offsets."""
    if decoder.audio == 0:  # no sound, no grade: unused (FootageFrames._lit)
        return decoder.identity.view(12, decoder.cells, decoder.cells).clone()
    g = decoder.cell_grades(torch.zeros(1, decoder.audio)).double()[0]  # (12, c, c)
    c = g.shape[-1]
    m = g[:9].reshape(3, 3, c, c).permute(2, 3, 0, 1)  # (c, c, 3, 3)
    mt = m.transpose(-1, -2)
    mtm = mt @ m
    ridge = RIDGE * mtm.diagonal(dim1=-2, dim2=-1).mean(-1)[..., None, None]  # relative to the matrix's own scale
    inv = torch.linalg.solve(mtm + ridge * torch.eye(3, dtype=m.dtype), mt)  # (c, c, 3, 3)
    return torch.cat([inv.permute(2, 3, 0, 1).reshape(9, c, c), g[9:]]).float()


def flashes(cells: torch.Tensor, runs: np.ndarray, half: int) -> torch.Tensor:
    """cells (N, 3, c, c) each kept frame's mean colour per cell, runs (R, 2) [start, end) of
    consecutive frames -> (N, 3, c, c): its logit over that of the median frame within `half`
    frames of it in its run. A brief flash stands out of the median; a shot's steady light and a
    slow change of scene do not."""
    lg = torch.logit(cells.double().clamp(1 / 256, 255 / 256))
    out = torch.zeros_like(lg)
    for start, end in np.asarray(runs, np.int64):
        for i in range(start, end):
            lo, hi = max(start, i - half), min(end, i + half + 1)
            out[i] = lg[i] - lg[lo:hi].median(0).values
    return out.float()


def nearest_spacing(codes: np.ndarray, chunk: int = 512) -> float:
    """codes (N, footage) -> the median distance from a code to its nearest other code."""
    c = torch.from_numpy(np.asarray(codes, np.float64))
    best = []
    for s in range(0, len(c), chunk):
        d = torch.cdist(c[s : s + chunk], c)  # (chunk, N)
        d[torch.arange(d.shape[0]), torch.arange(s, s + d.shape[0])] = float("inf")
        best.append(d.min(1).values)
    return float(torch.cat(best).median()) if len(c) > 1 else 1.0


@torch.no_grad()
def keep_frames(decoder: GradedDecoder, data: FrameDataset, frames: np.ndarray, bank: np.ndarray,
                runs: np.ndarray, chunk: int = 256) -> FootageFrames:
    """The folded decoder with the bank's frames kept: `frames` (N,) dataset indices of the bank's
    rows, `bank` (N, latent) its rows ([0 | footage directions]), `runs` (R, 2) its runs."""
    size = (decoder.width, decoder.height)
    kept, cells = [], []
    for s in range(0, len(frames), chunk):
        x = device_images(torch.from_numpy(data.frames(frames[s : s + chunk])), size, torch.device("cpu"))
        kept.append((x * 255.0).round().to(torch.uint8))  # (b, 3, H, W)
        cells.append(F.adaptive_avg_pool2d(x, decoder.cells))  # (b, 3, c, c)
    codes = np.asarray(bank, np.float32)[:, decoder.audio :]
    radius = max(nearest_spacing(codes), MIN_RADIUS)
    light = flashes(torch.cat(cells), runs, max(1, round(FLASH_WINDOW_S * data.fps)))
    return FootageFrames(decoder, torch.from_numpy(codes), torch.cat(kept), light, radius).eval()
