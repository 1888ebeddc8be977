"""One-shot onsets: the first frame over an adaptive threshold, once per hit, never from a tail."""
from latentvj.daemon.audio.onset_events import OnsetEvents

RATE = 44100 / 256


def fired(values, **kw):
    d = OnsetEvents(RATE, **kw)
    return [k for k, v in enumerate(values) if d.push(v)]


def test_a_hit_fires_once_in_its_first_frame():
    assert fired([0.0] * 20 + [0.5, 0.8, 0.4] + [0.0] * 20) == [20]


def test_quiet_wiggles_stay_under_the_floor_and_nan_is_silence():
    assert fired([0.02, 0.0, 0.025, float("nan"), 0.01] * 20) == []


def test_the_threshold_follows_a_busy_stream():
    busy = [0.3 if k % 2 else 0.1 for k in range(400)]  # a constant rattle, then a real hit
    late = [k for k in fired(busy + [3.0] + busy[:10]) if k > 100]  # once the threshold has learnt the rattle
    assert late == [400]


def test_refractory_and_a_veto_that_lets_the_next_frame_fire_but_not_the_tail():
    d = OnsetEvents(RATE)
    # vetoed in its first frame (another drum's spill), fires in the second
    assert [d.push(v, shaped) for v, shaped in [(0.0, True), (0.5, False), (0.9, True)]] == [False, False, True]
    d = OnsetEvents(RATE)
    # vetoed twice: the third frame is a tail, not a new hit
    assert not any(d.push(v, shaped) for v, shaped in [(0.0, True), (0.5, False), (0.9, False), (0.7, True)])
    assert fired([0.0, 0.6, 0.0, 0.6, 0.0] + [0.0] * 20 + [0.6]) == [1, 25]  # 12 ms apart: one hit
