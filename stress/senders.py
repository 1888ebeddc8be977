"""Attackers in processes of their own, so that building and sending packets does not steal the
suite's own threads (pings, the latent watch) from under the measurement."""
from __future__ import annotations

import multiprocessing as mp
import random
import socket
import time

from .fuzz import fuzz_packets, message
from .probes import PING


def valid_flood(n: int, dim: int, seed: int = 1) -> list[bytes]:
    """Fader moves a controller sends: per-dimension bias and scale, global scale, noise, smoothing."""
    rng = random.Random(seed)
    out = []
    for _ in range(n):
        k = rng.randrange(5)
        if k == 0:
            out.append(message(f"/latentvj/bias/{rng.randrange(dim)}", rng.uniform(-3, 3)))
        elif k == 1:
            out.append(message(f"/latentvj/scale/{rng.randrange(dim)}", rng.uniform(0, 2)))
        elif k == 2:
            out.append(message("/latentvj/scale", rng.uniform(0, 2)))
        elif k == 3:
            out.append(message("/latentvj/noise", rng.uniform(0, 0.5)))
        else:
            out.append(message("/latentvj/smooth", rng.uniform(0, 0.2)))
    return out


def garbage(n: int, seed: int = 2) -> list[bytes]:
    rng = random.Random(seed)
    return [rng.randbytes(rng.randrange(4, 120)) for _ in range(n)]


def _build(kind: str, n: int, dim: int) -> list[bytes]:
    return {"fuzz": lambda: fuzz_packets(n, dim), "valid": lambda: valid_flood(n, dim),
            "garbage": lambda: garbage(n)}[kind]()


def _send(port: int, kind: str, n: int, dim: int, rate: float | None, ready, out) -> None:
    packets = _build(kind, n, dim)
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.bind(("127.0.0.1", 0))
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 1 << 20)
    addr = ("127.0.0.1", port)
    ready.set()
    start = time.monotonic()
    tick = 0.005
    sent = 0
    while sent < n:
        if rate is None:
            batch = n
        else:
            due = min(n, int((time.monotonic() - start) * rate) + 1)
            batch = due - sent
        for p in packets[sent:sent + batch]:
            try:
                sock.sendto(p, addr)
            except OSError:
                pass  # a full send buffer: that packet is lost, as on a real network
        sent += batch
        if rate is not None:
            time.sleep(tick)
    elapsed = time.monotonic() - start
    # the ping sent right after the last packet, from the attacker's own socket
    sock.settimeout(0.01)
    try:
        while True:
            sock.recv(65536)  # empty the replies to the attack first
    except (socket.timeout, OSError):
        pass
    sock.settimeout(10.0)
    t = time.monotonic()
    sock.sendto(PING, addr)
    rtt = float("nan")
    try:
        while True:
            if sock.recv(65536).startswith(b"/latentvj/pong"):
                rtt = time.monotonic() - t
                break
    except socket.timeout:
        pass
    out.put((sent, elapsed, rtt))


class Attack:
    """`with Attack(port, kind, n, dim, rate) as a:` sends n packets at `rate` a second (None: as
    fast as it can) from another process; `a.result` is (sent, seconds, rtt of the ping after)."""

    def __init__(self, port: int, kind: str, n: int, dim: int, rate: float | None) -> None:
        ctx = mp.get_context("fork")
        self._ready, self._out = ctx.Event(), ctx.Queue()
        self.proc = ctx.Process(target=_send, args=(port, kind, n, dim, rate, self._ready, self._out), daemon=True)
        self.result: tuple[int, float, float] | None = None
        self.started = 0.0

    def __enter__(self) -> "Attack":
        self.proc.start()
        self._ready.wait(120)
        self.started = time.monotonic()
        return self

    def wait(self, timeout: float = 600) -> tuple[int, float, float]:
        self.result = self._out.get(timeout=timeout)
        self.proc.join(5)
        return self.result

    def __exit__(self, *exc) -> None:
        if self.proc.is_alive():
            self.proc.kill()
