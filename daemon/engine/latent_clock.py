"""Timestamped latents, sampled by the renderer at its own clock with linear interpolation
(or, with interpolate=False, each latent held until the next: one hop less latency, steps).

Latent n covers the audio up to media time `t0 + (n + 1) * period` and carries that stamp: it
exists as soon as that audio has arrived and been encoded. The renderer asks for media time
`t - latency`; with `latency >= period` (0 when holding) plus the encoder's processing time,
the latents around the asked time already exist, so live output equals offline output. When they do not (a late
encoder, a lost sound card), the clock holds the newest latent and reports the sample as late.
"""
from __future__ import annotations

import math
import threading

import numpy as np

CAPACITY = 256  # rows kept by default: live reads lag the newest by a hop or two


class LatentClock:
    def __init__(self, dim: int, n_features: int, period: float, t0: float = 0.0, capacity: int = CAPACITY,
                 rest: np.ndarray | None = None, interpolate: bool = True) -> None:
        self.interpolate = interpolate  # False: hold each latent until the next (one hop less latency)
        self.dim = dim
        self.n_features = n_features
        self.period = period  # seconds between latents (hop / sample_rate)
        self.t0 = t0  # media time where this clock's first hop starts
        self._cap = capacity
        self._rows = np.zeros((capacity, dim + n_features), dtype=np.float32)  # ring of [z | features]
        self._count = 0  # latents pushed so far
        # before the first latent: [z | features] of silence (z = 0 is the show's mean latent)
        self._rest = np.zeros(dim + n_features, dtype=np.float32) if rest is None else rest.astype(np.float32)
        self._lock = threading.Lock()
        self.last_stamp = t0  # media time the newest audio in the last sample() ends at (measured latency)
        self.last_count = 0  # latents the last sample() could read: what a recording keeps per frame

    @property
    def count(self) -> int:
        return self._count

    def stamp(self, n: int) -> float:
        return self.t0 + (n + 1) * self.period

    def newest_time(self) -> float:
        """Media time covered by the newest latent (t0 when none yet)."""
        return self.stamp(self._count - 1)

    def push(self, z: np.ndarray, features: np.ndarray) -> None:
        """z: (dim,), features: (n_features,); called by the encoder thread once per hop."""
        with self._lock:
            row = self._rows[self._count % self._cap]
            row[: self.dim] = z
            row[self.dim :] = features
            self._count += 1

    def skip(self, n: int) -> None:
        """n hops of audio were lost: hold the newest latent through them, keeping stamps aligned."""
        with self._lock:
            last = self._rows[(self._count - 1) % self._cap].copy() if self._count else np.zeros(self._rows.shape[1], np.float32)
            for k in range(min(n, self._cap)):
                self._rows[(self._count + k) % self._cap] = last
            self._count += n

    def sample(self, t: float, out: np.ndarray, upto: int | None = None) -> bool:
        """Write [z | features] at media time t into out (dim + n_features,); False if late.

        Before the first latent the output is the rest state (the show's mean latent, and the
        features of silence). `upto`: read as if only that many latents had arrived (a replay
        gives each frame exactly what the live clock held then, late frames included).
        """
        x = (t - self.t0) / self.period - 1.0  # fractional latent index at time t
        with self._lock:
            count = self._count if upto is None else min(upto, self._count)
            self.last_count = count
            if count == 0 or x < 0.0:  # before the first row's stamp: the rest state, whatever has arrived
                out[:] = self._rest  # (so a live clock that already has rows reads as render's, which has none)
                self.last_stamp = self.t0
                return x < 0.0
            n0 = math.floor(x)
            if n0 >= count - 1:  # past the newest latent: hold it
                out[:] = self._rows[(count - 1) % self._cap]
                self.last_stamp = self.stamp(count - 1)
                return x <= count - 1 if self.interpolate else x < count
            oldest = max(0, self._count - self._cap + 1)  # rows older are overwritten
            if n0 < oldest:
                out[:] = self._rows[oldest % self._cap]
                self.last_stamp = self.stamp(oldest)
                return True
            a = self._rows[n0 % self._cap]
            if not self.interpolate:
                out[:] = a
                self.last_stamp = self.stamp(n0)
                return True
            frac = x - n0
            self.last_stamp = self.stamp(n0 + 1)
            b = self._rows[(n0 + 1) % self._cap]
            np.subtract(b, a, out=out)
            out *= frac
            out += a
            return True
