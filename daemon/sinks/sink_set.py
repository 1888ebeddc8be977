"""All the sinks of a run as one: each on its own runner thread, fed the same frames and audio,
and the frame pool they read from. The main thread pumps the event loops some sinks need there.
"""
from __future__ import annotations

import logging
import time

import numpy as np

from .base import Sink, SinkRunner, StreamInfo

log = logging.getLogger("latentvj.sinks")


class FramePool:
    """Preallocated frames handed to the sinks in turn; big enough that none is reused while a
    sink's queue still holds it (queue depth + the one being written + the one being rendered)."""

    def __init__(self, width: int, height: int, queue_frames: int) -> None:
        self._frames = [np.zeros((height, width, 4), dtype=np.uint8) for _ in range(queue_frames + 3)]
        self._i = 0

    def next(self) -> np.ndarray:
        self._i = (self._i + 1) % len(self._frames)
        return self._frames[self._i]


def route_device_frames(sinks: list[Sink], device_type: str, gpu_texture: bool) -> tuple[bool, bool]:
    """--gpu-texture: mark the sinks that get the decoder's device frames; returns (whether the
    decoder makes device frames, whether it also copies each frame to the host).

    A sink of this device's type (Syphon on mps, Spout on cuda) is a taker. A sink of type "any"
    (the web preview, which copies the few frames it encodes itself) takes device frames only
    when a taker makes them anyway, so it never forces a host copy of every frame."""
    on = gpu_texture and device_type != "cpu" and any(s.gpu_device_type == device_type for s in sinks)
    # each flag is set once (the renderer may be reading them): never a pass through all-False
    for sink in sinks:
        sink.gpu = on and sink.gpu_device_type in (device_type, "any")
    return on, (not on) or any(not s.gpu for s in sinks)


class SinkSet:
    def __init__(self, sinks: list[Sink], info: StreamInfo, queue_frames: int, blocking: bool = False) -> None:
        self.runners = [SinkRunner(s, info, queue_frames, blocking) for s in sinks]
        self.wants_audio = any(s.wants_audio for s in sinks) and info.audio_rate is not None
        self._pumpers = [s for s in sinks if s.pumps_main_thread]
        self.pump_errors = 0

    def start(self) -> None:
        for r in self.runners:
            r.start()

    def frame(self, frame: np.ndarray, index: int, device_frame=None) -> None:
        """device_frame: the same picture as a device tensor, for sinks on --gpu-texture."""
        for r in self.runners:
            r.put_frame(device_frame if r.sink.gpu and device_frame is not None else frame, index)

    def audio(self, samples: np.ndarray) -> None:
        """samples: (n, channels) float32, owned by the sinks from now on."""
        for r in self.runners:
            r.put_audio(samples)

    def pump(self, seconds: float) -> None:
        """Main thread: wait `seconds`, running the event loops that sinks need there (Syphon).

        A run loop with no input sources returns at once instead of waiting, so we sleep out the
        rest of the time ourselves: the main thread must never spin and starve the renderer."""
        end = time.monotonic() + seconds
        for sink in self._pumpers:
            try:
                sink.pump(seconds / len(self._pumpers))
            except Exception as exc:  # noqa: BLE001 - isolation boundary, as for writes
                self.pump_errors += 1
                if self.pump_errors in (1, 100, 10000):
                    log.error("sink %s: its event loop failed (%s: %s); frames still go out, discovery may not",
                              sink.spec, type(exc).__name__, exc)
        left = end - time.monotonic()
        if left > 0:
            time.sleep(left)

    def stop(self) -> None:
        for r in self.runners:
            r.stop()

    def report(self) -> list[str]:
        """One line per sink for summaries: what it wrote, dropped and failed, and how long writes took."""
        return [f"sink {st['sink']:<10} written {st['written']}, dropped {st['dropped']}, failures {st['failures']}, "
                f"write ms p50 {st['write_ms_p50']:.2f} p99 {st['write_ms_p99']:.2f}"
                + (f"; last error: {st['last_error']}" if st["last_error"] else "") for st in self.stats()]

    def stats(self) -> list[dict]:
        out = []
        for r in self.runners:
            p50, p99 = r.write_percentiles()
            out.append({"sink": r.sink.spec, "written": r.written, "dropped": r.dropped, "failures": r.failures,
                        "write_ms_p50": p50, "write_ms_p99": p99, "last_error": r.last_error})
        return out
