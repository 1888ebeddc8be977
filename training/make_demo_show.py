"""Rebuild the built-in demo show (`daemon/show/builtin/demo`) and its audio loop from nothing.

    python -m latentvj.training.make_demo_show [--work DIR] [--rave-steps 300] [--steps 1500]

1. a synthetic music video (synthetic.py): a procedural track (kick, bass, chords, hats, with
   breakdowns) and a picture that follows it (shapes sized by loudness, hue by chord, kick flashes);
2. `latentvj train rave` on its audio: a small RAVE v2 (capacity 8) on the CPU;
3. `latentvj dataset build`, `latentvj train decoder` with the default conditioning (RAVE
   latents + music features; ours, and the baseline on the same data and steps for comparison),
   `latentvj export`, `latentvj eval`;
4. the show is copied into the package with a 12 s loop of the track for `--input demo`.
Every step is the public CLI, so this script is also their end-to-end proof.
"""
from __future__ import annotations

import argparse
import shutil
import sys
from pathlib import Path

from latentvj.daemon.cli import main as latentvj
from latentvj.daemon.show.bundle import BUILTIN_DIR

from .synthetic import procedural_track, write_audio, write_music_video

SR = 44100


def step(*argv: str) -> None:
    print(f"\n$ latentvj {' '.join(argv)}", flush=True)
    if latentvj(list(argv)) != 0:
        sys.exit(f"make_demo_show: `latentvj {' '.join(argv)}` failed")


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--work", type=Path, default=Path("demo-build"), help="working folder (kept, so steps can be inspected)")
    p.add_argument("--seconds", type=float, default=180.0, help="length of the synthetic music video")
    p.add_argument("--rave-steps", type=int, default=300)
    p.add_argument("--encoder", type=Path, help="reuse this RAVE export instead of training one")
    p.add_argument("--steps", type=int, default=1500, help="decoder training steps")
    p.add_argument("--size", type=int, default=256)
    p.add_argument("--no-baseline", action="store_true", help="skip training the baseline for comparison")
    p.add_argument("--venv", type=Path, help="acids-rave environment (default ~/.cache/latentvj/rave-venv)")
    p.add_argument("--install", action="store_true", help="copy the result into the package (daemon/show/builtin)")
    args = p.parse_args(argv)
    w = args.work
    (w / "audio").mkdir(parents=True, exist_ok=True)
    video = w / "demo_video.mp4"
    track = procedural_track(SR, args.seconds, seed=0)
    if not video.exists():
        write_music_video(video, track)
        write_audio(w / "audio" / "track.wav", track.audio, SR)
    encoder = args.encoder
    if encoder is None:
        encoder = w / "rave" / "demo.ts"
        if not encoder.exists():
            step("train", "rave", str(w / "audio"), "--name", "demo", "--out", str(w / "rave"),
                 "--steps", str(args.rave_steps), *(["--venv", str(args.venv)] if args.venv else []))
    data = w / "data"
    step("dataset", "build", str(video), "--encoder", str(encoder), "--out", str(data), "--size", str(args.size))
    arches = ["ours"] if args.no_baseline else ["ours", "baseline"]
    for arch in arches:
        run = w / f"run_{arch}"
        resume = ["--resume"] if (run / "checkpoint.pt").exists() else []
        step("train", "decoder", str(data), "--out", str(run), "--arch", arch, "--steps", str(args.steps),
             "--batch", "8", "--workers", "1", *resume)
    show = w / "show"
    shutil.rmtree(show, ignore_errors=True)
    step("export", str(w / "run_ours"), "--encoder", str(encoder), "--out", str(show), "--name", "demo")
    for arch in arches:
        step("eval", str(w / f"run_{arch}"), str(data))
    loop = w / "demo_loop.flac"
    write_audio(loop, track.audio[16 * SR : 28 * SR], SR)  # 12 s with kicks
    if args.install:
        target = BUILTIN_DIR / "demo"
        shutil.rmtree(target, ignore_errors=True)
        shutil.copytree(show, target)
        shutil.copyfile(loop, BUILTIN_DIR / "demo_loop.flac")
        print(f"installed {target} and {BUILTIN_DIR / 'demo_loop.flac'}")


if __name__ == "__main__":
    main()
