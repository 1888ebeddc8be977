"""Blocks from an audio source -> whole hops of mono audio at a show's sample rate.

The encoder thread reads whatever block size the ring gives it; an encoder needs exactly one hop
per call, in order. This mixes each block down (or picks one channel), resamples it with soxr's
streaming resampler when the source and the show disagree on the rate, and hands out hops as
views of one buffer allocated up front.
"""
from __future__ import annotations

import numpy as np
import soxr


def mixdown(block: np.ndarray, channel: int | None) -> np.ndarray:
    """block: (n, channels) float32 -> (n,): one channel, or the mean of all (as training does).

    NaN and infinite samples (a damaged file, a broken driver) become silence here, the one place
    every encoder's audio passes, live and in render: one NaN would poison a streaming RAVE's
    cached state for good."""
    mono = block[:, channel] if channel is not None else block.mean(axis=1)
    return mono if np.isfinite(mono).all() else np.nan_to_num(mono, nan=0.0, posinf=0.0, neginf=0.0)


class HopStream:
    def __init__(self, source_rate: int, channel: int | None, capacity: int = 1 << 16) -> None:
        self.source_rate = source_rate
        self.channel = channel
        self._buf = np.zeros(capacity, dtype=np.float32)  # (capacity,) mono at the show's rate
        self._fill = 0  # samples in _buf
        self._done = 0  # samples of _buf already handed out as hops
        self.hop = 0
        self._resampler: soxr.ResampleStream | None = None

    def reset(self, show_rate: int, hop: int) -> None:
        """A new show: its rate and hop; audio not yet handed out is dropped with the old show."""
        self.hop = hop
        self._fill = self._done = 0
        self._resampler = (None if show_rate == self.source_rate
                           else soxr.ResampleStream(self.source_rate, show_rate, 1, dtype="float32"))

    def push(self, block: np.ndarray) -> None:
        """block: (n, channels) float32 at the source's rate."""
        mono = mixdown(block, self.channel)
        if self._resampler is not None:
            mono = self._resampler.resample_chunk(mono)
        if self._fill + len(mono) > len(self._buf):  # a block near the buffer's size: grow once, keep it
            self._buf = np.concatenate([self._buf, np.zeros(len(mono), np.float32)])
        self._buf[self._fill : self._fill + len(mono)] = mono
        self._fill += len(mono)

    def next_hop(self) -> np.ndarray | None:
        """(hop,) float32, a view valid until the next call; None when less than a hop is left."""
        if self._fill - self._done < self.hop:
            if self._done:  # keep the remainder at the front for the next push
                left = self._fill - self._done
                self._buf[:left] = self._buf[self._done : self._fill]
                self._fill, self._done = left, 0
            return None
        view = self._buf[self._done : self._done + self.hop]
        self._done += self.hop
        return view
