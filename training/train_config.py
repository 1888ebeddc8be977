"""Training settings: defaults here, overridden by `--config train.toml`, then by flags.

The resolved config is saved in the run folder as `config.toml`; `--resume` reads it back, so a
resumed run cannot silently change its own settings.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass, fields
from pathlib import Path
from typing import Any

from latentvj.daemon.show.conditioning import STREAM_KINDS, Conditioning
from latentvj.daemon.suggest import did_you_mean
from latentvj.daemon.toml_io import read_toml

from .dataset import DatasetError, FrameDataset


@dataclass
class TrainConfig:
    arch: str = "ours"  # ours | baseline | vae
    data: str = ""  # dataset folder
    steps: int = 2000
    batch: int = 16
    lr: float = 2e-3
    warmup: int = 100  # linear warm-up steps, then cosine decay to lr * 0.05
    weight_decay: float = 0.0
    width: int = 0  # output size; 0 = the dataset's frame size
    height: int = 0
    conditioning: str = "rave,music"  # streams the model takes, in order: rave, music, features (the old six)
    music_features: str = ""  # music stream columns, comma-separated; "" = loudness, centroid, onsets, chroma
    context: int = 1  # RAVE latents the decoder sees, newest last (1 = the current one only)
    music_window: int = 1  # music rows (one per frame) the decoder sees
    latent_noise: float = 0.05  # std of noise added to standardised latents (ours only)
    ssim_weight: float = 0.2  # ours and vae: loss = L1 + w * (1 - SSIM); baseline: plain pixel loss
    baseline_loss: str = "l1"  # l1 | mse
    z_dim: int = 8  # vae latent size
    kl_weight: float = 1e-3  # vae
    seed: int = 0
    workers: int = 2  # DataLoader processes; 0 reads in the training process
    amp: str = "auto"  # auto (bf16 on CUDA when supported, else fp16) | off
    log_every: int = 25
    eval_every: int = 500
    ckpt_every: int = 250
    eval_frames: int = 480  # held-out frames used for metrics during training
    grid_frames: int = 6  # held-out frames in the TensorBoard image grid


def _names() -> list[str]:
    return [f.name for f in fields(TrainConfig)]


def apply(cfg: TrainConfig, values: dict[str, Any], where: str) -> TrainConfig:
    types = {f.name: type(getattr(cfg, f.name)) for f in fields(TrainConfig)}
    for key, value in values.items():
        if key not in types:
            raise DatasetError(f"{where}: unknown setting '{key}'{did_you_mean(key, _names())}")
        want = types[key]
        if want is float and isinstance(value, int) and not isinstance(value, bool):
            value = float(value)
        if not isinstance(value, want) or (want is int and isinstance(value, bool)):
            raise DatasetError(f"{where}: '{key}' should be {want.__name__}, got {value!r}")
        setattr(cfg, key, value)
    if cfg.arch not in ("ours", "baseline", "vae"):
        raise DatasetError(f"{where}: arch '{cfg.arch}' is not one of ours, baseline, vae")
    if cfg.amp not in ("auto", "off"):
        raise DatasetError(f"{where}: amp '{cfg.amp}' is not auto or off")
    if cfg.baseline_loss not in ("l1", "mse"):
        raise DatasetError(f"{where}: baseline_loss '{cfg.baseline_loss}' is not l1 or mse")
    kinds = [k.strip() for k in cfg.conditioning.split(",")]
    for k in kinds:
        if k not in STREAM_KINDS:
            raise DatasetError(f"{where}: conditioning stream '{k}' is not one of {', '.join(STREAM_KINDS)}"
                               f"{did_you_mean(k, STREAM_KINDS)}")
    if len(set(kinds)) != len(kinds):
        raise DatasetError(f"{where}: conditioning '{cfg.conditioning}' names a stream twice")
    for key in ("steps", "batch", "context", "music_window", "z_dim", "log_every", "eval_every", "ckpt_every"):
        if getattr(cfg, key) < 1:
            raise DatasetError(f"{where}: '{key}' must be at least 1")
    return cfg


def load_file(path: Path) -> dict[str, Any]:
    return read_toml(path, DatasetError, "training config")


def to_dict(cfg: TrainConfig) -> dict[str, Any]:
    return asdict(cfg)


def conditioning_of(cfg: TrainConfig, data: FrameDataset) -> Conditioning:
    """The streams the config names, with the dataset's stats. A VAE's mapping reads one row."""
    kinds = [k.strip() for k in cfg.conditioning.split(",")]
    names = tuple(n.strip() for n in cfg.music_features.split(",") if n.strip()) or None
    vae = cfg.arch == "vae"
    return data.conditioning(kinds, names, 1 if vae else cfg.context, 1 if vae else cfg.music_window)
