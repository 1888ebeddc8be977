"""What the live engine shows the other threads: immutable snapshots, each swapped in whole by
the one thread that owns what it describes (live_engine.py says who owns what)."""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..audio.music_analysis import EVENTS
from .run_stats import STAT_CAPACITY


@dataclass(frozen=True, slots=True)
class EncoderCounts:
    """The encoder thread's figures, published whole after each hop that changes them."""
    hops: int = 0  # RAVE hops encoded
    music_hops: int = 0  # music stream hops analysed
    lost_frames: int = 0  # source frames lost because the encoder fell a ring behind
    onsets: tuple[int, ...] = (0,) * len(EVENTS)  # onsets detected so far, per music_analysis.EVENTS


class EncoderTally:
    """The encoder thread's running figures, and `counts`, the immutable snapshot of them that the
    renderer publishes (swapped whole after each hop that changes them). The per-hop times are
    for after the engine stops (the bench reads them)."""

    def __init__(self) -> None:
        self.encode_ms = np.zeros(STAT_CAPACITY)  # per RAVE hop, the newest STAT_CAPACITY
        self.music_ms = np.zeros(STAT_CAPACITY)  # per fine hop: the music stream's CPU time, not waits
        self.hops = self.music_hops = self.lost = 0
        self._onsets = [0] * len(EVENTS)
        self.counts = EncoderCounts()

    def music(self, events: int, ms: float) -> None:
        """A music hop analysed in `ms`, with its EVENTS bits."""
        self.music_ms[self.music_hops % STAT_CAPACITY] = ms
        self.music_hops += 1
        for k in range(len(self._onsets)):
            self._onsets[k] += (events >> k) & 1

    def latent(self, ms: float) -> None:
        self.encode_ms[self.hops % STAT_CAPACITY] = ms
        self.hops += 1

    def publish(self) -> None:
        self.counts = EncoderCounts(self.hops, self.music_hops, self.lost, tuple(self._onsets))


@dataclass(frozen=True, slots=True)
class EngineStatus:
    """What the engine shows every other thread, published by the renderer after each frame."""
    frame: int  # grid index of the newest frame; -1 before the first
    show: str  # the show drawn
    show_serial: int  # 0 for the first show, then one more per switch requested (a superseded one is skipped)
    latent_dim: int
    uses_clock: bool  # the picture reads the encoder clock (RAVE or features)
    uses_music: bool  # the picture reads the music stream
    latency_s: float  # the encoder clock's offset for this show
    fast_latency_s: float  # the music stream's offset
    fps: float
    latency_ms: float  # measured: publish time - capture of the newest audio the frame read
    dropped: int
    late: int  # frames that held a late latent
    decode_errors: int
    latent: np.ndarray  # (latent_dim,) read-only copy: what the decoder got
    music: np.ndarray  # (music dim,) read-only copy: the music row the frame read
    conditioning: np.ndarray  # (cond_dim,) read-only copy: the frame's standardised conditioning
    encoder: EncoderCounts
    fading: bool = False  # a crossfade from the previous show is under way (show is the incoming one)


def frozen_copy(a: np.ndarray) -> np.ndarray:
    """A copy no reader can write to: what a status hands out of the renderer's own arrays."""
    out = a.copy()
    out.flags.writeable = False
    return out
