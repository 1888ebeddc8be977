"""A private PulseAudio server with a null sink, to play a sound card that disappears: started
with its own runtime folder (so it never touches a desktop's server), killed by PID."""
from __future__ import annotations

import os
import signal
import subprocess
import time
from pathlib import Path


def pulse_env(runtime: Path) -> dict[str, str]:
    """The environment that points PulseAudio clients (the daemon) at the private server."""
    runtime.mkdir(mode=0o700, parents=True, exist_ok=True)
    return {**os.environ, "XDG_RUNTIME_DIR": str(runtime), "PULSE_RUNTIME_PATH": str(runtime / "pulse")}


def _up(env: dict[str, str]) -> bool:
    return subprocess.run(["pactl", "info"], env=env, capture_output=True).returncode == 0


def start_pulse(env: dict[str, str]) -> None:
    """Start the server with a null sink `vj_sink` whose monitor is the default source."""
    subprocess.run(["pulseaudio", "-D", "--exit-idle-time=-1", "-n",
                    "--load=module-native-protocol-unix auth-anonymous=1",
                    "--load=module-null-sink sink_name=vj_sink rate=48000", "--load=module-always-sink"],
                   env=env, check=True, capture_output=True)
    for _ in range(50):
        if _up(env):
            break
        time.sleep(0.1)
    subprocess.run(["pactl", "set-default-source", "vj_sink.monitor"], env=env, check=True)


def stop_pulse(env: dict[str, str]) -> None:
    subprocess.run(["pulseaudio", "--kill"], env=env, capture_output=True)
    for _ in range(50):
        if not _up(env):
            return
        time.sleep(0.1)


def kill_pulse(env: dict[str, str]) -> int:
    """SIGKILL the server by the PID in its runtime folder, as a crash would; returns the PID."""
    pid = int((Path(env["PULSE_RUNTIME_PATH"]) / "pid").read_text().split()[0])
    os.kill(pid, signal.SIGKILL)
    for _ in range(50):
        if not _up(env):
            break
        time.sleep(0.1)
    return pid
