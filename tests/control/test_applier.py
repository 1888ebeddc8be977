"""Controls applied to a latent per frame: scale, bias, permutation, freeze, smoothing, noise."""
import math

import numpy as np
import pytest

from latentvj.daemon.control.applier import ControlApplier
from latentvj.daemon.control.state import Control


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
