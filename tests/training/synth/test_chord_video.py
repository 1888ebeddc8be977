"""The chord video: harmony is in the chroma and the colour, and nowhere else (not in loudness)."""
import av
import numpy as np
import pytest

from latentvj.daemon.audio.music_features import (
    MUSIC_FEATURE_NAMES,
    fine_hop,
    music_features_of_signal,
)
from latentvj.training.eval.colour_check import chord_colour_accuracy, dominant_chord
from latentvj.training.synth.synthetic import (
    BAR,
    CHORD_COLOURS,
    CHORD_NAMES,
    CHORD_PITCHES,
    chord_track,
    render_chord_frame,
    write_music_video,
)

SECONDS = 30.0


@pytest.fixture(scope="module")
def track():
    tr = chord_track(44100, SECONDS, seed=0)
    assert {s.chord for s in tr.chords} == set(range(len(CHORD_NAMES)))  # every chord to compare
    return tr


def _labels(tr, times: np.ndarray) -> np.ndarray:
    return np.array([tr.chord_at(t) for t in times])  # (N,)


def test_loudness_carries_no_chord(track):
    sr, block = track.sample_rate, 512
    audio = track.audio[: len(track.audio) // block * block].astype(np.float64)
    rms = np.sqrt(np.mean(audio.reshape(-1, block) ** 2, axis=1))  # (blocks,)
    chords = _labels(track, (np.arange(len(rms)) + 0.5) * block / sr)
    means = np.array([rms[chords == c].mean() for c in range(len(CHORD_NAMES))])  # (4,)
    assert means.max() / means.min() - 1 < 0.03, means


def test_chords_change_on_bar_lines_and_never_repeat(track):
    for tr in (track, *(chord_track(8000, 40.0, seed=s) for s in (1, 2))):
        segs = tr.chords
        assert segs[0].start == 0.0 and segs[-1].end == pytest.approx(tr.audio.size / tr.sample_rate)
        for a, b in zip(segs, segs[1:]):
            assert a.end == b.start and a.chord != b.chord
            assert b.start / BAR == pytest.approx(round(b.start / BAR)) and 1 <= round((a.end - a.start) / BAR) <= 4
            assert tr.chord_at(b.start - 0.01) == a.chord and tr.chord_at(b.start + 0.01) == b.chord
            assert tr.seconds_to_change(b.start + 0.3) == pytest.approx(0.3)
    firsts = {chord_track(8000, 2.0, seed=s).chords[0].chord for s in range(8)}
    assert len(firsts) > 1  # the seed, not the position, picks the chord


def test_chroma_names_the_chord(track):
    """Averaged over a segment, the strongest pitch class is a chord tone; the top three are the chord."""
    feats = music_features_of_signal(track.audio, track.sample_rate)  # (hops, dim)
    chroma = feats[:, [MUSIC_FEATURE_NAMES.index(n) for n in MUSIC_FEATURE_NAMES if n.startswith("chroma_")]]
    times = (np.arange(len(feats)) + 1) * fine_hop(track.sample_rate) / track.sample_rate  # (hops,)
    for seg in track.chords:
        mean = chroma[(times >= seg.start + 0.1) & (times < seg.end - 0.1)].mean(axis=0)  # (12,)
        assert int(mean.argmax()) in CHORD_PITCHES[seg.chord], (seg, mean.round(2))
        assert set(np.argsort(mean)[-3:].tolist()) == set(CHORD_PITCHES[seg.chord]), (seg, mean.round(2))


def test_every_frame_shows_its_chord_flashes_included(track):
    kicks = track.kicks[track.kicks < SECONDS - 1]
    times = np.concatenate([np.arange(0, SECONDS, 0.1), kicks, kicks + 0.02, kicks + 0.06])  # (N,)
    for t in times:
        frame = render_chord_frame(track, float(t), 64, 48)
        assert frame.shape == (48, 64, 3) and frame.dtype == np.uint8
        assert dominant_chord(frame) == track.chord_at(t), t
    flash = render_chord_frame(track, float(kicks[3]), 64, 48)
    after = render_chord_frame(track, float(kicks[3]) + 0.2, 64, 48)
    assert flash.mean() > 1.5 * after.mean()  # the kick is visible, and gone within 200 ms


def test_accuracy_true_shuffled_and_masked(track):
    times = np.arange(0, SECONDS, 1 / 10)  # (N,)
    frames = np.stack([render_chord_frame(track, t, 32, 24) for t in times])  # (N, 24, 32, 3)
    chords = _labels(track, times)
    true = chord_colour_accuracy(frames, chords)
    assert true["accuracy"] == 1.0 and true["frames"] == len(times)
    assert np.trace(np.array(true["confusion"])) == len(times)
    shuffled = chord_colour_accuracy(frames, np.random.default_rng(0).permutation(chords))
    assert shuffled["accuracy"] < 0.5
    away = np.array([track.seconds_to_change(t) > 0.5 for t in times])
    assert chord_colour_accuracy(frames, chords, away)["frames"] == away.sum() < len(times)


def test_grey_frames_count_as_wrong():
    grey = np.full((2, 8, 8, 3), 90, np.uint8)
    assert dominant_chord(grey[0]) == -1
    out = chord_colour_accuracy(grey, np.array([0, 1]))
    assert out["accuracy"] == 0.0 and out["grey"] == 2 and np.sum(out["confusion"]) == 0
    for c, rgb in enumerate(CHORD_COLOURS):  # a flat field of a chord's colour, however dim
        assert dominant_chord(np.full((4, 4, 3), rgb, np.uint8) // 3) == c


def test_writes_a_chord_video(tmp_path):
    tr = chord_track(44100, 3.0, seed=3)
    assert len(tr.chords) == 2  # a change at 2 s: the decoded colour follows it
    path = write_music_video(tmp_path / "chords.mp4", tr, 96, 64, render=render_chord_frame)
    with av.open(str(path)) as c:
        assert len(c.streams.audio) == 1
        frames = np.stack([f.to_ndarray(format="rgb24") for f in c.decode(video=0)])  # (N, 64, 96, 3)
    assert frames.shape == (90, 64, 96, 3)
    times = np.arange(len(frames)) / 30
    away = np.array([tr.seconds_to_change(t) > 0.1 for t in times])
    assert chord_colour_accuracy(frames, _labels(tr, times), away)["accuracy"] == 1.0  # through H.264 4:2:0
