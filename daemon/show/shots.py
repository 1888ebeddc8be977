"""What the sound does not decide: which shot is on screen, played from the training footage.

An image show's mapping predicts the part of the image latent the audio explains (colour from
harmony, size from the bass, flashes from kicks). The rest (which composition, where the subject
is, how the camera moves) is not in the sound; predicting it gives the mean of the possibilities,
a blur. So the show carries the training frames' residuals (their code minus the mapping's
prediction) in frame order, and the picture adds one of them: it walks through the footage at the
show's frame rate, back and forth within a run of consecutive frames, and jumps to a new random
place on a beat (or another music event) the way a music video cuts on the beat.

The jump decisions are made per music hop from the hop's events and a seeded generator, on the
encoder thread; their result travels with the music rows (two extra columns: where the walk
started and when), so a frame reads the shot in effect at its own music time, render = live, and
lost audio holds the shot like every other stream.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from ..audio.music_analysis import EVENTS

SHOT_COLUMNS = 2  # (position in the residual bank where the walk started, media time it started)


@dataclass(frozen=True)
class ShotRules:
    redraw_on: tuple[str, ...] = ("beat",)  # EVENTS that may cut
    probability: float = 0.35  # chance that an allowed event cuts
    min_s: float = 1.0  # no cut sooner than this after the last one
    max_s: float = 6.0  # after this long, the next allowed event always cuts

    @property
    def bits(self) -> int:
        return sum(1 << EVENTS.index(e) for e in self.redraw_on)


class ShotPlayer:
    def __init__(self, runs: np.ndarray, fps: float, rules: ShotRules, hop_s: float) -> None:
        """runs: (R, 2) [start, end) of runs of consecutive frames in the residual bank."""
        self.runs = np.asarray(runs, dtype=np.int64)
        self.fps = fps
        self.rules = rules
        self._bits = rules.bits
        self._min_hops = math.ceil(rules.min_s / hop_s)
        self._max_hops = math.ceil(rules.max_s / hop_s)
        self.size = int(self.runs[-1, 1])
        self._run_of = np.repeat(np.arange(len(self.runs)), self.runs[:, 1] - self.runs[:, 0])  # (size,)
        self.row = np.zeros(SHOT_COLUMNS, dtype=np.float32)  # the shot in effect after the newest hop
        self._rng = np.random.default_rng(0)
        self._since = 0
        self.cuts = 0

    def reset(self, seed: int, t0: float) -> np.ndarray:
        """Start over at media time t0; returns the first shot's row."""
        self._rng = np.random.default_rng(seed)
        self._since = 0
        self.cuts = 0
        self.row[:] = (self._rng.integers(self.size), t0)
        return self.row

    def push(self, events: int, t_end: float) -> np.ndarray:
        """One music hop ending at media time t_end with these EVENTS bits -> the shot row after it."""
        self._since += 1
        if events & self._bits and self._since >= self._min_hops and (
                self._since >= self._max_hops or self._rng.random() < self.rules.probability):
            self.row[0] = self._rng.integers(self.size)
            self.row[1] = t_end
            self._since = 0
            self.cuts += 1
        return self.row

    def index(self, row: np.ndarray, t: float) -> int:
        """The residual to show at media time t for a shot row: the walk's position by then."""
        pos = int(row[0])
        start, end = self.runs[self._run_of[pos]]
        span = int(end - start)
        if span < 2:
            return int(start)
        u = pos - start + max(0, math.floor((t - float(row[1])) * self.fps))
        m = u % (2 * (span - 1))  # back and forth: no jump at a run's end
        return int(start + (m if m < span else 2 * (span - 1) - m))
