"""A streaming RAVE export as an encoder: one latent vector per hop of audio.

Sizes come from the export itself (`encode_params`, `sr`), never from constants. The streaming
export keeps state in cached convolutions, so it is fed whole hops, in order, one hop per call
(the same calls live and offline, so `render` equals the live path bit for bit).
"""
from __future__ import annotations

from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

from .bundle import ShowError
from .torchscript import load_torchscript

WARMUP_CALLS = 64  # TorchScript's profiling executor needs a few dozen calls to settle


class RaveEncoder:
    """Encodes hops of mono audio at `sample_rate` into `latent_dim` floats.

    deterministic=True takes the mean of RAVE's posterior instead of sampling it: `encode` draws
    `mean + std * noise`, which is flicker on screen.
    """

    kind = "rave"

    def __init__(self, path: Path, device: torch.device, deterministic: bool = True) -> None:
        self.path = path
        self.device = device
        model = load_torchscript(path, device)
        if not hasattr(model, "encode_params") or not hasattr(model, "sr"):
            raise ShowError(f"{path}: not a RAVE export (no encode_params / sr attributes)")
        in_channels, in_ratio, latent_dim, hop = (int(v) for v in model.encode_params.tolist())
        if in_ratio != 1:
            raise ShowError(f"{path}: encode in_ratio {in_ratio} is not supported (expected 1)")
        self.model = model
        self.in_channels = in_channels
        self.latent_dim = latent_dim
        self.hop = hop
        self.sample_rate = int(model.sr)
        self._x = torch.zeros(1, in_channels, hop, device=device)  # (1, C, hop)
        self._pads = [buf for name, buf in model.named_buffers() if name.endswith(".pad")]
        # The posterior mean is reachable on variational exports (the usual RAVE v1/v2 kind).
        self._mean_path = (
            deterministic
            and hasattr(model, "latent_pca")
            and hasattr(model, "latent_mean")
            and hasattr(model, "encoder")
            and hasattr(model.encoder, "reparametrize")
        )
        self.deterministic = self._mean_path or not hasattr(model.encoder, "reparametrize")
        if self._mean_path:
            n = int(model.latent_size)
            self._pca = model.latent_pca[:n].unsqueeze(-1)  # (latent_dim, full, 1)
            self._pca_mean = model.latent_mean.unsqueeze(-1)  # (full, 1)
            self._pqmf = getattr(model, "input_mode", "pqmf") == "pqmf"

    @torch.no_grad()
    def _encode_mean(self, x: torch.Tensor) -> torch.Tensor:
        """RAVE's `encode` with the mean of the posterior instead of a sample."""
        if self._pqmf:
            bands = self.model.pqmf(x.reshape(-1, 1, x.shape[-1]))  # (C, n_band, hop / n_band)
            x = bands.reshape(1, -1, bands.shape[-1])
        raw = self.model.encoder(x)  # (1, 2 * full, T)
        mean = raw[:, : raw.shape[1] // 2]  # (1, full, T)
        return F.conv1d(mean - self._pca_mean, self._pca)  # (1, latent_dim, T)

    @torch.no_grad()
    def encode_hop(self, mono: np.ndarray) -> np.ndarray:
        """mono: (hop,) float32 -> (latent_dim,) float32."""
        self._x.copy_(torch.from_numpy(mono).view(1, 1, -1).expand(1, self.in_channels, -1))
        z = self._encode_mean(self._x) if self._mean_path else self.model.encode(self._x)
        return z[0, :, -1].float().cpu().numpy()

    def reset(self) -> None:
        """Forget the audio seen so far: zero the cached-convolution state."""
        for buf in self._pads:
            buf.zero_()

    def warmup(self, calls: int = WARMUP_CALLS) -> None:
        silence = np.zeros(self.hop, dtype=np.float32)
        for _ in range(calls):
            self.encode_hop(silence)
        self.reset()
