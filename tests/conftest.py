"""Shared fixtures: real shows made by our own code, real audio files, free UDP ports."""
from __future__ import annotations

import socket
from pathlib import Path

import numpy as np
import pytest
import torch

from latentvj.daemon.show import BUILTIN_DIR
from latentvj.training.make_test_show import ConvDecoder, procedural_track, write_audio

DEMO = BUILTIN_DIR / "demo"
SR = 44100


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
    write_audio(path, procedural_track(SR, 6.0, seed=3), SR)
    return path


def make_decoder(path: Path, latent_dim: int, size: int = 32, context: int = 1) -> Path:
    torch.manual_seed(0)
    model = ConvDecoder(latent_dim * context, size).eval()
    if context > 1:
        class Flat(torch.nn.Module):
            def __init__(self, inner):
                super().__init__()
                self.inner = inner

            def forward(self, z: torch.Tensor) -> torch.Tensor:
                return self.inner(z.flatten(1))

        model = Flat(model)
    torch.jit.script(model).save(str(path))
    return path


@pytest.fixture(scope="session")
def small_decoder(tmp_path_factory) -> Path:
    """8-d latent -> 32x32, untrained: fast enough for every test."""
    return make_decoder(tmp_path_factory.mktemp("dec") / "decoder.ts", 8, 32)


@pytest.fixture(scope="session")
def features_show(tmp_path_factory, small_decoder, track_wav) -> Path:
    """A VAE-style show: the features encoder, an affine mapping into an 8-d latent."""
    from latentvj.daemon.show_pack import create_show

    rng = np.random.default_rng(0)
    mapping = {"weight": rng.standard_normal((8, 6)) * 0.5, "bias": np.zeros(8)}
    out = tmp_path_factory.mktemp("shows") / "features"
    return create_show(out, small_decoder, encoder=None, calibrate=track_wav, name="features", mapping=mapping)


@pytest.fixture()
def port() -> int:
    return free_port()
