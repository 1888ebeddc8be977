"""`latentvj render`: the live pipeline on a simulated clock, as fast as the machine goes.

For frame j the live renderer samples media time j / fps - latency, and by then the encoder has
encoded every hop that ended before it. Feeding hops here until the clock covers that time and
calling the same FramePipeline gives the frames the live path would have given: bit for bit with
`batch=1`; with the default batch the show's mapping and the decoder each run once for several
frames (each frame reads the clocks as they stood when it was due, so the encoder runs ahead),
which a batched call rounds a little differently (a value off by 1 here and there). On the CPU
several decoders work on consecutive batches at once, each on its own thread, and their frames go
on in order. The sinks (the H.264 encoder and muxer) run on their own threads, as live.
"""
from __future__ import annotations

import math
import queue
import threading
import time
from collections import deque
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import numpy as np

from ..audio.hop_stream import mixdown
from ..audio.pcm24 import to_pcm24
from ..control.state import Control
from .engine_options import EngineOptions, latency_seconds, picture_offset
from .frame_pipeline import FramePipeline
from ..show.runtime import ShowRuntime
from ..sinks import FramePool, Sink, SinkSet, StreamInfo


QUEUED_BATCHES = 2  # prepared batches waiting for the decoder
# music hops analysed per call (MusicAnalysis.encode_hops), the same rows as one at a time: a 60-s
# song's features took 0.36 s of CPU against 0.83 s hop by hop; longer runs fall out of the cache
MUSIC_RUN = 16


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
    batch: int = 8,
    decoders: int = 1,
) -> RenderResult:
    """audio: (n, channels) float32 at runtime.sample_rate. Sinks get every frame and the audio;
    `batch`: frames per decoder call (1: the live path's calls exactly); `decoders`: batches
    decoded at once, each on a thread of its own (thread_budget.py says when that pays)."""
    fps = opts.fps
    latency = latency_seconds(runtime, opts)
    audio = to_pcm24(np.array(audio, dtype=np.float32))  # as the live engine hears it (pcm24.py)
    rt = runtime
    rt.reset()
    # the encoder runs ahead to a batch's last frame, the music stream a run further
    clock = rt.new_clock(0.0, opts.interpolate, opts.seed, ahead_s=batch / fps + MUSIC_RUN * rt.music_period)
    w, h = rt.decoder.width, rt.decoder.height
    info = StreamInfo(w, h, fps, audio_rate=rt.sample_rate, audio_channels=audio.shape[1],
                      audio_delay=picture_offset(rt, opts))
    sink_set = SinkSet(sinks, info, opts.sink_queue, blocking=True)
    pool = FramePool(w, h, opts.sink_queue + (decoders + 1) * batch)  # the batches decoding and the one handed on
    # prepared decoder windows, one batch per slot, filled in turn: one filling, two queued, one
    # waiting for a decoder, one per decoder
    ring = np.zeros((QUEUED_BATCHES + 2 + decoders, batch, rt.context, rt.latent_dim), dtype=np.float32)
    idle: queue.SimpleQueue = queue.SimpleQueue()  # decoders not working on a batch, each with its own buffers
    for d in [rt.decoder] + [rt.decoder.twin() for _ in range(decoders - 1)]:
        idle.put(d)
    pipeline = FramePipeline(rt, control, fps, opts.seed)
    mono = np.ascontiguousarray(mixdown(audio, opts.channel), dtype=np.float32)
    # every grid slot the audio reaches; the epsilon keeps 49392 samples at 25 fps (exactly 28
    # slots, 28.000000000000004 in floating point) from getting a 29th
    n_frames = frames if frames is not None else math.ceil(len(audio) * fps / rt.sample_rate - 1e-9)
    batches: queue.Queue = queue.Queue(maxsize=QUEUED_BATCHES)  # (slot, first frame, frames) | None | error
    stop = threading.Event()

    def hand_over(item) -> None:
        while not stop.is_set():
            try:
                batches.put(item, timeout=0.1)
                return
            except queue.Full:
                continue

    def prepare_all() -> None:
        """The audio side, on its own thread: the encoder, the music stream, the mapping and the
        controls, in frame order, exactly as live; the decoder works on the batch before meanwhile."""
        try:
            hop, cursor = rt.hop, 0
            fast = opts.features_latency_ms / 1e3
            music_hop, music_due = rt.music.hop, 0  # music rows the live clock holds when frame j is due
            n_music = len(mono) // music_hop
            # --batch 1 is the live path's calls: one hop per call, as live (a run's matrix products
            # may take other BLAS kernels, which need not round alike on every machine)
            music_run = MUSIC_RUN if batch > 1 else 1
            slot, due = 0, []  # the batch's frames: (media time, music time, clock counts) each
            for j in range(n_frames):
                if stop.is_set():
                    return
                t = j / fps - latency
                need = t if opts.interpolate else t - rt.period  # the newest latent the live path would use
                while clock.newest_time() <= need and cursor + hop <= len(mono):
                    rt.encode_hop(mono[cursor : cursor + hop])
                    if sink_set.wants_audio:
                        sink_set.audio(audio[cursor : cursor + hop].copy())
                    cursor += hop
                t_music = j / fps - fast  # the music stream's rows are held: every row stamped by then
                while music_due < n_music and rt.music_clock.stamp(music_due - 1) <= t_music - rt.music_period:
                    music_due += 1
                fed = rt.music_clock.count
                if fed < music_due:  # a run of hops at once, ahead of the frame, which reads up to its count
                    run = min(max(music_run, music_due - fed), n_music - fed)
                    rt.encode_music_hops(mono[fed * music_hop : (fed + run) * music_hop])
                due.append((t, t_music, (rt.clock.count, music_due)))
                if len(due) == batch or j == n_frames - 1:
                    pipeline.prepare_batch(due, ring[slot])
                    hand_over((slot, j + 1 - len(due), len(due)))
                    slot, due = (slot + 1) % len(ring), []
            if sink_set.wants_audio and cursor < len(audio):
                sink_set.audio(audio[cursor:].copy())
            hand_over(None)
        except BaseException as exc:  # noqa: BLE001 - raised again on the calling thread
            hand_over(exc)

    def decode(slot: int, outs: list[np.ndarray]) -> None:
        """On a decoding thread: one prepared batch into its frames."""
        decoder = idle.get()
        try:
            if batch == 1:
                decoder.decode(ring[slot, 0], outs[0])
            else:
                decoder.decode_batch(ring[slot, : len(outs)], outs)
        finally:
            idle.put(decoder)

    pending: deque = deque()  # batches decoding: (first frame, frames, future), in frame order

    def hand_on_oldest() -> None:
        first, outs, future = pending.popleft()
        future.result()  # a decoder's error is raised here
        for k, frame in enumerate(outs, first):
            sink_set.frame(frame, k)
            if progress is not None:
                progress(k + 1, n_frames)

    sink_set.start()
    t0 = time.perf_counter()
    producer = threading.Thread(target=prepare_all, name="render-prepare", daemon=True)
    producer.start()
    try:
        with ThreadPoolExecutor(decoders, thread_name_prefix="render-decode") as decoding:
            while (item := batches.get()) is not None:
                if isinstance(item, BaseException):
                    raise item
                slot, first, n = item
                if len(pending) == decoders:  # every decoder busy: the oldest batch's frames go on first
                    hand_on_oldest()
                outs = [pool.next() for _ in range(n)]
                pending.append((first, outs, decoding.submit(decode, slot, outs)))
            while pending:
                hand_on_oldest()
    finally:
        stop.set()
        producer.join()
        sink_set.stop()
    return RenderResult(n_frames, time.perf_counter() - t0, n_frames / fps, picture_offset(rt, opts))

