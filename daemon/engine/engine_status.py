"""What the live engine shows the other threads: immutable snapshots, each swapped in whole by
the one thread that owns what it describes (live_engine.py says who owns what)."""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..audio.music_analysis import EVENTS


@dataclass(frozen=True, slots=True)
class EncoderCounts:
    """The encoder thread's figures, published whole after each hop that changes them."""
    hops: int = 0  # RAVE hops encoded
    music_hops: int = 0  # music stream hops analysed
    lost_frames: int = 0  # source frames lost because the encoder fell a ring behind
    onsets: tuple[int, ...] = (0,) * len(EVENTS)  # onsets detected so far, per music_analysis.EVENTS


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
