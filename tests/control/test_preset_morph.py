"""Preset morphs: the controls go from where they are to a preset over its time, in frame time,
a fader moved meanwhile leaves the morph, and a bad morph time changes nothing."""
import math

import numpy as np
import pytest

from conftest import eventually
from fakes.manual_clock import ManualClock
from latentvj.daemon.control.applier import ControlApplier
from latentvj.daemon.control.state import Control, ControlError
from latentvj.daemon.control.vocabulary import ControlHandlers


def with_preset(tmp_path, clock=None, **values):
    """A 3-d Control whose preset 'target' holds `values` (set, saved, then reset)."""
    c = Control(3, tmp_path, clock=clock or ManualClock())
    for name, value in values.items():
        {"scale": c.set_scale, "noise": c.set_noise}.get(name, lambda v: None)(value)
    if "biases" in values:
        for i, b in enumerate(values["biases"]):
            c.set_dim_bias(i, b)
    if "permutation" in values:
        c.set_permutation(values["permutation"])
    c.save_preset("target")
    c.reset()
    return c


def frames(applier, n, dt=0.25, z=(1.0, 1.0, 1.0)):
    out, got = np.zeros(3, np.float32), []
    for _ in range(n):
        applier.apply(np.asarray(z, np.float32), dt, out)
        got.append(out.copy())
    return np.stack(got)


def test_a_morph_goes_linearly_from_where_the_controls_are_to_the_preset(tmp_path):
    c = with_preset(tmp_path, scale=3.0, biases=[0.0, 1.0, -1.0])
    a = ControlApplier(c)
    frames(a, 2)  # as trained before
    c.load_preset("target", 1.0)
    v = c.snapshot()
    assert v.scale == 3.0 and v.morph is not None and v.morph.start.scale == 1.0  # where it goes, and whence
    got = frames(a, 6)  # dt 0.25: u = 0, 0.25, 0.5, 0.75, 1, 1
    np.testing.assert_allclose(got[:, 0], [1.0, 1.5, 2.0, 2.5, 3.0, 3.0])
    np.testing.assert_allclose(got[:, 1], [1.0, 1.75, 2.5, 3.25, 4.0, 4.0])


def test_a_fader_moved_during_a_morph_leaves_it_and_the_rest_go_on(tmp_path):
    c = with_preset(tmp_path, scale=3.0, biases=[2.0, 2.0, 2.0])
    a = ControlApplier(c)
    c.load_preset("target", 1.0)
    frames(a, 2)  # u = 0, 0.25
    c.set_dim_bias(0, -5.0)  # the performer takes dimension 0's bias
    got = frames(a, 3)  # u = 0.5, 0.75, 1
    np.testing.assert_allclose(got[:, 0], [2.0 - 5.0, 2.5 - 5.0, 3.0 - 5.0])  # scale morphs, bias 0 is the fader's
    np.testing.assert_allclose(got[:, 1], [2.0 + 1.0, 2.5 + 1.5, 3.0 + 2.0])


def test_the_permutation_switches_at_the_end(tmp_path):
    c = with_preset(tmp_path, permutation=[2, 1, 0])
    a = ControlApplier(c)
    c.load_preset("target", 0.5)
    got = frames(a, 4, z=(1.0, 2.0, 3.0))  # u = 0, 0.5, 1, 1
    np.testing.assert_allclose(got[:, 0], [1.0, 1.0, 3.0, 3.0])


def test_a_preset_asked_for_mid_morph_starts_from_the_values_on_screen(tmp_path):
    clock = ManualClock()
    c = with_preset(tmp_path, clock=clock, scale=3.0)
    c.load_preset("target", 2.0)
    clock.advance(1.0)  # half way: scale 2 on screen
    c.set_scale(1.0)
    c.save_preset("back")  # scale 1 as a preset of its own
    c.set_scale(3.0)
    c.load_preset("target", 2.0)
    assert c.snapshot().morph.start.scale == 3.0  # the fader had left the first morph: 3 on screen
    c.load_preset("back", 4.0)
    clock.advance(1.0)
    c.load_preset("target", 1.0)  # a quarter of the way from 3 to 1: 2.5
    assert c.snapshot().morph.start.scale == pytest.approx(2.5)


@pytest.mark.parametrize("seconds", [-1.0, math.nan, math.inf, 3601.0, "2"])
def test_a_bad_morph_time_is_refused_and_nothing_changes(tmp_path, seconds):
    c = with_preset(tmp_path, scale=3.0)
    handlers = ControlHandlers(c, lambda spec: spec)
    try:
        with pytest.raises(ControlError):
            handlers.handle("/latentvj/preset/load", ("target", seconds))
        assert eventually(handlers.idle)
        assert c.snapshot().scale == 1.0 and c.snapshot().morph is None
    finally:
        handlers.stop()


def test_osc_takes_the_morph_time_and_the_one_argument_form_stays_a_jump(tmp_path):
    c = with_preset(tmp_path, scale=3.0)
    replies = []
    handlers = ControlHandlers(c, lambda spec: spec)
    try:
        handlers.handle("/latentvj/preset/load", ("target", 2.0), replies.append)
        assert eventually(handlers.idle)
        assert c.snapshot().morph.seconds == 2.0
        c.reset()
        handlers.handle("/latentvj/preset/load", ("target",), replies.append)
        assert eventually(handlers.idle)
        assert c.snapshot().scale == 3.0 and c.snapshot().morph is None
        with pytest.raises(ControlError, match="expected s\\[f\\]"):
            handlers.handle("/latentvj/preset/load", ("target", 1.0, 2.0))
    finally:
        handlers.stop()
    assert [r[0] for r in replies] == ["/latentvj/preset/loaded"] * 2

