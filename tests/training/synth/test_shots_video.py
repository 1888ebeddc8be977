"""The shots video: colour from the chord, size from the bass, brightness from the kicks, and scene
cuts from nothing in the sound; each tie checked on the source itself, so a model's score against it
means something."""
import av
import numpy as np
import pytest

from latentvj.daemon.audio.music_features import (
    MUSIC_FEATURE_NAMES,
    fine_hop,
    music_features_of_signal,
)
from latentvj.training.eval.colour_check import chord_colour_accuracy, dominant_chord
from latentvj.training.synth.shots_video import (
    N_COMPOSITIONS,
    ShotSegment,
    ShotsTrack,
    kick_brightness_correlation,
    mean_brightness,
    render_shots_frame,
    shots_track,
)
from latentvj.training.synth.synthetic import BAR, BEAT, CHORD_PITCHES, write_music_video

SECONDS = 20.0
FPS = 30
W, H = 48, 40


@pytest.fixture(scope="module")
def track() -> ShotsTrack:
    tr = shots_track(44100, SECONDS, seed=0)
    assert {s.composition for s in tr.shots} == set(range(N_COMPOSITIONS))  # every layout to judge
    return tr


@pytest.fixture(scope="module")
def video(track) -> tuple[np.ndarray, np.ndarray]:
    """Every frame of the source at FPS: (times (N,), frames (N, H, W, 3) uint8)."""
    times = np.arange(int(SECONDS * FPS)) / FPS  # (N,)
    return times, np.stack([render_shots_frame(track, float(t), W, H) for t in times])


def _coverage(frame: np.ndarray) -> float:
    """The fraction of the frame the shapes cover, read from the picture alone: shapes are the
    saturated chord colour, the background a dim one; a flash lifts both but keeps them apart."""
    px = frame.astype(np.float64)
    chroma = px.max(axis=-1) - px.min(axis=-1)  # (H, W)
    lo, hi = chroma.min(), chroma.max()
    return float(np.clip((chroma - lo) / max(hi - lo, 1e-9), 0, 1).mean())


def test_segments_cover_the_track_and_cuts_ignore_the_beat(track):
    cuts = []
    for tr in (track, *(shots_track(8000, 60.0, seed=s) for s in (1, 2, 3))):
        end = tr.audio.size / tr.sample_rate
        for segs in (tr.chords, tr.shots):
            assert segs[0].start == 0.0 and segs[-1].end == pytest.approx(end)
            assert all(a.end == b.start for a, b in zip(segs, segs[1:]))
        for a, b in zip(tr.chords, tr.chords[1:]):  # the chord video's harmony, unchanged
            assert a.chord != b.chord and b.start / BAR == pytest.approx(round(b.start / BAR))
        for a, b in zip(tr.shots, tr.shots[1:]):
            assert isinstance(a, ShotSegment) and a.composition != b.composition
            assert 1.0 <= a.end - a.start <= 4.0
            assert tr.composition_at(b.start - 0.01) == a.composition
            assert tr.composition_at(b.start + 0.01) == b.composition
            cuts.append(b.start)
        assert {s.composition for s in tr.shots} == set(range(N_COMPOSITIONS))
    phase = np.mod(np.asarray(cuts), BEAT)  # (cuts,) seconds after the last beat
    off_grid = np.minimum(phase, BEAT - phase)  # (cuts,)
    assert len(cuts) > 50
    assert np.mean(off_grid < 0.02) < 0.2  # 8 % expected if cuts ignore the beat
    assert np.histogram(phase, bins=4, range=(0, BEAT))[0].min() > len(cuts) / 10  # spread over the beat


