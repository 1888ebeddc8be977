"""Writes a take while the set plays: the engine's threads hand it what happened, a thread of its
own writes it (take_format.py says what goes where).

The engine's calls never wait and never raise: they put a reference on a queue (the audio block
is copied first, as the encoder reuses its buffer). The writer thread encodes FLAC, appends
events and frame records and flushes them every FLUSH_S; a write that fails (a full disk, a
pulled drive) ends the take with one log line and `on_error`, and the set plays on.
"""
from __future__ import annotations

import json
import logging
import os
import queue
import threading
import time
from datetime import datetime
from pathlib import Path
from typing import Any, Callable

import av
import numpy as np

from .. import __version__
from ..control.state import ControlValues
from ..toml_io import dumps_toml
from .control_json import values_to_json
from .take_format import (AUDIO_DIR, CHUNK_SECONDS, EVENTS, FLUSH_S, FORMAT, FRAME, FRAMES, HEADER, LAYOUTS,
                          PARTIAL_SUFFIX, RecordError, chunk_name)

log = logging.getLogger("latentvj.record")

_CLOSE = object()
MAX_BACKLOG_S = 30.0  # audio waiting for a disk this far behind ends the take (memory is not a disk)


def show_fields(rt) -> dict[str, Any]:
    """What a take keeps of a show: its name, where it was loaded from and its content's digest."""
    return {"show": rt.name, "source": rt.source, "checksum": rt.checksum}


def write_flac(path: Path, samples: np.ndarray, rate: int) -> None:
    """samples: (n, channels) float32 on the 24-bit grid (pcm24.py) -> a 24-bit FLAC file, exactly."""
    channels = samples.shape[1]
    pcm = np.ascontiguousarray(np.rint(samples.astype(np.float64) * 2.0 ** 31).clip(-2 ** 31, 2 ** 31 - 256)
                               .astype(np.int32).reshape(1, -1))  # interleaved s32, low 8 bits zero
    with av.open(str(path), "w", format="flac") as out:
        stream = out.add_stream("flac", rate=rate, layout=LAYOUTS[channels])
        stream.format = "s32"
        frame = av.AudioFrame.from_ndarray(pcm, format="s32", layout=LAYOUTS[channels])
        frame.sample_rate = rate
        for packet in stream.encode(frame):
            out.mux(packet)
        for packet in stream.encode(None):
            out.mux(packet)


