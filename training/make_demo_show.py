"""Rebuild the built-in demo show (`daemon/show/builtin/demo`) and its audio loop from nothing.

    python -m latentvj.training.make_demo_show [--work DIR] [--rave-steps 300] [--encoder RAVE.ts]

1. a synthetic music video (shots_video.py): chord pads, a bass line, kicks and hats; in the
   picture the colour follows the chord, the size the bass, flashes the kicks, and the scene cuts
   between four compositions at random moments, as a real video cuts between shots;
2. `latentvj train rave` on its audio: a small RAVE v2 (capacity 8) on the CPU (or --encoder);
3. `latentvj dataset build` (256x256 frames), `latentvj train show` (image model + audio
   mapping, the defaults but batch 8 at 128x128: 256x256 takes about 1 s a step on two CPU cores,
   past the 90-minute budget), `latentvj export`, `latentvj eval`; with --baseline also
   `train decoder --arch baseline` on the same data, and a table of the show_bench scores and a
   contact sheet (source, image show, baseline) of held-out frames;
4. with --install, the show is copied into the package with a 12 s loop of the track for
   `--input demo`; its provenance then names this command and its settings instead of the
   --work folder's run and dataset, which exist only on the machine that built it.
Every step is the public CLI, so this script is also their end-to-end proof. Each step's wall
time is printed at the end.
"""
from __future__ import annotations

import argparse
import shutil
from pathlib import Path
from typing import Any

import numpy as np

from latentvj.daemon.show.bundle import BUILTIN_DIR, MANIFEST, ShowError
from latentvj.daemon.toml_io import dumps_toml, read_toml

from latentvj.training.data.dataset import FrameDataset
from latentvj.training.eval.evaluate import nearest_training_frames
from latentvj.training.synth.shots_video import ShotsTrack, render_shots_frame, shots_track
from latentvj.training.eval.shots_scores import contact_sheet, score
from latentvj.training.synth.synthetic import write_audio, write_music_video
from latentvj.training.verbs import run_verb

SR = 44100
TIMES: dict[str, float] = {}
MACHINE_KEYS = ("run", "dataset", "dataset_encoder")  # `latentvj export`'s paths on the builder's machine
SHIPPED_ENCODER = "daemon/show/builtin/demo/encoder.ts"  # where --install puts the encoder, in the package


def step(*argv: str) -> None:
    key = " ".join(argv[:2])
    TIMES[key] = TIMES.get(key, 0.0) + run_verb(*argv, who="make_demo_show")


def report(w: Path, data: FrameDataset, track: ShotsTrack, shows: dict[str, Path], sheet: Path | None) -> None:
    """The show_bench scores of each show on the held-out frames, and a contact sheet of them."""
    held = data.heldout_idx
    nearest = nearest_training_frames(data)
    print(f"\nheld-out {len(held)} frames:{'sharp':>8}{'realism':>8}{'PSNR':>7}{'SSIM':>7}{'colour':>8}{'kick r':>8}")
    for name, show in shows.items():
        m = score(show, data, track, held, nearest)
        print(f"  {name:<22}{m['sharpness']:8.2f}{m['realism']:8.2f}{m['psnr']:7.2f}{m['ssim']:7.3f}"
              f"{m['colour']:8.1%}{m['kick_brightness']:8.3f}")
    pick = held[np.linspace(0, len(held) - 1, 10).astype(int)]
    for path in filter(None, (w / "sheet.png", sheet)):
        contact_sheet(path, data, shows, pick, tile=128)
        print(f"contact sheet: {path}")


def build_command(args: argparse.Namespace) -> str:
    """The command that rebuilds the show: the settings that shape it, none of the builder's
    own paths (--work, --venv, --sheet). A reused encoder is named where --install ships it."""
    argv = ["python -m latentvj.training.make_demo_show", f"--seconds {args.seconds:g}", f"--size {args.size}",
            f"--show-size {args.show_size}", f"--batch {args.batch}"]
    if args.steps:
        argv.append(f"--steps {args.steps}")
    argv.append(f"--encoder {SHIPPED_ENCODER}" if args.encoder else f"--rave-steps {args.rave_steps}")
    if args.device:
        argv.append(f"--device {args.device}")
    return " ".join(argv + ["--install"])


def demo_provenance(exported: dict[str, Any], args: argparse.Namespace) -> dict[str, Any]:
    """`latentvj export`'s provenance with the builder's folders (temporary, as often as not)
    replaced by what rebuilds the show anywhere: the synthetic source and this command."""
    prov = {k: v for k, v in exported.items() if k not in MACHINE_KEYS}
    prov["source"] = f"synthetic music video (training/shots_video.py shots_track, seed 0, {args.seconds:g} s)"
    prov["encoder"] = ("reused (--encoder): the RAVE export shipped as encoder.ts" if args.encoder
                       else f"latentvj train rave, {args.rave_steps} steps, on the source's audio")
    prov["dataset_encoder"] = "encoder.ts"  # export checked that the dataset was built with it
    prov["built_by"] = build_command(args)
    return prov


