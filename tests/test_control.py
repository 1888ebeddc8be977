import math

import numpy as np
import pytest

from latentvj.daemon.control.applier import ControlApplier
from latentvj.daemon.control.state import Control, ControlError


def apply(control, z, applier=None, dt=1 / 30):
    applier = applier or ControlApplier(control)
    out = np.zeros(control.dim, np.float32)
    applier.apply(np.asarray(z, np.float32), dt, out)
    return out


def test_as_trained_by_default_and_scale_zero_gives_the_bias():
    c = Control(3)
    z = [0.5, -1.0, 2.0]
    np.testing.assert_array_equal(apply(c, z), z)
    c.set_scale(0.0)
    for i, b in enumerate([0.1, -0.2, 0.3]):
        c.set_dim_bias(i, b)
    np.testing.assert_allclose(apply(c, z), [0.1, -0.2, 0.3], atol=1e-7)


def test_per_dim_scale_permutation_freeze():
    c = Control(3)
    c.set_dim_scale(1, 2.0)
    c.set_permutation([2, 0, 1])
    np.testing.assert_allclose(apply(c, [1.0, 2.0, 3.0]), [3.0, 2.0, 2.0])
    a = ControlApplier(c)
    first = apply(c, [1.0, 1.0, 1.0], a)
    c.set_freeze(1)
    np.testing.assert_array_equal(apply(c, [9.0, 9.0, 9.0], a), first)
    c.set_freeze(0)
    assert apply(c, [9.0, 9.0, 9.0], a)[0] == 9.0


def test_smoothing_is_an_exponential_with_a_time_constant():
    c = Control(1)
    c.set_smooth(1.0)
    a = ControlApplier(c)
    apply(c, [0.0], a)
    out = apply(c, [1.0], a, dt=0.5)
    assert out[0] == pytest.approx(1 - math.exp(-0.5), rel=1e-5)


def test_noise_is_reproducible_with_a_seed():
    c = Control(4)
    c.set_noise(1.0)
    a, b = ControlApplier(c, seed=7), ControlApplier(c, seed=7)
    z = np.zeros(4)
    np.testing.assert_array_equal(apply(c, z, a), apply(c, z, b))
    assert np.any(apply(c, z, a) != 0)


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


def test_dropped_frames_keep_the_noise_sequence():
    c = Control(3)
    c.set_noise(1.0)
    a, b = ControlApplier(c, seed=1), ControlApplier(c, seed=1)
    z = np.zeros(3)
    for _ in range(3):
        apply(c, z, a)
    apply(c, z, b)
    b.skip(2)
    np.testing.assert_array_equal(apply(c, z, a), apply(c, z, b))
