"""Loading a TorchScript file (a RAVE export, a decoder), with errors that name the file.

Every model a show holds goes through here: the runtime needs plain torch and nothing from the
code that trained the model.
"""
from __future__ import annotations

from pathlib import Path

import torch

from .bundle import ShowError


def load_torchscript(path: Path, device: torch.device) -> torch.jit.ScriptModule:
    """`torch.jit.load` with a message that names the file when it is not a TorchScript export."""
    if not path.is_file():
        raise ShowError(f"{path}: missing")
    try:
        module = torch.jit.load(str(path), map_location=device)
    except (RuntimeError, ValueError, OSError) as exc:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise ShowError(f"{path}: not a loadable TorchScript file ({first})") from exc
    module.eval()
    return module
