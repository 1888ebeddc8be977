"""Which part of an image show's latent moves the picture? A benchmark that prints figures.

    python -m latentvj.training.bench.parts_bench RUN DATA

An image show draws [sound's part | footage part]: the mapping's output for the music, plus the
footage codes the shots walk through. This plays every frame of the first video of DATA (a song,
as live: the shots cut by the run's rule on the song's events) and decodes it three ways:
- both parts, as the show plays;
- the sound's part alone, the footage held on one frame of the bank;
- the footage alone, the sound's part at its mean (zero);
and prints, for each and for the source video, motion within shots, the cuts found in the frames,
and the flash correlation with the kick (eval/video_scores.py). Where the show's figures miss the
source's, this says which part to work on.
"""
from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
import torch

from latentvj.daemon.show.shots import ShotPlayer
from latentvj.training.checkpoint import load_checkpoint, meta_conditioning
from latentvj.training.data.dataset import FrameDataset
from latentvj.training.eval.video_scores import detect_cuts, flash_correlation, motion_within_shots
from latentvj.training.show.image_show import frame_events
from latentvj.training.show.show_export import show_parts


def _figures(frames: np.ndarray, kick: np.ndarray) -> dict[str, float]:
    """(N, H, W, 3) uint8 frames of one video in order -> motion, cuts, flash r."""
    cuts = detect_cuts(frames)
    return {"motion": motion_within_shots(frames, cuts), "cuts": float(len(cuts)),
            "flash_r": flash_correlation(frames, kick)}


@torch.no_grad()
def _decode(decoder: torch.nn.Module, z: np.ndarray, batch: int = 128) -> np.ndarray:
    """(N, latent) -> (N, H, W, 3) uint8."""
    out = [decoder(torch.from_numpy(z[a : a + batch].astype(np.float32))).clamp(0, 1).permute(0, 2, 3, 1).numpy()
           for a in range(0, len(z), batch)]
    return (np.concatenate(out) * 255 + 0.5).astype(np.uint8)


@torch.no_grad()
def parts(run: Path, data_dir: Path) -> dict[str, dict[str, float]]:
    """{source, both, sound only, footage only} -> {motion, cuts, flash_r} on DATA's first video."""
    ck = load_checkpoint(run)
    show = show_parts(ck)
    data = FrameDataset(data_dir)
    cond = meta_conditioning(ck["meta"])
    idx = np.arange(data.offsets[0], data.offsets[1])
    kick = data.rows(idx)[:, data.columns("music", ("onset_kick",))[0]]
    player = ShotPlayer(show.runs, show.fps, show.rules, 1.0 / data.fps)
    player.reset(show.seed, 0.0)
    walk = []
    for i, e in zip(idx, frame_events(data, idx)):
        t = float(i - idx[0]) / data.fps
        walk.append(show.residuals[player.index(player.push(int(e), t), t)])
    footage = np.stack(walk)  # (N, latent): zeros in the sound's directions
    sound = np.concatenate([show.mapping(torch.from_numpy(data.inputs(idx[a : a + 256], cond))).numpy()
                            for a in range(0, len(idx), 256)])  # (N, latent): zeros in the footage's
    held = np.repeat(footage[len(footage) // 2][None], len(footage), axis=0)
    return {"source": _figures(data.frames(idx), kick),
            "both": _figures(_decode(show.decoder, sound + footage), kick),
            "sound only": _figures(_decode(show.decoder, sound + held), kick),
            "footage only": _figures(_decode(show.decoder, footage), kick)}


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("run", type=Path, help="a `train show` run folder (for show make: NAME.make/run)")
    p.add_argument("data", type=Path, help="a dataset built with the run's encoder (a song it never heard)")
    args = p.parse_args(argv)
    figures = parts(args.run, args.data)
    src = figures["source"]
    print(f"{'':<14}{'motion':>8}{'x src':>7}{'cuts':>6}{'flash r':>9}{'x src':>7}")
    for name, f in figures.items():
        print(f"{name:<14}{f['motion']:8.3f}{f['motion'] / src['motion']:7.2f}{f['cuts']:6.0f}"
              f"{f['flash_r']:9.2f}{f['flash_r'] / src['flash_r']:7.2f}")


if __name__ == "__main__":
    main()
