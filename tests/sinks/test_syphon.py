"""The Syphon sink against a strict fake of syphon-python (Linux cannot import the real one)."""
import json
import subprocess
import sys

import numpy as np
import pytest

from conftest import TESTS, drive_sink, free_port
from latentvj.daemon.sinks import make_sink

LAUNCH = TESTS / "fakes" / "launch.py"


def test_frames_are_published_flipped_from_one_texture(fake_syphon):
    sink = make_sink("syphon:Stage Left")
    runner = drive_sink(sink, 10, frame_for=lambda i: np.full((48, 64, 4), i, np.uint8))
    assert (runner.written, runner.failures) == (10, 0)
    [server] = fake_syphon.servers
    assert server.name == "Stage Left" and server.stopped
    assert [red for red, _, _ in server.published] == list(range(10))
    assert {flipped for _, flipped, _ in server.published} == {True}
    assert {t for _, _, t in server.published} == {"sink-syphon:Stage Left"}


@pytest.mark.parametrize("bad", [
    np.zeros((48, 64, 3), np.uint8),  # RGB, not RGBA
    np.zeros((32, 64, 4), np.uint8),  # another size than the texture
    np.zeros((48, 64, 4), np.float32),  # floats
])
def test_a_frame_the_library_refuses_fails_the_sink_not_the_daemon(fake_syphon, fast_retry, bad):
    good = np.zeros((48, 64, 4), np.uint8)
    runner = drive_sink(make_sink("syphon:x"), 6, frame_for=lambda i: bad if i == 2 else good)
    assert runner.failures == 1 and runner.written == 2
    assert fake_syphon.servers[0].stopped  # the failed server was closed before retrying


def test_the_daemon_pumps_discovery_on_the_main_thread(tmp_path):
    record = tmp_path / "syphon.json"
    r = subprocess.run([sys.executable, str(LAUNCH), "darwin", str(record), "--",
                        "run", "--duration", "2", "--fps", "15", "--size", "64x64", "--osc-in", f"127.0.0.1:{free_port()}",
                        "--osc-out", "127.0.0.1:9"],
                       capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr
    rec = json.loads(record.read_text())
    [server] = rec["servers"]  # no --sink: Syphon is the default on macOS
    assert server["name"] == "latentvj" and server["visible"] and server["stopped"]
    assert server["published"] == 30 and server["flipped"] == [True]
    assert rec["main_pumps"] > 10 and rec["main_thread"] in rec["pumped_on"]
    assert "Syphon server 'latentvj'" in r.stderr
