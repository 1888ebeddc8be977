"""Held-out metrics for a decoder, from a training run or from an exported show.

- PSNR and SSIM against the source frames;
- flicker: mean absolute frame-to-frame change of the output over the same change in the
  source (1 = as lively as the video, above 1 = jitter the video does not have);
- reactivity: correlation over time between how much the latent moves and how much the output
  picture moves (the source's own value is printed beside it for reference);
- sharpness: gradient energy of the output over the source's (picture_scores.py; a blur is well
  below 1), and, with realism, over that of the training frame nearest each output (what it
  shows: the fair one for an image show, whose shots play other footage than the source's);
- realism: how far each output frame is from its nearest training frame, beside the same for the
  held-out real frames (1 = as close to real footage as new real footage is);
- the video scores a VJ reads (video_scores.py): cuts on the beat, cuts per minute, motion within
  shots and flashes with the kick, of frames played in order through the predictor (an image show
  plays its shots as it would live), beside the same for the source frames.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np
import torch
from pytorch_msssim import ssim

from latentvj.daemon.show.bundle import (
    ShowError,
    load_manifest,
    resolve_show_path,
    sha256_of,
    verify_checksums,
)
from latentvj.daemon.show.conditioning import Conditioning
from latentvj.daemon.show.torchscript import load_torchscript

from latentvj.training.checkpoint import CHECKPOINT, load_checkpoint, load_model, meta_conditioning
from latentvj.training.data.dataset import DatasetError, FrameDataset, to_tensor
from latentvj.training.show.image_show import ImageShowParts, Predict, image_predictor
from latentvj.training.eval.picture_scores import NearestFrames, SharpnessMeter, realism, sample_indices
from latentvj.training.eval.video_scores import compare, pool, shrink, video_scores

NEAREST_SAMPLE = 2000  # training frames the realism score searches
VIDEO_MIN_S = 10.0  # video scores need this much footage in all: cut timing and cuts/min count cuts
VIDEO_RUN_S = 2.0  # runs shorter than this are left out: the flash score's running median spans a second


def eval_indices(data: FrameDataset, limit: int) -> np.ndarray:
    """Up to `limit` held-out frames, taken as whole runs from the start of each held-out segment."""
    runs = data.segments(data.heldout_idx)
    if not runs:
        return data.heldout_idx[:limit]
    per = max(limit // len(runs), 2)
    return np.concatenate([r[:per] for r in runs])[:limit]


def _corr(a: np.ndarray, b: np.ndarray) -> float:
    if len(a) < 3 or a.std() < 1e-12 or b.std() < 1e-12:
        return float("nan")
    return float(np.corrcoef(a, b)[0, 1])


@torch.no_grad()
def nearest_training_frames(data: FrameDataset, limit: int = NEAREST_SAMPLE) -> NearestFrames:
    pick = data.train_idx[sample_indices(len(data.train_idx), limit)]
    return NearestFrames.from_batches(to_tensor(data.frames(chunk)) for chunk in np.array_split(pick, 8) if len(chunk))


@torch.no_grad()
def metrics(predict: Predict, data: FrameDataset, idx: np.ndarray, cond: Conditioning,
            batch: int = 32, nearest: NearestFrames | None = None) -> dict[str, float]:
    """`cond`: the model's conditioning, whose movement `reactivity` compares with the picture's;
    `nearest`: training frames for the realism score (skipped without)."""
    psnr, ssims, prev_out, prev_src, prev_i = [], [], None, None, None
    sharp, shown, nn_out, nn_real = SharpnessMeter(), SharpnessMeter(), [], []
    d_out, d_src, d_lat = [], [], []
    lat = data.inputs(idx, cond)[:, -1]  # (N, D) standardised, the newest row
    for a in range(0, len(idx), batch):
        chunk = idx[a : a + batch]
        out = predict(chunk).float().clamp(0, 1).cpu()  # (B, 3, H, W)
        src = to_tensor(data.frames(chunk))
        if src.shape[-2:] != out.shape[-2:]:
            src = torch.nn.functional.interpolate(src, size=out.shape[-2:], mode="area")
        mse = ((out - src) ** 2).flatten(1).mean(1)
        psnr.append(10 * torch.log10(1.0 / mse.clamp_min(1e-10)))
        ssims.append(ssim(out, src, data_range=1.0, size_average=False))
        sharp.add(out, src)
        if nearest is not None:
            dist, near = nearest.nearest(out)
            nn_out.append(dist.numpy())
            shown.add_energy(out, nearest.energy[near])
            nn_real.append(nearest.distance(src).numpy())
        for j, i in enumerate(chunk):  # consecutive pairs within one video
            if prev_i is not None and i == prev_i + 1 and data.item_of[i] == data.item_of[prev_i]:
                d_out.append(float((out[j] - prev_out).abs().mean()))
                d_src.append(float((src[j] - prev_src).abs().mean()))
                k = a + j
                d_lat.append(float(np.linalg.norm(lat[k] - lat[k - 1])))
            prev_out, prev_src, prev_i = out[j], src[j], i
    d_out_a, d_src_a, d_lat_a = np.array(d_out), np.array(d_src), np.array(d_lat)
    real = realism(np.concatenate(nn_out), np.concatenate(nn_real)) if nn_out else {}
    return {
        "sharpness": sharp.value(),
        **({"sharpness_shown": shown.value()} if nearest is not None else {}),
        **real,
        "psnr": float(torch.cat(psnr).mean()),
        "ssim": float(torch.cat(ssims).mean()),
        "flicker": float(d_out_a.mean() / max(d_src_a.mean(), 1e-9)) if len(d_out) else float("nan"),
        "reactivity": _corr(d_lat_a, d_out_a),
        "source_reactivity": _corr(d_lat_a, d_src_a),
        "frames": int(len(idx)),
    }


def video_runs(data: FrameDataset, whole: bool) -> list[np.ndarray]:
    """Runs of consecutive frames to play in order for the video scores: every video of the dataset
    from start to end (`whole`: a song the show never heard), else its held-out segments; [] when
    they add up to under VIDEO_MIN_S, or the dataset's rows lack the beat and kick columns."""
    if not {"beat_phase", "onset_kick"} <= set(data.music_names):
        return []
    runs = [r for r in data.segments(np.arange(data.n) if whole else data.heldout_idx)
            if len(r) >= VIDEO_RUN_S * data.fps]
    return runs if sum(map(len, runs)) >= VIDEO_MIN_S * data.fps else []


