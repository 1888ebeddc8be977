"""A causal beat tracker: tempo, beat phase and bar position from an onset-strength stream.

No maintained library here does this under a licence the daemon can ship with: aubio's tracker
(GPL-3) and essentia (AGPL-3) cannot be dependencies of an MIT program, madmom does not build on
current Python, and librosa's `beat_track` needs the whole song. So, in numpy:

- tempo: every `update_s`, the autocorrelation of the last `window_s` of onset strength, with
  recent frames weighted more (time constant `memory_s`, so a tempo change wins within a few
  beats). A lag L scores ACF(L) + ACF(2L) / 2 (a beat repeats a bar later too; a lag 3/2 of the
  beat does not) minus ACF(L/2) / 2 when L/2 is itself an allowed tempo: a pulse at period P also
  correlates at 2P, so this picks the fastest allowed pulse, and 174 bpm clicks read as 174, not
  87, while off-beat hats (whose 240 bpm pulse is not allowed) do not push 120 down. A broad
  prior around 120 bpm breaks near ties; the peak is refined to a fraction of a frame.
- phase: the offset that best lines a comb of the last beats (newest weighted most) up with the
  onset peaks, again refined by a parabola.
- a new tempo more than 4 % away must win twice in a row before it replaces the current one;
  within 4 % it is followed at once (a DJ's pitch fader).

`push` takes one onset value per frame and says whether a beat falls in that frame. Frame k
covers the audio up to (k + 1) frames, as in the feature clock.
"""
from __future__ import annotations

import math

import numpy as np

PRIOR_BPM = 120.0
PRIOR_OCTAVES = 1.5  # width of the log-normal tempo prior
SWITCH_RATIO = 0.04  # a tempo this far from the current one must win twice to replace it
COMB_BEATS = 8
COMB_DECAY = 0.75


def _parabola(y_left: float, y: float, y_right: float) -> float:
    """Offset in (-0.5, 0.5) of a parabola's vertex through three equally spaced points."""
    den = y_left - 2.0 * y + y_right
    return 0.0 if den >= 0.0 else float(np.clip(0.5 * (y_left - y_right) / den, -0.5, 0.5))