def set_provenance(bundle: Path, args: argparse.Namespace) -> None:
    """Rewrite the bundle's [provenance] as `demo_provenance`. Only the model files are
    checksummed, not show.toml, so nothing else changes."""
    path = bundle / MANIFEST
    doc = read_toml(path, ShowError, "show manifest")
    doc["provenance"] = demo_provenance(doc.get("provenance", {}), args)
    tmp = path.with_suffix(".toml.tmp")
    tmp.write_text(dumps_toml(doc))
    tmp.replace(path)


def install(show: Path, loop: Path, args: argparse.Namespace, builtin: Path = BUILTIN_DIR) -> Path:
    """Copy the show into the package as `demo`, its loop beside it, with a portable provenance."""
    target = builtin / "demo"
    shutil.rmtree(target, ignore_errors=True)
    shutil.copytree(show, target)
    set_provenance(target, args)
    shutil.copyfile(loop, builtin / "demo_loop.flac")
    return target


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--work", type=Path, default=Path("demo-build"), help="working folder (kept, so steps can be inspected)")
    p.add_argument("--seconds", type=float, default=120.0, help="length of the synthetic music video")
    p.add_argument("--rave-steps", type=int, default=300)
    p.add_argument("--encoder", type=Path, help="reuse this RAVE export instead of training one")
    p.add_argument("--steps", type=int, help="train show's budget (default: its own)")
    p.add_argument("--batch", type=int, default=8, help="train show's batch")
    p.add_argument("--size", type=int, default=256)
    p.add_argument("--show-size", default="128x128", help="train show's output WxH (default 128x128)")
    p.add_argument("--baseline", action="store_true", help="also train the baseline decoder for comparison")
    p.add_argument("--device", help="cpu, cuda (default: cuda when available)")
    p.add_argument("--venv", type=Path, help="acids-rave environment (default ~/.cache/latentvj/rave-venv)")
    p.add_argument("--install", action="store_true", help="copy the result into the package (daemon/show/builtin)")
    p.add_argument("--sheet", type=Path, help="write the contact sheet (source, image show, baseline) here too")
    return p


def main(argv: list[str] | None = None) -> None:
    args = parser().parse_args(argv)
    w = args.work
    (w / "audio").mkdir(parents=True, exist_ok=True)
    video = w / "demo_video.mp4"
    track = shots_track(SR, args.seconds, seed=0)
    if not video.exists():
        write_music_video(video, track, 384, 384, render=render_shots_frame)
        write_audio(w / "audio" / "track.wav", track.audio, SR)
    encoder = args.encoder
    if encoder is None:
        encoder = w / "rave" / "demo.ts"
        if not encoder.exists():
            step("train", "rave", str(w / "audio"), "--name", "demo", "--out", str(w / "rave"),
                 "--steps", str(args.rave_steps), *(["--venv", str(args.venv)] if args.venv else []))
    data = w / "data"
    if not (data / "dataset.toml").exists():
        step("dataset", "build", str(video), "--encoder", str(encoder), "--out", str(data), "--size", str(args.size))
    dev = ["--device", args.device] if args.device else []
    run = w / "run_show"
    if not (run / "metrics.toml").exists():
        resume = ["--resume"] if (run / "checkpoint.pt").exists() else []
        steps = ["--steps", str(args.steps)] if args.steps else []
        step("train", "show", str(data), "--out", str(run), "--batch", str(args.batch), "--workers", "1",
             *steps, "--size", args.show_size, *dev, *resume)
    if args.baseline and not (w / "run_baseline" / "metrics.toml").exists():
        resume = ["--resume"] if (w / "run_baseline" / "checkpoint.pt").exists() else []
        step("train", "decoder", str(data), "--out", str(w / "run_baseline"), "--arch", "baseline", "--steps",
             "1500", "--batch", "8", "--workers", "1", *dev, *resume)
    show = w / "show"
    shows = {"image show": show}
    shutil.rmtree(show, ignore_errors=True)
    step("export", str(run), "--encoder", str(encoder), "--out", str(show), "--name", "demo")
    step("eval", str(show), str(data))
    if args.baseline:
        shows["baseline"] = w / "show_baseline"
        shutil.rmtree(shows["baseline"], ignore_errors=True)
        step("export", str(w / "run_baseline"), "--encoder", str(encoder), "--out", str(shows["baseline"]))
    report(w, FrameDataset(data), track, shows, args.sheet)
    loop = w / "demo_loop.flac"
    write_audio(loop, track.audio[16 * SR : 28 * SR], SR)  # 12 s with kicks and a few cuts
    if args.install:
        target = install(show, loop, args)
        print(f"installed {target} and {BUILTIN_DIR / 'demo_loop.flac'}")
    print("\nwall time per step: " + ", ".join(f"{k} {v / 60:.1f} min" for k, v in TIMES.items())
          + f"; total {sum(TIMES.values()) / 60:.1f} min")


if __name__ == "__main__":
    main()