@torch.no_grad()
def play(predict: Predict, data: FrameDataset, run: np.ndarray, batch: int = 32) -> tuple[np.ndarray, np.ndarray]:
    """One run of consecutive frames, in order, through the predictor (an image show's predictor
    keeps its shot from batch to batch) -> (N, h, w, 3) output and source frames, shrunk batch by
    batch so a whole song never sits in memory at full size."""
    out, src = [], []
    for a in range(0, len(run), batch):
        chunk = run[a : a + batch]
        pictures = predict(chunk).float().clamp(0, 1).permute(0, 2, 3, 1).cpu().numpy()  # (B, H, W, 3)
        out.append(shrink(pictures))
        src.append(shrink(data.frames(chunk)))
    return np.concatenate(out), np.concatenate(src)


def video_metrics(predict: Predict, data: FrameDataset, runs: list[np.ndarray],
                  whole: bool = False) -> dict[str, float]:
    """`video_scores` of the runs played through the predictor, beside the same for their source
    frames (`source_*`), and the output's over the source's (`*_ratio`); {} without runs."""
    if not runs:
        return {}
    beat = data.columns("music", ("beat_phase",))[0]
    kick = data.columns("music", ("onset_kick",))[0]
    outs, srcs = [], []
    for run in runs:
        out, src = play(predict, data, run)
        rows = data.rows(run)
        outs.append(video_scores(out, rows[:, beat], rows[:, kick], data.fps))
        srcs.append(video_scores(src, rows[:, beat], rows[:, kick], data.fps))
    o, s = pool(outs), pool(srcs)
    keys = ("cuts_on_beat", "cuts_per_min", "motion", "flash_r")
    return {**{k: o[k] for k in keys}, **{f"source_{k}": s[k] for k in keys}, **compare(o, s),
            "video_frames": int(sum(map(len, runs))), "video_whole": float(whole)}


def _pct(v: float) -> str:
    return f"{v:.0%}" if np.isfinite(v) else "n/a"


def format_video(m: dict[str, float]) -> str:
    """The video scores as a VJ reads them, or "" when there are none."""
    if "cuts_per_min" not in m:
        return ""
    where = "whole videos" if m["video_whole"] else "held-out runs"
    return (f"cuts on beat {_pct(m['cuts_on_beat'])} (source {_pct(m['source_cuts_on_beat'])}), cuts/min "
            f"{m['cuts_per_min']:.0f} (source {m['source_cuts_per_min']:.0f}), motion {m['motion_ratio']:.2f}x, "
            f"flash r {m['flash_r']:.2f} (source {m['source_flash_r']:.2f}) over {m['video_frames']} frames of "
            f"{where} in order")


