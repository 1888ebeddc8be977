"""The causal beat tracker on generated click tracks (90, 124, 174 bpm and tempo changes) and on
the procedural music track: tempo within 1 %, beats within 20 ms."""
import numpy as np
import pytest

from latentvj.daemon.audio.beat_tracker import BeatTracker
from latentvj.daemon.audio.music_analysis import beat_strength
from latentvj.daemon.audio.music_features import fine_hop, music_features_of_signal
from latentvj.training.synth.synthetic import BEAT, procedural_track

SR = 44100
HOP = fine_hop(SR)
FRAME_RATE = SR / HOP


def click_track(segments):
    """segments: [(bpm, seconds)] -> (audio, click times): 5 ms noise bursts on every beat."""
    x = np.zeros(int((sum(s for _, s in segments) + 1) * SR), np.float32)
    burst = (np.random.default_rng(1).standard_normal(int(0.005 * SR)) * 0.8).astype(np.float32)
    times, t, start = [], 0.0, 0.0
    for bpm, seconds in segments:
        while t < start + seconds - 1e-9:
            i = int(round(t * SR))
            x[i : i + len(burst)] += burst
            times.append(t)
            t += 60.0 / bpm
        start += seconds
    return x, np.array(times)


def track(audio):
    """The tracker's (tempo, period, beat reference) after each frame, fed as the daemon feeds it."""
    f = music_features_of_signal(audio, SR)
    bt = BeatTracker(FRAME_RATE)
    states = []
    for row in f:
        bt.push(beat_strength(row))
        states.append((bt.tempo, bt.period, bt.beat_ref))
    return np.array(states)


def errors(states, times, bpm):
    """Per true beat: the tempo error (fraction) and the tracker's nearest beat's error in ms,
    read from the frame the beat's audio arrives in (frame k ends at (k + 1) hops)."""
    tempo_err, phase_ms = [], []
    for t in times:
        tempo, period, ref = states[min(int(t * FRAME_RATE) + 1, len(states) - 1)]
        tempo_err.append(abs(tempo / bpm - 1.0))
        m = np.round((t * FRAME_RATE - ref) / period)
        phase_ms.append(((ref + m * period + 0.5) / FRAME_RATE - t) * 1e3)  # a frame's mid-point
    return np.array(tempo_err), np.abs(phase_ms)


@pytest.mark.parametrize("bpm", [90, 124, 174])
def test_a_steady_tempo(bpm):
    audio, times = click_track([(bpm, 16.0)])
    tempo_err, phase_ms = errors(track(audio), times[times > 6.0], bpm)
    assert tempo_err.max() < 0.01 and phase_ms.max() < 20.0, (tempo_err.max(), phase_ms.max())


@pytest.mark.parametrize("before, after", [(124, 140), (90, 124), (140, 124), (124, 174)])
def test_four_beats_after_a_tempo_change(before, after):
    audio, times = click_track([(before, 12.0), (after, 8.0)])
    new = times[times >= 12.0 - 1e-9]
    tempo_err, phase_ms = errors(track(audio), new[4:], after)
    assert tempo_err.max() < 0.01 and phase_ms.max() < 20.0, (tempo_err.max(), phase_ms.max())


def test_music_with_off_beat_hats_and_a_breakdown():
    """The procedural track (120 bpm, hats between the kicks, no kick in its breakdown 48-64 s)."""
    audio = procedural_track(SR, 60.0, seed=3).audio
    beats = np.arange(8.0, 60.0, BEAT)
    tempo_err, phase_ms = errors(track(audio), beats, 60.0 / BEAT)
    assert tempo_err.max() < 0.01 and phase_ms.max() < 20.0, (tempo_err.max(), phase_ms.max())


def test_silence_and_nan_leave_it_unlocked_and_finite():
    bt = BeatTracker(FRAME_RATE)
    for k in range(int(8 * FRAME_RATE)):
        assert not bt.push(float("nan") if k % 7 == 0 else 0.0)
    assert bt.tempo == 0.0 and bt.phase() == 0.0 and bt.bar_phase() == 0.0


def test_beats_are_reported_once_each():
    audio, times = click_track([(124, 16.0)])
    f = music_features_of_signal(audio, SR)
    bt = BeatTracker(FRAME_RATE)
    fired = [k for k, row in enumerate(f) if bt.push(beat_strength(row))]
    late = [k / FRAME_RATE for k in fired if k / FRAME_RATE > 6.0]
    assert np.allclose(np.diff(late), 60 / 124, atol=0.012)  # one per beat, none doubled or missed
    assert 0.0 <= bt.bar_phase() < 1.0
