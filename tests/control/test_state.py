"""The control state: every setter validates; presets save and load all or nothing."""

import numpy as np
import pytest

from latentvj.daemon.control.state import Control, ControlError


@pytest.mark.parametrize("call", [
    lambda c: c.set_scale(float("nan")),
    lambda c: c.set_scale(float("inf")),
    lambda c: c.set_scale("big"),
    lambda c: c.set_dim_scale(3, 1.0),
    lambda c: c.set_dim_bias(-1, 1.0),
    lambda c: c.set_smooth(-1.0),
    lambda c: c.set_freeze(2),
    lambda c: c.set_noise(1e9),
    lambda c: c.set_permutation([0, 0, 1]),
])
def test_bad_values_are_refused_and_change_nothing(call):
    c = Control(3)
    before = c.snapshot()
    with pytest.raises(ControlError):
        call(c)
    after = c.snapshot()
    assert after.scale == before.scale and np.array_equal(after.scales, before.scales)


def test_presets_round_trip_and_a_bad_one_changes_nothing(tmp_path):
    c = Control(2, tmp_path)
    c.set_scale(0.5)
    c.set_dim_bias(1, 0.25)
    c.set_smooth(0.2)
    path = c.save_preset("verse-1")
    assert path == tmp_path / "verse-1.toml"
    c.reset()
    c.load_preset("verse-1")
    v = c.snapshot()
    assert v.scale == 0.5 and v.biases[1] == 0.25 and v.smooth == pytest.approx(0.2)
    (tmp_path / "broken.toml").write_text("scale = [")
    with pytest.raises(ControlError, match="broken.toml"):
        c.load_preset("broken")
    (tmp_path / "other.toml").write_text("dim = 5\n")
    with pytest.raises(ControlError, match="5 dimensions"):
        c.load_preset("other")
    with pytest.raises(ControlError, match="name"):
        c.save_preset("../escape")
    assert c.snapshot().scale == 0.5
