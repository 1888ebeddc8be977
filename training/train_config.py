"""Training settings: defaults here, overridden by `--config train.toml`, then by flags.

The resolved config is saved in the run folder as `config.toml`; `--resume` reads it back, so a
resumed run cannot silently change its own settings.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass, fields
from pathlib import Path
from typing import Any

from latentvj.daemon.audio.music_analysis import EVENTS
from latentvj.daemon.show.conditioning import STREAM_KINDS, Conditioning
from latentvj.daemon.suggest import did_you_mean
from latentvj.daemon.toml_io import read_toml

from latentvj.training.data.dataset import DatasetError, FrameDataset
from latentvj.training.show.image_model import SOUND_PARTS

ARCHES = ("ours", "baseline", "show")
FOOTAGE_MODES = ("frames", "drawn")  # show: what the shots put on screen (footage_frames.py)
# `train show` and `train vae` start from these instead: a window of history for the mapping (the
# decay of a kick, the last beats), and a budget that trains a 60 s 64x64 video in minutes on a CPU
# On real footage (training/bench/footage_bench.py at 64x64, one run each) 4 audio directions and noise 0.6
# against 8 and 0.3 took flash r with an unseen song's kick from 0.68x to 1.03x the source's, cuts on
# the beat from 66 % to 71 % and motion within shots from 3.3x to 2.6x: fewer, noisier audio
# directions leave the sound less room to redraw the footage (bench/parts_bench.py)
SHOW_DEFAULTS = {"arch": "show", "steps": 5000, "lr": 1e-3, "context": 4, "music_window": 8, "eval_every": 1000,
                 "latent_noise": 0.6, "audio_latent": 4}


@dataclass
class TrainConfig:
    arch: str = "ours"  # ours | baseline (train decoder) | show (train show, train vae)
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
    latent_noise: float = 0.05  # std of noise added to the standardised conditioning (ours, show)
    ssim_weight: float = 0.2  # ours and vae: loss = L1 + w * (1 - SSIM); baseline: plain pixel loss
    baseline_loss: str = "l1"  # l1 | mse
    kl_weight: float = 5e-4  # show: KL of the footage code: what the sound explains is cheaper through it
    latent: int = 32  # show: image latent dimensions (audio + footage), each part PCA-ordered
    audio_latent: int = 8  # show: of which the audio mapping's part
    sound: str = "light"  # show: what the sound's part changes: light (grades the footage) | picture (redraws it)
    photometric_jitter: float = 0.5  # show: how much the encoder's view of a frame has its colours changed
    coarse_weight: float = 1.0  # show: mean colours of a frame drawn with another frame's footage vs its own
    spectrum_weight: float = 1.0  # show: log-spectrum L1 beside the multi-scale L1
    adv_weight: float = 0.5  # show: patch discriminator's hinge loss, times the adaptive weight
    fm_weight: float = 1.0  # show: discriminator feature matching
    adv_start: float = 0.3  # show: the part of the run before the discriminator joins
    kl_warmup: float = 0.2  # show: the part of the run over which the KL weight ramps up from 0
    footage: str = "frames"  # show: play the training frames where the walk is on them (footage_frames.py) | drawn
    footage_mb: int = 400  # show: the kept frames' size at most; a longer video keeps fewer frames per shot
    residual_frames: int = 20000  # show: training frames kept for the shots to play, at most
    cuts: str = "learn"  # show: learn the cut rule from the training video (cut_rules.py), or "fixed": redraw_*
    redraw_on: str = "beat"  # show: music events that may cut to another shot (beat, kick, snare, hat)
    redraw_probability: float = 0.35
    redraw_min_s: float = 1.0
    redraw_max_s: float = 6.0
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
    if cfg.arch not in ARCHES:
        raise DatasetError(f"{where}: arch '{cfg.arch}' is not one of {', '.join(ARCHES)}")
    if cfg.amp not in ("auto", "off"):
        raise DatasetError(f"{where}: amp '{cfg.amp}' is not auto or off")
    if cfg.sound not in SOUND_PARTS:
        raise DatasetError(f"{where}: sound '{cfg.sound}' is not one of {', '.join(SOUND_PARTS)}")
    if cfg.footage not in FOOTAGE_MODES:
        raise DatasetError(f"{where}: footage '{cfg.footage}' is not one of {', '.join(FOOTAGE_MODES)}")
    if cfg.cuts not in ("learn", "fixed"):
        raise DatasetError(f"{where}: cuts '{cfg.cuts}' is not learn or fixed")
    if cfg.baseline_loss not in ("l1", "mse"):
        raise DatasetError(f"{where}: baseline_loss '{cfg.baseline_loss}' is not l1 or mse")
    kinds = [k.strip() for k in cfg.conditioning.split(",")]
    for k in kinds:
        if k not in STREAM_KINDS:
            raise DatasetError(f"{where}: conditioning stream '{k}' is not one of {', '.join(STREAM_KINDS)}"
                               f"{did_you_mean(k, STREAM_KINDS)}")
    if len(set(kinds)) != len(kinds):
        raise DatasetError(f"{where}: conditioning '{cfg.conditioning}' names a stream twice")
    for key in ("steps", "batch", "context", "music_window", "latent", "audio_latent", "log_every", "eval_every",
                "ckpt_every", "residual_frames", "footage_mb"):
        if getattr(cfg, key) < 1:
            raise DatasetError(f"{where}: '{key}' must be at least 1")
    if not 8 <= cfg.latent <= 64:
        raise DatasetError(f"{where}: 'latent' is {cfg.latent}; an image latent of 8 to 64 dimensions")
    if cfg.audio_latent >= cfg.latent:
        raise DatasetError(f"{where}: 'audio_latent' ({cfg.audio_latent}) must leave some of 'latent' ({cfg.latent}) "
                           "for the footage")
    if not all(0.0 <= v <= 1.0 for v in (cfg.adv_start, cfg.kl_warmup, cfg.redraw_probability,
                                             cfg.photometric_jitter)):
        raise DatasetError(f"{where}: 'adv_start', 'kl_warmup', 'redraw_probability' and 'photometric_jitter' "
                           "must be in [0, 1]")
    if not 0.0 <= cfg.redraw_min_s <= cfg.redraw_max_s:
        raise DatasetError(f"{where}: need 0 <= redraw_min_s <= redraw_max_s")
    events = [e.strip() for e in cfg.redraw_on.split(",")]
    bad = [e for e in events if e not in EVENTS]
    if bad:
        raise DatasetError(f"{where}: redraw_on '{bad[0]}' is not one of {', '.join(EVENTS)}")
    return cfg


def load_file(path: Path) -> dict[str, Any]:
    return read_toml(path, DatasetError, "training config")


def to_dict(cfg: TrainConfig) -> dict[str, Any]:
    return asdict(cfg)


def conditioning_of(cfg: TrainConfig, data: FrameDataset) -> Conditioning:
    """The streams the config names, with the dataset's stats."""
    kinds = [k.strip() for k in cfg.conditioning.split(",")]
    names = tuple(n.strip() for n in cfg.music_features.split(",") if n.strip()) or None
    return data.conditioning(kinds, names, cfg.context, cfg.music_window)
