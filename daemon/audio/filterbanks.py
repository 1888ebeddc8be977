"""Mel and chroma filterbanks, built once per (sample rate, FFT size), as librosa defines them.

These are numpy ports of `librosa.filters.mel` (Slaney scale and area normalisation, librosa's
defaults) and `librosa.filters.chroma` (Ellis's Gaussian pitch-class bumps), so that features
computed live mean what the same words mean in librosa's offline analysis; tests compare them with
librosa to 1e-6. The daemon does not import librosa itself: its chroma filter is compiled by
numba on first use (about 10 s on a fresh install here), which would land on the start-up path.
"""
from __future__ import annotations

import numpy as np

_F_SP = 200.0 / 3  # Slaney mel scale: linear below 1 kHz (15 mels per 1000/15 Hz)...
_MIN_LOG_HZ = 1000.0
_MIN_LOG_MEL = _MIN_LOG_HZ / _F_SP
_LOGSTEP = np.log(6.4) / 27.0  # ...logarithmic above


def hz_to_mel(hz: np.ndarray) -> np.ndarray:
    hz = np.asarray(hz, dtype=np.float64)
    mel = hz / _F_SP
    log = hz >= _MIN_LOG_HZ
    return np.where(log, _MIN_LOG_MEL + np.log(np.maximum(hz, 1e-12) / _MIN_LOG_HZ) / _LOGSTEP, mel)


def mel_to_hz(mel: np.ndarray) -> np.ndarray:
    mel = np.asarray(mel, dtype=np.float64)
    return np.where(mel >= _MIN_LOG_MEL, _MIN_LOG_HZ * np.exp(_LOGSTEP * (mel - _MIN_LOG_MEL)), _F_SP * mel)


def _mel_edges(sample_rate: int, n_mels: int, fmin: float, fmax: float | None) -> np.ndarray:
    """(n_mels + 2,) Hz: each filter's left edge, centre and right edge are three in a row."""
    fmax = sample_rate / 2 if fmax is None else fmax
    return mel_to_hz(np.linspace(hz_to_mel(fmin), hz_to_mel(fmax), n_mels + 2))


def mel_filterbank(sample_rate: int, n_fft: int, n_mels: int, fmin: float = 0.0,
                   fmax: float | None = None) -> np.ndarray:
    """(n_mels, n_fft // 2 + 1) triangular filters, area-normalised (librosa's `norm='slaney'`)."""
    fft_hz = np.fft.rfftfreq(n_fft, 1.0 / sample_rate)  # (bins,)
    edges = _mel_edges(sample_rate, n_mels, fmin, fmax)
    width = np.diff(edges)
    ramps = np.subtract.outer(edges, fft_hz)  # (n_mels + 2, bins)
    lower = -ramps[:-2] / width[:-1, None]
    upper = ramps[2:] / width[1:, None]
    weights = np.maximum(0.0, np.minimum(lower, upper))
    weights *= (2.0 / (edges[2:] - edges[:-2]))[:, None]
    return weights.astype(np.float32)


def chroma_filterbank(sample_rate: int, n_fft: int, n_chroma: int = 12, ctroct: float = 5.0,
                      octwidth: float = 2.0) -> np.ndarray:
    """(n_chroma, n_fft // 2 + 1): FFT bins -> pitch classes, C first (librosa's defaults)."""
    freqs = np.linspace(0, sample_rate, n_fft, endpoint=False)[1:]  # every bin but DC
    bins = n_chroma * np.log2(freqs / (440.0 / 16))  # in pitch classes above A0 / 16
    bins = np.concatenate(([bins[0] - 1.5 * n_chroma], bins))  # DC: 1.5 octaves below bin 1
    widths = np.concatenate((np.maximum(bins[1:] - bins[:-1], 1.0), [1.0]))
    half = np.round(n_chroma / 2)
    d = np.subtract.outer(bins, np.arange(n_chroma, dtype=np.float64)).T  # (n_chroma, n_fft)
    d = np.remainder(d + half + 10 * n_chroma, n_chroma) - half
    weights = np.exp(-0.5 * (2 * d / widths[None, :]) ** 2)
    norm = np.sqrt(np.sum(weights ** 2, axis=0, keepdims=True))
    weights /= np.where(norm < np.finfo(np.float64).tiny, 1.0, norm)
    weights *= np.exp(-0.5 * ((bins / n_chroma - ctroct) / octwidth) ** 2)[None, :]
    weights = np.roll(weights, -3 * (n_chroma // 12), axis=0)  # start at C, not A
    return np.ascontiguousarray(weights[:, : n_fft // 2 + 1], dtype=np.float32)


def band_rows(filters_hz: np.ndarray, lo: float, hi: float) -> np.ndarray:
    """Indices of the mel filters whose centres lie in [lo, hi) Hz (a drum band's filters)."""
    return np.flatnonzero((filters_hz >= lo) & (filters_hz < hi))


def mel_centres(sample_rate: int, n_mels: int, fmin: float = 0.0, fmax: float | None = None) -> np.ndarray:
    """(n_mels,) centre frequency in Hz of each filter of `mel_filterbank`."""
    return _mel_edges(sample_rate, n_mels, fmin, fmax)[1:-1]
