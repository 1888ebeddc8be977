import numpy as np
import pytest

from latentvj.training.data.dataset import FrameDataset, to_tensor
from latentvj.training.eval.evaluate import (
    eval_indices,
    evaluate,
    format_metrics,
    format_video,
    metrics,
    video_metrics,
    video_runs,
)


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


def test_video_runs_are_whole_videos_or_long_enough_held_out_segments(dataset):
    data = FrameDataset(dataset)
    runs = video_runs(data, whole=True)
    assert [len(r) for r in runs] == np.diff(data.offsets).tolist()  # one per video, start to end
    assert video_runs(data, whole=False) == []  # 1 s held-out segments: too short to read cuts from


def test_a_perfect_decoder_plays_like_its_source(dataset):
    data = FrameDataset(dataset)
    m = video_metrics(lambda i: to_tensor(data.frames(i)), data, video_runs(data, whole=True), whole=True)
    for k in ("cuts_on_beat", "cuts_per_min", "motion", "flash_r"):
        assert m[k] == pytest.approx(m[f"source_{k}"], abs=1e-6, nan_ok=True)
    assert m["motion_ratio"] == pytest.approx(1.0) and m["video_frames"] == data.n
    assert "cuts/min" in format_video(m) and "whole videos" in format_video(m)


def test_eval_of_a_show_plays_a_song_in_order_only_when_asked_on_its_own_data(image_show, dataset):
    own = evaluate(str(image_show), dataset)  # its training data: held-out segments, here too short
    assert "cuts_per_min" not in own and "cuts on beat" not in format_metrics(own)
    m = evaluate(str(image_show), dataset, whole=True)
    assert m["video_frames"] == FrameDataset(dataset).n and m["video_whole"] == 1.0
    assert np.isfinite(m["motion_ratio"]) and "cuts on beat" in format_metrics(m)
    assert m["psnr"] == pytest.approx(own["psnr"])  # the held-out metrics are as they were
