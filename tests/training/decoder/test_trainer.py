import signal
import subprocess
import sys
import time

import pytest
import torch

from conftest import train_run
from latentvj.training.checkpoint import load_checkpoint
from latentvj.training.data.dataset import DatasetError


def _cmd(data, out, arch, *extra):
    return [sys.executable, "-m", "latentvj.training.cli", "train", "decoder", "--arch", arch, str(data), "--out", str(out),
            "--config", str(out.parent / "train.toml"), *extra]


@pytest.mark.parametrize("arch", ["ours"])
def test_killed_run_resumes_to_the_same_weights(tmp_path, dataset, arch):
    (tmp_path / "train.toml").write_text(
        "steps = 60\nbatch = 4\nworkers = 0\nckpt_every = 5\neval_every = 1000\nlog_every = 5\neval_frames = 30\n"
        "context = 2\n")
    whole, killed = tmp_path / "whole", tmp_path / "killed"
    subprocess.run(_cmd(dataset, whole, arch), check=True, capture_output=True)
    proc = subprocess.Popen(_cmd(dataset, killed, arch), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 300
    while not (killed / "checkpoint.pt").exists() and time.monotonic() < deadline:
        time.sleep(0.005)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    stopped_at = load_checkpoint(killed)["step"]
    assert stopped_at < 60, "the run finished before it was killed"
    done = subprocess.run(_cmd(dataset, killed, arch, "--resume"), capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert f"resumed from step {stopped_at}" in done.stderr
    a, b = load_checkpoint(whole), load_checkpoint(killed)
    assert a["step"] == b["step"] == 60
    for k in a["model"]:
        assert torch.equal(a["model"][k], b["model"][k]), k
    assert not list(killed.glob(".*.tmp"))


def test_baseline_run_writes_config_metrics_and_tensorboard(tmp_path, dataset):
    out = tmp_path / "base"
    result = train_run(dataset, out, arch="baseline", baseline_loss="mse")
    assert set(result["metrics"]) >= {"psnr", "ssim", "flicker", "reactivity"}
    assert (out / "config.toml").read_text().count('arch = "baseline"') == 1
    assert (out / "metrics.toml").is_file() and list((out / "tb").glob("events.out.tfevents.*"))
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    ev = EventAccumulator(str(out / "tb"), size_guidance={"images": 0})
    ev.Reload()
    assert {"train/loss", "heldout/psnr", "speed/samples_per_s"} <= set(ev.Tags()["scalars"])
    img = ev.Images("heldout/truth_over_prediction")[-1]
    assert img.height == 2 * 32  # truth above prediction


def test_run_folder_rules(tmp_path, dataset, trained_run):
    with pytest.raises(DatasetError, match="pass --resume"):
        train_run(dataset, trained_run)
    from latentvj.training.train_config import TrainConfig, apply

    with pytest.raises(DatasetError, match="did you mean 'steps'"):
        apply(TrainConfig(), {"step": 3}, "train.toml")
    with pytest.raises(DatasetError, match="'lr' should be float"):
        apply(TrainConfig(), {"lr": "fast"}, "train.toml")
    from latentvj.daemon.cli import main

    assert main(["train", "decoder", str(dataset), "--out", str(trained_run), "--resume", "--steps", "99"]) == 2


def test_a_long_step_checkpoints_before_ckpt_every(tmp_path, dataset, monkeypatch):
    """A run shorter than ckpt_every steps still checkpoints on wall time, so a kill loses little."""
    from latentvj.training.decoder import trainer

    saved: list[int] = []
    real_save = trainer.save_atomic
    monkeypatch.setattr(trainer, "CHECKPOINT_S", -1.0)  # every step is "five minutes later"
    monkeypatch.setattr(trainer, "save_atomic", lambda obj, path: (saved.append(obj["step"]), real_save(obj, path)))
    train_run(dataset, tmp_path / "run", steps=6, ckpt_every=1000, eval_every=1000)
    assert saved == [1, 2, 3, 4, 5, 6]
