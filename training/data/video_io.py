"""Frames and audio from one video file with PyAV, streamed so memory stays flat.

Times are on the audio's clock: t = 0 is the audio stream's first sample, and the frame shown
at time t is the last decoded frame whose presentation time is <= t, which handles variable
frame rates and start offsets the way a player would.
"""
from __future__ import annotations

import logging
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import av
import cv2
import numpy as np
import soxr

log = logging.getLogger("latentvj.dataset")


class VideoError(Exception):
    """A video we cannot use; the message names the file and the problem."""


@dataclass
class VideoInfo:
    path: Path
    width: int
    height: int
    seconds: float  # the shorter of the audio and video streams, from the container's header
    fps: float  # average frame rate the file declares
    audio_rate: int
    audio_channels: int
    audio_start: float  # seconds; video frame times are taken relative to this


def _open(path: Path) -> av.container.InputContainer:
    if not path.is_file():
        raise VideoError(f"{path}: no such file")
    try:
        return av.open(str(path))
    except (av.error.FFmpegError, UnicodeDecodeError) as exc:
        raise VideoError(f"{path}: not a readable video ({exc})") from exc


def probe(path: Path) -> VideoInfo:
    with _open(path) as c:
        if not c.streams.video:
            raise VideoError(f"{path}: has no video stream; give a video file")
        if c.format.name.endswith("_pipe") or c.format.name == "image2":
            raise VideoError(f"{path}: is a still image ({c.format.name}), not a video; give video files with "
                             "their soundtrack (a slideshow of stills can be made into one with any video editor)")
        if not c.streams.audio:
            raise VideoError(f"{path}: has no audio track; a show learns from pictures paired with their sound: "
                             "give the video with its soundtrack")
        v, a = c.streams.video[0], c.streams.audio[0]

        def seconds(s) -> float | None:
            return float(s.duration * s.time_base) if s.duration and s.time_base else None

        known = [x for x in (seconds(v), seconds(a)) if x]
        total = min(known) if known else (c.duration / av.time_base if c.duration else 0.0)
        rate = a.codec_context.sample_rate or a.rate
        if not rate or not v.codec_context.width:
            raise VideoError(f"{path}: stream headers are incomplete (audio rate {rate}, width {v.codec_context.width})")
        return VideoInfo(path, v.codec_context.width, v.codec_context.height, total,
                         float(v.average_rate or 0.0), int(rate), a.codec_context.channels or 1,
                         float(a.start_time * a.time_base) if a.start_time is not None else 0.0)


def iter_audio(path: Path, sample_rate: int, block: int = 8192) -> Iterator[np.ndarray]:
    """Mono float32 blocks at `sample_rate`, mixed down as the daemon mixes; soxr resamples.

    A decoding error after some audio ends the stream with a warning (a truncated file keeps
    what decoded); one before any audio raises VideoError.
    """
    with _open(path) as c:
        stream = c.streams.audio[0]
        rate = stream.codec_context.sample_rate or stream.rate
        # As the daemon reads files (load_audio) and mixes inputs: FFmpeg folds >2 channels to
        # stereo, then the channels are averaged. (FFmpeg's own mono downmix adds +3 dB.)
        channels = min(stream.codec_context.channels or 1, 2)
        mixer = av.AudioResampler(format="flt", layout="mono" if channels == 1 else "stereo", rate=rate, frame_size=block)
        resampler = soxr.ResampleStream(rate, sample_rate, 1, dtype="float32") if rate != sample_rate else None
        got = 0
        try:
            for packet in c.demux(stream):
                for frame in packet.decode():
                    for out in mixer.resample(frame):
                        got += out.samples
                        x = out.to_ndarray().reshape(-1, channels).mean(axis=1)
                        yield resampler.resample_chunk(x) if resampler else x
        except av.error.FFmpegError as exc:
            if got == 0:
                raise VideoError(f"{path}: cannot decode its audio ({exc})") from exc
            log.warning("%s: audio damaged after %.1f s (%s); using what decoded", path, got / rate, exc)
        for out in mixer.resample(None):
            x = out.to_ndarray().reshape(-1, channels).mean(axis=1)
            yield resampler.resample_chunk(x) if resampler else x
        if resampler:
            yield resampler.resample_chunk(np.zeros(0, np.float32), last=True)
        if got == 0:
            raise VideoError(f"{path}: the audio track is empty")


def crop_resize(rgb: np.ndarray, size: int) -> np.ndarray:
    """Centre square crop, then area-resize: (H, W, 3) uint8 -> (size, size, 3) uint8."""
    h, w = rgb.shape[:2]
    s = min(h, w)
    y, x = (h - s) // 2, (w - s) // 2
    sq = rgb[y : y + s, x : x + s]
    interp = cv2.INTER_AREA if s > size else cv2.INTER_CUBIC
    return cv2.resize(sq, (size, size), interpolation=interp)


def iter_frames(path: Path, fps: float, size: int, audio_start: float = 0.0) -> Iterator[np.ndarray]:
    """One (size, size, 3) uint8 RGB frame per output time k / fps, k = 0, 1, ...

    Each output time gets the frame on screen at that time, so a variable-frame-rate source is
    resampled onto a regular grid: frames repeat or are skipped as the source's timing says.
    A decoding error after some frames ends the stream with a warning. Stops when the last
    source frame leaves the screen.
    """
    with _open(path) as c:
        stream = c.streams.video[0]
        stream.thread_type = "AUTO"
        k = 0  # next output frame
        shown: np.ndarray | None = None  # resized frame on screen now
        count = 0
        try:
            for frame in c.decode(stream):
                t = (frame.time if frame.time is not None else count / (float(stream.average_rate or fps))) - audio_start
                count += 1
                while shown is not None and k / fps < t:  # output times before this frame show the previous one
                    yield shown
                    k += 1
                shown = crop_resize(frame.to_ndarray(format="rgb24"), size)
                while t > k / fps:  # a first frame after t = 0: hold it back to the start
                    k += 1
                    yield shown
        except av.error.FFmpegError as exc:
            if shown is None:
                raise VideoError(f"{path}: cannot decode its video ({exc})") from exc
            log.warning("%s: video damaged after frame %d (%s); using what decoded", path, count, exc)
        if shown is None:
            raise VideoError(f"{path}: the video stream has no frames")
        end = t + 1.0 / float(stream.average_rate or fps)  # the last frame stays up for one source frame
        while k / fps < end:
            yield shown
            k += 1
