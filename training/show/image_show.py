"""An image show's parts (built, assembled with their PCAs) and what it draws for dataset frames: mapping + the shots' residual walk + decoder, the
way the daemon composes them (runtime.ShowRuntime.to_decoder_latent), for evaluation.

The daemon decides cuts per music hop from the hop's events; a dataset keeps one row per frame, so
here the events are read back from the frame rows: a beat where the tracker's beat phase wraps, a
kick where the held kick onset jumps. The same ShotPlayer and rules then decide, one frame per
step. Cut times can differ from the daemon's by a frame; what is on screen is drawn the same way.
"""
from __future__ import annotations

import copy
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import torch

from latentvj.daemon.audio.music_analysis import EVENTS
from latentvj.daemon.show.conditioning import Conditioning
from latentvj.daemon.show.shots import ShotPlayer, ShotRules

from latentvj.training.show.audio_mapping import AffineMapping, AudioMapping, PaddedMapping
from latentvj.training.checkpoint import meta_conditioning
from latentvj.training.data.dataset import DatasetError, FrameDataset
from latentvj.training.show.footage_frames import keep_frames
from latentvj.training.show.image_model import (
    GradedDecoder,
    ImageAutoencoder,
    PatchDiscriminator,
    fold_pca,
    fold_whitening,
)
from latentvj.training.train_config import TrainConfig

Predict = Callable[[np.ndarray], torch.Tensor]  # (B,) global frame indices -> (B, 3, H, W) in [0, 1]
KICK_JUMP = 0.5  # a rise of a held drum onset this large between frames counts as a hit


@dataclass
class ImageShowParts:
    mapping: torch.nn.Module  # (B, context, D) -> (B, latent)
    decoder: torch.nn.Module  # (B, latent) -> (B, 3, H, W)
    residuals: np.ndarray  # (frames, latent)
    runs: np.ndarray  # (R, 2)
    fps: float
    rules: ShotRules
    seed: int = 0


def frame_events(data: FrameDataset, idx: np.ndarray) -> np.ndarray:
    """(B,) consecutive frame indices -> (B,) EVENTS bits read back from the music rows."""
    rows = data.rows(np.concatenate([[max(idx[0] - 1, 0)], idx]))  # (B + 1, row)
    beat = rows[:, data.columns("music", ("beat_phase",))[0]]
    bits = np.zeros(len(idx), np.int64)
    bits[np.diff(beat) < -0.5] |= 1 << EVENTS.index("beat")
    for drum in EVENTS[1:]:
        onset = rows[:, data.columns("music", (f"onset_{drum}",))[0]]
        bits[np.diff(onset) > KICK_JUMP] |= 1 << EVENTS.index(drum)
    return bits


def image_predictor(parts: ImageShowParts, data: FrameDataset, cond: Conditioning) -> Predict:
    """A predictor that keeps its shot between calls while the frames asked for are consecutive."""
    player = ShotPlayer(parts.runs, parts.fps, parts.rules, 1.0 / data.fps)
    state = {"last": -2}

    @torch.no_grad()
    def predict(idx: np.ndarray) -> torch.Tensor:
        z = parts.mapping(torch.from_numpy(data.inputs(idx, cond))).numpy()  # (B, latent)
        events = frame_events(data, idx)
        for b, i in enumerate(idx):
            t = i / data.fps
            if i != state["last"] + 1 or data.item_of[i] != data.item_of[max(i - 1, 0)]:
                player.reset(parts.seed + int(i), t)  # a new run of frames starts its own shot
            row = player.push(int(events[b]), t)
            z[b] += parts.residuals[player.index(row, t)]
            state["last"] = int(i)
        return parts.decoder(torch.from_numpy(z))

    return predict


def build_parts(meta: dict) -> tuple[ImageAutoencoder, PatchDiscriminator, AudioMapping]:
    cond = meta_conditioning(meta)
    audio = meta["audio"]
    ae = ImageAutoencoder(meta["latent"] - audio, meta["width"], meta["height"], audio=audio,
                          sound=meta.get("sound", "picture"))  # runs from before the graded decoder drew pictures
    mapping = AudioMapping(cond.dim, cond.context, audio, cond.layout())
    return ae, PatchDiscriminator(), mapping


def rules_of(cfg: TrainConfig, result: dict | None = None) -> ShotRules:
    """The run's cut rule: learnt from the source when the run did (result["rules"]), else the config's."""
    if result and "rules" in result:
        t = result["rules"]
        return ShotRules(tuple(t["redraw_on"]), float(t["probability"]), float(t["min_s"]), float(t["max_s"]))
    return ShotRules(tuple(e.strip() for e in cfg.redraw_on.split(",")), cfg.redraw_probability,
                     cfg.redraw_min_s, cfg.redraw_max_s)


def direct_weight(cond: Conditioning, latent: int) -> np.ndarray | None:
    """(latent, dim): standardised loudness moves dimension 0 (the largest audio-driven change) by
    as many of its sigmas; None without a loudness column."""
    loud = [i for i, n in enumerate(cond.names) if n.endswith("/loudness")]
    if not loud:
        return None
    w = np.zeros((latent, cond.dim))
    w[0, loud[0]] = 1.0
    return w


def assemble(meta: dict, ae: ImageAutoencoder, mapping: AudioMapping, state: dict, bank: np.ndarray,
             runs: np.ndarray, mode: str, rules: ShotRules, seed: int, fps: float,
             kept: tuple[FrameDataset, np.ndarray] | None = None) -> ImageShowParts:
    """The show's parts with the PCAs folded in: mapping -> [audio directions | 0], decoder of
    [audio directions | footage directions]; `direct`: loudness alone on audio direction 0.
    `kept`: the dataset and the bank's (N,) frame indices, to play the frames themselves
    (footage_frames.py; a graded decoder only)."""
    audio = meta["audio"]
    footage = meta["latent"] - audio
    # (trained channels last; the daemon's decoder runs on one latent at a time, in the default layout)
    decoder = fold_pca(ae.decoder, state["pca_audio"], state["pca_footage"]).to(memory_format=torch.contiguous_format)
    decoder = decoder.eval()
    if mode == "direct":
        w = direct_weight(meta_conditioning(meta), meta["latent"])
        if w is None:
            raise DatasetError("--mapping direct needs a loudness column in the run's conditioning "
                               "(train with --conditioning music)")
        out = AffineMapping(torch.from_numpy(w), torch.zeros(meta["latent"]))
    else:
        folded = copy.deepcopy(mapping).cpu().eval()
        folded.out[-1] = fold_whitening(mapping.out[-1], state["pca_audio"])
        out = PaddedMapping(folded, footage)
    out = out.eval()
    if kept is not None and isinstance(decoder, GradedDecoder):
        decoder = keep_frames(decoder, kept[0], kept[1], bank, runs)
    return ImageShowParts(out, decoder, bank, runs, fps, rules, seed)
