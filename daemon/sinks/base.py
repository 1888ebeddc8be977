"""The sink interface and the thread that runs each sink.

A sink receives RGBA uint8 frames, (H, W, 4), top-down, C-contiguous (what Syphon, Spout and NDI
take), plus the input audio if it wants it. Each sink runs on its own thread behind a bounded
queue, so a slow or failing sink never holds up the frames or the other sinks. A sink that
raises is closed, logged and reopened with back-off, not retried every frame.

A sink is opened, written and closed on its own thread (an OpenGL context, as Spout creates, is
current to one thread only). A sink whose library needs the main thread's event loop (Syphon's
discovery) says so with `pumps_main_thread`, and the daemon's main loop calls `pump` for it.
"""
from __future__ import annotations

import logging
import queue
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

log = logging.getLogger("latentvj.sinks")

RETRY_FIRST_S = 1.0
RETRY_MAX_S = 30.0
WRITE_STATS = 4096  # per-sink write times kept (the newest; about two minutes at 30 fps)


class SinkError(Exception):
    """A sink that cannot take frames; the message names the sink and what to do."""


@dataclass(frozen=True)
class StreamInfo:
    width: int
    height: int
    fps: float
    audio_rate: int | None = None  # None: no audio goes to the sinks
    audio_channels: int = 0
    audio_delay: float = 0.0  # seconds of silence before the audio, to line it up with the frames


class Sink:
    """Subclasses override open/write_frame/close, and write_audio when wants_audio is True."""

    wants_audio = False
    pumps_main_thread = False
    gpu_device_type = ""  # "mps"/"cuda": can take device frames of that type (--gpu-texture)
    announce = True  # log where the frames go when it opens (False: a tool's in-memory sink)

    def __init__(self, spec: str) -> None:
        self.spec = spec
        self.gpu = False  # set by --gpu-texture where gpu_device_type matches the decoder's device

    def open(self, info: StreamInfo) -> None:
        pass

    def describe(self) -> str:
        """Where the frames go, in the words a VJ looks for in the receiving app."""
        return self.spec

    def pump(self, seconds: float) -> None:
        """Main thread only, when pumps_main_thread: run the library's event loop for up to `seconds`."""

    def write_frame(self, frame: np.ndarray, index: int) -> None:
        """frame: (H, W, 4) uint8 RGBA (a device tensor when self.gpu); index: frame number on
        the fps grid (gaps = dropped)."""
        raise NotImplementedError

    def write_audio(self, samples: np.ndarray) -> None:
        """samples: (n, channels) float32, contiguous with the previous call."""

    def close(self) -> None:
        pass


class SinkRunner:
    """Runs one sink on its own thread; counts frames written, dropped and failures."""

    def __init__(self, sink: Sink, info: StreamInfo, queue_frames: int, blocking: bool = False,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.sink = sink
        self.clock = clock  # the back-off's (a test steps it instead of sleeping)
        self.blocking = blocking  # offline rendering waits for room instead of dropping
        self.info = info
        self._q: queue.Queue = queue.Queue(maxsize=queue_frames)
        self.written = 0
        self._full = 0  # frames refused by a full queue (the render thread's count)
        self._closed = 0  # frames thrown away while the sink was closed (the sink thread's count)
        self.failures = 0
        self.last_error = ""
        self.write_ms = np.zeros(WRITE_STATS)  # ring of the newest write times
        self._open = False
        self._retry_at = 0.0
        self._backoff = RETRY_FIRST_S
        self._thread = threading.Thread(target=self._run, name=f"sink-{sink.spec}", daemon=True)

    def start(self) -> None:
        self._thread.start()

    @property
    def dropped(self) -> int:
        """Frames not written: a full queue, or the sink closed and waiting to retry."""
        return self._full + self._closed

    def write_percentiles(self, qs=(50, 99)) -> list[float]:
        kept = self.write_ms[: min(self.written, WRITE_STATS)]
        return [float(np.percentile(kept, q)) for q in qs] if len(kept) else [float("nan")] * len(qs)

    def put_frame(self, frame: np.ndarray, index: int) -> None:
        try:
            self._q.put(("frame", frame, index), block=self.blocking)
        except queue.Full:
            self._full += 1

    def put_audio(self, samples: np.ndarray) -> None:
        if self.sink.wants_audio:
            try:
                self._q.put(("audio", samples, 0), block=self.blocking)
            except queue.Full:
                pass  # audio is small; a full queue means the sink is stuck, frames count that

    def _try_open(self) -> None:
        try:
            self.sink.open(self.info)
        except Exception as exc:  # noqa: BLE001 - isolation boundary: a sink library may raise anything
            self._fail(f"cannot open: {exc}" if isinstance(exc, (SinkError, OSError))
                       else f"cannot open: {type(exc).__name__}: {exc}")
            self._close_quietly()
            return
        self._open = True
        if self.failures:
            log.info("sink %s: open again after %d failure(s)", self.sink.spec, self.failures)
        self._backoff = RETRY_FIRST_S
        where = self.sink.describe()
        if self.sink.announce:
            log.info("sink %s: open%s", self.sink.spec, "" if where == self.sink.spec else f": {where}")

    def _fail(self, why: str) -> None:
        self.failures += 1
        self.last_error = why
        self._open = False
        self._retry_at = self.clock() + self._backoff
        log.error("sink %s: %s; the other sinks go on, retrying in %.0f s", self.sink.spec, why, self._backoff)
        self._backoff = min(self._backoff * 2, RETRY_MAX_S)

    def _close_quietly(self) -> None:
        try:
            self.sink.close()
        except Exception:  # noqa: BLE001 - closing a broken sink is best effort
            pass

    def _run(self) -> None:
        self._try_open()
        while True:
            kind, payload, index = self._q.get()
            if kind == "stop":
                break
            if not self._open:
                if self.clock() < self._retry_at:
                    self._closed += kind == "frame"
                    continue
                self._try_open()
                if not self._open:
                    continue
            try:
                if kind == "frame":
                    t = time.perf_counter()
                    self.sink.write_frame(payload, index)
                    self.write_ms[self.written % WRITE_STATS] = (time.perf_counter() - t) * 1e3
                    self.written += 1
                else:
                    self.sink.write_audio(payload)
            except Exception as exc:  # noqa: BLE001 - isolation boundary: a sink library may raise anything
                self._fail(str(exc) if isinstance(exc, SinkError) else f"{type(exc).__name__}: {exc}")
                self._close_quietly()
        if self._open:
            try:
                self.sink.close()
            except Exception as exc:  # noqa: BLE001
                log.error("sink %s: close failed: %s", self.sink.spec, exc)

    def stop(self) -> None:
        self._q.put(("stop", None, 0))  # blocks until there is room: everything queued is written
        self._thread.join(timeout=30.0)
