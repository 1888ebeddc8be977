import numpy as np
import pytest

from latentvj.training.dataset import FrameDataset, to_tensor
from latentvj.training.evaluate import eval_indices, metrics


def test_a_perfect_decoder_scores_perfectly(dataset):
    data = FrameDataset(dataset)
    idx = eval_indices(data, 90)
    m = metrics(lambda i: to_tensor(data.frames(i)), data, idx, data.conditioning(["rave"]))
    assert m["psnr"] == pytest.approx(100.0) and m["ssim"] == pytest.approx(1.0, abs=1e-4)
    assert m["flicker"] == pytest.approx(1.0)
    assert m["reactivity"] == pytest.approx(m["source_reactivity"])


def test_a_frozen_decoder_has_no_flicker_and_no_reactivity(dataset):
    data = FrameDataset(dataset)
    idx = eval_indices(data, 90)
    still = to_tensor(data.frames(idx[:1]))
    m = metrics(lambda i: still.expand(len(i), -1, -1, -1), data, idx, data.conditioning(["rave"]))
    assert m["flicker"] == 0.0 and np.isnan(m["reactivity"]) and m["psnr"] < 40
