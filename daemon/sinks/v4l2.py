"""`v4l2:/dev/videoN`: a virtual webcam on Linux (v4l2loopback), through pyvirtualcam.

The v4l2loopback backend takes RGB, not RGBA: the alpha is dropped into a buffer made once.
"""
from __future__ import annotations

import importlib

import numpy as np

from .base import Sink, SinkError, StreamInfo

MODPROBE = "sudo modprobe v4l2loopback devices=1 exclusive_caps=1 card_label=latentvj"


class V4l2Sink(Sink):
    def __init__(self, spec: str, device: str) -> None:
        super().__init__(spec)
        self.device = device
        self._cam = None

    def open(self, info: StreamInfo) -> None:
        pyvirtualcam = importlib.import_module("pyvirtualcam")
        try:
            self._cam = pyvirtualcam.Camera(info.width, info.height, info.fps, fmt=pyvirtualcam.PixelFormat.RGB,
                                            device=self.device, backend="v4l2loopback")
        except RuntimeError as exc:
            why = str(exc).split(":", 1)[-1].strip()
            raise SinkError(f"{self.device}: {why} — it must be a v4l2loopback device: load the kernel module "
                            f"({MODPROBE}) and check `v4l2-ctl --list-devices`") from exc
        self._rgb = np.zeros((info.height, info.width, 3), dtype=np.uint8)  # (H, W, 3)

    def describe(self) -> str:
        return f"virtual webcam {self.device}: pick it as a video capture device"

    def write_frame(self, frame: np.ndarray, index: int) -> None:
        np.copyto(self._rgb, frame[..., :3])
        self._cam.send(self._rgb)

    def close(self) -> None:
        if self._cam is not None:
            cam, self._cam = self._cam, None
            cam.close()
