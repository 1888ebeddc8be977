"""The footage benchmark's song: beats where promised, kicks where placed and heard as the low end's peaks."""
import numpy as np
import pytest

from latentvj.training.bench.beat_song import KICK_PATTERNS, SECTION_BARS, Song, beat_song

SR = 44100


@pytest.fixture(scope="module", params=[(20.0, 120.0, 0), (18.0, 128.0, 3)], ids=["120bpm", "128bpm"])
def song(request) -> Song:
    seconds, tempo, seed = request.param
    return beat_song(seconds, tempo, seed)


def _low_band_envelope(y: np.ndarray, hop: int, cutoff: float = 200.0) -> np.ndarray:
    """(n // hop,) mean amplitude per hop of y below `cutoff` Hz (FFT brick wall, analytic signal)."""
    spec = np.fft.rfft(y.astype(np.float64))  # (n // 2 + 1,)
    spec[np.fft.rfftfreq(len(y), 1 / SR) > cutoff] = 0
    spec[1:] *= 2  # one-sided spectrum -> analytic signal, whose magnitude is the envelope
    env = np.abs(np.fft.ifft(np.concatenate([spec, np.zeros(len(y) - len(spec))])))  # (n,)
    return env[: len(y) // hop * hop].reshape(-1, hop).mean(axis=1)


def test_beats_are_the_exact_grid_over_the_whole_song(song):
    seconds = len(song.audio) / song.sample_rate
    beat = 60.0 / song.tempo
    assert song.audio.dtype == np.float32 and song.audio.ndim == 1 and song.sample_rate == SR
    assert 0.5 < np.abs(song.audio).max() <= 1.0
    np.testing.assert_array_equal(song.beats, np.arange(len(song.beats)) * beat)
    assert song.beats[-1] < seconds <= song.beats[-1] + beat


def test_kicks_follow_each_bars_pattern(song):
    beat = 60.0 / song.tempo
    assert np.all(np.diff(song.kicks) > 0)
    assert song.bar_patterns[0] == "four" and "drop" not in song.bar_patterns[: SECTION_BARS - 1]
    for bar, pattern in enumerate(song.bar_patterns):
        in_bar = song.kicks[(song.kicks >= bar * 4 * beat - 1e-9) & (song.kicks < (bar + 1) * 4 * beat - 1e-9)]
        expected = [] if pattern == "drop" else [bar * 4 * beat + p * beat for p in KICK_PATTERNS[pattern]]
        expected = [t for t in expected if t * SR < len(song.audio)]
        np.testing.assert_allclose(in_bar, expected, atol=1e-9)
    drops = [b for b, p in enumerate(song.bar_patterns) if p == "drop"]
    assert all(b % SECTION_BARS == SECTION_BARS - 1 for b in drops)


def test_every_kick_is_a_low_end_peak_and_nothing_else_on_the_grid_is(song):
    """On the 16th-note grid the low end rises more at every kick than anywhere a hat, snare or
    bass note starts alone; and right after each kick it is far louder than just before."""
    hop = 256  # 5.8 ms
    env = _low_band_envelope(song.audio, hop)  # (m,)
    at = lambda t: int(round(t * SR / hop))  # noqa: E731

    def rise(t: float) -> float:  # (12..29 ms after) - (6..17 ms before)
        i = at(t)
        return env[i + 2 : i + 5].mean() - (env[i - 3 : i - 1].mean() if i >= 3 else 0.0)

    grid = np.arange(0, len(env) * hop / SR - 0.05, 15.0 / song.tempo)  # (g,) 16th notes
    kicked = np.isin(np.round(grid, 6), np.round(song.kicks, 6))
    assert kicked.sum() == np.sum(song.kicks < grid[-1] + 1e-9)  # every kick sits on the grid
    kick_rise = [rise(t) for t in grid[kicked]]
    other_rise = [rise(t) for t in grid[~kicked]]
    assert min(kick_rise) > 1.5 * max(other_rise), (min(kick_rise), max(other_rise))
    for k in song.kicks[song.kicks > 0.05]:
        i = at(k)
        assert env[i + 2 : i + 5].mean() > 3 * env[i - 3 : i - 1].mean(), f"kick at {k:.3f} s"


def test_the_seed_picks_the_song():
    a, b, c = beat_song(8.0, 120.0, 0), beat_song(8.0, 120.0, 0), beat_song(8.0, 120.0, 1)
    np.testing.assert_array_equal(a.audio, b.audio)
    assert not np.array_equal(a.audio, c.audio)
    assert len(a.audio) == 8 * SR
