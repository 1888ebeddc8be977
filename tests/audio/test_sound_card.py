"""Live capture through a PulseAudio null sink: no sound card, no kernel module (DESIGN.md)."""
import shutil
import subprocess
import sys
import threading
import time

import pytest
from pythonosc.dispatcher import Dispatcher
from pythonosc.osc_server import ThreadingOSCUDPServer

from conftest import free_port
from daemon_process import wait_ready
from latentvj.stress.pulse_server import pulse_env, start_pulse, stop_pulse

pytestmark = pytest.mark.skipif(
    shutil.which("pulseaudio") is None or shutil.which("paplay") is None,
    reason="needs PulseAudio: apt-get install pulseaudio pulseaudio-utils libasound2-plugins libportaudio2",
)


@pytest.fixture()
def pulse(tmp_path):
    env = pulse_env(tmp_path / "xdg")
    start_pulse(env)
    yield env
    stop_pulse(env)


def listen():
    port = free_port()
    got = []
    d = Dispatcher()
    d.map("/latentvj/features", lambda a, *v: got.append((time.monotonic(), v[0])))
    server = ThreadingOSCUDPServer(("127.0.0.1", port), d)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return port, got, server


def daemon(env, osc_out, seconds):
    osc_in = free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "latentvj.daemon.cli", "run", "--input", "pulse", "--sink", "null",
         "--osc-in", f"127.0.0.1:{osc_in}", "--osc-out", f"127.0.0.1:{osc_out}", "--fps", "15",
         "--size", "64x64", "--duration", str(seconds)],
        env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    wait_ready(osc_in)
    return proc


def test_captures_what_is_played_into_the_sink(pulse, track_wav):
    port, got, server = listen()
    proc = daemon(pulse, port, 9)
    time.sleep(2.0)  # PulseAudio's slow first second
    played = time.monotonic()
    subprocess.run(["paplay", "--device=vj_sink", str(track_wav)], env=pulse, check=True, timeout=30)
    out, err = proc.communicate(timeout=60)
    server.shutdown()
    assert proc.returncode == 0, err
    before = [v for t, v in got if t < played]
    during = [v for t, v in got if played + 0.5 < t < played + 4.5]
    assert before and during
    assert max(before) < -60.0  # silence: loudness in dB RMS
    assert max(during) > -30.0  # the track arrived through the sound card path
    assert "overflows 0" in out


def test_a_sound_card_that_disappears_is_retried_and_frames_go_on(pulse):
    proc = daemon(pulse, free_port(), 12)
    time.sleep(2.0)
    stop_pulse(pulse)  # the card is gone
    time.sleep(3.0)
    start_pulse(pulse)  # and back
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == 0, err
    assert "stopped delivering audio" in err and "is back" in err
    assert "published 180 frames" in out and "dropped 0" in out, out
