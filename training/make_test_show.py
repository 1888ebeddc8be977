"""Build the small built-in show (`daemon/shows/demo`) and its audio loop from nothing.

    python -m latentvj.training.make_test_show [--rave-venv DIR] [--steps 300]

1. a procedural track (kick, bass, chords, hats), 60 s;
2. a tiny RAVE (v2, capacity 8) trained a few hundred steps on it with acids-rave, in its own
   virtual environment (created on first use with the pins DESIGN.md records), exported with
   --streaming=true;
3. a small convolutional decoder (8-d latent -> 256x256) fitted for a minute to a procedural
   renderer of the latent (blobs whose place, size and colour follow the dimensions), so the
   picture visibly follows the music;
4. `show create` with the track as calibration audio, plus a 12 s loop for `--input demo`.
The training issue replaces this with a decoder trained on a music video.
"""
from __future__ import annotations

import argparse
import math
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import av
import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

from latentvj.daemon.show import BUILTIN_DIR
from latentvj.daemon.show_pack import create_show

RAVE_PINS = ["acids-rave==2.3.1", "setuptools<81"]  # lightning 1.9 imports pkg_resources


# 1. audio ------------------------------------------------------------------------------------
def procedural_track(sr: int = 44100, seconds: float = 60.0, seed: int = 0) -> np.ndarray:
    """(n,) float32 in [-1, 1]: 120 bpm kick and hats, a bass line and a chord every 2 s."""
    rng = np.random.default_rng(seed)
    n = int(sr * seconds)
    t = np.arange(n) / sr
    y = np.zeros(n)
    beat = 0.5
    for k in range(int(seconds / beat)):
        s = int(k * beat * sr)
        tt = np.arange(min(int(0.3 * sr), n - s)) / sr
        f = 50 + 100 * np.exp(-tt * 30)
        y[s : s + len(tt)] += 0.8 * np.sin(2 * np.pi * np.cumsum(f) / sr) * np.exp(-tt * 8)
        h = int((k + 0.5) * beat * sr)
        hn = min(int(0.05 * sr), n - h)
        if hn > 0:
            y[h : h + hn] += 0.25 * rng.standard_normal(hn) * np.exp(-np.arange(hn) / sr * 80)
    roots = [220.0, 261.6, 196.0, 174.6, 246.9, 293.7]
    for i in range(int(seconds / 2)):
        s, e = int(i * 2 * sr), min(n, int((i + 1) * 2 * sr))
        tt = t[s:e] - t[s]
        f = roots[i % len(roots)] * (1 + (i // len(roots)) % 2 * 0.5)
        env = np.minimum(1, tt * 20) * np.exp(-tt * 0.8)
        for m in (1.0, 1.26, 1.5):
            y[s:e] += 0.1 * env * np.sin(2 * np.pi * f * m * tt)
        y[s:e] += 0.12 * np.sign(np.sin(2 * np.pi * f / 4 * tt)) * np.exp(-np.mod(tt, beat) * 6)
    y /= np.abs(y).max() * 1.1
    return y.astype(np.float32)


def write_audio(path: Path, mono: np.ndarray, sr: int) -> None:
    """PCM WAV or FLAC by suffix, through PyAV."""
    codec = {".wav": "pcm_s16le", ".flac": "flac"}[path.suffix]
    with av.open(str(path), "w") as c:
        s = c.add_stream(codec, rate=sr, layout="mono")
        frame = av.AudioFrame.from_ndarray((np.clip(mono, -1, 1) * 32767).astype(np.int16)[None], format="s16", layout="mono")
        frame.sample_rate = sr
        for p in s.encode(frame):
            c.mux(p)
        for p in s.encode(None):
            c.mux(p)


# 2. RAVE -------------------------------------------------------------------------------------
def rave_python(venv: Path) -> Path:
    """acids-rave in its own environment; its pins clash with ours."""
    py = venv / "bin" / "python"
    if not py.exists():
        subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
        subprocess.run([str(py), "-m", "pip", "install", "-q", f"torch=={torch.__version__.split('+')[0]}", "setuptools<81"], check=True)
        constraints = venv / "constraints.txt"
        constraints.write_text(f"torch=={torch.__version__.split('+')[0]}\nsetuptools<81\n")
        subprocess.run([str(py), "-m", "pip", "install", "-q", *RAVE_PINS, "-c", str(constraints)], check=True)
    if not torch.cuda.is_available():
        # pip resolves a CUDA build of torchaudio whose .so files fail to load with CPU torch;
        # without them torchaudio falls back to pure Python, which RAVE's training and export need.
        site = next((venv / "lib").glob("python3*/site-packages"))
        for so in (site / "torchaudio").rglob("*.so"):
            so.unlink()
    return py


def train_rave(py: Path, audio_dir: Path, work: Path, steps: int, latent_dim: int) -> Path:
    rave = [str(py), "-c", "import sys; from scripts.main_cli import main; sys.argv[0] = 'rave'; sys.exit(main())"]
    prep, runs, export = work / "prep", work / "runs", work / "export"
    subprocess.run([*rave, "preprocess", "--input_path", str(audio_dir.resolve()), "--output_path", str(prep.resolve()),
                    "--channels", "1"], check=True)
    subprocess.run([*rave, "train", "--config", "v2", "--db_path", str(prep.resolve()), "--out_path", str(runs.resolve()),
                    "--name", "tiny", "--max_steps", str(steps), "--val_every", str(max(steps // 2, 1)),
                    "--channels", "1", "--n_signal", "131072", "--batch", "2", "--workers", "0",
                    "--override", "CAPACITY=8", "--override", "LATENT_SIZE=16", "--progress=false"], check=True)
    run = next(runs.glob("tiny_*"))
    # --fidelity decides how many latent dimensions the export keeps; raise it until we have enough.
    for fidelity in ("0.95", "0.99", "0.999", "0.9999"):
        shutil.rmtree(export, ignore_errors=True)
        subprocess.run([*rave, "export", "--run", str(run.resolve()), "--streaming=true", "--fidelity", fidelity,
                        "--output", str(export.resolve())], check=True)
        ts = next(export.glob("*.ts"))
        if int(torch.jit.load(str(ts)).encode_params[2]) >= latent_dim:
            return ts
    return ts


# 3. decoder ----------------------------------------------------------------------------------
class ConvDecoder(nn.Module):
    """z (B, D) -> (B, 3, H, W) in [0, 1]: linear to 4x4, then upsample + conv stages; the last
    doubling is bilinear on RGB, which keeps the full-size cost low on a CPU."""

    def __init__(self, latent_dim: int = 8, size: int = 256, widths=(96, 64, 48, 32, 16, 12)) -> None:
        super().__init__()
        n_up = int(math.log2(size // 4)) - 1  # conv stages; the last x2 is bilinear
        widths = list(widths[:n_up])
        self.fc = nn.Linear(latent_dim, widths[0] * 16)
        self.c0 = widths[0]
        layers: list[nn.Module] = []
        prev = widths[0]
        for w in widths:
            layers += [nn.Upsample(scale_factor=2.0, mode="nearest"), nn.Conv2d(prev, w, 3, padding=1), nn.LeakyReLU(0.2)]
            prev = w
        self.body = nn.Sequential(*layers)
        self.to_rgb = nn.Conv2d(prev, 3, 1)
        self.size = size

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        x = self.fc(z).view(z.shape[0], self.c0, 4, 4)
        x = torch.sigmoid(self.to_rgb(self.body(x)))
        return F.interpolate(x, size=(self.size, self.size), mode="bilinear", align_corners=False)


def blobs(z: torch.Tensor, size: int) -> torch.Tensor:
    """Procedural target: two soft blobs placed, sized and coloured by the latent (B, 8)."""
    b = z.shape[0]
    ys, xs = torch.meshgrid(torch.linspace(-1, 1, size), torch.linspace(-1, 1, size), indexing="ij")
    s = torch.tanh(z / 2)
    img = torch.zeros(b, 3, size, size)
    bg = torch.stack([0.15 + 0.1 * s[:, 7], 0.1 + 0.05 * s[:, 6], 0.2 + 0.1 * s[:, 5]], 1)
    img += bg[:, :, None, None]
    for k, (ix, iy, isz, ic) in enumerate(((0, 1, 4, 5), (2, 3, 6, 7))):
        cx, cy = 0.7 * s[:, ix], 0.7 * s[:, iy]
        r = 0.25 + 0.2 * s[:, isz]
        d = ((xs[None] - cx[:, None, None]) ** 2 + (ys[None] - cy[:, None, None]) ** 2) / r[:, None, None] ** 2
        hue = (s[:, ic] + 1) * math.pi + k * 2.1
        col = torch.stack([0.5 + 0.5 * torch.cos(hue), 0.5 + 0.5 * torch.cos(hue - 2.1), 0.5 + 0.5 * torch.cos(hue + 2.1)], 1)
        img += col[:, :, None, None] * torch.exp(-d)[:, None]
    return img.clamp(0, 1)


def fit_decoder(latent_dim: int, size: int, steps: int, seed: int = 0) -> nn.Module:
    torch.manual_seed(seed)
    model = ConvDecoder(latent_dim, size)
    opt = torch.optim.Adam(model.parameters(), lr=2e-3)
    for step in range(steps):
        z = torch.randn(16, latent_dim)
        loss = F.l1_loss(model(z), blobs(z, size))
        opt.zero_grad()
        loss.backward()
        opt.step()
        if step % 100 == 0 or step == steps - 1:
            print(f"decoder step {step}: L1 {loss.item():.4f}", flush=True)
    return model.eval()


def script_decoder(model: nn.Module, path: Path) -> None:
    torch.jit.script(model).save(str(path))


# 4. all of it --------------------------------------------------------------------------------
def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--rave-venv", type=Path, default=Path.home() / ".cache/latentvj/rave-venv")
    p.add_argument("--rave-steps", type=int, default=300)
    p.add_argument("--decoder-steps", type=int, default=600)
    p.add_argument("--encoder", type=Path, help="reuse this RAVE export instead of training one")
    p.add_argument("--out", type=Path, default=BUILTIN_DIR / "demo")
    p.add_argument("--loop", type=Path, default=BUILTIN_DIR / "demo_loop.flac")
    args = p.parse_args(argv)
    sr = 44100
    with tempfile.TemporaryDirectory(prefix="latentvj-testshow-") as tmp:
        work = Path(tmp)
        (work / "audio").mkdir()
        track = procedural_track(sr, 60.0)
        write_audio(work / "audio" / "track.wav", track, sr)
        encoder = args.encoder or train_rave(rave_python(args.rave_venv), work / "audio", work, args.rave_steps, 8)
        latent_dim = int(torch.jit.load(str(encoder)).encode_params[2])
        decoder = work / "decoder.ts"
        script_decoder(fit_decoder(latent_dim, 256, args.decoder_steps), decoder)
        shutil.rmtree(args.out, ignore_errors=True)
        create_show(args.out, decoder, encoder=encoder, calibrate=work / "audio" / "track.wav", name="demo",
                    provenance={"made_by": "latentvj.training.make_test_show", "rave_steps": args.rave_steps,
                                "decoder": "ConvDecoder fitted to a procedural blob renderer"})
        write_audio(args.loop, track[: 12 * sr], sr)
    print(f"wrote {args.out} and {args.loop}")


if __name__ == "__main__":
    main()
