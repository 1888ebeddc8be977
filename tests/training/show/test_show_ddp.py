"""`train show` on two processes under torchrun (gloo on the CPU): one run, one checkpoint, the
same weights on both ranks, and a stop asked of one rank resumed exactly."""
import logging
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
import torch

from latentvj.training.checkpoint import load_checkpoint
from latentvj.training.data.dataset import FrameDataset, StepBatches
from latentvj.training.distributed import Ranks
from latentvj.training.show.show_trainer import _rank_rng
from latentvj.training.train_config import TrainConfig, apply, conditioning_of

STATE = ("image", "disc", "mapping")
STEPS = 12

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="finds a rank's process in /proc")


def _cmd(data: Path, out: Path, config: Path, *extra: str) -> list[str]:
    return [sys.executable, "-m", "torch.distributed.run", "--nproc_per_node", "2", "--standalone",
            "-m", "latentvj.training.cli", "train", "show", str(data), "--out", str(out), "--config", str(config),
            "--context", "2", "--music-window", "3", *extra]


def _rank_pid(parent: int, rank: int) -> int | None:
    """The pid of torchrun's child with RANK=rank, once it has started."""
    for d in Path("/proc").iterdir():
        if not d.name.isdigit():
            continue
        try:
            if int((d / "stat").read_text().rsplit(")", 1)[1].split()[1]) != parent:
                continue
            env = (d / "environ").read_bytes().split(b"\0")
        except (OSError, ValueError, IndexError):
            continue
        if f"RANK={rank}".encode() in env:
            return int(d.name)
    return None


def test_each_rank_draws_its_own_batches(dataset):
    data = FrameDataset(dataset)
    cfg = apply(TrainConfig(), {"data": str(dataset), "context": 2, "music_window": 3}, "test")
    ranks = [StepBatches(data, 4, conditioning_of(cfg, data), 0, rank, 2) for rank in (0, 1)]
    epoch = ranks[0].per_epoch
    seen = [np.concatenate([b.indices(s) for s in range(epoch)]) for b in ranks]
    assert not np.intersect1d(seen[0], seen[1]).size  # an epoch's frames dealt out, none twice
    assert len(np.unique(np.concatenate(seen))) == epoch * 4 * 2
    assert not np.array_equal(ranks[0].indices(epoch), ranks[1].indices(epoch))


def test_a_run_from_two_processes_resumes_on_one_from_rank_zeros_state(caplog):
    states = [{"gen": torch.Generator().manual_seed(r).get_state()} for r in (0, 1)]
    one = Ranks("cpu")  # no torchrun: rank 0 of 1, every collective a no-op
    assert (one.rank, one.world, one.any(True, False), one.gather(3), one.from_master(4)) == (0, 1, [True, False],
                                                                                               [3], 4)
    with caplog.at_level(logging.WARNING, "latentvj.train"):
        assert _rank_rng({"world": 2, "rng": states[0], "rng_ranks": states}, one) is states[0]
    assert "started on 2 processes, resumed on 1" in caplog.text
    assert _rank_rng({"rng": states[1]}, one) is states[1]  # a checkpoint from before `world` was saved


def test_two_processes_train_one_show_and_a_stop_on_one_rank_resumes_exactly(tmp_path, dataset):
    config = tmp_path / "train.toml"
    config.write_text(f"steps = {STEPS}\nbatch = 4\nworkers = 0\nckpt_every = 3\neval_every = 100\nlog_every = 5\n"
                      "eval_frames = 60\nlatent = 8\naudio_latent = 3\nadv_start = 0.25\n")
    whole, stopped = tmp_path / "whole", tmp_path / "stopped"
    run = subprocess.run(_cmd(dataset, whole, config), capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, run.stderr
    assert "weights identical on all 2 processes" in run.stderr
    assert "image show trained 12 steps" in run.stdout  # the CLI's summary of rank 0's result
    ck = load_checkpoint(whole)
    assert (ck["step"], ck["world"], len(ck["rng_ranks"])) == (STEPS, 2, 2)
    assert not torch.equal(ck["rng_ranks"][0]["gen"], ck["rng_ranks"][1]["gen"])  # each rank its own noise
    assert sorted(p.name for p in whole.iterdir()) == ["checkpoint.pt", "config.toml", "metrics.toml", "tb"]
    assert len(list((whole / "tb").iterdir())) == 1  # rank 0's TensorBoard alone

    # SIGTERM to rank 1 alone once a checkpoint exists: both ranks stop after the same step
    proc = subprocess.Popen(_cmd(dataset, stopped, config), stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                            text=True)
    deadline, rank1 = time.monotonic() + 300, None
    while not (stopped / "checkpoint.pt").exists() and time.monotonic() < deadline and proc.poll() is None:
        rank1 = rank1 or _rank_pid(proc.pid, 1)
        time.sleep(0.005)
    assert rank1, "rank 1 never started"
    os.kill(rank1, signal.SIGTERM)
    err = proc.communicate(timeout=120)[1]
    at = load_checkpoint(stopped)["step"]
    assert proc.returncode != 0 and at < STEPS, "the run finished before it was stopped"
    assert f"stopped at step {at} with a checkpoint" in err
    done = subprocess.run(_cmd(dataset, stopped, config, "--resume"), capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    assert f"resumed from step {at} of {STEPS}" in done.stderr
    a, b = ck, load_checkpoint(stopped)
    assert a["step"] == b["step"] == STEPS
    for part in STATE:
        for k in a[part]:
            assert torch.equal(a[part][k], b[part][k]), (part, k)
    assert np.array_equal(a["result"]["bank"], b["result"]["bank"])
    assert not list(stopped.glob(".*.tmp"))
