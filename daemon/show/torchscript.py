"""Loading a TorchScript file (a RAVE export, a decoder), with errors that name the file.

Every model a show holds goes through here: the runtime needs plain torch and nothing from the
code that trained the model.

`torch.jit.load` holds the GIL while it parses a model's code: 130-190 ms for the demo's RAVE on
the 2-core CI machine, during which the render thread cannot start a frame (a show switch dropped
4 to 6 frames that way). Each file is parsed once per process: the parsed module is kept, never
run, under its content's SHA-256, and every load hands out a deep copy (its own parameters and
streaming buffers), which lets go of the GIL every few ms (the demo's RAVE: 80 ms in all, no
frame lost). A show played again, or the same model in another bundle, costs no parse.
"""
from __future__ import annotations

import copy
import threading
from collections import OrderedDict
from pathlib import Path

import torch

from .bundle import ShowError, sha256_of

KEEP = 8  # parsed files kept (a show has two or three)
_parsed: OrderedDict[tuple[str, str], torch.jit.ScriptModule] = OrderedDict()  # (sha256, device) -> module
_lock = threading.Lock()


def load_torchscript(path: Path, device: torch.device) -> torch.jit.ScriptModule:
    """A fresh copy of the module in `path` on `device`; ShowError naming the file when it is
    missing or not a TorchScript export."""
    if not path.is_file():
        raise ShowError(f"{path}: missing")
    try:
        key = (sha256_of(path), str(device))
    except OSError as exc:
        raise ShowError(f"{path}: cannot read ({exc.strerror})") from exc
    with _lock:
        master = _parsed.get(key)
        if master is not None:
            _parsed.move_to_end(key)
    if master is None:
        master = _parse(path, device)
        with _lock:
            _parsed[key] = master
            while len(_parsed) > KEEP:
                _parsed.popitem(last=False)
    with torch.no_grad():  # plain parameters (with autograd on, a copy's would be clones hanging off the master's)
        return copy.deepcopy(master)


def _parse(path: Path, device: torch.device) -> torch.jit.ScriptModule:
    try:
        module = torch.jit.load(str(path), map_location=device)
    except (RuntimeError, ValueError, OSError) as exc:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise ShowError(f"{path}: not a loadable TorchScript file ({first})") from exc
    module.eval()
    return module
