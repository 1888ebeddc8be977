"""The stress suite's short version against a real daemon subprocess: every scenario runs in
seconds and must meet its targets (no traceback, no crash, pings answered, the last values in
effect, broken bundles refused with one line, the right show playing after a storm).

Frame-rate ratios are printed by the suite, not asserted here: a test never asserts wall-clock
figures (the full run, `python -m latentvj.stress`, is the benchmark)."""
import re
import shutil

import pytest

from latentvj.stress.scenarios import Settings, all_scenarios


@pytest.fixture(scope="module")
def scenarios(tmp_path_factory):
    return all_scenarios(Settings.make(tmp_path_factory.mktemp("stress"), quick=True))


def _clean(result):
    assert "tracebacks 0, alive, exit 0" in result.figures, result.line()


@pytest.mark.parametrize("name", ["fuzz", "flood1k", "burst"])
def test_attacks_leave_no_traceback_and_pings_answered(scenarios, name):
    r = scenarios[name]()
    print(r.line())
    _clean(r)
    n = r.figures.split("pings ")[1].split(" answered")[0]
    answered, sent = map(int, n.split("/"))
    assert sent > 0 and answered == sent, r.line()


def test_the_last_values_sent_are_in_effect_after_a_flood(scenarios):
    r = scenarios["flood5k"]()
    print(r.line())
    _clean(r)
    assert "last values in effect: True" in r.figures, r.line()


def test_after_a_show_switch_storm_the_last_valid_show_plays(scenarios):
    r = scenarios["storm"]()
    print(r.line())
    _clean(r)
    assert "playing 'demo-b' (last valid asked: 'demo-b')" in r.figures and "2 refused" in r.figures, r.line()
    assert re.search(r"\((\d+)/\1 answered\)", r.figures), r.line()  # superseded requests too


def test_after_a_fade_storm_the_last_show_plays_and_every_fade_is_answered(scenarios):
    r = scenarios["fades"]()
    print(r.line())
    _clean(r)
    ended, superseded = (int(x) for x in re.search(r"(\d+) ended, (\d+) superseded, 0 refused", r.figures).groups())
    assert ended >= 1 and ended + superseded == 3, r.line()
    assert "playing 'demo-b' (last asked: 'demo-b')" in r.figures, r.line()


def test_broken_bundles_are_refused_at_start_and_live(scenarios):
    for name in ("bundles-start", "bundles-live"):
        r = scenarios[name]()
        print(r.line())
        assert r.figures.startswith(("5/5 refused", "33/33 answered")), r.line()


def test_a_short_soak_samples_rss_and_stays_clean(scenarios):
    r = scenarios["soak"]()
    print(r.line())
    _clean(r)
    samples = int(r.figures.split(" RSS samples")[0].rsplit(" ", 1)[1])
    assert samples >= 5, r.line()


@pytest.mark.skipif(shutil.which("pulseaudio") is None, reason="needs PulseAudio (apt-get install pulseaudio)")
def test_frames_go_on_while_the_sound_card_is_gone(scenarios):
    r = scenarios["sound-card"]()
    print(r.line())
    _clean(r)
    assert "audio back" in r.figures and "back nan" not in r.figures, r.line()
