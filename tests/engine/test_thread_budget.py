"""The thread budget: one place that sets torch's threads, the GIL's switch interval and libx264's."""
import sys

import pytest
import torch

from latentvj.daemon.config import ConfigError, load_config
from latentvj.daemon.engine.thread_budget import MAX_DECODERS, ThreadBudget


@pytest.fixture
def restore():
    threads, interval = torch.get_num_threads(), sys.getswitchinterval()
    yield
    torch.set_num_threads(threads)
    sys.setswitchinterval(interval)


def test_flags_set_the_budget_and_it_says_so(restore):
    cfg = load_config(None, {"threads": 1, "switch_interval_ms": 1.0, "h264_threads": 2, "h264_preset": "faster"})
    budget = ThreadBudget.from_config(cfg)
    budget.apply()
    assert torch.get_num_threads() == 1 and sys.getswitchinterval() == pytest.approx(0.001)
    assert budget.h264.threads == 2 and budget.h264.preset == "faster"
    text = budget.describe()
    assert "torch 1 intra-op" in text and "switch interval 1 ms" in text and "H.264 threads 2, preset faster" in text


def test_defaults_are_the_libraries_own():
    budget = ThreadBudget.from_config(load_config(None, {}))
    assert budget.torch_threads == torch.get_num_threads()
    assert budget.switch_interval_ms == 5.0 and budget.h264_threads == 0 and budget.h264_preset == "veryfast"


@pytest.mark.parametrize("flags, words", [
    ({"threads": 0}, "threads 0"),
    ({"switch_interval_ms": 0.0}, "switch_interval_ms"),
    ({"h264_threads": -1}, "h264_threads"),
    ({"h264_preset": "quick"}, "veryfast"),
])
def test_bad_settings_are_refused_with_the_reason(flags, words):
    with pytest.raises(ConfigError, match=words):
        load_config(None, flags).check()


@pytest.mark.parametrize("device, batch, decoders, want", [
    ("cpu", 8, None, (2, 1)),  # a decoder per core, one thread each
    ("cpu", 1, None, (1, 2)),  # --batch 1: the live path's calls, with the run's threads
    ("cuda", 8, None, (1, 2)),  # one GPU: one decoder
    ("cpu", 8, 1, (1, 2)),  # --decoders 1
    ("cpu", 8, 3, (3, 1)),
])
def test_render_on_the_cpu_runs_a_decoder_per_core(device, batch, decoders, want):
    budget = ThreadBudget.from_config(load_config(None, {"threads": 2})).for_render(device, batch, decoders)
    assert (budget.decoders, budget.torch_threads) == want
    assert ("decoders at once" in budget.describe()) == (want[0] > 1)


def test_many_cores_give_a_few_decoders_several_threads():
    """Each decoder holds its batches' frames: 32 cores make 8 decoders of 4 threads, not 32."""
    budget = ThreadBudget.from_config(load_config(None, {"threads": 32})).for_render("cpu", 8)
    assert (budget.decoders, budget.torch_threads) == (MAX_DECODERS, 32 // MAX_DECODERS)


@pytest.mark.parametrize("device", ["cuda", "mps"])
def test_several_decoders_on_a_gpu_are_refused(device):
    with pytest.raises(ConfigError, match=f"--decoders 2: .* the {device} device runs one"):
        ThreadBudget.from_config(load_config(None, {})).for_render(device, 8, 2)
