"""`file:PATH.mp4`: H.264 video with the input audio muxed in (AAC), through PyAV.

Frame j gets pts j on a 1/fps time base, so dropped frames leave gaps rather than shifting
time. The audio is delayed by the daemon's latency offset, so sound and picture line up.

The audio goes through FFmpeg's own AAC encoder with its "fast" coder at 128 kb/s a channel,
not its default (the "twoloop" coder, 128 kb/s for the file): a 60-s render at 10x real time has
12 s of CPU on 2 cores, and the default coder takes 2.6 s of them for a stereo song. On a 60-s
song (`python -m latentvj.daemon.bench.aac_bench SONG`): stereo, 0.57 s of CPU against 2.60 s,
and less coding noise in 22 of 23 bands (it has twice the bits); mono, at the same 128 kb/s,
0.27 s against 1.68 s, and as close to the source (mean band signal-to-noise 18.0 dB against 17.6).
"""
from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

import av
import numpy as np

from .base import Sink, SinkError, StreamInfo


SMALL_FRAME = 512 * 512  # up to this many pixels libx264 gets one thread by default


@dataclass(frozen=True)
class H264Settings:
    # libx264's threads; 0: one for frames up to 512x512 (such a frame takes it well under a ms, and
    # more threads only fight the decoder for the cores), its own choice (about 1.5 a core) above
    threads: int = 0
    preset: str = "veryfast"
    crf: int = 18


@dataclass(frozen=True)
class AacSettings:
    coder: str = "fast"  # FFmpeg's aac_coder: "fast" or "twoloop" (module docstring)
    kbps_per_channel: int = 128


class Mp4Sink(Sink):
    wants_audio = True

    def __init__(self, spec: str, path: str, settings: H264Settings = H264Settings(),
                 aac: AacSettings = AacSettings()) -> None:
        super().__init__(spec)
        self.path = Path(path).expanduser()
        self.settings = settings
        self.aac = aac
        self.options = {"crf": str(settings.crf), "preset": settings.preset}
        self._c = None

    def open(self, info: StreamInfo) -> None:
        if info.width % 2 or info.height % 2:
            raise SinkError(f"H.264 needs even sizes, got {info.width}x{info.height} (use --size)")
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self._c = av.open(str(self.path), "w")
        except (OSError, av.error.FFmpegError) as exc:
            raise SinkError(f"cannot create {self.path} ({exc})") from exc
        rate = Fraction(info.fps).limit_denominator(1001)
        v = self._c.add_stream("libx264", rate=rate)
        v.width, v.height, v.pix_fmt = info.width, info.height, "yuv420p"
        v.time_base = 1 / rate
        threads = self.settings.threads or (1 if info.width * info.height <= SMALL_FRAME else 0)
        v.options = {**self.options, "threads": str(threads)}
        self._v = v
        self._a = None
        if info.audio_rate:
            layout = "mono" if info.audio_channels == 1 else "stereo"
            self._a = self._c.add_stream("aac", rate=info.audio_rate, layout=layout)
            self._a_channels = 1 if layout == "mono" else 2
            self._a.options = {"aac_coder": self.aac.coder}
            self._a.bit_rate = self.aac.kbps_per_channel * 1000 * self._a_channels
            self._a_pts = 0
            self._a_buf = np.zeros((0, self._a_channels), dtype=np.float32)
            self._a_frame = 1024  # AAC frame size
            if info.audio_delay > 0:
                self.write_audio(np.zeros((int(round(info.audio_delay * info.audio_rate)), self._a_channels), np.float32))

    def write_frame(self, frame: np.ndarray, index: int) -> None:
        vf = av.VideoFrame.from_ndarray(frame, format="rgba")
        vf.pts = index
        for packet in self._v.encode(vf):
            self._c.mux(packet)

    def write_audio(self, samples: np.ndarray) -> None:
        if self._a is None:
            return
        if samples.shape[1] != self._a_channels:
            samples = np.repeat(samples.mean(axis=1, keepdims=True), self._a_channels, axis=1)
        self._a_buf = np.concatenate([self._a_buf, samples])
        self._encode_audio(final=False)

    def _encode_audio(self, final: bool) -> None:
        n = self._a_frame
        while len(self._a_buf) >= n or (final and len(self._a_buf)):
            chunk, self._a_buf = self._a_buf[:n], self._a_buf[n:]
            af = av.AudioFrame.from_ndarray(np.ascontiguousarray(chunk.T), format="fltp",
                                            layout="mono" if self._a_channels == 1 else "stereo")
            af.sample_rate = self._a.rate
            af.pts = self._a_pts
            af.time_base = Fraction(1, self._a.rate)
            self._a_pts += len(chunk)
            for packet in self._a.encode(af):
                self._c.mux(packet)

    def close(self) -> None:
        if self._c is None:
            return
        try:
            for packet in self._v.encode(None):
                self._c.mux(packet)
            if self._a is not None:
                self._encode_audio(final=True)
                for packet in self._a.encode(None):
                    self._c.mux(packet)
        finally:
            self._c.close()
            self._c = None
