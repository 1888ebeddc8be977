"""Is the picture sharp, and does it follow the music? A benchmark that prints figures, not a test.

    python -m latentvj.training.bench.show_bench [--work DIR] [--seconds 60] [--size 64] [--sheet PNG]

1. two synthetic shots videos (shots_video.py: colour <- chord, size <- bass, flashes <- kicks, and
   cuts between compositions at random moments): one to train on (seed 0), one never seen (seed 1);
2. `latentvj dataset build` on each with the demo's RAVE encoder, then with the same data:
   `latentvj train show` with its defaults (the image show), `latentvj train decoder` (today's
   regression decoder) and `--arch baseline` (the seed project's), each timed, and `export`;
3. each show draws the held-out frames of the training video and every frame of the unseen one
   from the streams the daemon reads (evaluate.show_predictor), scored for: sharpness and realism
   (picture_scores.py), PSNR, colour right away from chord changes (colour_check.py), and the
   correlation of each frame's brightness with the kick envelope (the source's own is printed);
4. a contact sheet of held-out frames: source, image show, decoder, baseline, one row each.
"""
from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np

from latentvj.daemon.show.bundle import BUILTIN_DIR

from latentvj.training.data.dataset import FrameDataset, to_tensor
from latentvj.training.eval.evaluate import nearest_training_frames
from latentvj.training.eval.shots_scores import AWAY_S, contact_sheet, score
from latentvj.training.synth.shots_video import kick_brightness_correlation, render_shots_frame, shots_track
from latentvj.training.synth.synthetic import write_music_video
from latentvj.training.verbs import run_verb

SR = 44100
ENCODER = BUILTIN_DIR / "demo" / "encoder.ts"
RUNS = {"show": ("show",), "decoder": ("decoder",), "baseline": ("decoder", "--arch", "baseline")}


def step(*argv: str) -> float:
    return run_verb(*argv, who="show_bench")


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--work", type=Path, default=Path("show-bench"), help="working folder (kept; finished steps "
                                                                         "are not redone)")
    p.add_argument("--seconds", type=float, default=60.0, help="length of the training video")
    p.add_argument("--size", type=int, default=64)
    p.add_argument("--decoder-steps", type=int, default=1500, help="train decoder's steps (its own default 2000)")
    p.add_argument("--sheet", type=Path, help="write the contact sheet here too")
    args = p.parse_args(argv)
    w = args.work
    w.mkdir(parents=True, exist_ok=True)
    tracks = {"train": shots_track(SR, args.seconds, seed=0), "unseen": shots_track(SR, 30.0, seed=1)}
    for name, track in tracks.items():
        video = w / f"{name}.mp4"
        if not video.exists():
            write_music_video(video, track, 2 * args.size, 2 * args.size, render=render_shots_frame)
        if not (w / f"data_{name}" / "dataset.toml").exists():  # the unseen one is all scored; its split unused
            split = ["--heldout-seconds", "4", "--heldout-every", "2"] if name == "unseen" else []
            step("dataset", "build", str(video), "--encoder", str(ENCODER), "--out", str(w / f"data_{name}"),
                 "--size", str(args.size), *split)
    times = {}
    for name, verb in RUNS.items():
        run, show = w / f"run_{name}", w / f"show_{name}"
        extra = [] if name == "show" else ["--steps", str(args.decoder_steps)]
        if not (run / "metrics.toml").exists():
            resume = ["--resume"] if (run / "checkpoint.pt").exists() else []
            times[name] = step("train", *verb, str(w / "data_train"), "--out", str(run), *extra, *resume)
        if not show.exists():
            step("export", str(run), "--encoder", str(ENCODER), "--out", str(show))
    data, unseen = FrameDataset(w / "data_train"), FrameDataset(w / "data_unseen")
    held = data.heldout_idx
    print(f"\nshots video, {args.seconds:g} s at {args.size}x{args.size}; held-out {len(held)} frames, unseen "
          f"{unseen.n}; colour counted {AWAY_S} s or more from a chord change")
    src = to_tensor(data.frames(held))
    src_kick = kick_brightness_correlation(data.frames(held), held / data.fps, tracks["train"])
    print(f"  source: kick/brightness correlation {src_kick:.3f}, gradient energy {float(src.diff(dim=-1).pow(2).mean()):.4f}")
    head = f"  {'':<9}{'train s':>8}{'sharp':>7}{'realism':>8}{'PSNR':>7}{'SSIM':>7}{'colour':>8}{'kick r':>8}"
    print(head + "   | unseen:" + f"{'sharp':>7}{'realism':>8}{'PSNR':>7}{'colour':>8}{'kick r':>8}")
    nearest = nearest_training_frames(data)
    for name in RUNS:
        show = w / f"show_{name}"
        a = score(show, data, tracks["train"], held, nearest)
        b = score(show, unseen, tracks["unseen"], np.arange(unseen.n), nearest)
        t = times.get(name)
        print(f"  {name:<9}{(f'{t:.0f}' if t else '-'):>8}{a['sharpness']:7.2f}{a['realism']:8.2f}{a['psnr']:7.2f}"
              f"{a['ssim']:7.3f}{a['colour']:8.1%}{a['kick_brightness']:8.3f}   |        "
              f"{b['sharpness']:7.2f}{b['realism']:8.2f}{b['psnr']:7.2f}{b['colour']:8.1%}{b['kick_brightness']:8.3f}")
    pick = held[np.linspace(0, len(held) - 1, 10).astype(int)]
    for path in filter(None, (w / "sheet.png", args.sheet)):
        contact_sheet(path, data, {"image show": w / "show_show", "decoder": w / "show_decoder",
                                   "baseline": w / "show_baseline"}, pick)
        print(f"contact sheet: {path}")


if __name__ == "__main__":
    main()
