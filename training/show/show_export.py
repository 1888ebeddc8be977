"""An image show from a `train show` run: the PCA-folded image decoder, the audio mapping and the
residual bank the shots play, packed as a bundle of decoder kind "image" and checked against the
checkpoint through the daemon's own loader.

`--mapping fitted` (default): the trained mapping network gives the audio directions, the footage
(the shots) the rest. `--mapping direct`: the film project's mode, loudness alone moves latent
dimension 0 and the footage carries the rest.
"""
from __future__ import annotations

import logging
import shutil
import tempfile
from pathlib import Path

import numpy as np
import torch

from latentvj.daemon.show.bundle import ShowError
from latentvj.daemon.show.pack import create_show
from latentvj.daemon.show.runtime import RuntimeOptions, ShowRuntime

from latentvj.training.checkpoint import meta_conditioning
from latentvj.training.data.dataset import DatasetError, FrameDataset
from latentvj.training.show.image_show import ImageShowParts, assemble, build_parts, rules_of
from latentvj.training.show.show_finish import bank_frames
from latentvj.training.train_config import TrainConfig, apply

log = logging.getLogger("latentvj.export")
TOLERANCE = 1e-4


def show_parts(ck: dict, mode: str = "fitted") -> ImageShowParts:
    """The run's show as evaluation and export use it (CPU, eval mode)."""
    meta, result = ck["meta"], ck.get("result") or {}
    if "bank" not in result:
        raise DatasetError(f"the run stopped at step {ck['step']} of {ck['config']['steps']}, before it was "
                           "finished; resume it with --resume")
    cfg = apply(TrainConfig(), ck["config"], "the run's config")
    ae, _, mapping = build_parts(meta)
    ae.load_state_dict(ck["image"])
    mapping.load_state_dict(ck["mapping"])
    kept = None
    if cfg.footage == "frames" and meta.get("sound") == "light":
        data = _dataset_of(meta)
        kept = (data, bank_frames(cfg, meta, data, result))
    return assemble(meta, ae, mapping, result, result["bank"], np.asarray(result["runs"], np.int64), mode,
                    rules_of(cfg, result), cfg.seed, float(meta["fps"]), kept)


def _dataset_of(meta: dict) -> FrameDataset:
    """The run's dataset: the show keeps its frames (footage_frames.py)."""
    try:
        return FrameDataset(Path(meta["data"]))
    except DatasetError as exc:
        raise DatasetError(f"the run's dataset cannot be read ({exc}); the show plays the training frames "
                           f"themselves, so export needs it: build it again at {meta['data']} from the same "
                           "videos (`latentvj dataset build`), or train with footage = \"drawn\" in a --config "
                           "for a show that draws them") from exc


@torch.no_grad()
def export_image_show(run: Path, ck: dict, out: Path, encoder: Path | None, name: str | None, mode: str) -> float:
    meta = ck["meta"]
    parts = show_parts(ck, mode)
    cond = meta_conditioning(meta)
    rules = parts.rules
    table = {"file": "mapping.ts", "residuals": "residuals.npy", "runs": parts.runs.tolist(), "fps": parts.fps,
             "redraw_on": list(rules.redraw_on), "redraw_probability": rules.probability,
             "redraw_min_s": rules.min_s, "redraw_max_s": rules.max_s}
    if mode == "fitted":
        table["explained"] = [round(r, 4) for r in ck["result"]["explained"]]
    with tempfile.TemporaryDirectory(prefix="latentvj-export-") as tmp:
        dec, mp, res = Path(tmp) / "decoder.ts", Path(tmp) / "mapping.ts", Path(tmp) / "residuals.npy"
        torch.jit.script(parts.decoder).save(str(dec))
        torch.jit.script(parts.mapping).save(str(mp))
        np.save(res, parts.residuals.astype(np.float32))
        prov = {"made_by": "latentvj export", "run": str(run.resolve()), "arch": "show", "step": ck["step"],
                "dataset": meta["data"], "dataset_encoder": meta["encoder"], "mapping": mode}
        create_show(out, dec, encoder=encoder, name=name or out.name, fps=meta["fps"],
                    features_rate=meta["sample_rate"], features_hop=meta["hop"], mapping=table, conditioning=cond,
                    provenance=prov, extra_files={"mapping.ts": mp, "residuals.npy": res})
    try:
        return check_image_show(out, parts, meta)
    except BaseException:
        shutil.rmtree(out, ignore_errors=True)
        raise


@torch.no_grad()
def check_image_show(out: Path, parts: ImageShowParts, meta: dict) -> float:
    """The loaded show's mapping, decoder and residuals against the run's, on held-out inputs."""
    rt = ShowRuntime.load(out, RuntimeOptions(torch.device("cpu")))
    x = torch.tensor(meta["probe_inputs"], dtype=torch.float32)  # (N, context, D)
    z = parts.mapping(x)  # (N, latent)
    diffs = [float((rt.latent_map.mapping(x) - z).abs().max()), float((rt.decoder.module(z) - parts.decoder(z)).abs().max()),
             float(np.abs(rt.latent_map.residuals - parts.residuals).max())]
    diff = max(diffs)
    if diff > TOLERANCE:
        raise ShowError(f"{out}: the exported show differs from the checkpoint by {diff:.2e} on held-out inputs "
                        f"(tolerance {TOLERANCE:g}); the bundle was removed")
    return diff
