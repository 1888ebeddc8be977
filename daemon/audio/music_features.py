"""Music features on a fine hop (<= 6 ms): loudness, brightness, onsets overall and per drum band,
and the 12 pitch classes. One vector per hop, computed the same way live (`MusicFeatures.encode_hop`,
one hop at a time) and offline (`encode_hops`, a run of hops per call, for render, and
`music_features_of_signal` over it for datasets): both call `_frame_features`.

Vector layout (MUSIC_FEATURE_NAMES):
- loudness: dB RMS of the short window (about 23 ms), -100 for digital silence;
- centroid: spectral centroid of the short window in kHz (brightness);
- onset, onset_kick, onset_snare, onset_hat: onset strength, the mean rise since the previous
  hop of log(1 + 100 M) over the mel bands (all of them, and each drum band's), M being a band's
  mean magnitude with full scale near 1: faint bands (a hat's splatter into the kick band) stay
  near 0, where a dB scale would call a rise from digital silence a 50 dB onset;
- chroma_C ... chroma_B: energy per pitch class from a long window (about 93 ms, for low notes),
  divided by the largest (librosa's chroma_stft normalisation), all 0 in silence.

The short window serves the transients: a click moves the onset values in the hop it arrives in.
Samples that are NaN or infinite are treated as silence (they never reach a model or OSC).
"""
from __future__ import annotations

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from .filterbanks import band_rows, chroma_filterbank, mel_centres, mel_filterbank

PITCH_CLASSES = ("C", "Db", "D", "Eb", "E", "F", "Gb", "G", "Ab", "A", "Bb", "B")
DRUM_BANDS_HZ = {"kick": (20.0, 150.0), "snare": (150.0, 2500.0), "hat": (5000.0, 16000.0)}
MUSIC_FEATURE_NAMES = ("loudness", "centroid", "onset", *(f"onset_{b}" for b in DRUM_BANDS_HZ),
                       *(f"chroma_{p}" for p in PITCH_CLASSES))
CHROMA = slice(6, 18)  # where the pitch classes are in the vector
MAX_HOP_S = 0.006  # the fine hop: at most 6 ms
N_MELS = 40
MIN_RATE, MAX_RATE = 16000, 192000
_POWER_FLOOR = 1e-10  # -100 dB: keeps logs finite in silence
ONSET_GAIN = 100.0  # log(1 + 100 M): about linear below -40 dB full scale, logarithmic above


def fine_hop(sample_rate: int) -> int:
    """The largest power of two no longer than 6 ms: 256 at 44.1 and 48 kHz, 512 at 96 kHz."""
    return 1 << int(np.floor(np.log2(MAX_HOP_S * sample_rate)))


class _Analysis:
    """Windows and filterbanks for one (sample_rate, hop), built once."""

    def __init__(self, sample_rate: int, hop: int) -> None:
        if not MIN_RATE <= sample_rate <= MAX_RATE:
            raise ValueError(f"music features: sample rate {sample_rate} Hz is outside {MIN_RATE}..{MAX_RATE}")
        self.hop = hop
        self.n_short = 4 * hop  # ~23 ms at 256 / 44.1 kHz
        self.n_long = 16 * hop  # ~93 ms: 10.8 Hz bins, enough for notes from about 100 Hz
        self.short_window = np.hanning(self.n_short)
        self.long_window = np.hanning(self.n_long)
        fmax = min(16000.0, sample_rate / 2)
        mel = mel_filterbank(sample_rate, self.n_short, N_MELS, 20.0, fmax).astype(np.float64)
        self.mel = mel / mel.sum(axis=1, keepdims=True)  # (N_MELS, bins): each band's mean
        self.short_scale = 2.0 / self.short_window.sum()  # a full-scale sine's peak bin -> 1
        centres = mel_centres(sample_rate, N_MELS, 20.0, fmax)
        self.bands = [band_rows(centres, lo, min(hi, fmax)) for lo, hi in DRUM_BANDS_HZ.values()]
        self.chroma = chroma_filterbank(sample_rate, self.n_long).astype(np.float64)
        self.khz = np.fft.rfftfreq(self.n_short, 1.0 / sample_rate) / 1000.0
        self.dim = len(MUSIC_FEATURE_NAMES)


