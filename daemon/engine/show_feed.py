"""A show the encoder thread feeds: its runtime and its own hop streams (each show has its own
hop and rate). During a crossfade the encoder feeds two, the incoming and the outgoing show, the
same audio."""
from __future__ import annotations

import time
from collections.abc import Iterator

import numpy as np

from ..audio.hop_stream import HopStream
from ..show.runtime import ShowRuntime


class ShowFeed:
    def __init__(self, rt: ShowRuntime, source_rate: int, channel: int | None) -> None:
        self.rt = rt
        self.source_rate = source_rate
        self.hops = HopStream(source_rate, channel)
        self.fine = HopStream(source_rate, channel)  # the music stream's own hops
        self.hops.reset(rt.sample_rate, rt.hop)
        self.fine.reset(rt.sample_rate, rt.music.hop)

    def skip(self, lost: int, latent: bool = True, music: bool = True) -> None:
        """`lost` source frames never arrived: hold each clock through them, stamps aligned (a
        replay, which feeds the two streams apart, skips each where its own audio reaches the gap)."""
        rt = self.rt
        n = int(lost * rt.sample_rate / self.source_rate)
        if latent:
            rt.clock.skip(n // rt.hop)
        if music:
            rt.music_clock.skip(n // rt.music.hop)

    def music_hops(self, block: np.ndarray) -> Iterator[tuple[int, float]]:
        """block: (frames, channels) -> per music hop it completes: (EVENTS bits, CPU ms)."""
        self.fine.push(block)
        while (mono := self.fine.next_hop()) is not None:
            t = time.thread_time()
            events = self.rt.encode_music_hop(mono)
            yield events, (time.thread_time() - t) * 1e3

    def latent_hops(self, block: np.ndarray) -> Iterator[float]:
        """block: (frames, channels) -> per encoder hop it completes: the encoder's ms."""
        self.hops.push(block)
        while (mono := self.hops.next_hop()) is not None:
            t = time.perf_counter()
            self.rt.encode_hop(mono)
            yield (time.perf_counter() - t) * 1e3

    def feed(self, block: np.ndarray) -> None:
        """Both streams, nothing counted (the outgoing show of a fade)."""
        for _ in self.music_hops(block):
            pass
        for _ in self.latent_hops(block):
            pass
