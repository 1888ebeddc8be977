"""`latentvj export RUN [--encoder RAVE.ts] --out SHOW`: a training run -> a show bundle.

The decoder is scripted and packed with the run's conditioning (its streams, windows and the
dataset's stats; a VAE run: its audio mapping too), loaded back with the daemon's own loader,
and its output compared with the checkpoint's on held-out inputs kept in the run. A run whose
conditioning reads no RAVE stream needs no encoder: its show runs the built-in features clock.
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

from .checkpoint import load_model, meta_conditioning
from .dataset import DatasetError
from .models import decoder_of

log = logging.getLogger("latentvj.export")
TOLERANCE = 1e-4  # max abs difference, images in [0, 1]


@torch.no_grad()
def export_show(run: Path, out: Path, encoder: Path | None, name: str | None = None, mode: str = "fitted") -> tuple[Path, float]:
    """Returns the bundle and the largest difference between the checkpoint and the loaded show."""
    model, ck = load_model(run)
    meta, cfg = ck["meta"], ck["config"]
    if ck["step"] < cfg["steps"]:
        log.warning("%s stopped at step %d of %d: exporting its last checkpoint", run, ck["step"], cfg["steps"])
    dec = decoder_of(model)
    vae = meta["arch"] == "vae"
    cond = meta_conditioning(meta)
    mapping = None
    if vae:
        if mode not in ck.get("mappings", {}):
            why = "its conditioning has no loudness" if mode == "direct" else "the run has not finished?"
            raise DatasetError(f"{run}: no '{mode}' mapping in the checkpoint ({why})")
        mapping = ck["mappings"][mode]
    if not cond.uses("rave"):
        encoder = None
    else:
        if encoder is None:
            raise DatasetError(f"{run}: a latent decoder needs --encoder, the RAVE export its dataset was built with "
                               f"({meta['encoder']})")
        if not encoder.is_file():
            raise DatasetError(f"--encoder {encoder}: no such file")
        if sha256_of(encoder) != meta["encoder_sha256"]:
            raise DatasetError(f"--encoder {encoder} is not the encoder this run's dataset was built with "
                               f"({meta['encoder']}, sha256 {meta['encoder_sha256'][:12]}...); its latents would "
                               "mean nothing to this decoder")
    with tempfile.TemporaryDirectory(prefix="latentvj-export-") as tmp:
        ts = Path(tmp) / "decoder.ts"
        torch.jit.script(dec).save(str(ts))
        prov = {"made_by": "latentvj export", "run": str(run.resolve()), "arch": meta["arch"], "step": ck["step"],
                "dataset": meta["data"], "dataset_encoder": meta["encoder"]}
        if vae:
            prov["mapping"] = mode
        create_show(out, ts, encoder=encoder, name=name or out.name, fps=meta["fps"],
                    features_rate=meta["sample_rate"], features_hop=meta["hop"], mapping=mapping, conditioning=cond,
                    provenance=prov)
    try:
        diff = check_show(out, dec, meta, mapping)
    except BaseException:
        shutil.rmtree(out, ignore_errors=True)
        raise
    return out, diff


@torch.no_grad()
def check_show(out: Path, dec: torch.nn.Module, meta: dict, mapping: dict | None) -> float:
    """Run the held-out probe inputs through the daemon's loaded show and through `dec`."""
    rt = ShowRuntime.load(out, RuntimeOptions(torch.device("cpu")))
    x = np.asarray(meta["probe_inputs"], np.float32)  # (N, context, D) standardised conditioning
    if mapping is not None:
        f = x[:, -1]
        z = np.empty((len(f), rt.latent_dim), np.float32)
        for i, row in enumerate(f):
            rt.to_decoder_latent(row, z[i])  # the daemon's own mapping code
        want = dec(torch.from_numpy(f) @ torch.tensor(mapping["weight"], dtype=torch.float32).T
                   + torch.tensor(mapping["bias"], dtype=torch.float32))
        got = rt.decoder.module(torch.from_numpy(z))
    else:
        z = torch.from_numpy(x)
        z = z if meta["context"] > 1 else z[:, 0]
        want, got = dec(z), rt.decoder.module(z)
    diff = float((want - got).abs().max())
    if diff > TOLERANCE:
        raise ShowError(f"{out}: the exported decoder differs from the checkpoint by {diff:.2e} on held-out inputs "
                        f"(tolerance {TOLERANCE:g}); the bundle was removed")
    return diff
