"""Where audio comes from: a sound card, a file or a generated signal, all into a RingBuffer.

A sound card writes from its callback (sound_card.py). Files and generated signals are written
here by a thread at real-time pace, so the rest of the daemon cannot tell them from a sound
card; their media clock is exact, which is what makes `render` equal to `run`.
"""
from __future__ import annotations

import logging
import threading
import time
from pathlib import Path

import numpy as np

from .files import AudioInputError, load_audio
from .ring_buffer import RingBuffer

log = logging.getLogger("latentvj.audio")

RING_SECONDS = 4.0
AUDIO_SUFFIXES = (".wav", ".flac", ".mp3", ".ogg", ".aiff", ".m4a", ".mp4")


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


class PacedSource:
    """Writes a signal into the ring at wall-clock pace from its own thread (file, tone, demo)."""

    paced = True
    input_latency = 0.0  # seconds between a sample's capture and its arrival in the ring

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


def open_input(spec: str, sample_rate: int, loop: bool = False, channels: int | None = None,
               rate: int | None = None, demo_loop: Path | None = None):
    """`--input`: demo | tone | an audio file | a sound card by index or name.

    sample_rate: the show's, which file inputs are resampled to; channels and rate set up a card."""
    if spec == "demo":
        if demo_loop is None:
            raise AudioInputError("input demo: this build has no demo loop")
        audio, got = load_audio(demo_loop, sample_rate)
        return PacedSource("demo", audio, got, loop=True)
    if spec == "tone":
        return PacedSource("tone", tone_signal(sample_rate), sample_rate, loop=True)
    path = Path(spec).expanduser()
    if path.is_file():
        audio, got = load_audio(path, sample_rate)
        return PacedSource(path.name, audio, got, loop=loop)
    if "/" in spec or path.suffix.lower() in AUDIO_SUFFIXES:
        raise AudioInputError(f"input {spec}: no such file")
    from .sound_card import SoundCardSource  # PortAudio matters only for sound cards

    return SoundCardSource(int(spec) if spec.isdigit() else spec, channels, rate)
