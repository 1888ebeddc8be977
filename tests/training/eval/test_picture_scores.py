import warnings

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from latentvj.training.eval.picture_scores import (
    NearestFrames,
    SharpnessMeter,
    gradient_energy,
    realism,
    sample_indices,
    sharpness,
)


def blocky(n: int, size: int = 64, cells: int = 16, seed: int = 0) -> torch.Tensor:
    """(n, 3, size, size) random coloured blocks: hard edges, plenty of detail to lose."""
    g = torch.Generator().manual_seed(seed)
    return F.interpolate(torch.rand(n, 3, cells, cells, generator=g), size=(size, size), mode="nearest")


def smooth(n: int, size: int = 64, seed: int = 0) -> torch.Tensor:
    """(n, 3, size, size) distinct smooth pictures in [0.2, 0.8], so a one-pixel shift barely changes them."""
    g = torch.Generator().manual_seed(seed)
    x = F.interpolate(torch.rand(n, 3, 6, 6, generator=g), size=(size, size), mode="bilinear", align_corners=False)
    return 0.2 + 0.6 * x


def gaussian_blur(x: torch.Tensor, sigma: float) -> torch.Tensor:
    r = int(3 * sigma)
    k = torch.exp(-torch.arange(-r, r + 1, dtype=torch.float32) ** 2 / (2 * sigma**2))
    k = (k / k.sum()).repeat(3, 1, 1, 1)  # (3, 1, 1, 2r+1), one per channel
    x = F.conv2d(F.pad(x, (r, r, 0, 0), mode="reflect"), k, groups=3)
    return F.conv2d(F.pad(x, (0, 0, r, r), mode="reflect"), k.transpose(2, 3), groups=3)


def test_gradient_energy_is_zero_for_a_flat_picture_and_per_frame():
    x = torch.cat([torch.full((1, 3, 16, 16), 0.5), blocky(1, 16, 4)])
    e = gradient_energy(x)
    assert e.shape == (2,) and e[0] == 0 and e[1] > 0


def test_a_blur_is_well_below_the_source_and_the_source_itself_is_exactly_one():
    src = blocky(4)
    assert sharpness(src, src) == 1.0
    assert sharpness(gaussian_blur(src, 2.0), src) < 0.3
    assert sharpness(gaussian_blur(src, 0.7), src) > sharpness(gaussian_blur(src, 2.0), src)


def test_the_meter_over_two_batches_equals_one_batch():
    src = blocky(6, seed=1)
    out = gaussian_blur(src, 1.0)
    meter = SharpnessMeter()
    meter.add(out[:2], src[:2])
    meter.add(out[2:], src[2:])
    assert meter.value() == pytest.approx(sharpness(out, src), rel=1e-6)
    assert meter.frames == 6


def test_sharpness_edge_cases():
    src = blocky(2)
    flat = torch.full_like(src, 0.5)
    assert sharpness(flat, src) == 0.0
    assert np.isnan(sharpness(src, flat))  # no detail to compare with
    assert np.isnan(SharpnessMeter().value())
    # a larger source is brought to the output's size before comparing
    assert sharpness(src, F.interpolate(src, scale_factor=2, mode="nearest")) == pytest.approx(1.0, rel=1e-6)
    with pytest.raises(ValueError):
        SharpnessMeter().add(src, src[:1])


def test_a_training_frame_is_at_distance_zero_and_a_noisy_copy_at_the_noise_rms():
    train = smooth(20, size=32)  # already at the comparison size, so the noise is not averaged away
    nf = NearestFrames(train, size=32)
    assert nf.frames.shape == (20, 3 * 32 * 32)
    assert nf.distance(train[[3, 7]]).max() < 1e-6
    noisy = train[:4] + 0.03 * torch.randn(4, 3, 32, 32, generator=torch.Generator().manual_seed(2))
    d = nf.distance(noisy)
    assert d.shape == (4,)
    assert d.numpy() == pytest.approx(np.full(4, 0.03), rel=0.1)


