"""Where takes go: one new folder per take inside the --record folder, named by its start time,
so stopping and starting again never writes over a take."""
from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any, Callable

from .recorder import Recorder


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
