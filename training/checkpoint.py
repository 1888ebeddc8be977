"""A training run's checkpoint: written atomically, read back with errors that name the file, and
turned back into its model. The checkpoint carries the model's settings (`meta`) beside its
weights, as nanoGPT's does, so evaluate and export need this module and models.py, not the trainer.
"""
from __future__ import annotations

import os
import signal
import threading
from pathlib import Path
from types import TracebackType
from typing import Any

import torch

from latentvj.daemon.show.conditioning import (
    Conditioning,
    ConditioningError,
    parse_conditioning,
)

from latentvj.training.data.dataset import DatasetError
from latentvj.training.decoder.models import build_model

CHECKPOINT = "checkpoint.pt"
CHECKPOINT_S = 300.0  # also checkpoint after this much wall time, whatever ckpt_every says: a kill loses
# at most five minutes, even when the run is shorter than ckpt_every steps


class StopRequests:
    """Ctrl-C or a plain `kill` during training: noted, so the loop can finish its step, save a
    checkpoint and stop (a step cut in half cannot be resumed exactly). A second one stops at once.
    Outside the main thread (where signals cannot be caught) it never asks."""

    def __init__(self) -> None:
        self.asked = False
        self._old: dict[int, Any] = {}

    def _note(self, signum: int, frame: Any) -> None:
        if self.asked:
            raise KeyboardInterrupt
        self.asked = True

    def __enter__(self) -> StopRequests:
        if threading.current_thread() is threading.main_thread():
            for sig in (signal.SIGINT, signal.SIGTERM):
                self._old[sig] = signal.signal(sig, self._note)
        return self

    def __exit__(self, kind: type | None, exc: BaseException | None, tb: TracebackType | None) -> None:
        for sig, handler in self._old.items():
            signal.signal(sig, handler)


def ignore_interrupts(worker: int) -> None:
    """DataLoader workers leave Ctrl-C to the training loop, which stops cleanly (StopRequests)."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)


def save_atomic(obj: Any, path: Path) -> None:
    tmp = path.with_name(f".{path.name}.tmp")
    try:
        with open(tmp, "wb") as f:
            torch.save(obj, f)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except OSError as exc:
        tmp.unlink(missing_ok=True)
        raise DatasetError(f"{path}: cannot write the checkpoint ({exc.strerror or exc}); "
                           "the previous checkpoint is intact") from exc


def load_checkpoint(run: Path) -> dict:
    path = run / CHECKPOINT
    try:
        return torch.load(path, map_location="cpu", weights_only=False)
    except FileNotFoundError as exc:
        raise DatasetError(f"{run}: no {CHECKPOINT}; is this a training run?") from exc
    except Exception as exc:  # noqa: BLE001 - pickle/zip errors of every kind mean the same thing here
        raise DatasetError(f"{path}: unreadable checkpoint ({type(exc).__name__}: {exc})") from exc


def make_model(meta: dict) -> torch.nn.Module:
    if meta["arch"] not in ("ours", "baseline"):
        raise DatasetError(f"a checkpoint of arch '{meta['arch']}': not a decoder run")
    try:
        return build_model(meta["arch"], meta["latent_dim"], meta["context"], meta["width"], meta["height"],
                           layout=meta_conditioning(meta).layout())
    except ValueError as exc:
        raise DatasetError(str(exc)) from exc


def meta_conditioning(meta: dict) -> Conditioning:
    """The conditioning a run trains on, with the stats it was trained with."""
    try:
        return parse_conditioning(meta["conditioning"], "checkpoint", meta["rave_dim"])
    except (ConditioningError, KeyError) as exc:
        raise DatasetError(f"a checkpoint from before runs recorded their conditioning, or a damaged one "
                           f"({type(exc).__name__}: {exc}); train it again") from exc


def load_model(run: Path) -> tuple[torch.nn.Module, dict]:
    """The run's model with its last weights, in eval mode, and the whole checkpoint."""
    ck = load_checkpoint(run)
    model = make_model(ck["meta"])
    model.load_state_dict(ck["model"])
    return model.eval(), ck