class BeatTracker:
    def __init__(self, frame_rate: float, min_bpm: float = 60.0, max_bpm: float = 200.0, window_s: float = 6.0,
                 memory_s: float = 1.5, update_s: float = 0.1, beats_per_bar: int = 4) -> None:
        self.frame_rate = frame_rate
        self.beats_per_bar = beats_per_bar
        self._n = int(window_s * frame_rate)
        self._buf = np.zeros(2 * self._n)  # the newest _n values, written twice so a slice is always whole
        self._count = 0  # frames pushed
        self._every = max(1, round(update_s * frame_rate))
        self._lag_lo = int(math.floor(60.0 * frame_rate / max_bpm))
        self._lag_hi = int(math.ceil(60.0 * frame_rate / min_bpm))
        self._lags = np.arange(self._lag_lo, self._lag_hi + 1)
        age = (self._n - 1 - np.arange(self._n)) / frame_rate
        self._weights = np.exp(-age / memory_s)  # (n,) oldest first
        self._prior = np.exp(-0.5 * (np.log2(60.0 * frame_rate / self._lags / PRIOR_BPM) / PRIOR_OCTAVES) ** 2)
        self._acf = np.zeros(2 * self._lag_hi + 2)
        self._half_allowed = self._lags / 2.0 >= self._lag_lo  # L/2 is a tempo we could report
        self.period = 0.0  # frames per beat; 0 until the first estimate
        self.beat_ref = 0.0  # a frame (fractional) where a beat fell
        self.confidence = 0.0  # 0..1: how periodic the recent onsets are
        self.beats = 0  # beats counted since the tracker locked
        self._candidate = 0.0
        self._last_phase = 0.0

    @property
    def tempo(self) -> float:
        """Beats per minute; 0 until locked."""
        return 60.0 * self.frame_rate / self.period if self.period else 0.0

    def phase(self, frame: float | None = None) -> float:
        """Beat phase in [0, 1) at `frame` (default: the newest): 0 on the beat."""
        if not self.period:
            return 0.0
        frame = self._count - 1 if frame is None else frame
        return float(((frame - self.beat_ref) / self.period) % 1.0)

    def bar_phase(self) -> float:
        """Position in the bar in [0, 1), counting beats since the lock (downbeats are not known)."""
        return ((self.beats % self.beats_per_bar) + self.phase()) / self.beats_per_bar

    def push(self, onset: float) -> bool:
        """One onset-strength value per frame; True when a beat falls in this frame."""
        i = self._count % self._n
        self._buf[i] = self._buf[i + self._n] = onset if math.isfinite(onset) else 0.0
        self._count += 1
        if self._count >= self._n // 2 and self._count % self._every == 0:
            self._estimate()
        if not self.period:
            return False
        phase = self.phase()
        beat = phase < self._last_phase  # wrapped past 0 since the last frame
        self._last_phase = phase
        if beat:
            self.beats += 1
        return beat

    def _recent(self) -> np.ndarray:
        """(n,) the window, oldest first, without copying."""
        start = self._count % self._n
        return self._buf[start : start + self._n]

    def _estimate(self) -> None:
        x = self._recent()
        x = x - x.mean()
        wx = self._weights * x
        acf = self._acf
        zero = float(np.dot(wx, x))
        if zero <= 1e-12:  # silence or a constant: keep what we had
            self.confidence = 0.0
            return
        for lag in range(1, len(acf)):
            acf[lag] = np.dot(wx[lag:], x[:-lag])
        # Click-like onsets give peaks a frame or two wide: read the multiples at their peak, not
        # at the rounded lag (174 bpm is 59.4 frames; its double, 118.8, must not read as 118)
        double = self._peak_near(2 * self._lags)
        half = np.where(self._half_allowed, self._peak_near(self._lags / 2.0), 0.0)
        score = (acf[self._lags] + 0.5 * double - 0.5 * np.maximum(half, 0.0)) * self._prior
        k = int(np.argmax(score))
        if score[k] <= 0.0:
            self.confidence = 0.0
            return
        lag = self._lags[k]
        if 0 < k < len(score) - 1:
            lag = lag + _parabola(score[k - 1], score[k], score[k + 1])
        self.confidence = float(np.clip(acf[self._lags[k]] / zero, 0.0, 1.0))
        self._accept(float(lag), x)

    def _peak_near(self, lags: np.ndarray) -> np.ndarray:
        """The autocorrelation's largest value within a frame of each (fractional) lag."""
        centre = np.rint(lags).astype(int)
        top = len(self._acf) - 1
        return np.max([self._acf[np.clip(centre + d, 1, top)] for d in (-1, 0, 1)], axis=0)

    def _accept(self, period: float, x: np.ndarray) -> None:
        if self.period and abs(period / self.period - 1.0) > SWITCH_RATIO:
            if not (self._candidate and abs(period / self._candidate - 1.0) <= SWITCH_RATIO):
                self._candidate = period  # a new tempo: wait for it to win again
                return
        self._candidate = 0.0
        self.period = period
        self.beat_ref = self._count - 1 - self._best_offset(x, period)

    def _best_offset(self, x: np.ndarray, period: float) -> float:
        """Frames back from the newest to the beat that lines the comb up with the onsets."""
        n = len(x)
        offsets = np.arange(int(math.ceil(period)) + 1)
        k = np.arange(COMB_BEATS)
        pos = (n - 1) - offsets[:, None] - k[None, :] * period  # (offsets, beats) fractional frames
        valid = pos >= 0
        lo = np.clip(np.floor(pos).astype(int), 0, n - 1)
        frac = pos - np.floor(pos)
        hi = np.clip(lo + 1, 0, n - 1)
        values = np.where(valid, x[lo] * (1 - frac) + x[hi] * frac, 0.0)
        comb = values @ (COMB_DECAY ** k)  # (offsets,)
        j = int(np.argmax(comb[:-1]))
        left = comb[j - 1] if j > 0 else comb[-2]
        return j + _parabola(left, comb[j], comb[j + 1])
