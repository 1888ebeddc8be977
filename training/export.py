"""`latentvj export RUN [--encoder RAVE.ts] --out SHOW`: a training run -> a show bundle.

The decoder is scripted and packed with the run's conditioning (its streams, windows and the
dataset's stats), loaded back with the daemon's own loader, and its output compared with the
checkpoint's on held-out inputs kept in the run. A run whose conditioning reads no RAVE stream
needs no encoder: its show runs the built-in features clock. `train show` runs become image
shows (show_export.py).
"""
from __future__ import annotations

import logging
import shutil
import tempfile
from pathlib import Path

import numpy as np
import torch

from latentvj.daemon.show.bundle import ShowError, sha256_of
from latentvj.daemon.show.pack import create_show
from latentvj.daemon.show.runtime import RuntimeOptions, ShowRuntime

from latentvj.training.checkpoint import load_checkpoint, load_model, meta_conditioning
from latentvj.training.data.dataset import DatasetError

log = logging.getLogger("latentvj.export")
TOLERANCE = 1e-4  # max abs difference, images in [0, 1]


@torch.no_grad()
def export_show(run: Path, out: Path, encoder: Path | None, name: str | None = None, mode: str = "fitted") -> tuple[Path, float]:
    """Returns the bundle and the largest difference between the checkpoint and the loaded show."""
    ck = load_checkpoint(run)
    meta, cfg = ck["meta"], ck["config"]
    cond = meta_conditioning(meta)
    encoder = _checked_encoder(run, meta, cond, encoder)
    if ck.get("kind") == "show":
        from latentvj.training.show.show_export import export_image_show

        return out, export_image_show(run, ck, out, encoder, name, mode)
    if mode != "fitted":
        raise DatasetError(f"{run}: --mapping {mode} is for image shows (`train show`, `train vae`)")
    if ck["step"] < cfg["steps"]:
        log.warning("%s stopped at step %d of %d: exporting its last checkpoint", run, ck["step"], cfg["steps"])
    dec, _ = load_model(run)
    with tempfile.TemporaryDirectory(prefix="latentvj-export-") as tmp:
        ts = Path(tmp) / "decoder.ts"
        torch.jit.script(dec).save(str(ts))
        prov = {"made_by": "latentvj export", "run": str(run.resolve()), "arch": meta["arch"], "step": ck["step"],
                "dataset": meta["data"], "dataset_encoder": meta["encoder"]}
        create_show(out, ts, encoder=encoder, name=name or out.name, fps=meta["fps"],
                    features_rate=meta["sample_rate"], features_hop=meta["hop"], conditioning=cond, provenance=prov)
    try:
        diff = check_show(out, dec, meta)
    except BaseException:
        shutil.rmtree(out, ignore_errors=True)
        raise
    return out, diff


def _checked_encoder(run: Path, meta: dict, cond, encoder: Path | None) -> Path | None:
    """The RAVE export the run's dataset was built with, or None when no stream reads RAVE."""
    if not cond.uses("rave"):
        encoder = None
    else:
        if encoder is None:
            raise DatasetError(f"{run} reads RAVE latents: pass --encoder, the RAVE export its dataset was built with "
                               f"({meta['encoder']})")
        if not encoder.is_file():
            raise DatasetError(f"--encoder {encoder}: no such file")
        if sha256_of(encoder) != meta["encoder_sha256"]:
            raise DatasetError(f"--encoder {encoder} is not the encoder this run's dataset was built with "
                               f"({meta['encoder']}, sha256 {meta['encoder_sha256'][:12]}...); its latents would "
                               "mean nothing to this decoder")
    return encoder


@torch.no_grad()
def check_show(out: Path, dec: torch.nn.Module, meta: dict) -> float:
    """Run the held-out probe inputs through the daemon's loaded show and through `dec`."""
    rt = ShowRuntime.load(out, RuntimeOptions(torch.device("cpu")))
    z = torch.from_numpy(np.asarray(meta["probe_inputs"], np.float32))  # (N, context, D) standardised
    z = z if meta["context"] > 1 else z[:, 0]
    want, got = dec(z), rt.decoder.module(z)
    diff = float((want - got).abs().max())
    if diff > TOLERANCE:
        raise ShowError(f"{out}: the exported decoder differs from the checkpoint by {diff:.2e} on held-out inputs "
                        f"(tolerance {TOLERANCE:g}); the bundle was removed")
    return diff
