"""Losses that keep the image model's frames sharp.

A pixel loss alone rewards the average of what could be there, and the average is a blur. Three
terms push back, none needing a pretrained network:
- `spectrum_loss`: L1 between log-magnitude spectra, so missing high frequencies cost as much as
  a wrong mean colour;
- the hinge adversarial loss of a patch discriminator, its weight set each step the way VQGAN
  does (`adaptive_weight`), so it neither drowns nor is drowned by the reconstruction terms;
- `feature_matching`: the discriminator's features of the output against the source's.
`coarse_l1` is for the image show's audio path: the mean colours a sound can set.
"""
from __future__ import annotations

import torch
import torch.nn.functional as F


def spectrum_loss(out: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
    """out, x: (B, 3, H, W) -> mean |log(1 + |FFT out|) - log(1 + |FFT x|)|."""
    fo = torch.fft.rfft2(out.float(), norm="ortho").abs()
    fx = torch.fft.rfft2(x.float(), norm="ortho").abs()
    return (torch.log1p(fo) - torch.log1p(fx)).abs().mean()


def multiscale_l1(out: torch.Tensor, x: torch.Tensor, scales: int = 3) -> torch.Tensor:
    """L1 at full, half and quarter size: the coarse scales weigh layout, the full one detail."""
    loss = F.l1_loss(out, x)
    for _ in range(scales - 1):
        if min(out.shape[-2:]) < 8:
            break
        out, x = F.avg_pool2d(out, 2), F.avg_pool2d(x, 2)
        loss = loss + F.l1_loss(out, x)
    return loss / scales


def coarse_l1(out: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
    """L1 of the whole-frame and 2x2 mean colours: the light and colour a sound can set, whatever
    the shot. out, x: (B, 3, H, W)."""
    return sum(F.l1_loss(F.adaptive_avg_pool2d(out, k), F.adaptive_avg_pool2d(x, k)) for k in (1, 2)) / 2


def d_hinge(real: torch.Tensor, fake: torch.Tensor) -> torch.Tensor:
    return F.relu(1.0 - real).mean() + F.relu(1.0 + fake).mean()


def g_hinge(fake: torch.Tensor) -> torch.Tensor:
    return -fake.mean()


def feature_matching(fake: list[torch.Tensor], real: list[torch.Tensor]) -> torch.Tensor:
    return sum(F.l1_loss(f, r.detach()) for f, r in zip(fake, real)) / len(fake)


def adaptive_weight(rec: torch.Tensor, adv: torch.Tensor, last: torch.Tensor, cap: float = 1e3) -> torch.Tensor:
    """|d rec / d last| / |d adv / d last| on the decoder's last layer: the adversarial term gets
    the reconstruction's gradient scale (Esser et al., "Taming Transformers", eq. 7)."""
    g_rec = torch.autograd.grad(rec, last, retain_graph=True)[0]
    g_adv = torch.autograd.grad(adv, last, retain_graph=True)[0]
    return (g_rec.norm() / (g_adv.norm() + 1e-4)).clamp(0.0, cap).detach()
