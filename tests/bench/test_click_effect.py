"""A click's effect against the same run without it, on the simulated clock."""
import numpy as np
import pytest

from conftest import CPU
from latentvj.daemon.bench.click_effect import (
    CHANGE_LEVEL,
    click_audio,
    click_effect,
    click_effects,
    click_times,
    summary,
)
from latentvj.daemon.engine.engine_options import EngineOptions
from latentvj.daemon.show.runtime import ShowRuntime


def frames(values):
    """One (4, 4, 3) frame per value, filled with it: (n, 4, 4, 3) int16."""
    return np.stack([np.full((4, 4, 3), v, np.int16) for v in values])


def test_the_first_differing_frame_and_its_size_against_the_pictures_own_motion():
    without = frames([10, 11, 12, 13, 14, 15])  # the picture moves 1 a frame by itself
    with_click = frames([10, 11, 12, 23, 19, 15])
    e = click_effect(with_click, without, first=100, due=102 / 30, fps=30)
    assert e.frame == 103 and e.delay_ms == pytest.approx(1000 / 30)
    assert e.peak == 10 and e.own == 1 and e.visible


def test_a_change_the_picture_was_making_anyway_is_not_the_clicks():
    moving = frames([0, 20, 40, 60, 80])
    e = click_effect(moving, moving.copy(), first=0, due=0.0, fps=30)
    assert e.frame is None and not e.visible


def test_a_difference_smaller_than_the_pictures_own_motion_is_not_visible():
    without = frames([0, 20, 40, 60, 80])
    with_click = without.copy()
    with_click[2] += 3  # 3/255 where the picture moves 20 a frame
    e = click_effect(with_click, without, first=0, due=0.0, fps=30)
    assert e.frame == 2 and e.peak == 3 > CHANGE_LEVEL and not e.visible


def test_click_audio_puts_a_burst_at_each_time():
    a = click_audio(1000, 3.0, [1.0, 2.5])
    loud = np.flatnonzero(np.abs(a[:, 0]) > 0)
    assert a.shape == (3000, 1) and loud.min() >= 1000 and loud.max() < 2505 and 1005 <= loud[loud > 1010].min()
    assert click_times(5.0) == pytest.approx([2.0, 3.37])


@pytest.mark.parametrize("fps", [30, 60])
def test_the_demo_shows_every_click(demo_show, fps):
    """The built-in show answers each isolated click, and within two frames of the grid."""
    rt = ShowRuntime.load(demo_show, CPU)
    effects = click_effects(rt, EngineOptions(fps=fps), 5.5)
    assert len(effects) == 3
    assert all(e.visible for e in effects), summary(effects)
    assert all(0 < e.delay_ms <= 2 * 1000 / fps + 7 for e in effects), [e.delay_ms for e in effects]
