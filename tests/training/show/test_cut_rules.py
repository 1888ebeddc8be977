"""The cut rule learnt from a training video that cuts on beats: found on the beat, at the source's
pace, and the footage bank split at the source's own cuts."""
import cv2
import numpy as np
import pytest

from conftest import build
from latentvj.daemon.show.shots import ShotPlayer, ShotRules
from latentvj.training.bench.footage import Footage
from latentvj.training.bench.footage_video import write_footage_video
from latentvj.training.show.cut_rules import learn_rules, source_cuts, split_at_cuts
from latentvj.training.data.dataset import FrameDataset
from latentvj.training.show.image_show import frame_events

FALLBACK = ShotRules(("hat",), 0.9, 0.1, 9.0)


def test_runs_are_split_where_a_shot_starts_and_single_frames_go():
    runs = [np.arange(0, 10), np.arange(20, 30)]
    got = split_at_cuts(runs, np.array([5, 25, 26]))
    assert [r.tolist() for r in got] == [list(range(0, 5)), list(range(5, 10)), list(range(20, 25)),
                                         list(range(26, 30))]
    assert [r.tolist() for r in split_at_cuts(runs, np.array([], int))] == [r.tolist() for r in runs]


@pytest.fixture(scope="module")
def beat_cut(tmp_path_factory):
    """20 s at 120 bpm cut every 1, 2 or 4 beats over photo stand-ins, kicks flashing; its dataset."""
    d = tmp_path_factory.mktemp("beatcut")
    rng = np.random.default_rng(5)
    photos = {}
    for i in range(6):
        low = rng.uniform(0, 255, (12, 16, 3)).astype(np.float32)
        img = np.clip(cv2.resize(low, (128, 96), interpolation=cv2.INTER_CUBIC) + rng.normal(0, 6, (96, 128, 3)), 0, 255)
        photos[f"p{i}"] = d / f"p{i}.png"
        cv2.imwrite(str(photos[f"p{i}"]), img.astype(np.uint8))
    truth = write_footage_video(d / "cut.mp4", seconds=20.0, size=32, fps=30, seed=3, tempo=120.0,
                                footage=Footage({}, photos, heldout_photos=("p5",)))
    build([d / "cut.mp4"], d / "data", heldout_seconds=2.0)
    return FrameDataset(d / "data"), truth


def test_the_source_cuts_are_found_in_its_frames(beat_cut):
    data, truth = beat_cut
    found = source_cuts(data)
    want = np.array([c for c in truth["cut_frames"] if 0 < c < data.n])
    hit = sum(np.abs(found - c).min() <= 1 for c in want)
    assert hit >= 0.9 * len(want) and len(found) <= len(want) + 2, (found, want)


def test_the_rule_cuts_on_the_beat_at_the_sources_pace(beat_cut):
    data, _ = beat_cut
    rules, report = learn_rules(data, source_cuts(data), FALLBACK)
    assert report["learnt"] and rules != FALLBACK
    assert rules.redraw_on[0] in ("beat", "kick")  # the song's kicks fall on most beats
    assert report["on_share"] >= 0.6
    assert 0.25 <= rules.min_s <= 1.0 and 1.0 <= rules.max_s <= 4.0  # shots of 1 to 4 beats at 120 bpm
    assert 0.02 <= rules.probability <= 1.0


def test_too_few_cuts_keep_the_configured_rule(beat_cut):
    data, _ = beat_cut
    rules, report = learn_rules(data, np.array([30, 90]), FALLBACK)
    assert rules == FALLBACK and not report["learnt"]



def test_played_to_its_own_song_the_rule_cuts_as_often_as_the_source(beat_cut):
    """The ShotPlayer, fed the song's own events, with the learnt rule: about the source's count."""
    data, _ = beat_cut
    cuts = source_cuts(data)
    rules, _ = learn_rules(data, cuts, FALLBACK)
    events = frame_events(data, np.arange(data.n))
    counts = []
    for seed in range(20):
        player = ShotPlayer(np.array([[0, 100]]), data.fps, rules, 1.0 / data.fps)
        player.reset(seed, 0.0)
        for i, e in enumerate(events):
            player.push(int(e), i / data.fps)
        counts.append(player.cuts)
    assert 0.8 * len(cuts) <= np.mean(counts) <= 1.15 * len(cuts), (np.mean(counts), len(cuts), rules)
