"""Hand-made audio features, one vector per hop: loudness, band energies, onset strength.

The VAE film project drove its decoder with loudness; this is that idea done properly. The same
definitions serve live (`FeaturesEncoder.encode_hop`, incremental) and offline
(`features_of_signal`, whole arrays for training): both call `_features_of_frames`.

Vector layout (FEATURE_NAMES): loudness in dB RMS over the analysis window, the log energy of
each band in dB, and onset strength (mean positive change of the log magnitude spectrum).
"""
from __future__ import annotations

import numpy as np

DEFAULT_BANDS_HZ = ((20.0, 150.0), (150.0, 600.0), (600.0, 2500.0), (2500.0, 12000.0))
_EPS = 1e-10


def feature_names(bands_hz=DEFAULT_BANDS_HZ) -> list[str]:
    return ["loudness"] + [f"band_{int(lo)}_{int(hi)}" for lo, hi in bands_hz] + ["onset"]


FEATURE_NAMES = feature_names()


class _Analysis:
    """Precomputed window and band masks for one (sample_rate, hop)."""

    def __init__(self, sample_rate: int, hop: int, bands_hz=DEFAULT_BANDS_HZ) -> None:
        self.n_fft = 2 * hop
        self.window = np.hanning(self.n_fft).astype(np.float64)
        freqs = np.fft.rfftfreq(self.n_fft, 1.0 / sample_rate)
        self.bands = np.stack([(freqs >= lo) & (freqs < hi) for lo, hi in bands_hz]).astype(np.float64)
        self.dim = 2 + len(bands_hz)


def _features_of_frames(a: _Analysis, frames: np.ndarray, prev_logmag: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """frames: (T, n_fft) float -> ((T, dim) float32, last log magnitude (n_bins,))."""
    loud = 10.0 * np.log10(np.mean(frames * frames, axis=1) + _EPS)  # (T,)
    mag = np.abs(np.fft.rfft(frames * a.window, axis=1))  # (T, n_bins)
    power = mag * mag
    bands = 10.0 * np.log10(power @ a.bands.T + _EPS)  # (T, n_bands)
    logmag = np.log1p(mag)
    prev = np.vstack([prev_logmag[None], logmag[:-1]])  # (T, n_bins)
    onset = np.mean(np.maximum(logmag - prev, 0.0), axis=1)  # (T,)
    out = np.column_stack([loud, bands, onset]).astype(np.float32)
    return out, logmag[-1]


class FeaturesEncoder:
    """Incremental features: `encode_hop` is called once per hop with the newest samples."""

    kind = "features"

    def __init__(self, sample_rate: int, hop: int, bands_hz=DEFAULT_BANDS_HZ) -> None:
        self.sample_rate = sample_rate
        self.hop = hop
        self.deterministic = True
        self._a = _Analysis(sample_rate, hop, bands_hz)
        self.latent_dim = self._a.dim
        self._frame = np.zeros((1, self._a.n_fft), dtype=np.float64)  # last n_fft samples
        self._prev = np.zeros(self._a.n_fft // 2 + 1)

    def encode_hop(self, mono: np.ndarray) -> np.ndarray:
        """mono: (hop,) float32 -> (dim,) float32."""
        f = self._frame[0]
        f[: -self.hop] = f[self.hop :]
        f[-self.hop :] = mono
        out, self._prev = _features_of_frames(self._a, self._frame, self._prev)
        return out[0]

    def reset(self) -> None:
        self._frame[:] = 0.0
        self._prev = np.zeros(self._a.n_fft // 2 + 1)

    def warmup(self, calls: int = 2) -> None:
        self.reset()


def features_of_signal(
    mono: np.ndarray, sample_rate: int, hop: int, bands_hz=DEFAULT_BANDS_HZ, chunk: int = 256
) -> np.ndarray:
    """Whole-signal features, equal to feeding `FeaturesEncoder` hop by hop from silence.

    mono: (n,) -> (n // hop, dim) float32; feature k covers samples up to (k + 1) * hop.
    """
    a = _Analysis(sample_rate, hop, bands_hz)
    n_hops = len(mono) // hop
    padded = np.concatenate([np.zeros(a.n_fft - hop), np.asarray(mono[: n_hops * hop], dtype=np.float64)])
    out = np.empty((n_hops, a.dim), dtype=np.float32)
    prev = np.zeros(a.n_fft // 2 + 1)
    offsets = np.arange(a.n_fft)[None, :]
    for start in range(0, n_hops, chunk):  # chunks keep memory flat for long songs
        stop = min(start + chunk, n_hops)
        idx = np.arange(start, stop)[:, None] * hop + offsets  # (chunk, n_fft)
        out[start:stop], prev = _features_of_frames(a, padded[idx], prev)
    return out
