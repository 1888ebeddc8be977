"""The engine hears audio on the 24-bit grid: what a sound card delivers and what a recording's
FLAC keeps exactly.

A file input (resampled by soxr) or a float driver gives samples between the grid's steps; FLAC
stores integers, so a recorded set would replay slightly different audio than the live run heard
(and RAVE, whose output moves with its input's last bits, slightly different pictures). Rounding
every block to the grid where the engine reads it (live, `render` and a replay alike) makes the
recording lossless by construction; the change is below -138 dBFS.
"""
from __future__ import annotations

import numpy as np

SCALE = float(1 << 23)  # 24-bit steps per unit
TOP = (SCALE - 1) / SCALE  # the largest 24-bit sample


def to_pcm24(block: np.ndarray) -> np.ndarray:
    """block: float32 (frames, channels), rounded to the 24-bit grid in place (and clipped to its
    range; NaN stays NaN for mixdown to silence); returns it."""
    block *= SCALE
    np.rint(block, out=block)
    block /= SCALE
    np.clip(block, -1.0, TOP, out=block)
    return block
