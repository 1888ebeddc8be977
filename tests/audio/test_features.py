import numpy as np

from latentvj.daemon.audio.features import (
    FEATURE_NAMES,
    FeaturesEncoder,
    features_of_signal,
)


def _signal(n=44100 * 2):
    rng = np.random.default_rng(0)
    t = np.arange(n) / 44100
    return (0.3 * np.sin(2 * np.pi * 220 * t) + 0.05 * rng.standard_normal(n)).astype(np.float32)


def test_incremental_equals_whole_signal():
    x = _signal()
    enc = FeaturesEncoder(44100, 1024)
    live = np.stack([enc.encode_hop(x[i : i + 1024]) for i in range(0, len(x) - 1023, 1024)])
    offline = features_of_signal(x, 44100, 1024, chunk=7)  # odd chunking must not matter
    assert live.shape == offline.shape == (len(x) // 1024, len(FEATURE_NAMES))
    np.testing.assert_allclose(live, offline, rtol=1e-5, atol=1e-4)


def test_loudness_is_db_rms():
    x = _signal()
    quiet = features_of_signal(x, 44100, 1024)[5:, 0]
    loud = features_of_signal(2 * x, 44100, 1024)[5:, 0]
    np.testing.assert_allclose(loud - quiet, 20 * np.log10(2), atol=1e-3)


def test_bands_follow_frequency_and_onset_follows_attacks():
    t = np.arange(44100) / 44100
    low = features_of_signal(np.sin(2 * np.pi * 80 * t).astype(np.float32), 44100, 1024)
    high = features_of_signal(np.sin(2 * np.pi * 5000 * t).astype(np.float32), 44100, 1024)
    assert np.argmax(low[10, 1:5]) == 0 and np.argmax(high[10, 1:5]) == 3
    x = np.zeros(44100, np.float32)
    x[22050:22050 + 2000] = np.random.default_rng(1).standard_normal(2000)
    onset = features_of_signal(x, 44100, 1024)[:, 5]
    assert abs(int(np.argmax(onset)) - 22050 // 1024) <= 1


def test_reset_forgets():
    x = _signal()
    enc = FeaturesEncoder(44100, 1024)
    first = enc.encode_hop(x[:1024])
    enc.encode_hop(x[1024:2048])
    enc.reset()
    np.testing.assert_array_equal(enc.encode_hop(x[:1024]), first)
