"""Where takes go: one new folder per take inside the --record folder, named by its start time,
so stopping and starting again never writes over a take."""
from __future__ import annotations

import os
from datetime import datetime
from pathlib import Path
from typing import Any, Callable

from .recorder import Recorder
from .take_format import RecordError


def take_header(engine) -> dict[str, Any]:
    """What a replay needs besides the events: the live engine's settings, size and input."""
    opts, ropts, source = engine.opts, engine.runtime_opts, engine.source
    w, h = engine.size
    return {
        "engine": {"fps": opts.fps, "latency_margin_ms": opts.latency_margin_ms,
                   "features_latency_ms": opts.features_latency_ms, "seed": opts.seed,
                   "channel": -1 if opts.channel is None else opts.channel, "interpolate": opts.interpolate,
                   "fade_mode": opts.fade_mode, "width": w, "height": h},
        "runtime": {"device": str(ropts.device), "half": ropts.half, "stochastic": not ropts.deterministic,
                    "upscale": ropts.upscale},
        "input": {"name": str(getattr(source, "name", "?")), "paced": bool(source.paced)},
    }


class TakeFolder:
    def __init__(self, parent: Path, header: dict[str, Any]) -> None:
        """header: the run's part of each take's record.toml (engine options, input)."""
        self.parent = parent
        self.header = header

    def check(self) -> None:
        """At start-up, before any thread: the folder of takes exists (made if need be) and is writable."""
        try:
            self.parent.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise RecordError(f"--record {self.parent}: cannot create it ({exc.strerror})") from exc
        if not os.access(self.parent, os.W_OK | os.X_OK):
            raise RecordError(f"--record {self.parent}: not writable")

    def new_folder(self) -> Path:
        stem = datetime.now().strftime("%Y-%m-%d_%H-%M-%S")
        path, n = self.parent / stem, 1
        while path.exists():
            n += 1
            path = self.parent / f"{stem}-{n}"
        return path

    def start(self, source, on_error: Callable[[str], None]) -> Recorder:
        """A recorder for a new take of `source`'s audio; RecordError if its folder cannot be made."""
        header = {**self.header, "input": {**self.header["input"], "sample_rate": source.sample_rate,
                                            "channels": source.channels}}
        return Recorder(self.new_folder(), header, source.sample_rate, source.channels, on_error)
