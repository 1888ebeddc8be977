"""Live capture through a PulseAudio null sink: no sound card, no kernel module (DESIGN.md)."""
import os
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

pytestmark = pytest.mark.skipif(
    shutil.which("pulseaudio") is None or shutil.which("paplay") is None,
    reason="needs PulseAudio: apt-get install pulseaudio pulseaudio-utils libasound2-plugins libportaudio2",
)


def start_pulse(env):
    subprocess.run(["pulseaudio", "-D", "--exit-idle-time=-1", "-n",
                    "--load=module-native-protocol-unix auth-anonymous=1",
                    "--load=module-null-sink sink_name=vj_sink rate=48000", "--load=module-always-sink"],
                   env=env, check=True, capture_output=True)
    for _ in range(50):
        if subprocess.run(["pactl", "info"], env=env, capture_output=True).returncode == 0:
            break
        time.sleep(0.1)
    subprocess.run(["pactl", "set-default-source", "vj_sink.monitor"], env=env, check=True)


def stop_pulse(env):
    subprocess.run(["pulseaudio", "--kill"], env=env, capture_output=True)
    for _ in range(50):
        if subprocess.run(["pactl", "info"], env=env, capture_output=True).returncode != 0:
            return
        time.sleep(0.1)


@pytest.fixture()
def pulse(tmp_path):
    runtime = tmp_path / "xdg"
    runtime.mkdir(mode=0o700)
    env = {**os.environ, "XDG_RUNTIME_DIR": str(runtime), "PULSE_RUNTIME_PATH": str(runtime / "pulse")}
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
