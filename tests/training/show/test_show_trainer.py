import signal
import subprocess
import sys
import time

import numpy as np
import pytest
import torch

from conftest import show_run
from latentvj.training.checkpoint import load_checkpoint
from latentvj.training.data.dataset import DatasetError, FrameDataset
from latentvj.training.show.show_trainer import MIN_FRAMES, check_frames

STATE = ("image", "disc", "mapping")


def _same_weights(a: dict, b: dict) -> None:
    assert a["step"] == b["step"]
    for part in STATE:
        for k in a[part]:
            assert torch.equal(a[part][k], b[part][k]), (part, k)
    assert np.array_equal(a["result"]["bank"], b["result"]["bank"])


@pytest.mark.parametrize("stop", [4, 10])  # before the discriminator joins (at 6), and after
def test_a_run_stopped_anywhere_resumes_to_the_same_weights(tmp_path_factory, dataset, image_run, stop):
    out = tmp_path_factory.mktemp("stopped") / "run"
    assert show_run(dataset, out, until=stop) == {}
    assert load_checkpoint(out)["step"] == stop
    show_run(dataset, out)
    _same_weights(load_checkpoint(image_run), load_checkpoint(out))


def test_a_killed_process_resumes_exactly(tmp_path, dataset, image_run):
    (tmp_path / "train.toml").write_text(
        "steps = 24\nbatch = 4\nworkers = 0\nckpt_every = 3\neval_every = 10\nlog_every = 5\neval_frames = 60\n"
        "latent = 8\naudio_latent = 3\nadv_start = 0.25\n")
    out = tmp_path / "killed"
    cmd = [sys.executable, "-m", "latentvj.training.cli", "train", "show", str(dataset), "--out", str(out),
           "--config", str(tmp_path / "train.toml"), "--context", "2", "--music-window", "3"]
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 300
    while not (out / "checkpoint.pt").exists() and time.monotonic() < deadline:
        time.sleep(0.005)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    stopped_at = load_checkpoint(out)["step"]
    assert stopped_at < 24, "the run finished before it was killed"
    done = subprocess.run([*cmd, "--resume"], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert f"resumed from step {stopped_at}" in done.stderr
    _same_weights(load_checkpoint(image_run), load_checkpoint(out))


def test_the_run_reports_what_the_audio_explains_and_the_picture_scores(image_run):
    ck = load_checkpoint(image_run)
    result = ck["result"]
    assert len(result["explained"]) == 8 and all(r <= 1.0 for r in result["explained"])
    assert {"psnr", "sharpness", "realism", "nn_out", "nn_real"} <= set(result["metrics"])
    bank, runs = result["bank"], np.asarray(result["runs"])
    assert bank.shape == (runs[-1, 1], 8) and bank.dtype == np.float32
    assert not bank[:, :3].any()  # the audio directions come from the mapping, the footage from the bank
    assert np.allclose(bank[:, 3:].std(0), 1.0, atol=0.2)  # whitened (over all training frames)
    assert (image_run / "metrics.toml").read_text().count("explained") == 1


def test_too_few_or_identical_frames_are_refused_in_one_line(dataset):
    data = FrameDataset(dataset)
    data.train_idx = data.train_idx[: MIN_FRAMES - 1]
    with pytest.raises(DatasetError, match=f"{MIN_FRAMES - 1} training frames; an image model needs at least"):
        check_frames(data)
    data = FrameDataset(dataset)
    first = data.frames(data.train_idx[:1])
    data.frames = lambda idx: np.repeat(first, len(idx), axis=0)
    with pytest.raises(DatasetError, match="all the same picture"):
        check_frames(data)


def test_cli_train_show_refuses_bad_settings_in_one_line(tmp_path, dataset):
    from latentvj.daemon.cli import main

    assert main(["train", "show", str(dataset), "--out", str(tmp_path / "r"), "--latent", "4"]) == 2
    assert not (tmp_path / "r" / "checkpoint.pt").exists()
