"""`spout:NAME`: a Spout sender (Windows), through SpoutGL.

SpoutGL needs an OpenGL context, which `createOpenGL` makes current to the calling thread: the
sink runner opens, writes and closes on one thread, so that holds. Frames go by `sendImage`
(RGBA, host memory); the sender is created by the first send, so a name Spout refuses (taken by
another program) shows as a failed first send. Where the GL/DirectX interop is not available
(some laptops with two GPUs), Spout can share through the CPU instead: we switch that on and try
once more before giving up (the workaround in jlai/Python-SpoutGL issue 15).
"""
from __future__ import annotations

import importlib
import logging

import numpy as np

from .base import Sink, SinkError, StreamInfo
from .gpu_texture import CudaGlTexture

log = logging.getLogger("latentvj.sinks")


GL_TEXTURE_2D = 0x0DE1


class SpoutSink(Sink):
    gpu_device_type = "cuda"

    def __init__(self, spec: str, name: str) -> None:
        super().__init__(spec)
        self.name = name
        self._sender = None
        self._gl_texture = None

    def open(self, info: StreamInfo) -> None:
        spoutgl = importlib.import_module("SpoutGL")
        self._gl_rgba = importlib.import_module("SpoutGL.enums").GL_RGBA
        self._sender = spoutgl.SpoutSender()
        if not self._sender.createOpenGL():
            raise SinkError("Spout could not create an OpenGL context (is a graphics driver installed?)")
        self._sender.setSenderName(self.name)
        self._size = (info.width, info.height)
        self._sent = 0
        self._gl_texture = CudaGlTexture(info.width, info.height) if self.gpu else None  # in Spout's GL context

    def describe(self) -> str:
        return f"Spout sender {self.name!r}: pick it in Syphon Spout In TOP / Resolume's Sources"

    def write_frame(self, frame: np.ndarray, index: int) -> None:
        w, h = self._size
        if self._gl_texture is not None and not isinstance(frame, np.ndarray):  # a cuda tensor: no host copy
            if not self._sender.sendTexture(self._gl_texture.upload(frame), GL_TEXTURE_2D, w, h, False, 0):
                raise SinkError(f"Spout refused the GPU texture for {self.name!r} (try without --gpu-texture)")
            return self._sent_one()
        if not self._sender.sendImage(frame, w, h, self._gl_rgba, False, 0):
            if self._sent == 0 and not self._sender.getCPUshare():
                log.warning("spout:%s: texture sharing failed; switching Spout to CPU sharing", self.name)
                self._sender.setCPUshare(True)
                if self._sender.sendImage(frame, w, h, self._gl_rgba, False, 0):
                    return self._sent_one()
            raise SinkError(f"Spout refused to send as {self.name!r}: another program may be using that "
                            "sender name (pick another: --sink spout:OTHER), or the GPU cannot share textures")
        self._sent_one()

    def _sent_one(self) -> None:
        self._sender.setFrameSync(self.name)
        self._sent += 1

    def close(self) -> None:
        if self._sender is not None:
            sender, self._sender = self._sender, None
            if self._gl_texture is not None:
                self._gl_texture.close()
                self._gl_texture = None
            sender.releaseSender()
            sender.closeOpenGL()
