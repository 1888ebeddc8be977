"""Shared fixtures: real shows made by our own code, real audio files, free UDP ports."""
from __future__ import annotations

import socket
import sys
from pathlib import Path

import numpy as np
import pytest
import torch

from latentvj.daemon.show.bundle import BUILTIN_DIR
from latentvj.daemon.show.runtime import RuntimeOptions
from latentvj.training.decoder.models import LatentDecoder
from latentvj.training.synth.synthetic import procedural_track, write_audio

DEMO = BUILTIN_DIR / "demo"
TESTS = Path(__file__).resolve().parent
REPO = TESTS.parent
SR = 44100


CPU = RuntimeOptions(torch.device("cpu"))  # how tests load shows: frozen, so one for all


def eventually(condition, timeout: float = 10.0) -> bool:
    """Poll `condition` until it holds or `timeout` passes; returns its last value. Waits for what
    another thread or the network delivers without guessing how long that takes."""
    import time

    end = time.monotonic() + timeout
    while not condition() and time.monotonic() < end:
        time.sleep(0.005)
    return bool(condition())


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="session")
def demo_show() -> Path:
    return DEMO


@pytest.fixture(scope="session")
def track_wav(tmp_path_factory) -> Path:
    """6 s of the procedural track as 16-bit WAV at 44.1 kHz."""
    path = tmp_path_factory.mktemp("audio") / "track.wav"
    write_audio(path, procedural_track(SR, 6.0, seed=3).audio, SR)
    return path


@pytest.fixture(scope="session")
def track_mono(track_wav) -> np.ndarray:
    """The same track mixed down as the daemon does: (n,) float32 at 44.1 kHz."""
    from latentvj.daemon.audio.files import load_audio

    audio, _ = load_audio(track_wav, SR)
    return audio.mean(axis=1).astype(np.float32)


def make_decoder(path: Path, latent_dim: int, size: int = 32, context: int = 1) -> Path:
    torch.manual_seed(0)
    model = LatentDecoder(latent_dim, context, size, size).eval()
    torch.jit.script(model).save(str(path))
    return path


@pytest.fixture(scope="session")
def small_decoder(tmp_path_factory) -> Path:
    """8-d latent -> 32x32, untrained: fast enough for every test."""
    return make_decoder(tmp_path_factory.mktemp("dec") / "decoder.ts", 8, 32)


@pytest.fixture(scope="session")
def features_show(tmp_path_factory, small_decoder, track_wav) -> Path:
    """A VAE-style show: the features encoder, an affine mapping into an 8-d latent."""
    from latentvj.daemon.show.pack import create_show

    rng = np.random.default_rng(0)
    mapping = {"weight": rng.standard_normal((8, 6)) * 0.5, "bias": np.zeros(8)}
    out = tmp_path_factory.mktemp("shows") / "features"
    return create_show(out, small_decoder, encoder=None, calibrate=track_wav, name="features", mapping=mapping)


@pytest.fixture(scope="session")
def latent_show(tmp_path_factory, small_decoder, track_wav) -> Path:
    """A plain latent show: the demo's RAVE encoder straight into an 8-d decoder."""
    from latentvj.daemon.show.pack import create_show

    out = tmp_path_factory.mktemp("shows") / "latent"
    return create_show(out, small_decoder, encoder=DEMO / "encoder.ts", calibrate=track_wav, name="latent")


@pytest.fixture()
def port() -> int:
    return free_port()


@pytest.fixture(scope="session")
def music_videos(tmp_path_factory) -> list[Path]:
    """Three short synthetic music videos: stereo 44.1 kHz 16:9; 5.1 at 48 kHz, portrait, 25 fps; mono, odd size."""
    from latentvj.training.synth.synthetic import write_music_video

    d = tmp_path_factory.mktemp("videos")
    return [
        write_music_video(d / "a.mp4", procedural_track(44100, 6.0, seed=1), 96, 54),
        write_music_video(d / "b.mp4", procedural_track(48000, 5.0, seed=2), 60, 80, fps=25, audio_layout="5.1"),
        write_music_video(d / "c.mp4", procedural_track(44100, 4.0, seed=3), 65, 49, audio_layout="mono"),  # odd size
    ]


def build(videos: list[Path], out: Path, **kw):
    from latentvj.training.data.dataset_build import BuildOptions, build_dataset

    opts = BuildOptions(size=kw.pop("size", 32), heldout_seconds=kw.pop("heldout_seconds", 1.0), **kw)
    return build_dataset(videos, DEMO / "encoder.ts", out, opts)


