"""`png:DIR`: numbered PNG files, frame_000000.png on, named by the frame's index on the grid."""
from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np

from .base import Sink, SinkError, StreamInfo


class PngSink(Sink):
    def __init__(self, spec: str, folder: str) -> None:
        super().__init__(spec)
        self.folder = Path(folder).expanduser()

    def open(self, info: StreamInfo) -> None:
        try:
            self.folder.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise SinkError(f"cannot create folder {self.folder} ({exc.strerror})") from exc

    def write_frame(self, frame: np.ndarray, index: int) -> None:
        path = self.folder / f"frame_{index:06d}.png"
        if not cv2.imwrite(str(path), cv2.cvtColor(frame, cv2.COLOR_RGBA2BGRA)):
            raise SinkError(f"cannot write {path}")
