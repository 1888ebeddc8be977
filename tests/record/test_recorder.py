"""The recorder: exact audio through FLAC, and a disk that fails ends the take, not the show."""
from __future__ import annotations

import errno

import numpy as np

from conftest import eventually
from latentvj.daemon.audio.pcm24 import to_pcm24
from latentvj.daemon.control.state import ControlValues
from latentvj.daemon.record import recorder as recorder_module
from latentvj.daemon.record.recorder import Recorder
from latentvj.daemon.record.take import Take

HEADER = {"engine": {"fps": 30.0, "latency_margin_ms": 20.0, "features_latency_ms": 7.0, "seed": 0, "channel": -1,
                     "interpolate": True, "fade_mode": "linear", "width": 64, "height": 64},
          "input": {"name": "test"}}


def test_audio_comes_back_exactly_in_whole_seconds_and_a_short_last_chunk(tmp_path):
    rng = np.random.default_rng(0)
    audio = to_pcm24(rng.uniform(-1.2, 1.2, (int(2.5 * 8000), 3)).astype(np.float32))  # clipped, on the grid
    rec = Recorder(tmp_path / "take", HEADER, 8000, 3)
    rec.event("start", at=0, t0=0.0, serial=0, show="x", source="x", checksum="0")
    for block in np.array_split(audio, 37):
        rec.audio(block)
    rec.state(0, 0.0, ControlValues(4))
    rec.frame(0, 0.0, (1, 2), None)
    rec.close()
    take = Take.open(tmp_path / "take")
    assert take.clean and take.audio.chunks == 3 and take.audio.samples == len(audio)
    np.testing.assert_array_equal(take.audio.read(0, len(audio)), audio)
    np.testing.assert_array_equal(take.audio.read(7990, 20), audio[7990:8010])  # across a chunk edge


def test_a_full_disk_ends_the_take_with_one_message_and_the_calls_go_on(tmp_path, monkeypatch):
    def full(path, samples, rate):
        raise OSError(errno.ENOSPC, "No space left on device", str(path))

    monkeypatch.setattr(recorder_module, "write_flac", full)
    told: list[str] = []
    rec = Recorder(tmp_path / "take", HEADER, 8000, 1, told.append)
    rec.event("start", at=0, t0=0.0, serial=0, show="x", source="x", checksum="0")
    block = np.zeros((4000, 1), np.float32)
    for _ in range(3):
        rec.audio(block)
    assert eventually(lambda: rec.failed is not None)
    for _ in range(100):  # the engine's calls after the failure: ignored, never raised
        rec.audio(block)
        rec.frame(1, 0.1, (0, 0), None)
    assert eventually(lambda: not rec.writing)  # the take ended with its thread, files closed
    rec.close()
    assert len(told) == 1 and "No space left on device" in told[0] and "the show goes on" in told[0]


def test_a_disk_that_cannot_keep_up_ends_the_take_instead_of_filling_memory(tmp_path, monkeypatch):
    import threading

    slow = threading.Event()
    write = recorder_module.write_flac

    def stuck(path, samples, rate):
        slow.wait(10)  # a disk that does not answer, for a while
        write(path, samples, rate)

    monkeypatch.setattr(recorder_module, "write_flac", stuck)
    monkeypatch.setattr(recorder_module, "MAX_BACKLOG_S", 2.0)
    told: list[str] = []
    rec = Recorder(tmp_path / "take", HEADER, 8000, 1, told.append)
    block = np.zeros((800, 1), np.float32)
    for _ in range(100):  # 10 s of audio while the first chunk's write hangs
        rec.audio(block)
    assert rec.samples <= 3 * 8000 + 800  # it stopped taking audio past the backlog
    slow.set()
    assert eventually(lambda: rec.failed is not None)
    rec.close()
    assert len(told) == 1 and "did not keep up" in told[0]
