"""A test card for checking a sink end to end without a show: which way is up, which colour is
which, and whether frames move. `latentvj sinks --test SPEC` sends it.

Corners: red top-left, green top-right, blue bottom-left, white bottom-right; the word TOP at the
top; a bar sweeping left to right once a second; the frame number. In RGBA, top row first.
"""
from __future__ import annotations

import cv2
import numpy as np


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
