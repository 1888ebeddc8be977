import numpy as np
import pytest
import torch
import torch.nn.functional as F

from conftest import make_decoder
from latentvj.daemon.config import ConfigError
from latentvj.daemon.show.frame_decoder import FrameDecoder
from latentvj.daemon.show.upscale import Resampler

CPU = torch.device("cpu")


def test_frames_are_rgba_uint8_top_down_contiguous(small_decoder):
    dec = FrameDecoder(small_decoder, 8, 1, (32, 32), CPU)
    frame = np.zeros((32, 32, 4), np.uint8)
    dec.decode(np.zeros((1, 8), np.float32), frame)
    assert frame.flags.c_contiguous and np.all(frame[..., 3] == 255)
    module = torch.jit.load(str(small_decoder))
    want = (module(torch.zeros(1, 8))[0].permute(1, 2, 0).clamp(0, 1) * 255 + 0.5).to(torch.uint8).numpy()
    np.testing.assert_array_equal(frame[..., :3], want)


def test_resize_to_the_requested_size(small_decoder):
    dec = FrameDecoder(small_decoder, 8, 1, (32, 32), CPU, out_size=(64, 48))
    frame = np.zeros((48, 64, 4), np.uint8)
    dec.decode(np.random.default_rng(0).standard_normal((1, 8)).astype(np.float32), frame)
    assert frame[..., :3].std() > 0


def _to_rgb8(img: torch.Tensor) -> np.ndarray:
    return (img.clamp(0, 1) * 255 + 0.5).to(torch.uint8).permute(1, 2, 0).numpy()


def test_size_upscales_with_lanczos_by_default(small_decoder):
    z = np.random.default_rng(1).standard_normal((1, 8)).astype(np.float32)
    native = torch.jit.load(str(small_decoder))(torch.from_numpy(z))[0].detach()  # (3, 32, 32)
    dec = FrameDecoder(small_decoder, 8, 1, (32, 32), CPU, out_size=(256, 192))
    frame = np.zeros((192, 256, 4), np.uint8)
    dec.decode(z, frame)
    want = _to_rgb8(Resampler((32, 32), (256, 192), "lanczos")(native))
    assert np.abs(frame[..., :3].astype(int) - want).max() <= 1  # float rounding at .5
    blurry = _to_rgb8(F.interpolate(native[None], size=(192, 256), mode="bilinear", align_corners=False)[0])
    assert not np.array_equal(frame[..., :3], blurry)


def test_the_old_bilinear_filter_is_still_there(small_decoder):
    z = np.random.default_rng(1).standard_normal((1, 8)).astype(np.float32)
    native = torch.jit.load(str(small_decoder))(torch.from_numpy(z))[0].detach()
    dec = FrameDecoder(small_decoder, 8, 1, (32, 32), CPU, out_size=(64, 48), upscale="bilinear")
    frame = np.zeros((48, 64, 4), np.uint8)
    dec.decode(z, frame)
    want = _to_rgb8(F.interpolate(native[None], size=(48, 64), mode="bilinear", align_corners=False)[0])
    assert np.abs(frame[..., :3].astype(int) - want).max() <= 1


def test_an_unknown_upscale_filter_is_a_config_error(small_decoder):
    with pytest.raises(ConfigError, match="upscale 'sinc': expected one of lanczos, bicubic, bilinear, nearest"):
        FrameDecoder(small_decoder, 8, 1, (32, 32), CPU, out_size=(64, 64), upscale="sinc")


def test_context_window_is_passed_as_batch_context_dim(tmp_path):
    path = make_decoder(tmp_path / "ctx.ts", 4, 32, context=3)
    dec = FrameDecoder(path, 4, 3, (32, 32), CPU)
    a, b = np.zeros((32, 32, 4), np.uint8), np.zeros((32, 32, 4), np.uint8)
    window = np.zeros((3, 4), np.float32)
    dec.decode(window, a)
    window[0] = 5.0  # the oldest frame of the window matters too
    dec.decode(window, b)
    assert not np.array_equal(a, b)


def test_device_frames_need_a_gpu(small_decoder):
    dec = FrameDecoder(small_decoder, 8, 1, (32, 32), CPU)
    with pytest.raises(ConfigError, match="--gpu-texture: the decoder runs on the CPU"):
        dec.use_device_frames(4, host_copy=False)


@pytest.mark.parametrize("out_size", [None, (64, 48)], ids=["native", "resized"])
def test_a_twin_decodes_alike_with_buffers_of_its_own(small_decoder, out_size):
    """Render decodes batches on several threads at once, one twin each: the network is shared,
    nothing a call writes is."""
    from concurrent.futures import ThreadPoolExecutor

    dec = FrameDecoder(small_decoder, 8, 1, (32, 32), CPU, out_size=out_size)
    twin = dec.twin()
    assert twin.module is dec.module and twin._z is not dec._z
    assert (twin.resize is None) == (out_size is None) and (twin.resize is None or twin.resize is not dec.resize)
    w, h = out_size or (32, 32)
    windows = np.random.default_rng(0).standard_normal((2, 8, 1, 8)).astype(np.float32)  # two batches of 8
    alone = [[np.zeros((h, w, 4), np.uint8) for _ in range(8)] for _ in range(2)]
    for batch, outs in zip(windows, alone):
        dec.decode_batch(batch, outs)
    together = [[np.zeros((h, w, 4), np.uint8) for _ in range(8)] for _ in range(2)]
    with ThreadPoolExecutor(2) as pool:
        for _ in range(20):  # long enough for the two threads to overlap
            list(pool.map(lambda d, b, o: d.decode_batch(b, o), [dec, twin], windows, together))
            np.testing.assert_array_equal(np.stack(together[0]), np.stack(alone[0]))
            np.testing.assert_array_equal(np.stack(together[1]), np.stack(alone[1]))
