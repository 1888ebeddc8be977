import numpy as np
import pytest
import torch
import torch.nn.functional as F

from latentvj.daemon.show.upscale import FILTERS, Resampler, resample_matrix


@pytest.mark.parametrize("filt", FILTERS)
@pytest.mark.parametrize("n_out, n_in", [(1024, 128), (96, 32), (17, 40), (5, 64)])
def test_rows_sum_to_one(filt, n_out, n_in):
    m = resample_matrix(n_out, n_in, filt)
    assert m.shape == (n_out, n_in)
    torch.testing.assert_close(m.sum(dim=1), torch.ones(n_out))


@pytest.mark.parametrize("filt", FILTERS)
def test_identity_when_sizes_match(filt):
    torch.testing.assert_close(resample_matrix(48, 48, filt), torch.eye(48), atol=1e-6, rtol=0)


@pytest.mark.parametrize("filt", FILTERS)
@pytest.mark.parametrize("size_in, size_out", [((32, 24), (256, 200)), ((64, 64), (20, 36))])
def test_a_constant_image_stays_constant(filt, size_in, size_out):
    img = torch.full((3, size_in[1], size_in[0]), 0.3)
    img[1] = 0.7
    out = Resampler(size_in, size_out, filt)(img)
    torch.testing.assert_close(out[0], torch.full_like(out[0], 0.3))
    torch.testing.assert_close(out[1], torch.full_like(out[1], 0.7))


def test_lanczos_downscaling_a_fine_checkerboard_gives_flat_grey():
    yy, xx = torch.meshgrid(torch.arange(256), torch.arange(256), indexing="ij")
    board = ((yy + xx) % 2).float().expand(3, -1, -1).contiguous()  # finest pattern: 1-pixel squares
    lanczos = Resampler((256, 256), (80, 80), "lanczos")(board)
    assert (lanczos - 0.5).abs().max() < 0.02  # averaged out
    nearest = Resampler((256, 256), (80, 80), "nearest")(board)
    assert (nearest - 0.5).abs().max() > 0.4  # without antialiasing: aliased to full black and white


def test_same_as_f_interpolate_for_the_old_filters():
    img = torch.rand(3, 40, 30, generator=torch.Generator().manual_seed(0))
    for filt in ("bicubic", "bilinear", "nearest"):
        for size in ((90, 120), (23, 17)):  # (W, H) up, and down
            kw = {} if filt == "nearest" else {"align_corners": False}
            want = F.interpolate(img[None], size=size[::-1], mode=filt, **kw)[0].clamp(0, 1)
            torch.testing.assert_close(Resampler((30, 40), size, filt)(img), want, atol=1e-5, rtol=0)


def _upscale_row(row: np.ndarray, filt: str, factor: int = 8) -> np.ndarray:
    """(n,) -> (n * factor,): one row through a 2-D resampler (the picture is a horizontal profile)."""
    img = torch.from_numpy(np.broadcast_to(row, (3, 8, row.size)).copy()).float()
    return Resampler((row.size, 8), (row.size * factor, 8 * factor), filt)(img)[0, 4].numpy()


def test_an_upscaled_ramp_stays_monotone():
    ramp = np.linspace(0.1, 0.9, 32, dtype=np.float32)
    out = _upscale_row(ramp, "lanczos")
    assert np.diff(out).min() > -1e-5
    assert out[0] == pytest.approx(0.1, abs=0.005) and out[-1] == pytest.approx(0.9, abs=0.005)  # the border rings a hair


def _edge_width(profile: np.ndarray, factor: int) -> float:
    """Input pixels between the 10 % and 90 % points of a rising edge (0 -> 1, maybe ringing)."""
    lo, hi = int(np.argmin(profile)), int(np.argmax(profile))  # undershoot before, overshoot after
    rise, at = profile[lo:hi + 1], np.arange(lo, hi + 1)
    return float(np.interp(0.9, rise, at) - np.interp(0.1, rise, at)) / factor


def test_a_sharp_edge_stays_steeper_than_bilinear():
    step = np.where(np.arange(32) < 16, 0.2, 0.8).astype(np.float32)  # 20 % / 80 %: room to ring
    lo, hi = 0.2, 0.8
    profiles = {f: (_upscale_row(step, f, 16) - lo) / (hi - lo) for f in ("lanczos", "bilinear")}
    widths = {f: _edge_width(p, 16) for f, p in profiles.items()}
    assert widths["bilinear"] == pytest.approx(0.8, abs=0.01)
    assert widths["lanczos"] < 0.95 * widths["bilinear"], widths  # ~0.73 input pixels
    assert profiles["lanczos"].max() < 1.13 and profiles["lanczos"].min() > -0.13  # Lanczos-3 rings ~12 %, no more


@pytest.mark.parametrize("half_input", [False, True])
def test_shape_device_dtype_and_buffers_reused(half_input):
    r = Resampler((128, 96), (320, 256), "lanczos", torch.device("cpu"))
    img = torch.rand(3, 96, 128)
    out = r(img.half() if half_input else img)
    assert out.shape == (3, 256, 320) and out.dtype == torch.float32 and out.device.type == "cpu"
    assert 0.0 <= out.min() and out.max() <= 1.0
    assert r(img).data_ptr() == out.data_ptr()  # the same buffer every frame


def test_unknown_filter_is_refused():
    with pytest.raises(ValueError, match="lanczos, bicubic, bilinear, nearest"):
        resample_matrix(10, 5, "sinc")


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA")
def test_runs_on_the_gpu():
    r = Resampler((128, 128), (1024, 1024), "lanczos", torch.device("cuda"))
    img = torch.rand(3, 128, 128, device="cuda")
    out = r(img.half())
    assert out.device.type == "cuda" and out.shape == (3, 1024, 1024)
    cpu = Resampler((128, 128), (1024, 1024), "lanczos")(img.half().float().cpu())
    torch.testing.assert_close(out.cpu(), cpu, atol=1e-4, rtol=0)
