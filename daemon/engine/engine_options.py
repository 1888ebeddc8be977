"""The settings the live engine and offline render share, and the fixed audio-to-picture offset
both compute from them: render must use the same numbers to give the same frames as a live run.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ..config import RunConfig
    from ..show.runtime import ShowRuntime


@dataclass
class EngineOptions:
    fps: float = 30.0
    latency_margin_ms: float = 20.0  # on top of one hop: room for the audio block and the encoder
    features_latency_ms: float = 7.0  # the music stream's offset: an audio block's delivery, a poll, the analysis
    seed: int = 0
    channel: int | None = None  # None: mix all channels down
    sink_queue: int = 8
    max_frames: int | None = None  # --duration: stop after exactly this many grid slots
    interpolate: bool = True  # False: hold latents (a hop less latency, stepped motion)
    gpu_texture: bool = False  # sinks that can take the decoder's device frames get them
    fade_mode: str = "linear"  # show crossfades mix in linear light, or "srgb" (crossfade.py)

    @classmethod
    def from_config(cls, cfg: RunConfig, max_frames: int | None = None) -> EngineOptions:
        return cls(cfg.fps, cfg.latency_margin_ms, cfg.features_latency_ms, cfg.seed, cfg.channel, cfg.sink_queue,
                   max_frames, interpolate=cfg.interpolation == "linear", gpu_texture=cfg.gpu_texture,
                   fade_mode=cfg.fade_mode)


def latency_seconds(rt: ShowRuntime, opts: EngineOptions) -> float:
    """The encoder clock's fixed offset: one hop to interpolate towards, plus a margin for the
    audio block and the encoder."""
    return (rt.period if opts.interpolate else 0.0) + opts.latency_margin_ms / 1e3


def picture_offset(rt: ShowRuntime, opts: EngineOptions) -> float:
    """The offset of the fastest stream the picture reads: how far file outputs delay the sound,
    so that onsets land with their hits (a slower RAVE stream then trails by the difference)."""
    offsets = [latency_seconds(rt, opts)] if rt.uses_clock else []
    if rt.uses_music:
        offsets.append(opts.features_latency_ms / 1e3)
    return min(offsets)
