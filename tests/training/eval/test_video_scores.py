import math

import numpy as np
import pytest
from scipy.ndimage import gaussian_filter

from latentvj.training.eval.video_scores import (
    beats_from_phase,
    compare,
    cut_timing,
    cuts_per_minute,
    detect_cuts,
    flash_correlation,
    motion_within_shots,
    pool,
    shrink,
    video_scores,
)

SIZE = 64
FLASH = (1.6, 1.35, 1.15, 1.05)  # gain of a kick flash over the frames after it


def scene(rng: np.random.Generator, width: int) -> np.ndarray:
    """(SIZE, width, 3) float: smoothed noise texture in a colour of its own."""
    texture = gaussian_filter(rng.standard_normal((SIZE, width)), 3)
    texture /= texture.std()
    colour = rng.uniform(60, 180, 3)
    return colour + 35 * texture[..., None] * rng.uniform(0.5, 1.5, 3)


def footage(n: int, cuts: list[int], flashes: list[int] = (), pan: int = 1, seed: int = 0) -> np.ndarray:
    """(n, SIZE, SIZE, 3) uint8: a new scene at each cut, the crop panning `pan` px a frame, gain
    flashes (clipped, decaying over len(FLASH) frames) starting at `flashes`."""
    rng = np.random.default_rng(seed)
    starts = [0, *cuts, n]
    out = np.empty((n, SIZE, SIZE, 3), np.float32)
    for a, b in zip(starts[:-1], starts[1:]):
        canvas = scene(rng, SIZE + pan * (b - a))
        for t in range(b - a):
            out[a + t] = canvas[:, pan * t : pan * t + SIZE]
    for f in flashes:
        for k, gain in enumerate(FLASH[: n - f]):
            out[f + k] *= gain
    return np.clip(out, 0, 255).astype(np.uint8)


def test_shrink_averages_areas_and_keeps_small_frames():
    frames = np.random.default_rng(0).integers(0, 256, (3, 70, 50, 3), dtype=np.uint8)
    small = shrink(frames)
    assert small.shape == (3, 32, 32, 3) and small.dtype == np.float32
    assert small.mean() == pytest.approx(frames.mean() / 255, abs=0.01)
    assert np.allclose(shrink(small), small)


def test_cuts_are_found_and_kick_flashes_are_not_cuts():
    cuts = [40, 90, 120]
    flashes = list(range(0, 150, 15))  # a flash on every beat, two of them on cuts
    frames = footage(150, cuts, flashes)
    assert detect_cuts(frames).tolist() == cuts


def test_panning_flashing_footage_without_cuts_has_none():
    assert detect_cuts(footage(150, [], list(range(5, 150, 15)), pan=2, seed=1)).tolist() == []


def test_a_fade_to_black_and_back_is_no_cut():
    frames = footage(120, [], seed=2).astype(np.float32)
    gain = np.concatenate([np.linspace(1, 0, 15), np.linspace(0, 1, 15)])
    frames[40:70] *= gain[:, None, None, None]
    assert detect_cuts(frames.astype(np.uint8)).tolist() == []


def test_a_hard_cut_to_black_is_a_cut():
    frames = footage(80, [], seed=3)
    frames[50:] = 0
    assert detect_cuts(frames).tolist() == [50]


def test_beats_fall_where_the_phase_wraps():
    phase = (np.arange(40) / 10.0) % 1.0  # a beat every 10 frames
    assert beats_from_phase(phase).tolist() == [10, 20, 30]


def test_cut_timing_counts_cuts_near_a_beat():
    beats = np.array([10, 20, 30])
    assert cut_timing(np.array([11, 20, 25, 33]), beats) == pytest.approx(0.5)
    assert cut_timing(np.array([12]), beats, tolerance=2) == 1.0
    assert math.isnan(cut_timing(np.array([], np.int64), beats))
    assert cut_timing(np.array([5]), np.array([], np.int64)) == 0.0


def test_cuts_per_minute():
    assert cuts_per_minute(np.array([10, 20]), 1800, 30.0) == pytest.approx(2.0)
    assert math.isnan(cuts_per_minute(np.array([]), 0, 30.0))


def test_motion_leaves_out_cuts_and_flashes():
    still = footage(90, [30, 60], pan=0)
    assert motion_within_shots(still, np.array([30, 60])) == 0.0
    assert motion_within_shots(still, np.array([], np.int64)) > 0.0
    moving = footage(90, [], pan=1, seed=4)
    flashed = footage(90, [], list(range(0, 90, 15)), pan=1, seed=4)
    plain = motion_within_shots(moving, np.array([], np.int64))
    assert plain > 0.0 and motion_within_shots(flashed, np.array([], np.int64)) == pytest.approx(plain, rel=0.3)


def kick_envelope(n: int, kicks: list[int]) -> np.ndarray:
    """(n,) a held onset: 1 at each kick, decaying by 0.6 a frame."""
    env = np.zeros(n)
    for t in range(n):
        env[t] = 1.0 if t in kicks else (env[t - 1] * 0.6 if t else 0.0)
    return env


def test_flashes_on_the_kick_correlate_with_it():
    kicks = list(range(3, 150, 15))
    frames = footage(150, [], kicks, pan=1, seed=5)
    assert flash_correlation(frames, kick_envelope(150, kicks)) > 0.8
    assert abs(flash_correlation(frames, kick_envelope(150, [k + 7 for k in kicks]))) < 0.4
    assert math.isnan(flash_correlation(frames, np.zeros(150)))


def test_video_scores_of_an_edited_video():
    n, cuts, beat = 180, [30, 90, 150], 15
    kicks = list(range(0, n, beat))
    frames = footage(n, cuts, kicks)
    s = video_scores(frames, (np.arange(n) / beat) % 1.0, kick_envelope(n, kicks), fps=30.0)
    assert s["cuts_on_beat"] == 1.0 and s["cuts_per_min"] == pytest.approx(30.0) and s["cuts"] == 3
    assert s["motion"] > 0 and s["flash_r"] > 0.8 and s["seconds"] == pytest.approx(6.0)


def test_compare_gives_output_over_source():
    src = {"motion": 0.2, "cuts_per_min": 30.0, "flash_r": 0.8}
    out = {"motion": 0.1, "cuts_per_min": 15.0, "flash_r": float("nan")}
    r = compare(out, src)
    assert r["motion_ratio"] == pytest.approx(0.5) and r["cuts_ratio"] == pytest.approx(0.5)
    assert math.isnan(r["flash_ratio"])
    assert math.isnan(compare(src, {**src, "cuts_per_min": 0.0})["cuts_ratio"])


def test_pool_weighs_cut_timing_by_cuts_and_the_rest_by_length():
    a = {"cuts_on_beat": 1.0, "cuts_per_min": 30.0, "motion": 0.1, "flash_r": 0.5, "cuts": 3.0, "seconds": 6.0}
    b = {"cuts_on_beat": float("nan"), "cuts_per_min": 0.0, "motion": 0.4, "flash_r": float("nan"), "cuts": 0.0,
         "seconds": 2.0}
    p = pool([a, b])
    assert p["cuts_on_beat"] == 1.0 and p["cuts_per_min"] == pytest.approx(22.5)
    assert p["motion"] == pytest.approx(0.175) and p["flash_r"] == 0.5 and p["seconds"] == 8.0