def test_same_seed_same_video_other_seed_other(track):
    again = shots_track(44100, SECONDS, seed=0)
    assert np.array_equal(again.audio, track.audio) and np.array_equal(again.kicks, track.kicks)
    assert again.shots == track.shots and again.chords == track.chords
    assert np.array_equal(again.bass, track.bass)
    for t in (0.0, 3.3, 11.7):
        assert np.array_equal(render_shots_frame(again, t, W, H), render_shots_frame(track, t, W, H))
    low = shots_track(8000, SECONDS, seed=0)  # a cheap low-rate copy for tests is the same video
    assert low.shots == track.shots and low.chords == track.chords and np.array_equal(low.kicks, track.kicks)
    other = shots_track(44100, SECONDS, seed=1)
    assert other.shots != track.shots and other.chords != track.chords
    assert not np.array_equal(other.audio, track.audio)
    times = np.arange(0, SECONDS, 0.5)
    assert any(not np.array_equal(render_shots_frame(other, t, W, H), render_shots_frame(track, t, W, H))
               for t in times)


def test_envelopes(track):
    k = track.kicks
    assert track.kick_envelope(k[0] - 0.01) == 0.0 and track.kick_envelope(float(k[3])) == pytest.approx(1.0)
    assert 0.05 < track.kick_envelope(float(k[3]) + 0.2) < 0.1  # gone within a beat
    times = np.arange(0, SECONDS, 0.01)
    kick = np.array([track.kick_envelope(t) for t in times])  # (N,)
    bass = np.array([track.bass_level(t) for t in times])  # (N,)
    assert kick.min() >= 0 and kick.max() <= 1 and bass.min() >= 0 and bass.max() <= 1
    assert np.all(np.isin(np.round(bass[np.abs(np.gradient(bass)) < 1e-4], 2), [0.2, 0.5, 1.0]))
    assert len(set(np.round(bass, 1).tolist()) & {0.2, 0.5, 1.0}) == 3  # every level is heard
    beats = np.arange(int(SECONDS / BEAT)) * BEAT
    dropped = np.setdiff1d(np.round(beats, 6), np.round(k, 6))
    assert len(dropped) == int(SECONDS / BAR) and set(np.round(k / BEAT, 6) % 1) == {0}  # one beat off per bar


def test_bass_band_is_as_loud_as_bass_level(track):
    """What the picture calls the bass level is what the ear gets: the bass notes' band (60-125 Hz,
    above the kick's ~50 Hz tail), measured late in each beat, rises and falls with it."""
    sr, rms, level = track.sample_rate, [], []
    for b in range(int(SECONDS / BEAT)):
        s, e = int((b + 0.3) * BEAT * sr), int((b + 0.9) * BEAT * sr)
        spec = np.abs(np.fft.rfft(track.audio[s:e] * np.hanning(e - s)))  # (bins,)
        f = np.fft.rfftfreq(e - s, 1 / sr)
        rms.append(np.sqrt(np.sum(spec[(f > 60) & (f < 125)] ** 2)))
        level.append(track.bass_level((b + 0.6) * BEAT))
    assert np.corrcoef(rms, level)[0, 1] > 0.9


def test_chroma_names_the_chord(track):
    """Averaged over a segment, the strongest pitch class is a chord tone; the top three are the
    chord: the bass plays in key, so harmony is still what carries the chord."""
    feats = music_features_of_signal(track.audio, track.sample_rate)  # (hops, dim)
    chroma = feats[:, [i for i, n in enumerate(MUSIC_FEATURE_NAMES) if n.startswith("chroma_")]]  # (hops, 12)
    times = (np.arange(len(feats)) + 1) * fine_hop(track.sample_rate) / track.sample_rate  # (hops,)
    for seg in track.chords:
        mean = chroma[(times >= seg.start + 0.1) & (times < seg.end - 0.1)].mean(axis=0)  # (12,)
        assert int(mean.argmax()) in CHORD_PITCHES[seg.chord], (seg, mean.round(2))
        assert set(np.argsort(mean)[-3:].tolist()) == set(CHORD_PITCHES[seg.chord]), (seg, mean.round(2))


