"""A test card for checking a sink end to end without a show: which way is up, which colour is
which, and whether frames move. `latentvj sinks --test SPEC` sends it.

Corners: red top-left, green top-right, blue bottom-left, white bottom-right; the word TOP at the
top; a bar sweeping left to right once a second; the frame number. In RGBA, top row first.
"""
from __future__ import annotations

import time

import cv2
import numpy as np

from ..signals import stop_on_signals
from .base import StreamInfo
from .catalog import make_sink
from .sink_set import FramePool, SinkSet


class TestCard:
    def __init__(self, width: int, height: int, fps: float) -> None:
        self.fps = fps
        base = np.zeros((height, width, 4), np.uint8)  # (H, W, 4) RGBA
        base[..., 3] = 255
        base[..., :3] = 40
        q = max(min(width, height) // 6, 4)
        base[:q, :q, :3] = (255, 0, 0)
        base[:q, -q:, :3] = (0, 255, 0)
        base[-q:, :q, :3] = (0, 0, 255)
        base[-q:, -q:, :3] = 255
        scale = max(width / 320, 0.4)
        size, _ = cv2.getTextSize("TOP", cv2.FONT_HERSHEY_SIMPLEX, scale, 2)
        cv2.putText(base, "TOP", ((width - size[0]) // 2, size[1] + 4), cv2.FONT_HERSHEY_SIMPLEX, scale,
                    (255, 255, 255, 255), 2, cv2.LINE_AA)
        cv2.arrowedLine(base, (width // 2, height * 3 // 4), (width // 2, size[1] + 12),
                        (255, 255, 0, 255), max(width // 100, 1), tipLength=0.15)
        self.base = base
        self.scale = scale
        self.bar = max(width // 40, 2)

    def render(self, index: int, out: np.ndarray) -> None:
        out[...] = self.base
        h, w = out.shape[:2]
        x = int((index % max(round(self.fps), 1)) / max(round(self.fps), 1) * (w - self.bar))
        out[h // 2 - self.bar : h // 2 + self.bar, x : x + self.bar, :3] = (255, 0, 255)
        cv2.putText(out, str(index), (w // 40 + 2, h - h // 5), cv2.FONT_HERSHEY_SIMPLEX, self.scale * 0.8,
                    (255, 255, 255, 255), 2, cv2.LINE_AA)


def send_test_card(specs: list[str], size: tuple[int, int], fps: float, seconds: float) -> int:
    """`latentvj sinks --test SPEC`: the test card on these sinks, paced like the daemon, no show
    needed. Exit status 0 when every sink wrote frames without failing."""
    w, h = size
    sinks = SinkSet([make_sink(s) for s in specs], StreamInfo(w, h, fps), queue_frames=4)
    pool, card = FramePool(w, h, 4), TestCard(w, h, fps)
    stop = stop_on_signals()
    print(f"sending the test card ({w}x{h}, {fps:g} fps) to {', '.join(specs)} for {seconds:g} s; Ctrl-C stops.\n"
          "Expect: red top-left, green top-right, blue bottom-left, white bottom-right, TOP at the top, "
          "a bar sweeping left to right once a second.", flush=True)
    sinks.start()
    start, j = time.monotonic(), 0
    while not stop.is_set() and j < seconds * fps:
        frame = pool.next()
        card.render(j, frame)
        sinks.frame(frame, j)
        j += 1
        sinks.pump(max(start + j / fps - time.monotonic(), 0.0))
    sinks.stop()
    print("\n".join(sinks.report()))
    return 0 if all(st["failures"] == 0 and st["written"] for st in sinks.stats()) else 1