def _frame_features(a: _Analysis, short: np.ndarray, long: np.ndarray,
                    prev_logmel: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """short: (T, n_short), long: (T, n_long) float64, newest samples last in each row;
    prev_logmel: (N_MELS,) the hop before the first row -> ((T, dim) float32, last logmel)."""
    out = np.empty((len(short), a.dim), dtype=np.float64)
    out[:, 0] = 10.0 * np.log10(np.mean(short * short, axis=1) + _POWER_FLOOR)  # loudness dB
    mag = np.abs(np.fft.rfft(short * a.short_window, axis=1)) * a.short_scale  # (T, bins)
    out[:, 1] = (mag @ a.khz) / (mag.sum(axis=1) + 1e-12)  # centroid kHz
    logmel = np.log1p(ONSET_GAIN * (mag @ a.mel.T))  # (T, N_MELS)
    flux = np.maximum(np.diff(logmel, axis=0, prepend=prev_logmel[None]), 0.0)  # (T, N_MELS)
    out[:, 2] = flux.mean(axis=1)
    for k, rows in enumerate(a.bands):
        out[:, 3 + k] = flux[:, rows].mean(axis=1) if len(rows) else 0.0
    power = np.abs(np.fft.rfft(long * a.long_window, axis=1)) ** 2  # (T, long bins)
    chroma = power @ a.chroma.T  # (T, 12)
    peak = chroma.max(axis=1, keepdims=True)
    out[:, CHROMA] = np.where(peak > _POWER_FLOOR, chroma / np.maximum(peak, _POWER_FLOOR), 0.0)
    return out.astype(np.float32), logmel[-1]


def _finite(samples: np.ndarray) -> np.ndarray:
    """NaN and infinities as silence (a damaged file must not poison the analysis state)."""
    return samples if np.isfinite(samples).all() else np.nan_to_num(samples, nan=0.0, posinf=0.0, neginf=0.0)


class MusicFeatures:
    """Incremental: `encode_hop` takes the newest `hop` samples and returns the hop's vector."""

    kind = "music"

    def __init__(self, sample_rate: int, hop: int | None = None) -> None:
        self.sample_rate = sample_rate
        self.hop = hop or fine_hop(sample_rate)
        self._a = _Analysis(sample_rate, self.hop)
        self.latent_dim = self._a.dim
        self._history = np.zeros(self._a.n_long, dtype=np.float64)  # the newest n_long samples
        self._prev = np.zeros(N_MELS)  # log1p(0): silence
        self.deterministic = True

    def encode_hop(self, mono: np.ndarray) -> np.ndarray:
        """mono: (hop,) float32 -> (dim,) float32."""
        h, hop = self._history, self.hop
        h[:-hop] = h[hop:]
        h[-hop:] = _finite(mono)
        out, self._prev = _frame_features(self._a, h[None, -self._a.n_short :], h[None], self._prev)
        return out[0]

    def encode_hops(self, mono: np.ndarray) -> np.ndarray:
        """mono: (k * hop,) float32 -> (k, dim) float32, what k calls of encode_hop return: one
        transform call for the k hops (render and datasets; a third of the CPU at k = 16)."""
        a, hop = self._a, self.hop
        k = len(mono) // hop
        if k == 0:
            return np.zeros((0, a.dim), dtype=np.float32)
        signal = np.concatenate([self._history, _finite(mono[: k * hop])])  # float64, the history first
        long = sliding_window_view(signal, a.n_long)[hop::hop]  # (k, n_long): the window ending at each hop
        out, self._prev = _frame_features(a, long[:, -a.n_short :], long, self._prev)
        self._history[:] = signal[len(signal) - a.n_long :]
        return out

    def reset(self) -> None:
        self._history[:] = 0.0
        self._prev[:] = 0.0

    def warmup(self, calls: int = 2) -> None:
        self.reset()


def music_features_of_signal(mono: np.ndarray, sample_rate: int, hop: int | None = None,
                             chunk: int = 16) -> np.ndarray:
    """Whole-signal features, what feeding `MusicFeatures` hop by hop from silence gives.
    mono: (n,) -> (n // hop, dim) float32; row k covers samples up to (k + 1) * hop."""
    features = MusicFeatures(sample_rate, hop)
    hop = features.hop
    n_hops = len(mono) // hop
    out = np.empty((n_hops, features.latent_dim), dtype=np.float32)
    for start in range(0, n_hops, chunk):  # short runs: the windows stay in cache, memory flat
        stop = min(start + chunk, n_hops)
        out[start:stop] = features.encode_hops(mono[start * hop : stop * hop])
    return out
