"""Device choice: auto takes what is there; a device that is not here is named."""
import pytest
import torch

from latentvj.daemon.config import ConfigError
from latentvj.daemon.show.device import pick_device

CPU = torch.device("cpu")


def test_device_choice():
    assert pick_device("cpu") == CPU
    assert pick_device("auto").type in ("cpu", "cuda", "mps")
    if not torch.cuda.is_available():
        with pytest.raises(ConfigError, match="cuda"):
            pick_device("cuda")


def test_an_unknown_device_is_refused():
    with pytest.raises(ConfigError, match="expected cpu, cuda, mps or auto"):
        pick_device("tpu")
