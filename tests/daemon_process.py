"""Helpers for tests that run the real daemon as a subprocess: the command, a listener for what
it publishes on OSC, waiting until it answers a ping, and counting an mp4's frames."""
import socket
import subprocess
import sys
import threading
import time

import av
from pythonosc.dispatcher import Dispatcher
from pythonosc.osc_message_builder import OscMessageBuilder
from pythonosc.osc_server import ThreadingOSCUDPServer

from conftest import free_port

LATENTVJ = [sys.executable, "-m", "latentvj.daemon.cli"]


class Listener:
    """Counts what the daemon publishes; records when each latent arrived."""

    def __init__(self):
        self.port = free_port()
        self.latents: list[tuple[float, tuple]] = []
        self.other: dict[str, list] = {}
        d = Dispatcher()
        d.map("/latentvj/latent", lambda a, *v: self.latents.append((time.monotonic(), v)))
        d.set_default_handler(lambda a, *v: self.other.setdefault(a, []).append(v))
        self.server = ThreadingOSCUDPServer(("127.0.0.1", self.port), d)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self):
        self.server.shutdown()
        self.server.server_close()


def wait_ready(osc_in: int, timeout: float = 60.0) -> None:
    """Ping the daemon until it answers: start-up time varies (first run compiles, models warm up)."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.bind(("127.0.0.1", 0))
    sock.settimeout(0.2)
    ping = OscMessageBuilder("/latentvj/ping").build().dgram
    end = time.monotonic() + timeout
    try:
        while time.monotonic() < end:
            sock.sendto(ping, ("127.0.0.1", osc_in))
            try:
                if b"/latentvj/pong" in sock.recvfrom(1024)[0]:
                    return
            except socket.timeout:
                pass
        raise AssertionError("the daemon never answered /latentvj/ping")
    finally:
        sock.close()


def run(*args, timeout=120):
    return subprocess.run([*LATENTVJ, *map(str, args)], capture_output=True, text=True, timeout=timeout)


def mp4_frames(path):
    with av.open(str(path)) as c:
        return sum(1 for _ in c.decode(video=0)), len(c.streams.audio)
