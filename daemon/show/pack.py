"""`latentvj show create` and `show info`: pack a bundle from model files, and describe one.

Latent normalisation stats come from calibration audio encoded through the same encoder code
the daemon plays with, so "scale 1, bias 0" means "as the decoder was trained".
"""
from __future__ import annotations

import logging
import shutil
from pathlib import Path
from typing import Any

import numpy as np
import torch

from ..audio.features import FeaturesEncoder, feature_names
from ..audio.files import load_audio
from .bundle import (
    MANIFEST,
    Manifest,
    ShowError,
    load_manifest,
    open_show,
    write_manifest,
)
from .conditioning import Conditioning, single_stream
from .rave_encoder import RaveEncoder
from .runtime import RuntimeOptions, ShowRuntime
from .torchscript import load_torchscript

log = logging.getLogger("latentvj.show")


def encode_stats(encoder, audio_mono: np.ndarray) -> tuple[np.ndarray, np.ndarray, int]:
    """Mean and std of the encoder's output over the audio, hop by hop from a reset state."""
    encoder.reset()
    hop = encoder.hop
    rows = [encoder.encode_hop(audio_mono[i : i + hop]) for i in range(0, len(audio_mono) - hop + 1, hop)]
    encoder.reset()
    if len(rows) < 2:
        raise ShowError(f"calibration audio is too short: {len(audio_mono)} samples, need at least 2 hops of {hop}")
    z = np.stack(rows)  # (hops, dim)
    std = z.std(axis=0)
    return z.mean(axis=0), np.maximum(std, 1e-6), len(rows)


def probe_decoder(path: Path, latent_dim: int, context: int) -> tuple[int, int]:
    """(width, height) of the decoder's output for the contract's input shape."""
    module = load_torchscript(path, torch.device("cpu"))
    shape = (1, latent_dim) if context == 1 else (1, context, latent_dim)
    try:
        with torch.no_grad():
            out = module(torch.zeros(shape))
    except RuntimeError as exc:
        raise ShowError(f"{path}: forward(z) fails on z of shape {shape} "
                        f"(the encoder's latent_dim is {latent_dim}): {str(exc).strip().splitlines()[0]}") from exc
    if not isinstance(out, torch.Tensor) or out.dim() != 4 or out.shape[:2] != (1, 3):
        got = tuple(out.shape) if isinstance(out, torch.Tensor) else type(out).__name__
        raise ShowError(f"{path}: forward(z) should return (batch, 3, H, W), returns {got}")
    return int(out.shape[3]), int(out.shape[2])


def create_show(
    out: Path,
    decoder: Path,
    encoder: Path | None = None,
    calibrate: Path | None = None,
    name: str | None = None,
    context: int = 1,
    fps: float = 30.0,
    features_rate: int = 44100,
    features_hop: int = 1024,
    mapping: dict[str, Any] | None = None,
    provenance: dict[str, Any] | None = None,
    stats: tuple[np.ndarray, np.ndarray] | None = None,
    conditioning: Conditioning | None = None,
    extra_files: dict[str, Path] | None = None,
) -> Path:
    """Write a bundle in `out`.

    `conditioning` (streams with their stats, as training measured them) says what the decoder
    (or the `mapping`) takes; RAVE streams need `encoder`. An image show's `mapping` is its
    [mapping] table (with "file"); `extra_files` (name in the bundle -> source) are copied in. Without it the show has one
    stream: the encoder's latents (or, with encoder=None, the built-in features), standardised
    with `stats` (mean, std), else with stats measured on `calibrate` audio.
    """
    if out.exists() and (not out.is_dir() or any(out.iterdir())):
        raise ShowError(f"{out}: exists and is not an empty folder; choose a new folder")
    made_out = not out.exists()  # an empty folder the user made stays theirs if packing fails
    if encoder is not None:
        enc = RaveEncoder(encoder, torch.device("cpu"), deterministic=True)
        enc.warmup(8)
        enc_table = {"kind": "rave", "file": "encoder.ts", "sample_rate": enc.sample_rate, "hop": enc.hop,
                     "latent_dim": enc.latent_dim, "deterministic_mean": enc.deterministic}
    else:
        enc = FeaturesEncoder(features_rate, features_hop)
        enc_table = {"kind": "features", "sample_rate": features_rate, "hop": features_hop,
                     "latent_dim": enc.latent_dim, "names": feature_names()}
    if conditioning is not None:
        if conditioning.uses("rave") and encoder is None:
            raise ShowError("the conditioning reads RAVE latents: pass the RAVE encoder")
        prov = {"calibration": "training dataset"}
    elif stats is not None:
        mean, std = (np.asarray(a, dtype=np.float64) for a in stats)
        if mean.shape != (enc.latent_dim,) or std.shape != (enc.latent_dim,):
            raise ShowError(f"latent stats have {mean.shape[0]} dims, the encoder has {enc.latent_dim}")
        prov = {"calibration": "training dataset"}
    elif calibrate is not None:
        audio, _ = load_audio(calibrate, enc.sample_rate)
        mean, std, hops = encode_stats(enc, audio.mean(axis=1))
        prov = {"calibration": str(calibrate), "calibration_hops": hops}
    else:
        log.warning("no --calibrate audio: latent stats are mean 0, std 1 (scale 1 may not mean 'as trained')")
        mean, std = np.zeros(enc.latent_dim), np.ones(enc.latent_dim)
        prov = {"calibration": "none"}
    if conditioning is None:
        conditioning = single_stream("rave" if encoder is not None else "features", mean, std, context, enc.latent_dim)
    image = mapping is not None and "file" in mapping
    dec_kind = "latent" if mapping is None else "image" if image else "vae"
    if image:  # the image latent's size: the residuals' width (the mapping is checked against it on load)
        dec_dim = int(np.load((extra_files or {})[mapping["residuals"]], mmap_mode="r").shape[1])
    else:
        dec_dim = conditioning.dim if mapping is None else int(np.asarray(mapping["weight"]).shape[0])
    dec_context = 1 if image else conditioning.context
    width, height = probe_decoder(decoder, dec_dim, dec_context)
    prov.update(provenance or {})
    out.mkdir(parents=True, exist_ok=True)
    try:
        if encoder is not None:
            shutil.copyfile(encoder, out / "encoder.ts")
        shutil.copyfile(decoder, out / "decoder.ts")
        for file, src in (extra_files or {}).items():
            shutil.copyfile(src, out / file)
        write_manifest(
            out, name=name or out.name, encoder=enc_table, conditioning=conditioning,
            decoder={"kind": dec_kind, "file": "decoder.ts", "latent_dim": dec_dim, "context": dec_context,
                     "width": width, "height": height, "fps": fps},
            mapping=mapping, provenance=prov,
        )
        ShowRuntime.load(out, RuntimeOptions(torch.device("cpu")))  # what we wrote must play
    except BaseException:
        # never leave a half-written bundle behind
        if made_out:
            shutil.rmtree(out, ignore_errors=True)
        else:
            for file in ("encoder.ts", "decoder.ts", *(extra_files or {}), MANIFEST, f"{MANIFEST}.tmp"):
                (out / file).unlink(missing_ok=True)
        raise
    return out


