"""A sound card through sounddevice (PortAudio): the callback copies into a RingBuffer and does
nothing else; a card that stops delivering is noticed, reopened, and its gap filled with silence
so the media clock stays in step with the wall clock.
"""
from __future__ import annotations

import logging
import time

from .files import AudioInputError
from .music_features import fine_hop
from .ring_buffer import RingBuffer

log = logging.getLogger("latentvj.audio")

RING_SECONDS = 4.0
LOST_AFTER_S = 1.0  # no audio for this long from a sound card: it is gone
RETRY_EVERY_S = 2.0
FIRST_AUDIO_S = 3.0  # grace for a newly opened stream's first block


class SoundCardSource:
    """A sounddevice InputStream; lost devices are noticed and reopened, and the log says so."""

    paced = False

    def __init__(self, device: str | int, channels: int | None = None, sample_rate: int | None = None) -> None:
        import sounddevice as sd  # imported here: a missing PortAudio only matters for sound cards

        self._sd = sd
        self.device = device
        try:
            info = sd.query_devices(device, "input")
        except (ValueError, sd.PortAudioError) as exc:
            raise AudioInputError(f"input {device!r}: {exc} (see `latentvj devices`)") from exc
        self.name = str(info["name"])
        self.sample_rate = int(sample_rate or info["default_samplerate"])
        self.channels = int(channels or min(2, info["max_input_channels"]))
        if self.channels < 1 or self.channels > info["max_input_channels"]:
            raise AudioInputError(f"input {self.name!r} has {info['max_input_channels']} input channels, asked for {self.channels}")
        self.ring = RingBuffer(int(RING_SECONDS * self.sample_rate), self.channels)
        self._stream = None
        self._written_at_open = 0
        self._anchor: float | None = None  # monotonic time of media time 0 (tracked)
        self._lost_since: float | None = None
        self._next_retry = 0.0
        self.reconnects = 0
        self.finished = False
        self.input_latency = 0.0  # what the driver reports for capture -> callback, set on open

    def _callback(self, indata, frames, time_info, status) -> None:
        # Audio thread: copy and count, nothing else (no allocation we can avoid, no lock, no log).
        if status.input_overflow:
            self.ring.overflows += 1
        self.ring.write(indata)

    def _open(self) -> None:
        sd = self._sd
        self._stream = sd.InputStream(
            device=self.device, channels=self.channels, samplerate=self.sample_rate,
            dtype="float32", callback=self._callback,
            blocksize=fine_hop(self.sample_rate),  # blocks as short as the music stream's hop: its offset is one poll
        )
        self._written_at_open = self.ring.written
        self.input_latency = float(self._stream.latency)
        self._opened_at = time.monotonic()
        self._stream.start()

    def start(self, at: float | None = None) -> None:
        try:
            self._open()
        except self._sd.PortAudioError as exc:
            raise AudioInputError(f"input {self.name!r}: cannot open ({exc})") from exc
        self.ring.last_write_time = time.monotonic()

    def media_time(self, now: float) -> float:
        """Media time of wall time `now`, tracked from the callbacks (follows clock drift)."""
        written, t_write = self.ring.written, self.ring.last_write_time
        if written == 0:
            return 0.0
        obs = t_write - written / self.sample_rate  # when media time 0 would have been
        if self._anchor is None or obs < self._anchor:
            self._anchor = obs
        else:
            self._anchor += 0.001 * (obs - self._anchor)  # late callbacks are jitter; drift is slow
        return now - self._anchor

    def check(self, now: float) -> None:
        """Called a few times a second by the encoder thread: notice a lost device, reopen it."""
        if (self._stream is not None and self._stream.active and self.ring.written == self._written_at_open
                and now - self._opened_at < FIRST_AUDIO_S):
            return  # a stream takes a while to deliver its first block (PulseAudio: over a second)
        alive = (
            self._stream is not None
            and self._stream.active
            and self.ring.written > self._written_at_open  # the reopened stream delivers
            and now - self.ring.last_write_time < LOST_AFTER_S
        )
        if alive:
            if self._lost_since is not None:
                log.warning("audio input %r is back after %.1f s", self.name, now - self._lost_since)
                self._lost_since = None
                self.reconnects += 1
            return
        if self._lost_since is None:
            self._lost_since = now
            log.warning("audio input %r stopped delivering audio; frames go on, retrying every %.0f s",
                        self.name, RETRY_EVERY_S)
        if now < self._next_retry:
            return
        self._next_retry = now + RETRY_EVERY_S
        self._close_stream()
        # The gap was silence: keep the frame count in step with the wall clock (no writer runs now).
        self.ring.advance(int((now - self.ring.last_write_time) * self.sample_rate))
        try:
            self._sd._terminate()  # PortAudio lists devices once per init: refresh the list
            self._sd._initialize()
            self._open()
        except (self._sd.PortAudioError, ValueError) as exc:
            log.warning("audio input %r: reopening failed (%s); retrying in %.0f s", self.name, exc, RETRY_EVERY_S)

    def _close_stream(self) -> None:
        if self._stream is not None:
            try:
                self._stream.abort()
                self._stream.close()
            except self._sd.PortAudioError:
                pass
            self._stream = None

    def stop(self) -> None:
        self._close_stream()


def list_devices() -> list[dict]:
    """Audio inputs with their default rates and channels (`latentvj devices`)."""
    import sounddevice as sd

    out = []
    for index, dev in enumerate(sd.query_devices()):
        if dev["max_input_channels"] > 0:
            out.append({
                "index": index, "name": dev["name"], "channels": dev["max_input_channels"],
                "sample_rate": dev["default_samplerate"], "hostapi": sd.query_hostapis(dev["hostapi"])["name"],
            })
    return out
