"""`latentvj train rave`: acids-rave's own preprocess / train / export, in its own environment.

acids-rave pins pytorch-lightning 1.9 and scipy 1.10, which clash with a modern stack, so it
lives in a virtual environment this command creates on first use, with the pins and fixes
DESIGN.md records (same torch version as ours, setuptools < 81, torchaudio's CUDA .so files
removed on CPU-only torch). We never import rave; we run its CLI and check what it exports.
"""
from __future__ import annotations

import os
import shutil
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

import torch

from latentvj.daemon.show.bundle import ShowError
from latentvj.daemon.show.rave_encoder import RaveEncoder

from latentvj.training.data.dataset import DatasetError

RAVE_PINS = ["acids-rave==2.3.1", "setuptools<81"]  # lightning 1.9 imports pkg_resources
AUDIO_SUFFIXES = (".wav", ".flac", ".mp3", ".ogg", ".aif", ".aiff", ".m4a", ".opus")
DEFAULT_VENV = Path(os.environ.get("LATENTVJ_RAVE_VENV", Path.home() / ".cache" / "latentvj" / "rave-venv"))
# The rave console script, run with the environment's python (no PATH games).
RAVE_MAIN = "import sys; from scripts.main_cli import main; sys.argv[0] = 'rave'; sys.exit(main())"


@dataclass
class RaveJob:
    audio_dir: Path
    name: str
    out: Path
    config: str = "v2"
    steps: int = 300
    gpu: int | None = None  # None: CPU
    latent_dim: int = 8  # at least this many exported dimensions (raises --fidelity until met)
    overrides: list[str] = field(default_factory=lambda: ["CAPACITY=8", "LATENT_SIZE=16"])
    n_signal: int = 131072  # must exceed the causal receptive field
    batch: int = 2


def _torch_pin() -> str:
    return f"torch=={torch.__version__.split('+')[0]}"


def ensure_venv(venv: Path) -> Path:
    """The environment's python, creating it on first use; a failed install leaves nothing behind."""
    py = venv / "bin" / "python"
    ready = venv / ".latentvj-ready"
    if not ready.exists():
        shutil.rmtree(venv, ignore_errors=True)
        print(f"creating the acids-rave environment in {venv} (first use; a few minutes)", flush=True)
        constraints = venv / "constraints.txt"
        try:
            subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
            constraints.write_text(f"{_torch_pin()}\nsetuptools<81\n")
            subprocess.run([str(py), "-m", "pip", "install", "-q", _torch_pin(), "setuptools<81"], check=True)
            subprocess.run([str(py), "-m", "pip", "install", "-q", *RAVE_PINS, "-c", str(constraints)], check=True)
        except (subprocess.CalledProcessError, OSError) as exc:
            shutil.rmtree(venv, ignore_errors=True)
            raise DatasetError(f"{venv}: could not install {' '.join(RAVE_PINS)} with {_torch_pin()} ({exc}); "
                               "pip's output is above") from exc
        ready.write_text(" ".join(RAVE_PINS) + "\n")
    if not torch.cuda.is_available():
        # pip resolves a CUDA build of torchaudio whose .so files fail to load with CPU torch;
        # without them torchaudio falls back to pure Python, which RAVE's training and export need.
        for site in (venv / "lib").glob("python3*/site-packages"):
            for so in (site / "torchaudio").rglob("*.so"):
                so.unlink()
    return py


def check_audio_dir(audio_dir: Path) -> list[Path]:
    if not audio_dir.is_dir():
        raise DatasetError(f"{audio_dir}: not a folder of audio files")
    files = [p for p in audio_dir.rglob("*") if p.suffix.lower() in AUDIO_SUFFIXES and p.is_file()]
    if not files:
        raise DatasetError(f"{audio_dir}: no audio files (looked for {', '.join(AUDIO_SUFFIXES)})")
    return files


