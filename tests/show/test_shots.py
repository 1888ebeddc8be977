import numpy as np

from latentvj.daemon.audio.music_analysis import EVENTS
from latentvj.daemon.show.shots import ShotPlayer, ShotRules

BEAT = 1 << EVENTS.index("beat")
KICK = 1 << EVENTS.index("kick")
HOP = 0.005


def _play(player: ShotPlayer, events: list[int], seed: int = 3) -> list[tuple[float, float]]:
    player.reset(seed, 0.0)
    return [tuple(player.push(e, (k + 1) * HOP)) for k, e in enumerate(events)]


def test_the_same_seed_and_events_give_the_same_shots_and_another_seed_others():
    runs = np.array([[0, 100], [100, 250]])
    rules = ShotRules(("beat",), probability=0.5, min_s=0.1, max_s=1.0)
    events = [BEAT if k % 50 == 0 else 0 for k in range(4000)]  # a beat every 0.25 s
    a = _play(ShotPlayer(runs, 30.0, rules, HOP), events)
    b = _play(ShotPlayer(runs, 30.0, rules, HOP), events)
    c = _play(ShotPlayer(runs, 30.0, rules, HOP), events, seed=4)
    assert a == b and a != c


def test_cuts_come_only_on_the_named_events_and_keep_their_distance():
    rules = ShotRules(("beat",), probability=1.0, min_s=0.5, max_s=2.0)
    player = ShotPlayer(np.array([[0, 1000]]), 30.0, rules, HOP)
    events = [KICK if k % 10 == 0 else BEAT if k % 25 == 0 else 0 for k in range(2000)]
    rows = _play(player, events)
    cut_at = [k for k in range(1, len(rows)) if rows[k][1] != rows[k - 1][1]]
    assert cut_at and all(events[k] == BEAT for k in cut_at)
    assert min(np.diff(cut_at)) * HOP >= 0.5 - 1e-9


def test_after_max_s_the_next_allowed_event_always_cuts():
    rules = ShotRules(("kick",), probability=0.0, min_s=0.0, max_s=1.0)
    player = ShotPlayer(np.array([[0, 1000]]), 30.0, rules, HOP)
    rows = _play(player, [KICK if k % 100 == 0 else 0 for k in range(1000)])  # a kick every 0.5 s
    assert player.cuts == 4  # on the kicks at 1, 2, 3 and 4 s: probability 0, so only max_s cuts
    assert len({r[1] for r in rows}) == 5


def test_the_walk_plays_the_run_forward_and_back_never_leaving_it():
    runs = np.array([[0, 10], [10, 14]])
    player = ShotPlayer(runs, 10.0, ShotRules(), HOP)
    row = np.array([11.0, 0.0], np.float32)  # started at frame 11 of the run 10..13, at t = 0
    seen = [player.index(row, t / 10.0) for t in range(10)]
    assert seen == [11, 12, 13, 12, 11, 10, 11, 12, 13, 12]
    assert player.index(np.array([5.0, 2.0], np.float32), 1.0) == 5  # before the cut's time: where it started