def test_chunked_search_matches_brute_force_and_from_batches_matches_the_constructor():
    train, queries = smooth(50, seed=3), smooth(7, seed=4)
    nf = NearestFrames(train, size=16, chunk=8)

    def small(x: torch.Tensor) -> torch.Tensor:
        return F.interpolate(x, size=(16, 16), mode="area").flatten(1)

    brute = torch.cdist(small(queries), small(train)).min(1).values / (3 * 16 * 16) ** 0.5
    assert nf.distance(queries, chunk=6).numpy() == pytest.approx(brute.numpy(), abs=1e-5)
    other = NearestFrames.from_batches((train[a : a + 16] for a in range(0, 50, 16)), size=16)
    assert torch.equal(other.frames, nf.frames)
    with pytest.raises(ValueError):
        NearestFrames(torch.zeros(0, 3, 32, 32))


def test_an_average_of_frames_is_further_from_anything_real_than_a_shifted_real_frame():
    train = smooth(16, seed=5)
    nf = NearestFrames(train)
    average = train[:8].mean(0, keepdim=True)  # what a blurring decoder converges to
    shifted = torch.roll(train[3:4], shifts=1, dims=-1)  # a "held-out" frame: the next instant of one
    d_avg, d_shift = float(nf.distance(average)), float(nf.distance(shifted))
    assert d_avg > 3 * d_shift
    r = realism(np.array([d_avg]), np.array([d_shift]))
    assert r["realism"] < 0.34 and r["nn_out"] == pytest.approx(d_avg) and r["nn_real"] == pytest.approx(d_shift)


def test_realism_is_one_when_outputs_are_as_close_as_real_frames():
    d = np.array([0.05, 0.1, 0.02])
    assert realism(d, d)["realism"] == 1.0
    assert realism(2 * d, d)["realism"] == pytest.approx(0.5)


def test_zero_distances_do_not_divide_by_zero():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert realism(np.zeros(4), np.zeros(4))["realism"] == 1.0
        copies = realism(np.zeros(4), np.full(4, 0.1))["realism"]  # outputs are training frames
        assert np.isfinite(copies) and copies > 1
        leak = realism(np.full(4, 0.1), np.zeros(4))["realism"]
        assert np.isfinite(leak) and 0 <= leak < 1
        assert np.isnan(realism(np.zeros(0), np.zeros(3))["realism"])


def test_sample_indices_are_even_distinct_and_deterministic():
    idx = sample_indices(10_000, 5000)
    assert len(idx) == 5000 and len(np.unique(idx)) == 5000
    assert idx.min() >= 0 and idx.max() < 10_000
    assert np.array_equal(idx, sample_indices(10_000, 5000))
    assert np.array_equal(sample_indices(100, 4), [12, 37, 62, 87])
    assert np.array_equal(sample_indices(3, 10), [0, 1, 2])
    assert len(sample_indices(0, 10)) == 0 and len(sample_indices(10, 0)) == 0
    assert len(np.unique(sample_indices(7, 6))) == 6


def test_sharpness_of_what_is_shown_compares_each_output_with_the_footage_nearest_it():
    """A show playing a sharp scene where the source has a smooth one: beside the same moment's
    frame it reads as too sharp; beside the footage it shows, a copy is exactly 1 and a blur of
    it well below."""
    sharp_scene, soft_scene = blocky(4, cells=8, seed=1), smooth(4, seed=2)
    nf = NearestFrames(torch.cat([sharp_scene, soft_scene]))
    dist, idx = nf.nearest(sharp_scene)
    assert idx.tolist() == [0, 1, 2, 3] and float(dist.max()) < 1e-6
    assert torch.allclose(nf.energy[:4], gradient_energy(sharp_scene).double())
    same_moment = sharpness(sharp_scene, soft_scene)  # what `sharpness` says when the shots differ
    copy, blur = SharpnessMeter(), SharpnessMeter()
    copy.add_energy(sharp_scene, nf.energy[nf.nearest(sharp_scene)[1]])
    blurred = gaussian_blur(sharp_scene, 1.5)
    assert nf.nearest(blurred)[1].tolist() == [0, 1, 2, 3]  # still nearest the scene it blurs
    blur.add_energy(blurred, nf.energy[nf.nearest(blurred)[1]])
    assert same_moment > 5 and copy.value() == pytest.approx(1.0) and blur.value() < 0.5