def commands(py: Path, job: RaveJob, work: Path) -> dict[str, list[str]]:
    """The three rave command lines. Paths are absolute: rave resolves them from its own cwd, and
    `preprocess --output_path` fails on a bare name."""
    rave = [str(py), "-c", RAVE_MAIN]
    prep, runs = (work / "preprocessed").resolve(), (work / "runs").resolve()
    train = [*rave, "train", "--config", job.config, "--db_path", str(prep), "--out_path", str(runs),
             "--name", job.name, "--max_steps", str(job.steps), "--val_every", str(max(job.steps // 2, 1)),
             "--channels", "1", "--n_signal", str(job.n_signal), "--batch", str(job.batch), "--workers", "0",
             "--progress=false"]
    for o in job.overrides:
        train += ["--override", o]
    if job.gpu is not None:
        train += ["--gpu", str(job.gpu)]
    return {
        "preprocess": [*rave, "preprocess", "--input_path", str(job.audio_dir.resolve()), "--output_path", str(prep),
                       "--channels", "1"],
        "train": train,
        "export": [*rave, "export", "--streaming=true", "--output", str((work / "export").resolve())],
    }


def _run(step: str, cmd: list[str]) -> None:
    print(f"rave {step}: {' '.join(cmd[3:])}", flush=True)
    try:
        subprocess.run(cmd, check=True)
    except subprocess.CalledProcessError as exc:
        raise DatasetError(f"rave {step} failed (exit {exc.returncode}); its output is above") from exc


def train_rave(job: RaveJob, venv: Path = DEFAULT_VENV) -> Path:
    """Returns the exported streaming `.ts`, copied to OUT/NAME.ts and checked with our loader."""
    check_audio_dir(job.audio_dir)
    if shutil.which("ffmpeg") is None:  # without it acids-rave's preprocess hangs in its worker pool
        raise DatasetError("rave preprocess needs the ffmpeg program on PATH (apt-get install ffmpeg, "
                           "brew install ffmpeg, or ffmpeg.org)")
    py = ensure_venv(venv)
    work = job.out / f"{job.name}.work"
    shutil.rmtree(work, ignore_errors=True)  # preprocessing and runs are redone; only the .ts is the product
    work.mkdir(parents=True)
    cmds = commands(py, job, work)
    _run("preprocess", cmds["preprocess"])
    _run("train", cmds["train"])
    run = next((work / "runs").glob(f"{job.name}_*"), None)
    if run is None:
        raise DatasetError(f"rave train wrote no run folder under {work / 'runs'}")
    target = job.out / f"{job.name}.ts"
    # --fidelity decides how many latent dimensions the export keeps; raise it until we have enough.
    for fidelity in ("0.95", "0.99", "0.999"):  # acids-rave takes 0.1 to 0.999
        export = work / "export"
        shutil.rmtree(export, ignore_errors=True)
        _run("export", [*cmds["export"], "--run", str(run.resolve()), "--fidelity", fidelity])
        ts = next(export.glob("*.ts"), None)
        if ts is None:
            raise DatasetError(f"rave export wrote no .ts under {export}")
        dims = int(torch.jit.load(str(ts)).encode_params[2])
        if dims >= job.latent_dim:
            break
    else:
        raise DatasetError(f"rave export keeps {dims} latent dimensions at fidelity 0.999, fewer than "
                           f"--latent-dim {job.latent_dim}: train longer (--steps) or ask for fewer; "
                           f"the training run is in {run}")
    tmp = target.with_suffix(".ts.tmp")
    shutil.copyfile(ts, tmp)
    try:
        enc = RaveEncoder(tmp, torch.device("cpu"))
    except ShowError as exc:
        tmp.unlink(missing_ok=True)
        raise DatasetError(f"rave export produced a file our daemon cannot load: {exc}") from exc
    tmp.replace(target)
    print(f"exported {target}: {enc.latent_dim} latent dims, hop {enc.hop}, {enc.sample_rate} Hz "
          f"(fidelity {fidelity}); training run in {run}", flush=True)
    return target
