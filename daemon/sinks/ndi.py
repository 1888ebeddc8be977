"""`ndi:NAME`: an NDI source on the local network, through cyndilib (NDI runtime in the wheel).

We pace the frames ourselves, so the sender does not clock video (it would block to the rate).
Receivers appear as "HOST (NAME)". On Linux, other machines find the source through mDNS: a
running avahi-daemon is needed for discovery (the frames themselves do not need it).
"""
from __future__ import annotations

import importlib
import logging
import time
from fractions import Fraction

import numpy as np

from .base import Sink, SinkError, StreamInfo

log = logging.getLogger("latentvj.sinks")
CONNECTIONS_EVERY_S = 2.0


class NdiSink(Sink):
    def __init__(self, spec: str, name: str) -> None:
        super().__init__(spec)
        self.name = name
        self._sender = None
        self.connections = 0

    def open(self, info: StreamInfo) -> None:
        sender_mod = importlib.import_module("cyndilib.sender")
        frames = importlib.import_module("cyndilib.video_frame")
        fourcc = importlib.import_module("cyndilib.wrapper.ndi_structs").FourCC
        vf = frames.VideoSendFrame()
        vf.set_resolution(info.width, info.height)
        vf.set_frame_rate(Fraction(info.fps).limit_denominator(1001))
        vf.set_fourcc(fourcc.RGBA)
        self._sender = sender_mod.Sender(self.name, clock_video=False)
        self._sender.set_video_frame(vf)
        try:
            self._sender.open()
        except Exception as exc:  # noqa: BLE001 - cyndilib raises plain Exception when NDI refuses
            self._sender = None
            raise SinkError(f"NDI could not create source {self.name!r}: {exc}") from exc
        self._next_check = 0.0

    def describe(self) -> str:
        shown = self._sender.name if self._sender is not None else self.name
        return (f"NDI source {shown!r}: pick it in NDI In TOP / Resolume's Sources "
                "(on Linux other machines need avahi-daemon running to discover it)")

    def write_frame(self, frame: np.ndarray, index: int) -> None:
        if not self._sender.write_video(frame.reshape(-1)):
            raise SinkError(f"NDI source {self.name!r} stopped taking frames")
        now = time.monotonic()
        if now >= self._next_check:  # once in a while, not per frame: tell the VJ who watches
            self._next_check = now + CONNECTIONS_EVERY_S
            n = self._sender.get_num_connections(0)
            if n != self.connections:
                log.info("ndi:%s: %d receiver(s) connected", self.name, n)
                self.connections = n

    def close(self) -> None:
        if self._sender is not None:
            sender, self._sender = self._sender, None
            sender.close()