def test_every_frame_shows_its_chord_flashes_included(track, video):
    times, frames = video
    kicks = track.kicks[track.kicks < SECONDS - 1]
    extra_t = np.concatenate([kicks, kicks + 0.02, kicks + 0.06])  # (3k,) the brightest moments
    extra = np.stack([render_shots_frame(track, float(t), W, H) for t in extra_t])  # (3k, H, W, 3)
    all_t, all_f = np.concatenate([times, extra_t]), np.concatenate([frames, extra])
    away = np.array([track.seconds_to_change(t) > 0.1 for t in all_t])  # (N,)
    chords = np.array([track.chord_at(t) for t in all_t])  # (N,)
    assert frames.shape == (len(times), H, W, 3) and frames.dtype == np.uint8
    assert chord_colour_accuracy(all_f, chords, away)["accuracy"] >= 0.95
    for c in range(N_COMPOSITIONS):  # in every composition, not only on average
        here = away & np.array([track.composition_at(t) == c for t in all_t])
        assert chord_colour_accuracy(all_f, chords, here)["accuracy"] >= 0.95, c
    assert dominant_chord(extra[3]) == track.chord_at(float(kicks[3]))


def test_brightness_is_the_kick(track, video):
    times, frames = video
    r = kick_brightness_correlation(frames, times, track)
    assert r >= 0.9, r
    shifted = kick_brightness_correlation(frames, times + 0.25, track)  # a model half a beat late
    assert shifted < 0.3, shifted
    b = mean_brightness(frames)  # (N,)
    assert b.shape == (len(frames),) and 0 <= b.min() and b.max() <= 1
    at_kick = mean_brightness(np.stack([render_shots_frame(track, float(t), W, H) for t in track.kicks[:8]]))
    assert at_kick.min() > 2 * np.median(b)  # a flash lifts the frame strongly


def test_size_follows_the_bass(track, video):
    times, frames = video
    cover = np.array([_coverage(f) for f in frames])  # (N,)
    bass = np.array([track.bass_level(t) for t in times])  # (N,)
    comp = np.array([track.composition_at(t) for t in times])  # (N,)
    for c in range(N_COMPOSITIONS):
        here = comp == c
        assert here.sum() > 30 and np.ptp(bass[here]) >= 0.29, c  # enough frames and levels to judge
        r = np.corrcoef(cover[here], bass[here])[0, 1]
        assert r > 0.7, (c, r)
    kick = np.array([track.kick_envelope(t) for t in times])  # (N,)
    assert abs(np.corrcoef(cover, kick)[0, 1]) < 0.3  # the flash does not change the size


def test_compositions_differ_and_drift(track, video):
    times, frames = video
    comp = np.array([track.composition_at(t) for t in times])  # (N,)
    shapes = []
    for c in range(N_COMPOSITIONS):
        i = int(np.flatnonzero(comp == c)[0])
        px = frames[i].astype(np.float64)
        chroma = px.max(axis=-1) - px.min(axis=-1)  # (H, W)
        shapes.append(chroma > (chroma.min() + chroma.max()) / 2)
        lit = shapes[-1].astype(int)  # (H, W)
        edges = np.abs(np.diff(lit, axis=0)).sum() + np.abs(np.diff(lit, axis=1)).sum()
        assert edges > W, (c, edges)  # detail enough that a blurry output loses
        nxt = i + 1 if comp[i + 1] == c else i - 1
        assert not np.array_equal(frames[i], frames[nxt])  # moving within the shot
    for a in range(N_COMPOSITIONS):
        for b in range(a + 1, N_COMPOSITIONS):
            iou = (shapes[a] & shapes[b]).sum() / (shapes[a] | shapes[b]).sum()
            assert iou < 0.5, (a, b, iou)


def test_writes_a_shots_video(tmp_path):
    tr = shots_track(44100, 4.0, seed=3)
    path = write_music_video(tmp_path / "shots.mp4", tr, 64, 48, render=render_shots_frame)
    with av.open(str(path)) as c:
        assert len(c.streams.audio) == 1
        frames = np.stack([f.to_ndarray(format="rgb24") for f in c.decode(video=0)])  # (N, 48, 64, 3)
    assert frames.shape == (120, 48, 64, 3)
    times = np.arange(len(frames)) / 30  # (N,)
    away = np.array([tr.seconds_to_change(t) > 0.1 for t in times])
    chords = np.array([tr.chord_at(t) for t in times])
    assert chord_colour_accuracy(frames, chords, away)["accuracy"] >= 0.95  # through H.264 4:2:0
    assert kick_brightness_correlation(frames, times, tr) >= 0.9
