"""A run's checkpoint: written atomically, unreadable ones named, the model rebuilt from it alone."""
import pytest
import torch

from latentvj.training.checkpoint import (
    CHECKPOINT,
    load_checkpoint,
    load_model,
    save_atomic,
)
from latentvj.training.data.dataset import DatasetError


def test_an_unreadable_or_missing_checkpoint_is_named(tmp_path):
    with pytest.raises(DatasetError, match="no checkpoint.pt; is this a training run"):
        load_checkpoint(tmp_path)
    (tmp_path / CHECKPOINT).write_bytes(b"\x00" * 100)
    with pytest.raises(DatasetError, match="unreadable checkpoint"):
        load_checkpoint(tmp_path)


def test_a_write_that_fails_is_named_and_the_last_checkpoint_stays(tmp_path):
    path = tmp_path / CHECKPOINT
    save_atomic({"step": 1}, path)
    with pytest.raises(DatasetError, match="cannot write the checkpoint.*the previous checkpoint is intact"):
        save_atomic({"step": 2}, tmp_path / "gone" / CHECKPOINT)  # a folder that vanished under the run
    assert load_checkpoint(tmp_path)["step"] == 1
    assert sorted(p.name for p in tmp_path.iterdir()) == [CHECKPOINT]  # no temporary file left behind


def test_the_model_comes_back_from_the_checkpoint_alone(trained_run):
    model, ck = load_model(trained_run)
    assert not model.training
    assert ck["step"] == ck["config"]["steps"]
    for name, tensor in model.state_dict().items():
        assert torch.equal(tensor, ck["model"][name]), name
