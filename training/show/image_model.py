"""The show's image model: frames -> a compact latent -> frames, trained on the frames alone.

Why an autoencoder and not a decoder from audio: a music video is not a function of its sound
(cuts, camera moves, faces), so regressing pixels from audio learns the average of what could be
on screen, a blur. An image model whose every code decodes to a sharp frame of the show, plus a
mapping from audio into that code (audio_mapping.py), keeps the picture sharp whatever the audio
does not determine.

- `ImageAutoencoder`: a conditional autoencoder. The decoder takes [a | z]: a = the audio
  mapping's output (audio_mapping.py) for the frame's sound, z = the encoder's code for the frame.
  The KL on z makes every bit it carries cost, while a is free: what the sound explains (colour
  from harmony, flashes from kicks) is learnt through a, and z keeps only what it does not (which
  shot, where the subject is). Live, a comes from the sound and z from the training footage
  (daemon/show/shots.py), and every combination must decode to a real frame.
- `GradedDecoder` (sound "light", the default): z alone draws the picture, and a only grades it,
  a colour matrix and offset per cell of a coarse grid. On real footage a decoder that took [a | z]
  in one piece let the sound redraw the scene (motion within shots 2.6x the source's, frames that
  melt two shots: bench/parts_bench.py); a grade cannot move an edge, so the footage moves as the
  walk through its codes does and the sound keeps what it really explains, the light. Sound
  "picture" is that older decoder, for shows whose sound changes shapes and not only light.
- `PatchDiscriminator`: a small PatchGAN critic with spectral norm; its features serve feature
  matching too. Nothing pretrained: none can be downloaded here.
- `fold_pca`: after training, the decoder's first layer is rewritten so its input is the PCA of
  the training codes, whitened: dimension 0 is the largest change over the show's frames and each
  dimension has unit spread, so `/latentvj/scale/<i>` and `/latentvj/bias/<i>` act as sliders.
"""
from __future__ import annotations

import copy
import math

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.nn.utils.parametrizations import spectral_norm

from latentvj.training.decoder.models import LatentDecoder, stages

DECODER_WIDTHS = (128, 96, 64, 48, 32, 16, 12)  # channels from the 4x4 map outwards; light at full size


LOGVAR_INIT = -4.0
SOUND_PARTS = ("light", "picture")
GRADE_CELLS = 4  # the grade's grid: too coarse to draw an edge, fine enough for a window's light or a vignette
GRADE = 12  # per cell: a 3x3 colour matrix, then an offset per channel


class GradedDecoder(nn.Module):
    """[a | z] (B, audio + footage) -> (B, 3, H, W) in [0, 1]: z draws the picture, a grades it.

    The grade acts before the sigmoid (in logit space), so an offset brightens towards white
    without clipping and the result stays in [0, 1]; it starts as the identity."""

    def __init__(self, audio: int, footage: int, width: int, height: int, widths: tuple[int, ...],
                 cells: int = GRADE_CELLS, hidden: int = 64) -> None:
        super().__init__()
        self.audio, self.cells, self.height, self.width = audio, cells, height, width
        self.frame = LatentDecoder(footage, 1, width, height, widths)
        self.light = nn.Sequential(nn.Linear(max(audio, 1), hidden), nn.SiLU(), nn.Linear(hidden, GRADE * cells * cells))
        with torch.no_grad():
            self.light[-1].weight.zero_()
            self.light[-1].bias.zero_()
        identity = torch.zeros(GRADE, cells, cells)
        identity[[0, 4, 8]] = 1.0  # the matrix's diagonal
        self.register_buffer("identity", identity.flatten())

    def cell_grades(self, a: torch.Tensor) -> torch.Tensor:
        """a (B, audio) -> the grade per cell (B, 12, cells, cells): matrix rows, then offsets."""
        return (self.light(a) + self.identity).view(a.shape[0], 12, self.cells, self.cells)  # GRADE

    def spread(self, g: torch.Tensor) -> torch.Tensor:
        """A grade per cell (B, 12, cells, cells) -> at full size (B, 12, H, W)."""
        return F.interpolate(g, size=(self.height, self.width), mode="bilinear", align_corners=False)

    def grade(self, a: torch.Tensor) -> torch.Tensor:
        """a (B, audio) -> the grade at full size (B, 12, H, W): matrix rows, then offsets."""
        return self.spread(self.cell_grades(a))

    def forward(self, latent: torch.Tensor) -> torch.Tensor:
        return self.graded(self.frame.logits(latent[:, self.audio :]), latent[:, : self.audio])

    def graded(self, f: torch.Tensor, a: torch.Tensor) -> torch.Tensor:
        """f: (B, 3, H, W) the picture's logits (frame.logits), a: (B, audio) -> the graded picture."""
        if self.audio == 0:
            return torch.sigmoid(f)
        return torch.sigmoid(apply_grade(self.grade(a), f))


