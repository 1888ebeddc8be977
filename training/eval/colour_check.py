"""Does a show trained on the chord video (`synthetic.chord_track`) paint the chord it hears?

The chord video keeps harmony out of loudness and rhythm, so the only way a decoder can get the
scene's colour right is to follow the harmony in its latents; counting how often the output's
dominant colour is the chord's colour measures exactly that. Numpy only, so it can score frames
from anywhere (a daemon recording, an exported clip, a training eval) without torch.

How a frame's colour is read: the mean RGB of its most saturated quarter of pixels, minus its
smallest channel, as a unit vector; the chord is the `CHORD_COLOURS` entry with the same treatment
nearest in angle. Why this way:
- the most saturated pixels: the dark background and grey blur carry no hue worth counting, and a
  disc that covers little of the frame would otherwise be outvoted by them;
- minus the smallest channel: a kick flash adds white (all channels alike), which this removes;
- a unit vector: a flash or a dim decoder scales the colour, which the angle ignores.
A hue histogram would do the same job but needs a saturation threshold per pixel and wraps
around red; averaging first is steadier on the soft, blurry frames a small decoder makes.
"""
from __future__ import annotations

import numpy as np

from latentvj.training.synth.synthetic import CHORD_COLOURS

SATURATED_FRACTION = 0.25  # of a frame's pixels, the most saturated ones, whose mean is its colour
MIN_CHROMA = 8.0  # 0..255: a mean colour less saturated than this is grey, no chord (-1)


def _directions(rgb: np.ndarray) -> np.ndarray:
    """(..., 3) float -> (..., 3) unit vectors of the colour with its white part removed."""
    chroma = rgb - rgb.min(axis=-1, keepdims=True)
    return chroma / np.maximum(np.linalg.norm(chroma, axis=-1, keepdims=True), 1e-9)


_REFERENCE = _directions(np.asarray(CHORD_COLOURS, dtype=np.float64))  # (4, 3)


def frame_colour(frame: np.ndarray) -> np.ndarray:
    """(H, W, 3) uint8 -> (3,) float mean RGB of the frame's most saturated pixels."""
    px = frame.reshape(-1, 3).astype(np.float64)  # (P, 3)
    sat = px.max(axis=1) - px.min(axis=1)  # (P,)
    k = max(1, int(len(px) * SATURATED_FRACTION))
    top = np.argpartition(sat, len(px) - k)[len(px) - k :]  # (k,)
    return px[top].mean(axis=0)


def dominant_chord(frame: np.ndarray) -> int:
    """The chord whose colour the frame shows, or -1 where the frame is grey (no colour to judge)."""
    colour = frame_colour(frame)
    if colour.max() - colour.min() < MIN_CHROMA:
        return -1
    return int(np.argmax(_REFERENCE @ _directions(colour)))


def chord_colour_accuracy(frames: np.ndarray, chords: np.ndarray, away: np.ndarray | None = None) -> dict:
    """frames: (N, H, W, 3) uint8 RGB; chords: (N,) int true chord per frame; away: (N,) bool, the
    frames far enough from a chord change to count (a decoder with context lags a change).

    -> {"accuracy": right / counted, "frames": counted, "confusion": [true][predicted] 4x4 counts,
    "grey": counted frames with no colour (wrong, and in no confusion column)}."""
    frames, chords = np.asarray(frames), np.asarray(chords, dtype=np.int64)
    if frames.ndim != 4 or frames.shape[-1] != 3 or len(frames) != len(chords):
        raise ValueError(f"frames {frames.shape} and chords {chords.shape}: want (N, H, W, 3) and (N,)")
    counted = np.ones(len(frames), bool) if away is None else np.asarray(away, dtype=bool)  # (N,)
    n = len(CHORD_COLOURS)
    confusion = np.zeros((n, n), dtype=np.int64)
    right = grey = 0
    for i in np.flatnonzero(counted):
        guess = dominant_chord(frames[i])
        right += int(guess == chords[i])
        if guess < 0:
            grey += 1
        else:
            confusion[chords[i], guess] += 1
    total = int(counted.sum())
    return {"accuracy": right / total if total else float("nan"), "frames": total,
            "confusion": confusion.tolist(), "grey": grey}
