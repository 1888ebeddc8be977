"""What the mp4 sink's audio costs and how close it stays to the source, for FFmpeg's AAC coders:
CPU seconds to encode the song, and the signal-to-noise ratio in each of 23 log-spaced bands of
the decoded audio against the input (higher: less coding noise).

    python -m latentvj.daemon.bench.aac_bench SONG.wav
"""
from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import numpy as np

from ..audio.files import load_audio
from ..sinks.base import StreamInfo
from ..sinks.mp4 import AacSettings, Mp4Sink

FFMPEG_DEFAULT_KBPS = 128  # for the file, whatever its channels
N_FFT = 2048
BAND_EDGES = np.unique(np.geomspace(2, N_FFT // 2, 25).astype(int))  # FFT bins: 43 Hz .. Nyquist at 44.1 kHz


def encode(audio: np.ndarray, rate: int, aac: AacSettings, path: Path) -> float:
    """audio: (n, channels) -> CPU seconds the sink spent writing it (a 2-frame video beside)."""
    sink = Mp4Sink(f"file:{path}", str(path), aac=aac)
    sink.open(StreamInfo(16, 16, 30, audio_rate=rate, audio_channels=audio.shape[1], audio_delay=0.0))
    t = time.process_time()
    for i in range(2):
        sink.write_frame(np.zeros((16, 16, 4), np.uint8), i)
    for start in range(0, len(audio), 4096):
        sink.write_audio(audio[start : start + 4096])
    sink.close()
    return time.process_time() - t


def spectrum(x: np.ndarray) -> np.ndarray:
    """x: (channels, n) -> (channels, frames, bins) complex, Hann windows at half overlap."""
    n = (x.shape[1] - N_FFT) // (N_FFT // 2)
    idx = np.arange(n)[:, None] * (N_FFT // 2) + np.arange(N_FFT)[None]
    return np.fft.rfft(x[:, idx] * np.hanning(N_FFT), axis=-1)


def band_snr(source: np.ndarray, coded: np.ndarray) -> np.ndarray:
    """(channels, n) each, aligned -> (bands,) dB: the source's power over the coding noise's."""
    n = min(source.shape[1], coded.shape[1])
    s, c = spectrum(source[:, :n]), spectrum(coded[:, :n])
    signal, noise = np.abs(s) ** 2, np.abs(s - c) ** 2
    return np.array([10 * np.log10(signal[..., lo:hi].sum() / max(noise[..., lo:hi].sum(), 1e-20))
                     for lo, hi in zip(BAND_EDGES[:-1], BAND_EDGES[1:])])


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("song", type=Path)
    args = ap.parse_args(argv)
    audio, rate = load_audio(args.song, None)
    source = np.ascontiguousarray(audio.T)
    results = {}
    settings = {"twoloop, 128 kb/s (FFmpeg's default)": AacSettings("twoloop", FFMPEG_DEFAULT_KBPS // audio.shape[1]),
                "fast, 128 kb/s a channel (the sink's)": AacSettings()}
    with tempfile.TemporaryDirectory() as tmp:
        for name, aac in settings.items():
            path = Path(tmp) / "a.mp4"
            cpu = encode(audio, rate, aac, path)
            results[name] = band_snr(source, load_audio(path)[0].T)
            snr = results[name]
            print(f"{name}: {cpu:.2f} s CPU for {len(audio) / rate:.0f} s of {audio.shape[1]}-channel audio; "
                  f"band SNR mean {snr.mean():.1f} dB, lowest {snr.min():.1f} dB")
    (a, b) = results.values()
    print(f"bands where the second has the higher SNR: {(b > a).sum()} of {len(a)}")


if __name__ == "__main__":
    main()
