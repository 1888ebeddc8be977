"""Where audio comes from: a sound card, a file or a generated signal, all into a RingBuffer.

A sound card writes from its callback (copy and count, nothing else). Files and generated
signals are written by a thread at real-time pace, so the rest of the daemon cannot tell them
from a sound card; their media clock is exact, which is what makes `render` equal to `run`.
"""
from __future__ import annotations

import logging
import threading
import time
from pathlib import Path

import av
import numpy as np
import soxr

from .ring_buffer import RingBuffer

log = logging.getLogger("latentvj.audio")

RING_SECONDS = 4.0
LOST_AFTER_S = 1.0  # no audio for this long from a sound card: it is gone
RETRY_EVERY_S = 2.0
FIRST_AUDIO_S = 3.0  # grace for a newly opened stream's first block


class AudioInputError(Exception):
    """An input that cannot be opened or read; the message names it and says what to do."""


# files --------------------------------------------------------------------------------------
def load_audio(path: str | Path, sample_rate: int | None = None, max_channels: int = 2) -> tuple[np.ndarray, int]:
    """Decode a whole audio (or video) file with PyAV -> ((n, channels) float32, sample_rate).

    More than `max_channels` channels are downmixed by FFmpeg; `sample_rate` resamples with soxr.
    """
    path = Path(path)
    if not path.is_file():
        raise AudioInputError(f"{path}: no such file")
    try:
        container = av.open(str(path))
    except av.error.FFmpegError as exc:
        raise AudioInputError(f"{path}: not a readable audio file ({exc})") from exc
    blocks: list[np.ndarray] = []
    with container:
        if not container.streams.audio:
            raise AudioInputError(f"{path}: has no audio track")
        stream = container.streams.audio[0]
        rate = stream.codec_context.sample_rate or stream.rate
        channels = min(stream.codec_context.channels or 1, max_channels)
        layout = "mono" if channels == 1 else "stereo"
        resampler = av.AudioResampler(format="flt", layout=layout, rate=rate)
        try:
            for frame in container.decode(stream):
                for out in resampler.resample(frame):
                    blocks.append(out.to_ndarray().reshape(-1, channels))
            for out in resampler.resample(None):
                blocks.append(out.to_ndarray().reshape(-1, channels))
        except av.error.FFmpegError as exc:
            if not blocks:
                raise AudioInputError(f"{path}: cannot decode audio ({exc})") from exc
            got = sum(len(b) for b in blocks) / rate
            log.warning("%s: audio is damaged after %.1f s (%s); using what decoded", path, got, exc)
    if not blocks:
        raise AudioInputError(f"{path}: the audio track is empty")
    audio = np.concatenate(blocks).astype(np.float32)
    if sample_rate is not None and sample_rate != rate:
        audio = soxr.resample(audio, rate, sample_rate).astype(np.float32)
        rate = sample_rate
    return np.ascontiguousarray(audio), rate


def tone_signal(sample_rate: int, seconds: float = 8.0) -> np.ndarray:
    """A generated test loop (kick, chord, hats) with enough movement to drive the latents."""
    n = int(seconds * sample_rate)
    t = np.arange(n) / sample_rate
    beat = 0.5
    phase = np.mod(t, beat)
    kick = np.sin(2 * np.pi * (50 * phase + 60 / 30 * (1 - np.exp(-30 * phase)))) * np.exp(-8 * phase)
    hats = np.random.default_rng(0).standard_normal(n) * np.exp(-80 * np.mod(t + beat / 2, beat)) * 0.15
    root = np.array([220.0, 261.6, 196.0, 174.6])[(t // 2).astype(int) % 4]
    chord = sum(np.sin(2 * np.pi * root * m * t) for m in (1.0, 1.26, 1.5)) * 0.1
    y = 0.6 * kick + hats + chord
    return (y / np.abs(y).max() * 0.8).astype(np.float32)[:, None]


# sources ------------------------------------------------------------------------------------
class PacedSource:
    """Writes a signal into the ring at wall-clock pace from its own thread (file, tone, demo)."""

    paced = True

    def __init__(self, name: str, signal: np.ndarray, sample_rate: int, loop: bool, block: int = 256) -> None:
        self.name = name
        self.signal = signal  # (n, channels) float32
        self.sample_rate = sample_rate
        self.channels = signal.shape[1]
        self.loop = loop
        self.block = block
        self.ring = RingBuffer(int(RING_SECONDS * sample_rate), self.channels)
        self.start_time = 0.0  # monotonic time of media time 0
        self.finished = False
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    @property
    def duration(self) -> float:
        return len(self.signal) / self.sample_rate

    def start(self, at: float | None = None) -> None:
        self.start_time = time.monotonic() if at is None else at
        self._thread = threading.Thread(target=self._run, name=f"audio-{self.name}", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        sig, n_sig, sr = self.signal, len(self.signal), self.sample_rate
        pos = 0  # frames written
        while not self._stop.is_set():
            due = int((time.monotonic() - self.start_time) * sr)
            while pos + self.block <= due:
                i = pos % n_sig if self.loop else pos
                if not self.loop and i >= n_sig:
                    self.finished = True
                    return
                j = min(i + self.block, n_sig)
                self.ring.write(sig[i:j])
                pos += j - i
            time.sleep(self.block / sr / 2)

    def media_time(self, now: float) -> float:
        return now - self.start_time

    def check(self, now: float) -> None:
        """Paced sources cannot be unplugged."""

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=2.0)


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
        )
        self._written_at_open = self.ring.written
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
