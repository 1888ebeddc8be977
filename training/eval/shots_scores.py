"""How a show does on a synthetic shots video (shots_video.py): what it draws for dataset frames,
its scores there (picture scores, colour against the chord, brightness against the kick), and a
contact sheet of source and shows. The demo's builder and show_bench both report with these."""
from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import torch

from latentvj.training.eval.colour_check import chord_colour_accuracy
from latentvj.training.data.dataset import FrameDataset
from latentvj.training.eval.evaluate import metrics, show_predictor
from latentvj.training.eval.picture_scores import NearestFrames
from latentvj.training.synth.shots_video import ShotsTrack, kick_brightness_correlation

AWAY_S = 0.25  # a frame this close to a chord change may show either chord


@torch.no_grad()
def drawn(show: Path, data: FrameDataset, idx: np.ndarray) -> np.ndarray:
    """(N,) frames -> (N, H, W, 3) uint8 what `show` draws for them, in order (shots are stateful)."""
    predict, _ = show_predictor(str(show), data)
    out = [predict(idx[a : a + 64]).float().clamp(0, 1) for a in range(0, len(idx), 64)]
    return (torch.cat(out).permute(0, 2, 3, 1).numpy() * 255 + 0.5).astype(np.uint8)


def score(show: Path, data: FrameDataset, track: ShotsTrack, idx: np.ndarray, nearest: NearestFrames) -> dict:
    """`nearest`: the training video's frames, for realism."""
    predict, cond = show_predictor(str(show), data)
    m = metrics(predict, data, idx, cond, nearest=nearest)
    frames = drawn(show, data, idx)
    t = idx / data.fps
    chords = np.array([track.chord_at(x) for x in t])
    away = np.array([track.seconds_to_change(x) >= AWAY_S for x in t])
    m["colour"] = chord_colour_accuracy(frames, chords, away)["accuracy"]
    m["kick_brightness"] = kick_brightness_correlation(frames, t, track)
    return m


def contact_sheet(path: Path, data: FrameDataset, shows: dict[str, Path], idx: np.ndarray, tile: int = 96) -> None:
    """Rows: source, then each show; columns: held-out frames."""
    rows = [("source", data.frames(idx))] + [(name, drawn(show, data, idx)) for name, show in shows.items()]
    label_w, gap = 90, 4
    sheet = np.full((len(rows) * (tile + gap) + gap, label_w + len(idx) * (tile + gap), 3), 32, np.uint8)
    for r, (name, frames) in enumerate(rows):
        y = gap + r * (tile + gap)
        cv2.putText(sheet, name, (6, y + tile // 2), cv2.FONT_HERSHEY_SIMPLEX, 0.45, (230, 230, 230), 1, cv2.LINE_AA)
        for c, f in enumerate(frames):
            x = label_w + c * (tile + gap)
            sheet[y : y + tile, x : x + tile] = cv2.resize(f, (tile, tile), interpolation=cv2.INTER_NEAREST)
    path.parent.mkdir(parents=True, exist_ok=True)
    cv2.imwrite(str(path), cv2.cvtColor(sheet, cv2.COLOR_RGB2BGR))
