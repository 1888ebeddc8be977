"""Does the picture follow the harmony? A benchmark that prints figures, not a test.

    python -m latentvj.training.chord_bench [--work DIR] [--steps 1500] [--compare rave]

1. two synthetic chord videos (synthetic.chord_track: the colour follows the chord, which is kept
   out of loudness and rhythm and changes at random bar lines): one to train on (seed 0), one
   never seen (seed 1);
2. `latentvj dataset build` on each with the demo's RAVE encoder; `latentvj train decoder` with
   the default conditioning (RAVE latents + music features), and with each `--compare`
   conditioning for reference; `latentvj export`;
3. each exported show draws the held-out frames of the training video and every frame of the
   unseen one, from the same streams the daemon reads live (evaluate.show_predictor); a frame
   counts when it is at least AWAY_S from a chord change, and is right when its dominant colour
   (colour_check.py) is the chord's.
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np
import torch

from latentvj.daemon.cli import main as latentvj
from latentvj.daemon.show.bundle import BUILTIN_DIR

from .colour_check import chord_colour_accuracy
from .dataset import FrameDataset
from .evaluate import show_predictor
from .synthetic import ChordTrack, chord_track, render_chord_frame, write_music_video

SR = 44100
ENCODER = BUILTIN_DIR / "demo" / "encoder.ts"
AWAY_S = 0.25  # a frame this close to a chord change may show either chord (the chroma window, a frame)


def step(*argv: str) -> None:
    print(f"$ latentvj {' '.join(argv)}", flush=True)
    if latentvj(list(argv)) != 0:
        sys.exit(f"chord_bench: `latentvj {' '.join(argv)}` failed")


@torch.no_grad()
def score(show: Path, data_dir: Path, track: ChordTrack, idx: np.ndarray) -> dict:
    """Colour accuracy of `show` on dataset frames `idx` (one video per dataset)."""
    data = FrameDataset(data_dir)
    predict, _ = show_predictor(str(show), data)
    t = idx / data.fps
    chords = np.array([track.chord_at(x) for x in t])
    away = np.array([track.seconds_to_change(x) >= AWAY_S for x in t])
    frames = []
    for a in range(0, len(idx), 256):
        out = predict(idx[a : a + 256]).float().clamp(0, 1)  # (B, 3, H, W)
        frames.append((out.permute(0, 2, 3, 1).numpy() * 255 + 0.5).astype(np.uint8))
    return chord_colour_accuracy(np.concatenate(frames), chords, away)


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--work", type=Path, default=Path("chord-bench"), help="working folder (kept)")
    p.add_argument("--seconds", type=float, default=240.0, help="length of the training video")
    p.add_argument("--steps", type=int, default=1500)
    p.add_argument("--size", type=int, default=64, help="frame size (colour needs no detail)")
    p.add_argument("--compare", action="append", default=[],
                   help="also train with this conditioning, e.g. rave (today's before) (repeatable)")
    args = p.parse_args(argv)
    w = args.work
    w.mkdir(parents=True, exist_ok=True)
    tracks = {"train": chord_track(SR, args.seconds, seed=0), "unseen": chord_track(SR, 60.0, seed=1)}
    for name, track in tracks.items():
        video = w / f"{name}.mp4"
        if not video.exists():
            write_music_video(video, track, 128, 128, render=render_chord_frame)
        if not (w / f"data_{name}" / "dataset.toml").exists():
            step("dataset", "build", str(video), "--encoder", str(ENCODER), "--out", str(w / f"data_{name}"),
                 "--size", str(args.size))
    results = []
    for cond in ["rave,music", *args.compare]:
        tag = cond.replace(",", "+")
        run, show = w / f"run_{tag}", w / f"show_{tag}"
        if not (run / "metrics.toml").exists():
            resume = ["--resume"] if (run / "checkpoint.pt").exists() else []
            step("train", "decoder", str(w / "data_train"), "--out", str(run), "--steps", str(args.steps),
                 "--conditioning", cond, "--batch", "16", "--workers", "1", *resume)
        if not show.exists():
            step("export", str(run), "--encoder", str(ENCODER), "--out", str(show))
        data = FrameDataset(w / "data_train")
        unseen = FrameDataset(w / "data_unseen")
        held = score(show, w / "data_train", tracks["train"], data.heldout_idx)
        new = score(show, w / "data_unseen", tracks["unseen"], np.arange(unseen.n))
        results.append((cond, held, new))
    print(f"\nchord colour accuracy, frames at least {AWAY_S} s from a chord change ({args.steps} steps, "
          f"{args.size}x{args.size}):")
    for cond, held, new in results:
        print(f"  {cond:<12} held-out {held['accuracy']:6.1%} of {held['frames']} frames   "
              f"unseen video {new['accuracy']:6.1%} of {new['frames']} frames   (grey {held['grey']}, {new['grey']})")
        print(f"  {'':<12} confusion (true x shown), unseen: {new['confusion']}")


if __name__ == "__main__":
    main()
