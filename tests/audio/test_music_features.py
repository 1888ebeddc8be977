"""Music features: live equals offline, chords read as their pitch classes, a click moves the onsets
in its own hop and in the right band, and bad audio never gives NaN."""
import numpy as np
import pytest

from latentvj.daemon.audio.music_features import (
    CHROMA,
    MUSIC_FEATURE_NAMES,
    PITCH_CLASSES,
    MusicFeatures,
    fine_hop,
    music_features_of_signal,
)

SR = 44100
NAME = {n: i for i, n in enumerate(MUSIC_FEATURE_NAMES)}


def tones(freqs, seconds=1.0, sr=SR, amp=0.2):
    t = np.arange(int(seconds * sr)) / sr
    return (amp * sum(np.sin(2 * np.pi * f * t) for f in freqs)).astype(np.float32)


def live(x, sr=SR):
    f = MusicFeatures(sr)
    return np.stack([f.encode_hop(x[i * f.hop : (i + 1) * f.hop]) for i in range(len(x) // f.hop)])


def test_the_fine_hop_is_at_most_6_ms():
    for sr in (22050, 44100, 48000, 96000):
        assert fine_hop(sr) / sr <= 0.006 and fine_hop(sr) * 2 / sr > 0.006


@pytest.mark.parametrize("chunk", [1, 16, 100])
def test_live_equals_offline(track_mono, chunk):
    """Runs of hops (render, datasets) give the live hop-by-hop rows bit for bit: the float64
    transforms round alike to float32."""
    x = track_mono[: 3 * SR]
    np.testing.assert_array_equal(music_features_of_signal(x, SR, chunk=chunk), live(x))


def test_runs_of_hops_carry_on_where_single_hops_left_off(track_mono):
    """encode_hop and encode_hops share the history: render may mix them."""
    x, hop = track_mono[: 2 * SR], fine_hop(SR)
    f = MusicFeatures(SR)
    mixed = [f.encode_hop(x[:hop]).copy(), f.encode_hops(x[hop : 41 * hop]), f.encode_hop(x[41 * hop : 42 * hop]),
             f.encode_hops(x[42 * hop : 100 * hop + 17])]  # a partial hop at the end is left out
    np.testing.assert_array_equal(np.vstack(mixed), live(x[: 100 * hop]))
    assert f.encode_hops(x[: hop - 1]).shape == (0, len(MUSIC_FEATURE_NAMES))  # less than a hop: no row


@pytest.mark.parametrize("sr", [44100, 48000])
@pytest.mark.parametrize("root, chord", [("A", (220.0, 277.18, 329.63)), ("C", (261.63, 329.63, 392.0)),
                                         ("G", (196.0, 246.94, 293.66))])
def test_a_major_chord_reads_as_its_three_pitch_classes(sr, root, chord):
    chroma = live(tones(chord, sr=sr), sr)[-1, CHROMA]
    top = {PITCH_CLASSES[i] for i in np.argsort(chroma)[-3:]}
    third, fifth = (PITCH_CLASSES[(PITCH_CLASSES.index(root) + k) % 12] for k in (4, 7))
    assert top == {root, third, fifth}
    assert chroma.max() == pytest.approx(1.0)


def test_a_click_moves_the_onsets_in_the_hop_it_lands_in():
    x = np.zeros(SR, np.float32)
    hop = fine_hop(SR)
    at = 100 * hop + 37
    x[at] = 0.9  # one sample
    f = live(x)
    k = at // hop  # the hop holding the click
    onset = f[:, NAME["onset"]]
    assert onset[k] > 0.05 and np.all(onset[:k] < 1e-6)


def test_drum_bands_tell_a_kick_from_a_hat():
    hop = fine_hop(SR)
    t = np.arange(int(0.08 * SR)) / SR
    kick = (0.8 * np.sin(2 * np.pi * 60 * t) * np.exp(-t * 30)).astype(np.float32)
    hat = np.random.default_rng(0).standard_normal(int(0.03 * SR)).astype(np.float32)
    hat = np.diff(hat, prepend=0).astype(np.float32) * 0.3  # high-passed noise
    x = np.zeros(2 * SR, np.float32)
    x[200 * hop : 200 * hop + len(kick)] += kick
    x[120 * hop : 120 * hop + len(hat)] += hat
    f = live(x)
    kick_hops, hat_hops = slice(199, 204), slice(119, 124)
    assert f[kick_hops, NAME["onset_kick"]].max() > 3 * f[kick_hops, NAME["onset_hat"]].max()
    assert f[hat_hops, NAME["onset_hat"]].max() > 3 * f[hat_hops, NAME["onset_kick"]].max()


@pytest.mark.parametrize("make", [
    lambda n: np.zeros(n),  # silence
    lambda n: np.full(n, 0.7),  # DC offset
    lambda n: np.clip(np.sin(np.arange(n) / 5.0) * 8, -1, 1),  # clipping
    lambda n: np.where(np.arange(n) == n // 2, 1.0, 0.0),  # one-sample click
    lambda n: np.where(np.arange(n) % 1000 < 10, np.nan, 0.1 * np.sin(np.arange(n) / 9.0)),  # NaN in samples
    lambda n: np.where(np.arange(n) == 500, np.inf, 0.0),  # infinity
], ids=["silence", "dc", "clipping", "one-sample", "nan", "inf"])
def test_bad_audio_never_gives_nan(make):
    x = make(SR).astype(np.float32)
    for f in (live(x), music_features_of_signal(x, SR)):
        assert np.all(np.isfinite(f))


def test_silence_reads_as_silence_and_a_nan_burst_does_not_stick():
    f = live(np.zeros(SR // 2, np.float32))
    assert np.all(f[:, NAME["loudness"]] == pytest.approx(-100.0)) and np.all(f[:, CHROMA] == 0.0)
    x = tones((440.0,), 1.0)
    damaged = x.copy()
    damaged[1000:1100] = np.nan
    a, b = live(x), live(damaged)
    np.testing.assert_allclose(a[-10:], b[-10:], atol=1e-4)  # once the window has passed, as if clean


def test_a_sample_rate_outside_the_filterbanks_range_is_named():
    with pytest.raises(ValueError, match="sample rate 8000 Hz is outside 16000..192000"):
        MusicFeatures(8000)
