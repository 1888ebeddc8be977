"""Per-frame figures of a live run (frame time, latency, decoder time), kept in arrays allocated
once, so recording a frame allocates nothing; summaries and the bench read percentiles from them.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

STAT_CAPACITY = 1 << 17  # frames kept (about an hour at 30 fps); older ones are overwritten


@dataclass
class RunStats:
    frame_ms: np.ndarray = field(default_factory=lambda: np.zeros(STAT_CAPACITY))
    # measured, per frame: publish time minus when the newest audio it read was captured, for the
    # picture (its fastest stream) and for each clock (the encoder's, the music stream's)
    latency_ms: np.ndarray = field(default_factory=lambda: np.zeros(STAT_CAPACITY))
    clock_latency_ms: np.ndarray = field(default_factory=lambda: np.zeros(STAT_CAPACITY))
    music_latency_ms: np.ndarray = field(default_factory=lambda: np.zeros(STAT_CAPACITY))
    decode_ms: np.ndarray = field(default_factory=lambda: np.zeros(STAT_CAPACITY))
    rgba_ms: np.ndarray = field(default_factory=lambda: np.zeros(STAT_CAPACITY))  # part of decode_ms
    published: int = 0
    dropped: int = 0
    late: int = 0
    started: float = 0.0
    last: float = 0.0  # when the newest frame was published
    ended: float = 0.0

    def record(self, frame_ms: float, latency_ms: float, decode_ms: float, rgba_ms: float, now: float,
               clock_ms: float = 0.0, music_ms: float = 0.0) -> None:
        self.last = now
        i = self.published % STAT_CAPACITY
        self.frame_ms[i] = frame_ms
        self.latency_ms[i] = latency_ms
        self.clock_latency_ms[i] = clock_ms
        self.music_latency_ms[i] = music_ms
        self.decode_ms[i] = decode_ms
        self.rgba_ms[i] = rgba_ms
        self.published += 1

    def _kept(self, arr: np.ndarray) -> np.ndarray:
        return arr[: min(self.published, STAT_CAPACITY)]

    def percentiles(self, which: str, qs=(50, 95, 99)) -> list[float]:
        data = self._kept(getattr(self, which))
        return [float(np.percentile(data, q)) for q in qs] if len(data) else [float("nan")] * len(qs)

    def fps(self) -> float:
        span = self.last - self.started
        return self.published / span if span > 0 else 0.0
