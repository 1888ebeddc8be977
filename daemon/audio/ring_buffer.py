"""Single-producer single-consumer audio ring buffer that an audio callback can write into.

The writer (a sounddevice callback, or a paced file/tone thread) only copies into the
preallocated array and bumps counters: no allocation, no lock, no logging. Python ints are
replaced atomically under the GIL and the writer publishes `written` after the data, so the
reader never sees samples that are not there yet. A reader that falls a whole buffer behind
loses the oldest audio and counts it.
"""
from __future__ import annotations

import time

import numpy as np


class RingBuffer:
    def __init__(self, frames: int, channels: int) -> None:
        self.capacity = frames
        self.channels = channels
        self._data = np.zeros((frames, channels), dtype=np.float32)  # (capacity, channels)
        self.written = 0  # frames written since start (monotonic)
        self.last_write_time = 0.0  # time.monotonic() of the newest write
        self.overflows = 0  # input overflows reported by the sound card
        self._read = 0  # frames read since start (reader-owned)
        self.lost = 0  # frames the reader never saw because it fell behind (reader-owned)

    def write(self, block: np.ndarray, now: float | None = None) -> None:
        """block: (n, channels) float32. Safe to call from an audio callback."""
        n = len(block)
        if n > self.capacity:  # only the newest capacity frames can be kept
            self.written += n - self.capacity
            block, n = block[n - self.capacity :], self.capacity
        start = self.written % self.capacity
        first = min(n, self.capacity - start)
        self._data[start : start + first] = block[:first]
        if first < n:
            self._data[: n - first] = block[first:]
        self.last_write_time = time.monotonic() if now is None else now
        self.written += n

    def advance(self, n: int, now: float | None = None) -> None:
        """Writer side: n frames of silence (a gap while a lost sound card was reopened).

        Keeps the frame count in step with the wall clock, so timestamps stay aligned."""
        start = self.written % self.capacity
        first = min(n, self.capacity - start)
        self._data[start : start + first] = 0.0
        self._data[: min(n - first, start)] = 0.0
        self.last_write_time = time.monotonic() if now is None else now
        self.written += n

    def available(self) -> int:
        return self.written - self._read

    def read(self, out: np.ndarray) -> int:
        """Copy up to len(out) unread frames into out (frames, channels); return how many."""
        written = self.written
        behind = written - self._read
        if behind > self.capacity:  # the writer lapped us: skip to the oldest intact frame
            self.lost += behind - self.capacity
            self._read = written - self.capacity
            behind = self.capacity
        n = min(behind, len(out))
        start = self._read % self.capacity
        first = min(n, self.capacity - start)
        out[:first] = self._data[start : start + first]
        if first < n:
            out[first:n] = self._data[: n - first]
        self._read += n
        return n
