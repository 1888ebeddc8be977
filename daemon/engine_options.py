"""The settings the live engine and offline render share, and the fixed audio-to-picture offset
both compute from them: render must use the same numbers to give the same frames as a live run.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .config import RunConfig
    from .show.runtime import ShowRuntime


@dataclass
class EngineOptions:
    fps: float = 30.0
    latency_margin_ms: float = 20.0  # on top of one hop: room for the audio block and the encoder
    features_latency_ms: float = 12.0  # the music stream's offset: a fine hop, an audio block, a poll
    seed: int = 0
    channel: int | None = None  # None: mix all channels down
    sink_queue: int = 8
    max_frames: int | None = None  # --duration: stop after exactly this many grid slots
    interpolate: bool = True  # False: hold latents (a hop less latency, stepped motion)
    gpu_texture: bool = False  # sinks that can take the decoder's device frames get them

    @classmethod
    def from_config(cls, cfg: RunConfig, max_frames: int | None = None) -> EngineOptions:
        return cls(cfg.fps, cfg.latency_margin_ms, cfg.features_latency_ms, cfg.seed, cfg.channel, cfg.sink_queue,
                   max_frames, interpolate=cfg.interpolation == "linear", gpu_texture=cfg.gpu_texture)


def latency_seconds(rt: ShowRuntime, opts: EngineOptions) -> float:
    """The fixed offset between audio and picture: one hop to interpolate towards, plus a margin
    for the audio block and the encoder."""
    return (rt.period if opts.interpolate else 0.0) + opts.latency_margin_ms / 1e3
