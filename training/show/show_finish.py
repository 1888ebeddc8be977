"""The end of a `train show` run: what the trained modules become a show of.

The PCA of each part of the latent over the training frames (folded into the decoder and the
mapping when the show is assembled), the footage bank the shots play (the training frames'
codes in order, in runs split at the source's cuts), the cut rule learnt from the source, how
much each latent direction follows the audio on held-out frames, and the show's held-out
metrics as the daemon draws it.
"""
from __future__ import annotations

import logging
import math

import numpy as np
import torch

from latentvj.training.checkpoint import meta_conditioning
from latentvj.training.data.dataset import DatasetError, FrameDataset, device_images
from latentvj.training.decoder.trainer import heldout_grid
from latentvj.training.eval.evaluate import metrics, nearest_training_frames
from latentvj.training.show.audio_mapping import AudioMapping
from latentvj.training.show.cut_rules import learn_rules, rules_table, source_cuts, split_at_cuts
from latentvj.training.show.image_model import ImageAutoencoder, code_pca, whiten
from latentvj.training.show.image_show import assemble, image_predictor, rules_of
from latentvj.training.train_config import TrainConfig

log = logging.getLogger("latentvj.train")


@torch.no_grad()
def frame_codes(ae: ImageAutoencoder, data: FrameDataset, size: tuple[int, int], dev: torch.device,
                batch: int = 64) -> tuple[np.ndarray, np.ndarray]:
    """(data.n, latent) posterior means and log-variances of every frame, in dataset order."""
    ae.eval()
    mus, logvars = [], []
    for a in range(0, data.n, batch):
        x = device_images(torch.from_numpy(data.frames(np.arange(a, min(a + batch, data.n)))), size, dev)
        mu, logvar = ae.encode(x)
        mus.append(mu.float().cpu().numpy())
        logvars.append(logvar.float().cpu().numpy())
    ae.train()
    return np.concatenate(mus).astype(np.float64), np.concatenate(logvars).astype(np.float64)


def code_use(mu: np.ndarray, logvar: np.ndarray) -> dict[str, float]:
    """mu, logvar (N, latent) of the training frames -> the footage code's KL per frame (nats) and
    its active dimensions (Burda et al. 2016: the posterior mean's variance over the frames above
    0.01). A collapsed code has KL near 0 and no active dimension: every frame the same code."""
    kl = -0.5 * (1 + logvar - mu * mu - np.exp(logvar)).sum(1).mean()
    used = mu.var(0) > 0.01
    return {"footage_kl": float(kl), "footage_dims_used": float(used.sum()), "footage_dims": float(mu.shape[1])}


