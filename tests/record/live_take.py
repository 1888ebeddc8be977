"""A take recorded by the live engine with everything a set does: fader moves, a preset morph, a
show crossfade (the `live_take` fixture in tests/conftest.py makes it once)."""
from __future__ import annotations

import threading
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np
from conftest import CPU as CPU_OPTIONS, eventually
from latentvj.daemon.audio.files import load_audio
from latentvj.daemon.audio.sources import PacedSource
from latentvj.daemon.control.state import Control
from latentvj.daemon.engine.engine_options import EngineOptions
from latentvj.daemon.engine.live_engine import LiveEngine
from latentvj.daemon.record.take_folder import TakeFolder, take_header
from latentvj.daemon.show.runtime import ShowRuntime
from latentvj.daemon.sinks import Sink

LIVE = replace(CPU_OPTIONS, size=(64, 64))
FPS = 30


class MemorySink(Sink):
    wants_audio = True

    def __init__(self):
        super().__init__("memory")
        self.frames: dict[int, np.ndarray] = {}
        self.audio: list[np.ndarray] = []

    def write_frame(self, frame, index):
        self.frames[index] = frame.copy()

    def write_audio(self, samples):
        self.audio.append(samples.copy())


@dataclass
class LiveTake:
    folder: Path
    frames: dict[int, np.ndarray]  # what the live run published, by grid index
    late: list[int]
    dropped: int
    errors: list[str]


def record_live(parent: Path, features_show: Path, audio_path: Path, rate: int = 44100) -> LiveTake:
    """rate: the input's sample rate (another than the shows' 44.1 kHz: the engine resamples)."""
    audio, sr = load_audio(audio_path, rate)
    control = Control(ShowRuntime.load("demo", LIVE).latent_dim, parent / "presets")
    sink = MemorySink()
    engine = LiveEngine(PacedSource("track", audio, sr, loop=False), ShowRuntime.load("demo", LIVE), control,
                        [sink], None, EngineOptions(fps=FPS, seed=5), LIVE)
    errors: list[str] = []
    rec = TakeFolder(parent / "takes", take_header(engine)).start(engine.source, errors.append)
    engine.record(rec)
    engine.start()
    at = lambda t: eventually(lambda: engine.status().frame >= t * FPS, 30)  # noqa: E731
    try:
        at(0.5)
        control.set_dim_bias(0, 1.5)
        control.set_noise(0.2)
        control.save_preset("wide", control.snapshot())
        control.set_scale(2.0)
        at(1.0)
        control.load_preset("wide", 0.8)  # a morph back to before the scale move
        at(1.3)
        control.set_dim_bias(1, -1.0)  # a fader during the morph: it leaves the morph
        at(2.3)
        switch = threading.Thread(target=engine.switch_show, args=(str(features_show), 1.0))
        switch.start()
        switch.join(30)
        control.set_dim_bias(2, 0.7)  # the features show's own controls
        assert engine.done.wait(30)
    finally:
        engine.stop()
    engine.record(None)
    rec.close()
    return LiveTake(rec.folder, sink.frames, list(engine.late_frames), engine.stats.dropped, errors)
