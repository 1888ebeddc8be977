"""OSC out: latents, features and status to every --osc-out target, from the render thread.

`/latentvj/latent` carries all dimensions in one message (what the decoder received this
frame); `/latentvj/latent/<i>` one float each (opt-in, for hosts whose addresses take one
value, like Resolume); `/latentvj/features` the audio features; `/latentvj/status` fps, latency
in ms and dropped frames. Each stream has its own rate; sends never block and never raise.
"""
from __future__ import annotations

import logging
import socket

import numpy as np
from pythonosc.osc_message_builder import OscMessageBuilder

log = logging.getLogger("latentvj.osc")


def _dgram(address: str, values) -> bytes:
    b = OscMessageBuilder(address=address)
    for v in values:
        b.add_arg(float(v) if isinstance(v, (float, np.floating)) else v)
    return b.build().dgram


class OscOut:
    def __init__(
        self,
        targets: list[tuple[str, int]],
        fps: float,
        latent_rate: float,
        features_rate: float,
        status_rate: float,
        per_dim: bool = False,
        maps: list | None = None,
    ) -> None:
        self.targets = targets
        self.per_dim = per_dim
        self.fps = fps
        self.set_maps(maps or [])
        self._every = {  # send every n-th frame (rates are capped at the frame rate)
            "latent": _every(fps, latent_rate),
            "features": _every(fps, features_rate),
            "status": _every(fps, status_rate),
        }
        self._sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self._sock.setblocking(False)
        self.sent = 0
        self.send_errors = 0

    def set_maps(self, maps: list) -> None:
        """osc_map.OscMap list; swapped whole, so the render thread sees the old or the new set."""
        self._maps = [(m, m.every(self.fps)) for m in maps]

    def _send(self, dgram: bytes) -> None:
        for target in self.targets:
            self._send_to(target, dgram)

    def _send_to(self, target: tuple[str, int], dgram: bytes) -> None:
        try:
            self._sock.sendto(dgram, target)
            self.sent += 1
        except OSError as exc:  # full socket buffer, unreachable host: count it, never stall
            self.send_errors += 1
            if self.send_errors in (1, 100, 10000):
                log.warning("OSC out to %s:%d failed (%s); %d failures so far", *target, exc, self.send_errors)

    def publish(self, frame: int, latent: np.ndarray, features: np.ndarray, status: tuple[float, float, int]) -> None:
        """latent: (dim,) as the decoder received it; features: (n_features,)."""
        for m, every in self._maps:
            if frame % every == 0:
                for address, value in m.values(latent, features):
                    self._send_to(m.target, _dgram(address, (value,)))
        if not self.targets:
            return
        e = self._every
        if e["latent"] and frame % e["latent"] == 0:
            self._send(_dgram("/latentvj/latent", latent.tolist()))
            if self.per_dim:
                for i, v in enumerate(latent.tolist()):
                    self._send(_dgram(f"/latentvj/latent/{i}", (v,)))
        if e["features"] and frame % e["features"] == 0 and len(features):
            self._send(_dgram("/latentvj/features", features.tolist()))
        if e["status"] and frame % e["status"] == 0:
            fps, latency_ms, dropped = status
            self._send(_dgram("/latentvj/status", (float(fps), float(latency_ms), int(dropped))))

    def close(self) -> None:
        self._sock.close()


def _every(fps: float, rate: float) -> int:
    """Frames between messages for a rate in Hz; 0 = off."""
    if rate <= 0:
        return 0
    return max(1, round(fps / rate))