def format_metrics(m: dict[str, float]) -> str:
    shown = f" (of the footage shown {m['sharpness_shown']:.2f})" if "sharpness_shown" in m else ""  # older scores lack it
    real = (f"{shown}  realism {m['realism']:.2f} (nearest training frame {m['nn_out']:.3f}, held-out real "
            f"{m['nn_real']:.3f})" if "realism" in m else "")
    video = f"\n  {format_video(m)}" if "cuts_per_min" in m else ""
    return (f"PSNR {m['psnr']:.2f} dB  SSIM {m['ssim']:.4f}  sharpness {m['sharpness']:.2f}{real}  "
            f"flicker {m['flicker']:.3f}  reactivity {m['reactivity']:.3f} (source {m['source_reactivity']:.3f})  "
            f"on {m['frames']} held-out frames{video}")


def predictor(model: torch.nn.Module, meta: dict, data: FrameDataset, device: torch.device) -> Predict:
    """Held-out frame indices -> what this decoder shows for them."""
    model.eval()
    cond = meta_conditioning(meta)

    @torch.no_grad()
    def predict(idx: np.ndarray) -> torch.Tensor:
        z = torch.from_numpy(data.inputs(idx, cond)).to(device)  # (B, context, D)
        return model(z if meta["context"] > 1 else z[:, 0])

    return predict


def run_predictor(run: Path, data: FrameDataset) -> tuple[Predict, Conditioning]:
    """What a training run's last checkpoint shows for each dataset frame, and what it reads."""
    ck = load_checkpoint(run)
    meta = ck["meta"]
    if meta["encoder_sha256"] != data.manifest["encoder_sha256"]:
        raise DatasetError(f"{run} was trained on latents from {meta['encoder']}, {data.root} from "
                           f"{data.manifest['encoder']}; evaluate on a dataset built with the same encoder")
    if ck.get("kind") == "show":
        from latentvj.training.show.show_export import show_parts  # the image show as the run would export it

        return image_predictor(show_parts(ck), data, meta_conditioning(meta)), meta_conditioning(meta)
    model, ck = load_model(run)
    return predictor(model, meta, data, torch.device("cpu")), meta_conditioning(meta)


def show_predictor(spec: str, data: FrameDataset) -> tuple[Predict, Conditioning]:
    """What the daemon would show for each dataset frame: the bundle's stats, mapping and decoder."""
    root = resolve_show_path(spec)
    m = load_manifest(root)
    verify_checksums(m)
    cond = m.conditioning
    if cond.uses("rave") and sha256_of(m.encoder_path) != data.manifest["encoder_sha256"]:
        raise DatasetError(f"{m.encoder_path}: not the encoder {data.root} was built with "
                           f"({data.manifest['encoder']}); metrics would compare different latents")
    module = load_torchscript(m.decoder_path, torch.device("cpu"))
    if m.network is not None:
        net = m.network
        parts = ImageShowParts(load_torchscript(root / net.file, torch.device("cpu")), module,
                               np.load(root / net.residuals, allow_pickle=False), net.runs, net.fps, net.rules)
        return image_predictor(parts, data, cond), cond

    def predict(idx: np.ndarray) -> torch.Tensor:
        x = data.inputs(idx, cond)  # (B, context, D) with the show's own stats
        if m.mapping_weight is not None:
            x = x @ m.mapping_weight.T + m.mapping_bias
        z = torch.from_numpy(x.astype(np.float32))
        return module(z[:, 0] if m.context == 1 else z)

    return predict, cond


def trained_on(target: str) -> Path | None:
    """The dataset a run (or the run a show was exported from) trained on, as it recorded it."""
    path = Path(target)
    if (path / CHECKPOINT).is_file():
        data = load_checkpoint(path)["meta"].get("data")
    else:
        data = load_manifest(resolve_show_path(target)).provenance.get("dataset")
    return Path(data).resolve() if data else None


def evaluate(target: str, data_dir: Path, limit: int = 2000, whole: bool | None = None) -> dict[str, float]:
    """`latentvj eval RUN_OR_SHOW DATA`: held-out metrics on up to `limit` frames, and the video
    scores (`video_metrics`) when the dataset is long enough. Those play every frame of the dataset
    in order when `whole` (by default: when the run or show was not trained on this dataset, by
    the path it recorded), else its held-out segments."""
    data = FrameDataset(data_dir)
    path = Path(target)
    if (path / CHECKPOINT).is_file():
        predict, cond = run_predictor(path, data)
    else:
        try:
            target = str(resolve_show_path(target))  # a zip is unpacked once
            predict, cond = show_predictor(target, data)
        except ShowError as exc:
            raise DatasetError(f"{target}: neither a training run (no checkpoint.pt) nor a show ({exc})") from exc
    if whole is None:
        whole = trained_on(target) != data.root.resolve()
    idx = eval_indices(data, limit)
    m = metrics(predict, data, idx, cond, nearest=nearest_training_frames(data))
    return {**m, **video_metrics(predict, data, video_runs(data, whole), whole)}