@pytest.fixture(scope="session")
def dataset(tmp_path_factory, music_videos) -> Path:
    out = tmp_path_factory.mktemp("data") / "data"
    build(music_videos, out)
    return out


def train_run(data: Path, out: Path, **settings):
    from latentvj.training.train_config import TrainConfig, apply
    from latentvj.training.decoder.trainer import train

    base = {"data": str(data), "steps": 20, "batch": 4, "workers": 0, "eval_every": 10, "ckpt_every": 10,
            "log_every": 5, "eval_frames": 60}
    cfg = apply(TrainConfig(), {**base, **settings}, "test")
    return train(cfg, out, resume=False, device="cpu", progress=False)


def show_run(data: Path, out: Path, until: int | None = None, **settings):
    """A small `train show` run: both stages, in a few seconds."""
    from latentvj.training.show.show_trainer import train_show
    from latentvj.training.train_config import SHOW_DEFAULTS, TrainConfig, apply

    base = {**SHOW_DEFAULTS, "data": str(data), "steps": 24, "batch": 4, "workers": 0, "eval_every": 10,
            "ckpt_every": 10, "log_every": 5, "eval_frames": 60, "latent": 8, "audio_latent": 3, "context": 2,
            "music_window": 3, "adv_start": 0.25}
    cfg = apply(TrainConfig(), {**base, **settings}, "test")
    return train_show(cfg, out, resume=(out / "checkpoint.pt").exists(), device="cpu", progress=False, until=until)


@pytest.fixture(scope="session")
def image_run(tmp_path_factory, dataset) -> Path:
    out = tmp_path_factory.mktemp("runs") / "show"
    show_run(dataset, out)
    return out


@pytest.fixture(scope="session")
def image_show(tmp_path_factory, image_run) -> Path:
    from latentvj.training.export import export_show

    show, _ = export_show(image_run, tmp_path_factory.mktemp("shows") / "image", DEMO / "encoder.ts")
    return show


@pytest.fixture(scope="session")
def trained_run(tmp_path_factory, dataset) -> Path:
    out = tmp_path_factory.mktemp("runs") / "ours"
    train_run(dataset, out, context=2)
    return out


def drive_sink(sink, n: int, w: int = 64, h: int = 48, fps: float = 30.0, frame_for=None):
    """Run `sink` on its own runner thread, as the daemon does, through n frames; returns the runner."""
    import numpy as np

    from latentvj.daemon.sinks import SinkRunner, StreamInfo

    runner = SinkRunner(sink, StreamInfo(w, h, fps), queue_frames=n + 1, blocking=True)
    runner.start()
    for i in range(n):
        frame = frame_for(i) if frame_for else np.full((h, w, 4), i % 256, np.uint8)
        runner.put_frame(frame, i)
    runner.stop()
    return runner


@pytest.fixture()
def fast_retry(monkeypatch):
    """Sink back-off in tenths of a second, so a test can watch a sink fail and come back."""
    from latentvj.daemon.sinks import base

    monkeypatch.setattr(base, "RETRY_FIRST_S", 0.1)
    monkeypatch.setattr(base, "RETRY_MAX_S", 0.4)


@pytest.fixture()
def on_platform(monkeypatch):
    """on_platform('darwin'): the sink catalog sees that platform (nothing else in the process does)."""
    from latentvj.daemon.sinks import catalog

    def set_platform(name: str) -> None:
        monkeypatch.setattr(catalog, "current_platform", lambda: name)

    return set_platform


@pytest.fixture()
def fake_syphon(monkeypatch, on_platform):
    from fakes import syphon_fake

    for name in ("syphon", "syphon.utils", "syphon.utils.raw", "syphon.utils.numpy"):
        monkeypatch.setitem(sys.modules, name, None)  # undone after the test, whatever install() puts there
    on_platform("darwin")
    return syphon_fake.install()


@pytest.fixture()
def fake_spout(monkeypatch, on_platform):
    from fakes import spoutgl_fake

    for name in ("SpoutGL", "SpoutGL.enums"):
        monkeypatch.setitem(sys.modules, name, None)
    on_platform("win32")
    return spoutgl_fake.install()


@pytest.fixture(scope="session")
def live_take(tmp_path_factory, features_show, track_wav):
    """A set recorded live (record/live_take.py): fader moves, a preset morph, a show crossfade."""
    from record.live_take import record_live

    return record_live(tmp_path_factory.mktemp("live"), features_show, track_wav)


@pytest.fixture
def take_copy(live_take, tmp_path) -> Path:
    """A copy of the live take, for a test to damage."""
    import shutil

    out = tmp_path / "take"
    shutil.copytree(live_take.folder, out)
    return out
