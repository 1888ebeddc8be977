"""`latentvj render`: the live pipeline on a simulated clock, as fast as the machine goes.

For frame j the live renderer samples media time j / fps - latency, and by then the encoder has
encoded every hop that ended before it. Feeding hops here until the clock covers that time and
calling the same FramePipeline gives the frames the live path would have given, bit for bit.
"""
from __future__ import annotations

import math
import time
from dataclasses import dataclass

import numpy as np

from ..audio.hop_stream import mixdown
from ..control.state import Control
from .engine_options import EngineOptions, latency_seconds, picture_offset
from .frame_pipeline import FramePipeline
from ..show.runtime import ShowRuntime
from ..sinks import FramePool, Sink, SinkSet, StreamInfo


@dataclass
class RenderResult:
    frames: int
    seconds: float  # wall time
    media_seconds: float
    latency: float

    @property
    def realtime_factor(self) -> float:
        return self.media_seconds / self.seconds if self.seconds > 0 else float("inf")


def render(
    audio: np.ndarray,
    runtime: ShowRuntime,
    control: Control,
    sinks: list[Sink],
    opts: EngineOptions,
    frames: int | None = None,
    progress=None,
) -> RenderResult:
    """audio: (n, channels) float32 at runtime.sample_rate. Sinks get every frame and the audio."""
    fps = opts.fps
    latency = latency_seconds(runtime, opts)
    rt = runtime
    rt.reset()
    clock = rt.new_clock(0.0, opts.interpolate, opts.seed)
    w, h = rt.decoder.width, rt.decoder.height
    info = StreamInfo(w, h, fps, audio_rate=rt.sample_rate, audio_channels=audio.shape[1],
                      audio_delay=picture_offset(rt, opts))
    sink_set = SinkSet(sinks, info, opts.sink_queue, blocking=True)
    pool = FramePool(w, h, opts.sink_queue)
    pipeline = FramePipeline(rt, control, fps, opts.seed)
    mono = np.ascontiguousarray(mixdown(audio, opts.channel), dtype=np.float32)
    # every grid slot the audio reaches; the epsilon keeps 49392 samples at 25 fps (exactly 28
    # slots, 28.000000000000004 in floating point) from getting a 29th
    n_frames = frames if frames is not None else math.ceil(len(audio) * fps / rt.sample_rate - 1e-9)
    hop = rt.hop
    cursor = 0
    fast = opts.features_latency_ms / 1e3
    music_hop, music_cursor = rt.music.hop, 0
    sink_set.start()
    t0 = time.perf_counter()
    for j in range(n_frames):
        t = j / fps - latency
        need = t if opts.interpolate else t - rt.period  # the newest latent the live path would use
        while clock.newest_time() <= need and cursor + hop <= len(mono):
            rt.encode_hop(mono[cursor : cursor + hop])
            if sink_set.wants_audio:
                sink_set.audio(audio[cursor : cursor + hop].copy())
            cursor += hop
        t_music = j / fps - fast  # the music stream's rows are held: feed every row stamped by then
        while rt.music_clock.newest_time() <= t_music - rt.music_period and music_cursor + music_hop <= len(mono):
            rt.encode_music_hop(mono[music_cursor : music_cursor + music_hop])
            music_cursor += music_hop
        frame = pool.next()
        pipeline.make(t, frame, t_music)
        sink_set.frame(frame, j)
        if progress is not None:
            progress(j + 1, n_frames)
    if sink_set.wants_audio and cursor < len(audio):
        sink_set.audio(audio[cursor:].copy())
    sink_set.stop()
    return RenderResult(n_frames, time.perf_counter() - t0, n_frames / fps, picture_offset(rt, opts))