class Recorder:
    def __init__(self, folder: Path, header: dict[str, Any], sample_rate: int, channels: int,
                 on_error: Callable[[str], None] | None = None) -> None:
        """Create the take folder (it must not exist yet) and its header; RecordError if it cannot."""
        if channels not in LAYOUTS:
            raise RecordError(f"recording {channels} channels: FLAC takes 1 to {max(LAYOUTS)}")
        self.folder = Path(folder).expanduser()
        self.sample_rate, self.channels = sample_rate, channels
        self.on_error = on_error
        try:
            self.folder.mkdir(parents=True)
            (self.folder / AUDIO_DIR).mkdir()
            doc = {"format": FORMAT, "latentvj": __version__, "started": datetime.now().isoformat(timespec="seconds"),
                   "audio": {"sample_rate": sample_rate, "channels": channels, "chunk_seconds": CHUNK_SECONDS},
                   **header}
            (self.folder / HEADER).write_text(dumps_toml(doc))
            self._events = open(self.folder / EVENTS, "x", encoding="utf-8")
            self._frames = open(self.folder / FRAMES, "xb")
        except FileExistsError as exc:
            raise RecordError(f"record: {exc.filename} already exists; a take never overwrites one") from exc
        except OSError as exc:
            raise RecordError(f"record: cannot create {self.folder} ({exc.strerror})") from exc
        self.samples = 0  # audio frames handed over so far (the encoder thread's count: events' `at`)
        self._taken = 0  # audio frames the writer has taken off the queue (the writer's count)
        self._max_backlog = int(MAX_BACKLOG_S * sample_rate)
        self.frames = 0  # frame records written
        self.failed: str | None = None
        self._q: queue.SimpleQueue = queue.SimpleQueue()
        self._closed = False
        self._chunk = int(round(CHUNK_SECONDS * sample_rate))
        self._pending: list[np.ndarray] = []  # audio not yet in a chunk
        self._pending_n = 0
        self._chunks = 0
        self._rows: list[tuple] = []
        self._thread = threading.Thread(target=self._run, name="recorder", daemon=True)
        self._thread.start()

    @property
    def writing(self) -> bool:
        """The writer thread runs: False once the take was closed or ended on a failed write."""
        return self._thread.is_alive()

    # ---- the engine's side: never waits, never raises ------------------------------------------
    def audio(self, block: np.ndarray) -> None:
        """Encoder thread: block (frames, channels) float32, as the engine heard it."""
        if not self._closed:
            if self.samples - self._taken > self._max_backlog:  # the writer cannot keep up
                self._closed = True
                self._q.put(("overrun", None))
                return
            self._q.put(("audio", block.copy()))
            self.samples += len(block)

    def event(self, kind: str, **fields: Any) -> None:
        if not self._closed:
            self._q.put(("event", {"kind": kind, **fields}))

    def state(self, frame: int, media: float, values: ControlValues) -> None:
        """Render thread: the controls frame `frame` took up (serialised on the writer's thread)."""
        if not self._closed:
            self._q.put(("state", (frame, media, values)))

    def frame(self, j: int, media: float, counts: tuple[int, int], fade: tuple[int, int] | None) -> None:
        if not self._closed:
            fc, fm = fade if fade is not None else (-1, -1)
            self._q.put(("frame", (j, media, counts[0], counts[1], fc, fm)))

    def close(self) -> None:
        """Write what is queued, the end marker and the last partial second of audio; then return
        (at once when the take already ended on a failed write)."""
        if not self.writing:
            return
        self._closed = True
        self._q.put((_CLOSE, None))
        self._thread.join()

    # ---- the writer thread ------------------------------------------------------------------
    def _run(self) -> None:
        last_flush = time.monotonic()
        while True:
            try:
                tag, payload = self._q.get(timeout=FLUSH_S / 2)
            except queue.Empty:
                tag, payload = None, None
            if tag is _CLOSE:
                self._write(self._finish)
            elif tag is not None:
                self._write(lambda: self._take(tag, payload))
            if time.monotonic() - last_flush >= FLUSH_S:
                self._write(self._flush)
                last_flush = time.monotonic()
            if tag is _CLOSE or self.failed is not None:  # the take ends; its thread too
                for f in (self._events, self._frames):
                    try:
                        f.close()
                    except OSError:  # the data is as durable as the last flush; nothing more to say
                        pass
                return

    def _write(self, step: Callable[[], None]) -> None:
        if self.failed is not None:
            return
        try:
            step()
        except OSError as exc:
            self.failed = (f"recording to {self.folder} stopped: {exc.strerror or exc} "
                           f"({exc.filename or 'writing'}); the show goes on, the take holds what was written")
            self._closed = True  # the engine's calls stop queueing
            log.error("%s", self.failed)
            if self.on_error is not None:
                self.on_error(self.failed)

    def _take(self, tag: str, payload: Any) -> None:
        if tag == "overrun":
            raise OSError(f"the disk did not keep up: over {MAX_BACKLOG_S:g} s of audio waited to be written")
        if tag == "audio":
            self._taken += len(payload)
            self._pending.append(payload)
            self._pending_n += len(payload)
            if self._pending_n >= self._chunk:
                self._write_chunks(final=False)
        elif tag == "frame":
            self._rows.append(payload)
        elif tag == "state":
            frame, media, values = payload
            self._line({"kind": "state", "frame": frame, "t": media, "values": values_to_json(values)})
        else:
            self._line(payload)

    def _line(self, doc: dict) -> None:
        self._events.write(json.dumps(doc, separators=(",", ":")) + "\n")

    def _write_chunks(self, final: bool) -> None:
        """Whole seconds of audio to chunk files (and, at the end, what is left)."""
        if not self._pending_n:
            return
        audio = np.concatenate(self._pending) if len(self._pending) > 1 else self._pending[0]
        done = 0
        while len(audio) - done >= self._chunk or (final and done < len(audio)):
            part = audio[done : done + self._chunk]
            path = self.folder / AUDIO_DIR / chunk_name(self._chunks)
            tmp = path.with_name(path.name + PARTIAL_SUFFIX)
            write_flac(tmp, part, self.sample_rate)
            with open(tmp, "rb+") as f:
                os.fsync(f.fileno())
            tmp.replace(path)
            self._chunks += 1
            done += len(part)
        rest = audio[done:]
        self._pending, self._pending_n = ([rest] if len(rest) else []), len(rest)

    def _flush(self) -> None:
        if self._rows:
            self._frames.write(np.array(self._rows, dtype=FRAME).tobytes())
            self.frames += len(self._rows)
            self._rows = []
        for f in (self._events, self._frames):
            f.flush()
            os.fsync(f.fileno())

    def _finish(self) -> None:
        """Drain the queue (the engine may have put a last item), then end the take cleanly."""
        try:
            while True:
                tag, payload = self._q.get_nowait()
                if tag is not _CLOSE and self.failed is None:
                    self._take(tag, payload)
        except queue.Empty:
            pass
        self._write_chunks(final=True)
        self._flush()
        self._line({"kind": "stop", "frames": self.frames, "samples": self.samples})
        self._flush()
