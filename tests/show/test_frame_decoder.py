import numpy as np
import pytest
import torch

from conftest import make_decoder
from latentvj.daemon.config import ConfigError
from latentvj.daemon.show.frame_decoder import FrameDecoder

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
