"""`syphon:NAME`: a Syphon Metal server (macOS 12+), through syphon-python.

Each frame is copied into one MTLTexture made at open and published with `is_flipped=True`
(our rows are top-down). Clients find servers through distributed notifications that arrive on
the main thread's run loop, so the daemon's main loop pumps it (`pump`); without that, TouchDesigner
never lists the server. The library is imported at open, so this module imports anywhere.
"""
from __future__ import annotations

import importlib

import numpy as np

from .base import Sink, SinkError, StreamInfo
from .gpu_texture import MetalViews


class SyphonSink(Sink):
    pumps_main_thread = True
    gpu_device_type = "mps"

    def __init__(self, spec: str, name: str) -> None:
        super().__init__(spec)
        self.name = name
        self._server = None
        self._directory = None

    def open(self, info: StreamInfo) -> None:
        syphon = importlib.import_module("syphon")
        raw = importlib.import_module("syphon.utils.raw")
        self._copy = importlib.import_module("syphon.utils.numpy").copy_image_to_mtl_texture
        try:
            self._server = syphon.SyphonMetalServer(self.name)
        except RuntimeError as exc:  # no Metal device, or Syphon refused the server
            raise SinkError(f"Syphon cannot create server {self.name!r}: {exc}") from exc
        self._texture = raw.create_mtl_texture(self._server.device, info.width, info.height)
        if self._texture is None:
            raise SinkError(f"Syphon: Metal could not make a {info.width}x{info.height} texture")
        self._views = MetalViews(info.width, info.height) if self.gpu else None

    def describe(self) -> str:
        return f"Syphon server {self.name!r} (app: Python): pick it in Syphon Spout In TOP / Resolume's Sources"

    def write_frame(self, frame: np.ndarray, index: int) -> None:
        if self._views is not None and not isinstance(frame, np.ndarray):  # an mps tensor: no host copy
            self._server.publish_frame_texture(self._views.texture(frame), is_flipped=True)
            return
        self._copy(frame, self._texture)
        self._server.publish_frame_texture(self._texture, is_flipped=True)

    def pump(self, seconds: float) -> None:
        if self._directory is None:
            self._directory = importlib.import_module("syphon").SyphonServerDirectory()
        self._directory.run_loop_interval = seconds
        self._directory.update_run_loop()

    def close(self) -> None:
        if self._server is not None:
            server, self._server = self._server, None
            server.stop()