def residual_runs(data: FrameDataset, limit: int, cuts: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
    """The training frames the shots may play, as runs of consecutive frames of one shot (split at
    the source's `cuts`), at most `limit`: (frames,) dataset indices in order and (R, 2) [start, end)
    runs into them."""
    runs = data.segments(data.train_idx)
    if cuts is not None:
        runs = split_at_cuts(runs, cuts)
    total = sum(len(r) for r in runs)
    keep = [r[: max(2, math.ceil(limit * len(r) / total))] for r in runs] if total > limit else runs
    idx = np.concatenate(keep)
    ends = np.cumsum([len(r) for r in keep])
    return idx, np.stack([np.concatenate([[0], ends[:-1]]), ends], axis=1)


def bank_limit(cfg: TrainConfig, meta: dict) -> int:
    """Frames the shots may play: `residual_frames`, and as many as `footage_mb` holds where they are kept."""
    if cfg.footage != "frames" or cfg.sound != "light":
        return cfg.residual_frames
    return min(cfg.residual_frames, max(2, cfg.footage_mb * 2**20 // (3 * meta["width"] * meta["height"])))


def bank_frames(cfg: TrainConfig, meta: dict, data: FrameDataset, result: dict) -> np.ndarray:
    """(N,) dataset indices of the bank's rows: as the run kept them, or for a run from before it
    did, chosen again the way it chose them."""
    if "bank_frames" in result:
        return np.asarray(result["bank_frames"], np.int64)
    idx, _ = residual_runs(data, cfg.residual_frames, source_cuts(data))
    if len(idx) != len(result["bank"]):
        raise DatasetError(f"{data.root}: the run's footage bank has {len(result['bank'])} frames, its dataset gives "
                           f"{len(idx)}: it is not the dataset the run was trained on")
    return idx


def _r2(x: np.ndarray, y: np.ndarray, train: np.ndarray, held: np.ndarray, ridge: float = 1e-2) -> np.ndarray:
    """Held-out R^2 per column of y from a ridge regression on x (rows: frames)."""
    a = np.column_stack([x, np.ones(len(x))])
    reg = ridge * len(train) * np.eye(a.shape[1])
    reg[-1, -1] = 0.0
    w = np.linalg.solve(a[train].T @ a[train] + reg, a[train].T @ y[train])
    err = y[held] - a[held] @ w
    return 1.0 - (err ** 2).mean(0) / np.maximum(y[held].var(0), 1e-12)


@torch.no_grad()
def finish(cfg: TrainConfig, meta: dict, data: FrameDataset, ae: ImageAutoencoder, mapping: AudioMapping,
           dev: torch.device, eval_idx: np.ndarray, grid_idx: np.ndarray, writer) -> dict:
    """The PCAs, the footage bank, what the audio explains, and the show's held-out metrics as the
    daemon draws it."""
    ae.eval()
    mapping.eval()
    cond = meta_conditioning(meta)
    size = (meta["width"], meta["height"])
    inputs = data.inputs(np.arange(data.n), cond)  # (n, context, D)
    a = np.concatenate([mapping(torch.from_numpy(inputs[k : k + 512]).to(dev)).float().cpu().numpy()
                        for k in range(0, data.n, 512)]).astype(np.float64)  # (n, audio)
    z, logvar = frame_codes(ae, data, size, dev)  # (n, footage) each
    use = code_use(z[data.train_idx], logvar[data.train_idx])
    log.info("footage code: KL %.1f nats a frame, %d of %d dimensions active", use["footage_kl"],
             use["footage_dims_used"], use["footage_dims"])
    ae.eval()
    pca_a, pca_z = code_pca(a[data.train_idx]), code_pca(z[data.train_idx])
    latent = np.concatenate([whiten(a, pca_a), whiten(z, pca_z)], axis=1)  # (n, latent)
    explained = _r2(inputs.reshape(data.n, -1), latent, data.train_idx, data.heldout_idx)
    cuts = source_cuts(data)
    rules, cut_report = learn_rules(data, cuts, rules_of(cfg))
    if cfg.cuts == "fixed":
        rules = rules_of(cfg)
    log.info("the source cuts %.1f times a minute; the show cuts on %s with probability %.2f, %.2f to %.2f s apart "
             "(%s)", cut_report["source_cuts_per_min"], ",".join(rules.redraw_on), rules.probability, rules.min_s,
             rules.max_s, "learnt" if cut_report["learnt"] and cfg.cuts == "learn" else "as configured")
    bank_idx, runs = residual_runs(data, bank_limit(cfg, meta), cuts)
    bank = latent[bank_idx].astype(np.float32)
    bank[:, : meta["audio"]] = 0.0  # the footage part only: the mapping gives the rest
    state = {"pca_audio": pca_a, "pca_footage": pca_z}
    parts = assemble(meta, ae, mapping, state, bank, runs, "fitted", rules, cfg.seed, data.fps,
                     (data, bank_idx) if cfg.footage == "frames" else None)  # (a graded decoder only)
    m = metrics(image_predictor(parts, data, cond), data, eval_idx, cond, nearest=nearest_training_frames(data))
    writer.add_image("show/heldout_truth_over_show", heldout_grid(image_predictor(parts, data, cond), data, grid_idx),
                     cfg.steps)
    for k, v in m.items():
        writer.add_scalar(f"show/{k}", v, cfg.steps)
    return {"metrics": {**m, **use}, "explained": [float(r) for r in explained], "runs": runs.tolist(), "bank": bank,
            "bank_frames": bank_idx.tolist(),
            "rules": rules_table(rules), "cuts": cut_report, **state}