def apply_grade(g: torch.Tensor, f: torch.Tensor) -> torch.Tensor:
    """g (B, 12, H, W) a grade at full size, f (B, 3, H, W) logits -> the graded logits (B, 3, H, W)."""
    b, _, h, w = g.shape
    m = g[:, :9].reshape(b, 3, 3, h, w)
    return (m * f.unsqueeze(1)).sum(2) + g[:, 9:]


class ImageAutoencoder(nn.Module):
    def __init__(self, latent: int, width: int, height: int, widths: tuple[int, ...] = DECODER_WIDTHS,
                 audio: int = 0, sound: str = "light") -> None:
        """latent: z's size; audio: a's size (the decoder takes audio + latent); sound: what a may
        change, "light" (GradedDecoder) or "picture" (one LatentDecoder of [a | z])."""
        super().__init__()
        if sound not in SOUND_PARTS:
            raise ValueError(f"sound part {sound!r}: one of {', '.join(SOUND_PARTS)}")
        self.latent = latent
        self.audio = audio
        self.decoder: nn.Module = (GradedDecoder(audio, latent, width, height, widths) if sound == "light"
                                   else LatentDecoder(audio + latent, 1, width, height, widths))
        n, h0, w0 = stages(width, height, 4)
        chans = [widths[min(i, len(widths) - 1)] for i in range(n + 1)][::-1]  # full size -> 4x4
        layers: list[nn.Module] = [nn.Conv2d(3, chans[0], 3, padding=1), nn.SiLU()]
        for a, b in zip(chans[:-1], chans[1:]):
            layers += [nn.Conv2d(a, b, 4, stride=2, padding=1), nn.GroupNorm(math.gcd(8, b), b), nn.SiLU(),
                       nn.Conv2d(b, b, 3, padding=1), nn.SiLU()]
        self.encoder = nn.Sequential(*layers)
        self.head = nn.Linear(chans[-1] * h0 * w0, 2 * latent)
        with torch.no_grad():  # a narrow posterior from the start: the code carries the frame before
            self.head.bias[latent:].fill_(LOGVAR_INIT)  # the decoder learns to ignore it as noise

    def encode(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """x: (B, 3, H, W) in [0, 1] -> mu, logvar: (B, latent)."""
        h = self.head(self.encoder(x * 2.0 - 1.0).flatten(1))
        mu, logvar = h.chunk(2, dim=1)
        return mu, logvar.clamp(-10.0, 4.0)

    def forward(self, x: torch.Tensor, a: torch.Tensor, gen: torch.Generator | None = None
                ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]:
        """x (B, 3, H, W) what the encoder sees, a (B, audio) -> the decoded frame from a posterior
        sample (noise from `gen`, part of the resumable state), mu, logvar and the sample z (B, latent)."""
        mu, logvar, z = self._posterior(x, gen)
        return self.decoder(torch.cat([a, z], dim=1)), mu, logvar, z

    def _posterior(self, x: torch.Tensor, gen: torch.Generator | None
                   ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """x (B, 3, H, W) -> mu, logvar and a sample z, each (B, latent)."""
        mu, logvar = self.encode(x)
        eps = torch.randn(mu.shape, generator=gen).to(mu.device) if gen is not None else torch.randn_like(mu)
        return mu, logvar, mu + eps * torch.exp(0.5 * logvar)

    def with_swapped(self, x: torch.Tensor, a: torch.Tensor, gen: torch.Generator | None = None
                     ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]:
        """forward, plus each frame's sound over the next frame's footage (z rolled by one, and
        nothing of it reaching the encoder): recon, mu, logvar, z, swapped. With the graded
        decoder the footage is drawn once and graded twice, half the decoder's cost."""
        if not isinstance(self.decoder, GradedDecoder):
            recon, mu, logvar, z = self(x, a, gen)
            return recon, mu, logvar, z, self.decoder(torch.cat([a, z.roll(1, dims=0).detach()], dim=1))
        mu, logvar, z = self._posterior(x, gen)
        f = self.decoder.frame.logits(z)  # (B, 3, H, W)
        return (self.decoder.graded(f, a), mu, logvar, z,
                self.decoder.graded(f.roll(1, dims=0).detach(), a))

    def last_layer(self) -> torch.Tensor:
        """The weight that draws the picture (VQGAN's adaptive weight balances losses on it)."""
        frame = self.decoder.frame if isinstance(self.decoder, GradedDecoder) else self.decoder
        return frame.to_rgb.weight


class PatchDiscriminator(nn.Module):
    """(B, 3, H, W) -> per-patch realness (B, 1, H/8, W/8) and the features on the way."""

    def __init__(self, channels: tuple[int, ...] = (32, 64, 128)) -> None:
        super().__init__()
        layers, c = [], 3
        for k in channels:
            layers.append(nn.Sequential(spectral_norm(nn.Conv2d(c, k, 4, stride=2, padding=1)), nn.LeakyReLU(0.2)))
            c = k
        self.layers = nn.ModuleList(layers)
        self.out = spectral_norm(nn.Conv2d(c, 1, 3, padding=1))

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, list[torch.Tensor]]:
        feats, h = [], x * 2.0 - 1.0
        for layer in self.layers:
            h = layer(h)
            feats.append(h)
        return self.out(h), feats


def photometric_jitter(x: torch.Tensor, strength: float, gen: torch.Generator) -> torch.Tensor:
    """x (B, 3, H, W) in [0, 1] -> the same frames with their colours swapped and scaled and their
    brightness moved, per frame. The encoder sees these, the decoder must still draw x: a footage
    code cannot rely on colour or brightness, so the decoder takes them from the sound where the
    sound explains them (a chord's colour, a kick's flash). Draws from `gen` (resumable)."""
    b = x.shape[0]
    perms = torch.stack([torch.randperm(3, generator=gen) for _ in range(b)])  # (B, 3)
    swap = torch.rand(b, generator=gen) < strength  # (B,)
    order = torch.where(swap[:, None], perms, torch.arange(3).expand(b, 3)).to(x.device)
    out = torch.gather(x, 1, order[:, :, None, None].expand_as(x))
    gain = 1.0 + strength * (2.0 * torch.rand(b, 3, 1, 1, generator=gen) - 1.0)  # (B, 3, 1, 1)
    lift = 0.5 * strength * (2.0 * torch.rand(b, 1, 1, 1, generator=gen) - 1.0)  # (B, 1, 1, 1)
    return (out * gain.to(x.device) + lift.to(x.device)).clamp(0.0, 1.0)


def code_pca(codes: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """codes (N, latent) -> mean (latent,), components (latent, latent) rows largest first, and
    each component's standard deviation (latent,)."""
    mean = codes.mean(0)
    _, s, vt = np.linalg.svd(codes - mean, full_matrices=False)
    std = s / math.sqrt(max(len(codes) - 1, 1))
    vt = vt * np.sign(vt[np.arange(len(vt)), np.abs(vt).argmax(1)])[:, None]  # a fixed sign per direction
    return mean, vt, std


def whiten(codes: np.ndarray, pca: tuple[np.ndarray, np.ndarray, np.ndarray]) -> np.ndarray:
    """(N, latent) codes -> (N, latent) PCA coordinates with unit spread."""
    mean, vt, std = pca
    return (codes - mean) @ vt.T / np.maximum(std, 1e-8)


def _fold_into(first: nn.Linear, pcas: list[tuple[np.ndarray, np.ndarray, np.ndarray]]) -> None:
    """Rewrite `first` in place to take whitened coordinates of `pcas` (one block each) instead of codes."""
    m, mean = _unwhiten(pcas)
    w = first.weight.detach().double()  # (hidden, latent)
    with torch.no_grad():
        first.bias.copy_((first.bias.detach().double() + w @ mean).float())
        first.weight.copy_((w @ m.T).float())


def _unwhiten(pcas: list[tuple[np.ndarray, np.ndarray, np.ndarray]]) -> tuple[torch.Tensor, torch.Tensor]:
    """Block-diagonal: whitened coordinates p -> code = mean + p @ m, one block per PCA."""
    n = sum(len(p[0]) for p in pcas)
    m, mean, k = torch.zeros(n, n, dtype=torch.float64), torch.zeros(n, dtype=torch.float64), 0
    for mu, vt, std in pcas:
        d = len(mu)
        m[k : k + d, k : k + d] = torch.as_tensor(vt * std[:, None])
        mean[k : k + d] = torch.as_tensor(mu)
        k += d
    return m, mean


def fold_pca(decoder: nn.Module, audio: tuple[np.ndarray, np.ndarray, np.ndarray],
             footage: tuple[np.ndarray, np.ndarray, np.ndarray] | None = None) -> nn.Module:
    """A copy of `decoder` whose input is whitened PCA coordinates, the audio part's then the
    footage part's (one PCA alone: the whole input): the code is mean + (p * std) @ vt, folded into
    the first linear layer that reads each part, so the exported decoder costs nothing more."""
    out = copy.deepcopy(decoder).cpu()
    if isinstance(out, GradedDecoder):
        if out.audio:
            _fold_into(out.light[0], [audio])
        _fold_into(out.frame.mlp[0], [footage if footage is not None else audio])
    else:
        _fold_into(out.mlp[0], [audio] + ([footage] if footage is not None else []))
    return out


def fold_whitening(linear: nn.Linear, pca: tuple[np.ndarray, np.ndarray, np.ndarray]) -> nn.Linear:
    """A copy of `linear` whose output is whitened by `pca`: (y - mean) @ vt.T / std."""
    mean, vt, std = (torch.as_tensor(a, dtype=torch.float64) for a in pca)
    t = vt.T / std.clamp_min(1e-8)  # (out, out)
    out = copy.deepcopy(linear).cpu()
    with torch.no_grad():
        out.weight.copy_((t.T @ linear.weight.detach().double().cpu()).float())
        out.bias.copy_(((linear.bias.detach().double().cpu() - mean) @ t).float())
    return out
