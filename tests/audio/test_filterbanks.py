"""The daemon's numpy filterbanks are librosa's, to float rounding, at the rates shows use."""
import librosa
import numpy as np
import pytest

from latentvj.daemon.audio.filterbanks import (
    chroma_filterbank,
    hz_to_mel,
    mel_centres,
    mel_filterbank,
    mel_to_hz,
)


@pytest.mark.parametrize("sr, n_fft", [(44100, 1024), (48000, 1024), (22050, 512), (96000, 8192)])
def test_mel_and_chroma_match_librosa(sr, n_fft):
    fmax = min(16000.0, sr / 2)
    np.testing.assert_allclose(mel_filterbank(sr, n_fft, 40, 20.0, fmax),
                               librosa.filters.mel(sr=sr, n_fft=n_fft, n_mels=40, fmin=20.0, fmax=fmax), atol=1e-6)
    np.testing.assert_allclose(chroma_filterbank(sr, 4 * n_fft), librosa.filters.chroma(sr=sr, n_fft=4 * n_fft),
                               atol=1e-6)


def test_the_mel_scale_and_centres():
    hz = np.array([0.0, 200.0, 999.0, 1000.0, 4000.0, 16000.0])
    np.testing.assert_allclose(hz_to_mel(hz), librosa.hz_to_mel(hz), atol=1e-9)
    np.testing.assert_allclose(mel_to_hz(hz_to_mel(hz)), hz, atol=1e-6)
    centres = mel_centres(44100, 40, 20.0, 16000.0)
    np.testing.assert_allclose(centres, librosa.mel_frequencies(42, fmin=20.0, fmax=16000.0)[1:-1], atol=1e-6)
