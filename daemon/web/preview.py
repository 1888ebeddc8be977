"""The page's live preview: JPEG frames made on a sink thread from the newest output frame.

It is a sink like the others (sinks/base.py): the renderer hands it frames through a bounded
queue and never waits. It encodes only while a page watches and at most `fps` times a second,
downscaled to at most `max_width` pixels across; the newest JPEG replaces the last, so a slow
browser gets fewer frames, never a backlog.
"""
from __future__ import annotations

import time
from dataclasses import dataclass

import cv2
import numpy as np

from ..sinks.base import Sink

PREVIEW_FPS = 15.0
MAX_WIDTH = 640
QUALITY = 80


@dataclass(frozen=True)
class PreviewFrame:
    index: int  # frame number on the output's fps grid
    wall: float  # time.time() when the output frame reached the preview (the page measures its delay)
    jpeg: bytes


class PreviewSink(Sink):
    gpu_device_type = "any"  # with --gpu-texture, takes device frames and copies only those it encodes

    def __init__(self, fps: float = PREVIEW_FPS, max_width: int = MAX_WIDTH, quality: int = QUALITY) -> None:
        super().__init__("web-preview")
        self.period = 1.0 / fps
        self.max_width = max_width
        self.params = [cv2.IMWRITE_JPEG_QUALITY, quality]
        self.watchers = 0  # set by the web server: pages showing the preview
        self.latest: PreviewFrame | None = None  # swapped whole; read by the web server's thread
        self.encoded = 0
        self._next = 0.0

    def describe(self) -> str:
        return "the web page's preview"

    def write_frame(self, frame, index: int) -> None:
        """frame: (H, W, 4) uint8 RGBA, a numpy array or (with --gpu-texture) a device tensor."""
        now = time.monotonic()
        if self.watchers <= 0 or now < self._next:
            return
        if not isinstance(frame, np.ndarray):
            frame = frame.cpu().numpy()  # a device frame: one copy per preview frame, not per output frame
        wall = time.time()
        self._next = max(self._next + self.period, now)
        step = -(-frame.shape[1] // self.max_width)  # ceil: the smallest integer step that fits
        small = frame[::step, ::step] if step > 1 else frame
        bgr = cv2.cvtColor(small, cv2.COLOR_RGBA2BGR)  # (h, w, 3)
        ok, buf = cv2.imencode(".jpg", bgr, self.params)
        if ok:
            self.latest = PreviewFrame(index, wall, buf.tobytes())
            self.encoded += 1
