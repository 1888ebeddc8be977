"""The daemon as a subprocess on loopback, the way a stage rig runs it, with what the suite reads
back: readiness (a pong), RSS, its log (tracebacks, line counts), and its closing summary."""
from __future__ import annotations

import re
import socket
import subprocess
import sys
import time
from pathlib import Path

from .probes import PING, Watch

LATENTVJ = [sys.executable, "-m", "latentvj.daemon.cli"]


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class DaemonUnderTest:
    def __init__(self, show: str, log: Path, *extra: str, env: dict | None = None, input: str | None = None,
                 fps: int = 30) -> None:
        self.osc_in = free_port()
        self.watch = Watch()
        self.log_path = log
        self._log = open(log, "w")
        cmd = [*LATENTVJ, "run", "--show", show, "--sink", "null", "--osc-in", f"127.0.0.1:{self.osc_in}",
               "--osc-out", f"127.0.0.1:{self.watch.port}", "--oscquery", "off", "--fps", str(fps),
               "--status-rate", "0", "--features-rate", "0", "--beat-rate", "0", "--no-onset-events",
               "--preset-dir", str(log.parent / "presets"), *extra]
        if input is not None:
            cmd += ["--input", input]
        self.proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=self._log, text=True, env=env)
        self.summary = ""

    def wait_ready(self, timeout: float = 120.0) -> None:
        sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        sock.bind(("127.0.0.1", 0))
        sock.settimeout(0.2)
        end = time.monotonic() + timeout
        try:
            while time.monotonic() < end:
                if self.proc.poll() is not None:
                    raise RuntimeError(f"the daemon exited ({self.proc.returncode}); see {self.log_path}")
                sock.sendto(PING, ("127.0.0.1", self.osc_in))
                try:
                    if sock.recv(1024).startswith(b"/latentvj/pong"):
                        break
                except socket.timeout:
                    pass
            else:
                raise RuntimeError(f"the daemon never answered a ping; see {self.log_path}")
        finally:
            sock.close()
        while not self.watch.latents and time.monotonic() < end:  # frames are flowing
            time.sleep(0.05)

    def rss_mb(self) -> float:
        for line in Path(f"/proc/{self.proc.pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
        return float("nan")

    def udp_drops(self) -> int:
        """Datagrams the kernel dropped on the control socket (its receive buffer was full)."""
        port = f"{self.osc_in:04X}"
        try:
            for line in Path("/proc/net/udp").read_text().splitlines()[1:]:
                fields = line.split()
                if fields[1].endswith(":" + port):
                    return int(fields[-1])
        except OSError:
            pass
        return -1

    def alive(self) -> bool:
        return self.proc.poll() is None

    def stop(self) -> int:
        """SIGINT (as Ctrl-C), then its summary; returns the exit status."""
        if self.proc.poll() is None:
            self.proc.send_signal(2)
        try:
            self.summary, _ = self.proc.communicate(timeout=60)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.summary, _ = self.proc.communicate()
        self._log.close()
        self.watch.close()
        return self.proc.returncode

    def log_text(self) -> str:
        return self.log_path.read_text(errors="replace")

    def tracebacks(self) -> int:
        return self.log_text().count("Traceback (most recent call last)")

    def osc_line(self) -> str:
        m = re.search(r"^osc in .*$", self.summary, re.M)
        return m.group(0).split(None, 2)[-1] if m else ""
