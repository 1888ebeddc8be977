"""Conditioning -> VAE latent: the film project's idea (loudness drives the decoder), fitted.

- fitted: ridge regression from the standardised conditioning of each frame (by default RAVE
  latents and music features) to the VAE's posterior mean of that frame, on the training frames;
- direct: the film project's mode: loudness alone, scaled into the latent range along the
  direction in which the frames' latents vary most (mean + loudness * spread * direction);
  only when the conditioning has a loudness column.

Both are affine maps `z = weight @ f + bias` that the show bundle stores and the daemon applies.
"""
from __future__ import annotations

import numpy as np
import torch

from latentvj.daemon.show.conditioning import Conditioning

from .dataset import FrameDataset, to_tensor


@torch.no_grad()
def posterior_means(model, data: FrameDataset, idx: np.ndarray, device: torch.device, batch: int = 64) -> np.ndarray:
    """(N,) frame indices -> (N, z_dim) posterior means."""
    model.eval()
    size = (model.decoder.h0 << model.decoder.n_up, model.decoder.w0 << model.decoder.n_up)
    out = []
    for a in range(0, len(idx), batch):
        x = to_tensor(data.frames(idx[a : a + batch])).to(device)
        if x.shape[-2:] != size:
            x = torch.nn.functional.interpolate(x, size=size, mode="area")
        out.append(model.encode(x)[0].float().cpu().numpy())
    return np.concatenate(out)


def fit_mappings(model, data: FrameDataset, device: torch.device, cond: Conditioning, limit: int = 4000,
                 ridge: float = 1e-2) -> dict:
    idx = data.train_idx[np.linspace(0, len(data.train_idx) - 1, min(limit, len(data.train_idx))).astype(int)]
    mu = posterior_means(model, data, idx, device)  # (N, z)
    f = data.inputs(idx, cond)[:, -1].astype(np.float64)  # (N, F) standardised
    x = np.column_stack([f, np.ones(len(f))])
    reg = ridge * len(f) * np.eye(x.shape[1])
    reg[-1, -1] = 0.0  # no penalty on the bias
    coef = np.linalg.solve(x.T @ x + reg, x.T @ mu)  # (F + 1, z)
    centre = mu.mean(0)
    _, s, vt = np.linalg.svd(mu - centre, full_matrices=False)
    direction = vt[0] * (s[0] / np.sqrt(len(mu)))  # first principal axis, scaled by its spread
    model.train()
    out = {"fitted": {"weight": coef[:-1].T.tolist(), "bias": coef[-1].tolist()}}
    loudness = [i for i, n in enumerate(cond.names) if n.endswith("/loudness")]
    if loudness:
        loud = np.zeros((mu.shape[1], f.shape[1]))
        loud[:, loudness[0]] = direction
        out["direct"] = {"weight": loud.tolist(), "bias": centre.tolist()}
    return out
