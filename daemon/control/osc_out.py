"""OSC out: latents, the music analysis and status to every --osc-out target.

`/latentvj/latent` carries all dimensions in one message (what the decoder received this
frame); `/latentvj/latent/<i>` one float each (opt-in, for hosts whose addresses take one
value, like Resolume); `/latentvj/features` the music features (MUSIC_FEATURE_NAMES, in that
order); `/latentvj/beat` beat phase, tempo and bar phase; `/latentvj/status` fps, latency in ms
and dropped frames: each from the render thread at its own rate. `/latentvj/onset/<event>` is sent
from the encoder thread the moment the onset is detected. Sends never block and never raise.
"""
from __future__ import annotations

import logging
import socket
import threading

import numpy as np

from ..audio.music_analysis import EVENTS, STREAM_NAMES
from ..audio.music_features import MUSIC_FEATURE_NAMES
from .osc_encode import encode

N_FEATURES = len(MUSIC_FEATURE_NAMES)
_TEMPO, _BEAT_PHASE, _BAR_PHASE = (STREAM_NAMES.index(n) for n in ("tempo", "beat_phase", "bar_phase"))
ONSET_DGRAMS = [encode(f"/latentvj/onset/{e}") for e in EVENTS]  # built once

log = logging.getLogger("latentvj.osc")


def published(dim: int) -> list[tuple[str, list | None, str]]:
    """What OSC out sends: (address, placeholder arguments with their types, what it is). OSCQuery
    lists these read-only, so a host sees the outputs beside the controls."""
    return [
        ("/latentvj/latent", [0.0] * dim, "what the decoder received this frame, one float per dimension"),
        ("/latentvj/features", [0.0] * N_FEATURES, "music features, in order: " + ", ".join(MUSIC_FEATURE_NAMES)),
        ("/latentvj/beat", [0.0, 0.0, 0.0], "beat phase 0..1 (0 on the beat), tempo in bpm (0 until locked), "
                                            "bar phase 0..1"),
        ("/latentvj/status", [0.0, 0.0, 0], "fps, measured latency in ms, dropped frames"),
        *((f"/latentvj/onset/{e}", None, f"no arguments: sent the moment a {e} onset is detected") for e in EVENTS),
    ]


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
        beat_rate: float = 0.0,
        onset_events: bool = False,
    ) -> None:
        self.targets = targets
        self.per_dim = per_dim
        self.fps = fps
        self.set_maps(maps or [])
        self._every = {  # send every n-th frame (rates are capped at the frame rate)
            "latent": _every(fps, latent_rate),
            "features": _every(fps, features_rate),
            "status": _every(fps, status_rate),
            "beat": _every(fps, beat_rate),
        }
        self.onset_events = onset_events
        self._sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self._sock.setblocking(False)
        # [sent, failed] per sending thread: each list written by one thread only
        self._render_counts = [0, 0]  # publish(): the render thread
        self._onset_counts = [0, 0]  # events(): the encoder thread
        self._notice_counts = [0, 0]  # notice(): whichever thread has news (a recording that stopped)
        self._notice_lock = threading.Lock()

    def set_maps(self, maps: list) -> None:
        """osc_map.OscMap list; swapped whole, so the render thread sees the old or the new set."""
        self._maps = [(m, m.every(self.fps)) for m in maps]

    @property
    def sent(self) -> int:
        return self._render_counts[0] + self._onset_counts[0] + self._notice_counts[0]

    @property
    def send_errors(self) -> int:
        return self._render_counts[1] + self._onset_counts[1] + self._notice_counts[1]

    def _send(self, dgram: bytes, counts: list[int] | None = None) -> None:
        for target in self.targets:
            self._send_to(target, dgram, counts)

    def _send_to(self, target: tuple[str, int], dgram: bytes, counts: list[int] | None = None) -> None:
        counts = self._render_counts if counts is None else counts
        try:
            self._sock.sendto(dgram, target)
            counts[0] += 1
        except OSError as exc:  # full socket buffer, unreachable host: count it, never stall
            counts[1] += 1
            if counts[1] in (1, 100, 10000):
                log.warning("OSC out to %s:%d failed (%s); %d failures so far", *target, exc, counts[1])

    def notice(self, address: str, *args) -> None:
        """Any thread, rarely: one message to every target (news nobody asked for, such as a
        recording that stopped on a full disk)."""
        with self._notice_lock:
            self._send(encode(address, args), self._notice_counts)

    def events(self, bits: int) -> None:
        """Encoder thread: one `/latentvj/onset/<event>` per bit of music_analysis.EVENTS set."""
        if not self.onset_events:
            return
        for k, dgram in enumerate(ONSET_DGRAMS):
            if bits & (1 << k):
                self._send(dgram, self._onset_counts)

    def publish(self, frame: int, latent: np.ndarray, music: np.ndarray, status: tuple[float, float, int]) -> None:
        """latent: (dim,) as the decoder received it; music: the music row (STREAM_NAMES)."""
        for m, every in self._maps:
            if frame % every == 0:
                for address, value in m.values(latent, music):
                    self._send_to(m.target, encode(address, (value,)))
        if not self.targets:
            return
        e = self._every
        if e["latent"] and frame % e["latent"] == 0:
            self._send(encode("/latentvj/latent", latent.tolist()))
            if self.per_dim:
                for i, v in enumerate(latent.tolist()):
                    self._send(encode(f"/latentvj/latent/{i}", (v,)))
        if e["features"] and frame % e["features"] == 0:
            self._send(encode("/latentvj/features", music[:N_FEATURES].tolist()))
        if e["beat"] and frame % e["beat"] == 0:
            self._send(encode("/latentvj/beat", (float(music[_BEAT_PHASE]), float(music[_TEMPO]),
                                                 float(music[_BAR_PHASE]))))
        if e["status"] and frame % e["status"] == 0:
            fps, latency_ms, dropped = status
            self._send(encode("/latentvj/status", (float(fps), float(latency_ms), int(dropped))))

    def close(self) -> None:
        self._sock.close()


def _every(fps: float, rate: float) -> int:
    """Frames between messages for a rate in Hz; 0 = off."""
    if rate <= 0:
        return 0
    return max(1, round(fps / rate))
