import numpy as np
import pytest

from latentvj.daemon.engine.latent_clock import LatentClock


def test_interpolates_between_stamps_and_holds_past_the_newest():
    c = LatentClock(dim=2, n_features=1, period=0.1)
    out = np.zeros(3, np.float32)
    assert c.sample(0.05, out) and np.all(out == 0)  # before any latent: rest
    c.push(np.array([0.0, 10.0]), np.array([1.0]))  # stamp 0.1
    c.push(np.array([1.0, 20.0]), np.array([3.0]))  # stamp 0.2
    assert c.sample(0.15, out)
    np.testing.assert_allclose(out, [0.5, 15.0, 2.0])
    assert c.sample(0.2, out)
    np.testing.assert_allclose(out, [1.0, 20.0, 3.0])
    assert not c.sample(0.35, out)  # late: the newest is held and reported
    np.testing.assert_allclose(out, [1.0, 20.0, 3.0])


def test_ring_keeps_the_newest_and_skip_holds_through_a_gap():
    c = LatentClock(dim=1, n_features=0, period=1.0, capacity=4)
    for k in range(10):
        c.push(np.array([float(k)]), np.zeros(0))
    out = np.zeros(1, np.float32)
    c.sample(8.5, out)  # between latents 7 and 8 (stamps 8 and 9)
    assert out[0] == 7.5
    c.sample(1.0, out)  # long gone: the oldest kept
    assert out[0] == 7.0
    c.skip(3)
    assert c.count == 13 and c.newest_time() == 13.0
    assert c.sample(12.5, out) and out[0] == 9.0


def test_t0_offsets_stamps():
    c = LatentClock(dim=1, n_features=0, period=0.5, t0=10.0)
    c.push(np.array([2.0]), np.zeros(0))
    assert c.newest_time() == 10.5


def test_hold_mode_steps_from_latent_to_latent():
    c = LatentClock(dim=1, n_features=0, period=0.1, interpolate=False)
    c.push(np.array([1.0]), np.zeros(0))  # stamp 0.1
    c.push(np.array([2.0]), np.zeros(0))  # stamp 0.2
    out = np.zeros(1, np.float32)
    assert c.sample(0.15, out) and out[0] == 1.0
    assert c.sample(0.25, out) and out[0] == 2.0  # the newest covers up to the next stamp
    assert not c.sample(0.31, out) and out[0] == 2.0


@pytest.mark.parametrize("interpolate", [True, False])
def test_before_the_first_stamp_the_rest_state_even_with_rows(interpolate):
    """Live may already hold rows when a frame asks for a time before the first stamp; render has
    none then. Both must read the rest state, or their first frames differ."""
    rest = np.full(3, 7.0, np.float32)
    clock = LatentClock(3, 0, 0.1, rest=rest, interpolate=interpolate)
    for k in range(3):
        clock.push(np.full(3, k, np.float32), np.zeros(0, np.float32))
    out = np.zeros(3, np.float32)
    for t in (-0.5, 0.0, 0.05, 0.0999):
        assert clock.sample(t, out)
        np.testing.assert_array_equal(out, rest)
        assert clock.last_stamp == clock.t0
    assert clock.sample(0.1, out) and np.array_equal(out, np.zeros(3)) and clock.last_stamp >= 0.1