def show_info(spec: str) -> str:
    with open_show(spec) as (root, source):  # a zip's unpacked copy: only while we read sizes
        return _info(load_manifest(root), source)


def _info(m: Manifest, source: Path) -> str:
    root = m.root
    lines = [
        f"show        {m.name}  ({source})",
        f"encoder     {m.encoder_kind} {m.encoder_file or '(built in)'}: {m.encoder_dim}-d, "
        f"{m.sample_rate} Hz, hop {m.hop} ({m.hop / m.sample_rate * 1e3:.1f} ms)",
        f"decoder     {m.decoder_kind} {m.decoder_file}: {m.latent_dim}-d"
        f"{f' x {m.context} frames' if m.context > 1 else ''} -> {m.width}x{m.height}, trained at {m.fps:g} fps",
    ]
    for s in m.conditioning.streams:
        what = ", ".join(s.names) if s.kind == "music" else f"{s.dim} dims"
        lines.append(f"stream      {s.kind}: {what}; window {s.window} frame{'s' if s.window > 1 else ''}")
        lines.append(f"  mean      {np.array2string(s.mean, precision=3, max_line_width=200)}")
        lines.append(f"  std       {np.array2string(s.std, precision=3, max_line_width=200)}")
    if m.mapping_weight is not None:
        lines.append(f"mapping     affine {m.conditioning.dim} conditioning dims -> {m.latent_dim}-d latent")
    if m.network is not None:
        net = m.network
        lines.append(f"mapping     {net.file}: {m.conditioning.dim} conditioning dims x {m.conditioning.context} frames "
                     f"-> {m.latent_dim}-d image latent (PCA-ordered, whitened)")
        lines.append(f"shots       {net.residuals}: {int(net.runs[-1, 1])} frames in {len(net.runs)} runs at "
                     f"{net.fps:g} fps; cut on {', '.join(net.rules.redraw_on)} with p {net.rules.probability:g}, "
                     f"{net.rules.min_s:g}..{net.rules.max_s:g} s apart")
        if net.explained is not None:
            lines.append(f"explained   audio R^2 per direction: {np.array2string(net.explained, precision=2, floatmode='fixed', max_line_width=200)}")
    for name, digest in m.checksums.items():
        size = (root / name).stat().st_size if (root / name).is_file() else 0
        lines.append(f"file        {name}  {size / 1e6:.2f} MB  sha256 {digest[:16]}...")
    for k, v in m.provenance.items():
        lines.append(f"provenance  {k} = {v}")
    return "\n".join(lines)


__all__ = ["create_show", "show_info", "encode_stats", "MANIFEST"]
