"""What the stress suite watches from outside the daemon: pings from a socket of their own
(round-trip times, unanswered ones), and the latents the daemon publishes (one per frame: their
arrival rate is the frame rate, their values show which control values are in effect)."""
from __future__ import annotations

import socket
import threading
import time

import numpy as np
from pythonosc.osc_message import OscMessage

from .fuzz import message

PING = message("/latentvj/ping")


class Pinger:
    """A ping every `every` s on its own socket; a ping counts as unanswered after `give_up` s."""

    def __init__(self, port: int, every: float = 0.1, give_up: float = 5.0) -> None:
        self.addr = ("127.0.0.1", port)
        self.every, self.give_up = every, give_up
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.settimeout(0.02)
        self.sent: list[float] = []
        self.rtts: list[float] = []  # seconds, in the order answered
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, daemon=True)

    def _loop(self) -> None:
        pending: list[float] = []
        nxt = time.monotonic()
        while not self._stop.is_set():
            now = time.monotonic()
            if now >= nxt:
                self.sock.sendto(PING, self.addr)
                self.sent.append(now)
                pending.append(now)
                nxt = now + self.every
            try:
                data = self.sock.recv(1024)
            except socket.timeout:
                continue
            if data.startswith(b"/latentvj/pong") and pending:
                self.rtts.append(time.monotonic() - pending.pop(0))  # UDP on loopback keeps order

    def __enter__(self) -> "Pinger":
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        time.sleep(min(self.give_up, 1.0))  # the last pings' answers
        self._stop.set()
        self._thread.join()
        self.sock.close()

    def figures(self) -> str:
        n, answered = len(self.sent), len(self.rtts)
        worst = max(self.rtts) * 1e3 if self.rtts else float("nan")
        p50 = float(np.median(self.rtts)) * 1e3 if self.rtts else float("nan")
        return f"pings {answered}/{n} answered, rtt p50 {p50:.1f} ms, max {worst:.1f} ms"

    @property
    def all_fast(self) -> bool:
        return bool(self.sent) and len(self.rtts) == len(self.sent) and max(self.rtts) < 0.1


class Watch:
    """Listens where the daemon sends (--osc-out): latents with their arrival times."""

    def __init__(self) -> None:
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 1 << 20)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.settimeout(0.1)
        self.port = self.sock.getsockname()[1]
        self.latents: list[tuple[float, np.ndarray]] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, daemon=True)
        self._thread.start()

    def _loop(self) -> None:
        while not self._stop.is_set():
            try:
                data = self.sock.recv(65536)
            except socket.timeout:
                continue
            if data.startswith(b"/latentvj/latent\x00"):
                try:
                    self.latents.append((time.monotonic(), np.asarray(OscMessage(data).params, np.float32)))
                except Exception:
                    pass

    def fps(self, start: float, end: float) -> float:
        """Frames a second published between two monotonic times (one latent per frame)."""
        return sum(1 for t, _ in self.latents if start <= t < end) / (end - start)

    def lowest_fps(self, start: float, end: float, window: float = 0.5) -> float:
        times = np.array([t for t, _ in self.latents if start <= t < end])
        edges = np.arange(start, end - window + 1e-9, window)
        return float(min(((times >= e) & (times < e + window)).sum() for e in edges) / window) if len(edges) else 0.0

    def last(self) -> np.ndarray | None:
        return self.latents[-1][1] if self.latents else None

    def close(self) -> None:
        self._stop.set()
        self._thread.join()
        self.sock.close()
