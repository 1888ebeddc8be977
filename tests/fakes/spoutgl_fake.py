"""SpoutGL 0.1.1 (Spout 2.007): SpoutSender and SpoutGL.enums, as its pybind11 wrapper behaves.

createOpenGL makes a context current to the calling thread only; sendImage checks the buffer as
the wrapper does (buffer protocol, size, C-contiguity, GL format) and fails without a context
current on its thread. `taken` holds names other programs send under: Spout will not create a
second sender of that name, so sendImage returns False. With `gldx_ready = False` (a GPU that
cannot share textures), sends fail until CPU sharing is switched on.
"""
from __future__ import annotations

import sys
import threading
import types

GL_RGBA, GL_BGRA_EXT, GL_RGB, GL_BGR_EXT = 0x1908, 0x80E1, 0x1907, 0x80E0
BYTES_PER_PIXEL = {GL_RGBA: 4, GL_BGRA_EXT: 4, GL_RGB: 3, GL_BGR_EXT: 3}


class Record:
    def __init__(self) -> None:
        self.senders: list["SpoutSender"] = []
        self.taken: set[str] = set()
        self.gldx_ready = True
        self.raise_after: int | None = None  # raise from sendImage once this many frames went out


record = Record()


class SpoutSender:
    def __init__(self) -> None:
        self._name = ""
        self._gl_thread: int | None = None
        self._cpu_share = False
        self.sent = 0
        self.frame_syncs = 0
        self.released = False
        self.send_threads: set[str] = set()
        record.senders.append(self)

    def createOpenGL(self) -> bool:
        self._gl_thread = threading.get_ident()
        return True

    def closeOpenGL(self) -> bool:
        self._gl_thread = None
        return True

    def setSenderName(self, name: str) -> None:
        if not isinstance(name, str):
            raise TypeError("setSenderName(): incompatible function arguments")
        if len(name.encode()) >= 256:  # strcpy_s into char[256]: the real one aborts the process
            raise RuntimeError("sender name longer than 255 bytes")
        self._name = name

    def setCPUshare(self, on: bool) -> None:
        self._cpu_share = bool(on)

    def getCPUshare(self) -> bool:
        return self._cpu_share

    def isGLDXReady(self) -> bool:
        return record.gldx_ready

    def sendImage(self, buffer, width: int, height: int, gl_format: int, invert: bool, host_fbo: int) -> bool:
        view = memoryview(buffer)  # TypeError for anything without the buffer protocol, as pybind11
        if gl_format not in BYTES_PER_PIXEL:
            raise ValueError("Unknown GL format")
        if view.nbytes < width * height * BYTES_PER_PIXEL[gl_format]:
            raise BufferError("Buffer not large enough")
        if not view.c_contiguous:
            raise BufferError("Buffer must be contiguous")
        if view.itemsize != 1:  # the wrapper would pass float pixels on as bytes: garbage on screen
            raise TypeError(f"pixels must be bytes (uint8), got item size {view.itemsize}")
        if self._gl_thread != threading.get_ident():
            raise RuntimeError("no OpenGL context is current on this thread (createOpenGL on the sending thread)")
        if record.raise_after is not None and self.sent >= record.raise_after:
            raise RuntimeError("Spout: device lost")
        if self._name in record.taken or not (record.gldx_ready or self._cpu_share):
            return False
        self.released = False
        self.sent += 1
        self.send_threads.add(threading.current_thread().name)
        return True

    def setFrameSync(self, name: str) -> None:
        if name != self._name:
            raise ValueError(f"setFrameSync({name!r}) for a sender named {self._name!r}")
        self.frame_syncs += 1

    def releaseSender(self, msec: int = 0) -> None:
        self.released = True


def install() -> Record:
    global record
    record = Record()
    mod = types.ModuleType("SpoutGL")
    mod.SpoutSender = SpoutSender
    enums = types.ModuleType("SpoutGL.enums")
    enums.GL_RGBA, enums.GL_BGRA_EXT, enums.GL_RGB, enums.GL_BGR_EXT = GL_RGBA, GL_BGRA_EXT, GL_RGB, GL_BGR_EXT
    mod.enums = enums
    sys.modules.update({"SpoutGL": mod, "SpoutGL.enums": enums})
    return record
