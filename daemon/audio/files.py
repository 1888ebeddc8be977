"""Audio from files (or the sound of video files), decoded whole with PyAV, resampled with soxr.

`AudioInputError` is every audio input's error (files, sound cards): one line naming the input
and what to do.
"""
from __future__ import annotations

import logging
from pathlib import Path

import av
import numpy as np
import soxr

log = logging.getLogger("latentvj.audio")


class AudioInputError(Exception):
    """An input that cannot be opened or read; the message names it and says what to do."""


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
