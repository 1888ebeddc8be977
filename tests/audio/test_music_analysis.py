"""The music stream: kick, snare and hat onsets on a drum pattern, the beat, and a finite row."""
import numpy as np
import pytest

from latentvj.daemon.audio.music_analysis import EVENTS, STREAM_NAMES, MusicAnalysis
from latentvj.training.synth.synthetic import drum_pattern

SR = 44100


def analyse(audio):
    a = MusicAnalysis(SR)
    rows, events = [], {e: [] for e in EVENTS}
    for k in range(len(audio) // a.hop):
        rows.append(a.encode_hop(audio[k * a.hop : (k + 1) * a.hop]).copy())
        for bit, e in enumerate(EVENTS):
            if a.events & (1 << bit):
                events[e].append(k * a.hop / SR)  # the start of the hop it fired in
    return np.array(rows), {e: np.array(v) for e, v in events.items()}


@pytest.mark.parametrize("bpm, seed", [(128, 0), (174, 1)])
def test_kicks_snares_and_hats_each_fire_their_own_event(bpm, seed):
    audio, hits = drum_pattern(SR, 12.0, bpm, seed)
    rows, events = analyse(audio)
    for drum in ("kick", "snare", "hat"):
        truth, got = hits[drum], events[drum]
        found = np.mean([np.any(np.abs(got - t) < 0.012) for t in truth])  # in the hop it lands in or the next
        false = np.sum([not np.any(np.abs(truth - g) < 0.012) for g in got])
        assert found >= 0.95 and false <= max(1, 0.05 * len(truth)), (drum, found, false)
    assert rows[-1, STREAM_NAMES.index("tempo")] == pytest.approx(bpm, rel=0.01)
    beats = events["beat"][events["beat"] > 6.0]
    assert np.allclose(np.diff(beats), 60 / bpm, atol=0.012)


def test_the_row_is_finite_and_laid_out_as_named(track_mono):
    rows, _ = analyse(np.concatenate([track_mono[: 2 * SR], np.full(SR // 2, np.nan, np.float32)]))
    assert rows.shape[1] == len(STREAM_NAMES) and np.all(np.isfinite(rows))
    phase = rows[:, STREAM_NAMES.index("beat_phase")]
    assert np.all((phase >= 0) & (phase < 1))
