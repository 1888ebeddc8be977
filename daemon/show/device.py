"""Which torch device the models run on, and waiting for it when timing."""
from __future__ import annotations

import torch

from ..config import ConfigError


def pick_device(name: str) -> torch.device:
    """`auto`: cuda, then mps, then cpu. An explicit device that is not here is an error."""
    if name == "auto":
        if torch.cuda.is_available():
            return torch.device("cuda")
        if getattr(torch.backends, "mps", None) is not None and torch.backends.mps.is_available():
            return torch.device("mps")
        return torch.device("cpu")
    if name == "cuda" and not torch.cuda.is_available():
        raise ConfigError("--device cuda: no CUDA GPU is available to this torch build")
    if name == "mps" and not (getattr(torch.backends, "mps", None) and torch.backends.mps.is_available()):
        raise ConfigError("--device mps: Apple's Metal backend is not available here")
    if name not in ("cpu", "cuda", "mps"):
        raise ConfigError(f"--device {name}: expected cpu, cuda, mps or auto")
    return torch.device(name)


def synchronize(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)
    elif device.type == "mps":
        torch.mps.synchronize()
