"""The engine the benches of one feature measure: the demo show on the demo loop, on the CPU, no
OSC (fade_bench.py, record_bench.py)."""
from __future__ import annotations

import torch

from ..app import DEMO_LOOP
from ..audio.files import load_audio
from ..audio.sources import PacedSource
from ..control.state import Control
from ..engine.engine_options import EngineOptions
from ..engine.live_engine import LiveEngine
from ..show.runtime import RuntimeOptions, ShowRuntime
from ..sinks import make_sink


def demo_engine(opts: EngineOptions, sink: str = "null", observer=None) -> LiveEngine:
    ropts = RuntimeOptions(torch.device("cpu"))
    rt = ShowRuntime.load("demo", ropts)
    audio, _ = load_audio(DEMO_LOOP, rt.sample_rate)
    return LiveEngine(PacedSource("demo", audio, rt.sample_rate, loop=True), rt, Control(rt.latent_dim),
                      [make_sink(sink)], None, opts, ropts, observer=observer)
