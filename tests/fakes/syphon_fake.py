"""syphon-python 0.2.0: SyphonMetalServer, SyphonServerDirectory, syphon.utils.raw/numpy.

Discovery is modelled as on macOS: a server becomes visible to clients only once the main
thread's run loop has been pumped (update_run_loop on the main thread) after it was created.
"""
from __future__ import annotations

import sys
import threading
import types

import numpy as np

MTLPixelFormatRGBA8Unorm = 70


class Record:
    def __init__(self) -> None:
        self.servers: list["SyphonMetalServer"] = []
        self.pumped_on: set[str] = set()  # thread names that pumped a run loop
        self.main_pumps = 0


record = Record()


class _Device:
    def newCommandQueue(self):
        return object()


class _Texture:
    def __init__(self, device: _Device, width: int, height: int, pixel_format: int) -> None:
        if not (isinstance(width, int) and isinstance(height, int)) or width <= 0 or height <= 0:
            raise ValueError(f"MTLTextureDescriptor: bad size {width!r}x{height!r}")
        self.device, self._w, self._h, self._fmt = device, width, height, pixel_format
        self.data = np.zeros((height, width, 4), np.uint8)

    def width(self) -> int:
        return self._w

    def height(self) -> int:
        return self._h

    def pixelFormat(self) -> int:
        return self._fmt


class SyphonMetalServer:
    def __init__(self, name: str, device=None, command_queue=None, *, is_private: bool = False) -> None:
        if not isinstance(name, str):
            raise TypeError(f"name must be a str (NSString), got {type(name).__name__}")
        self._name = name
        self.device = device or _Device()
        self.command_queue = command_queue or self.device.newCommandQueue()
        self._stopped = False
        self.created_on = threading.current_thread().name
        self.published: list[tuple[int, bool, str]] = []  # (first pixel's red, is_flipped, thread)
        self.visible = False
        record.servers.append(self)

    @property
    def name(self) -> str:
        return self._name

    def publish_frame_texture(self, texture, region=None, size=None, is_flipped: bool = False,
                              command_buffer=None, auto_commit: bool = True) -> None:
        if self._stopped:
            raise RuntimeError("Syphon server is stopped")
        if not isinstance(texture, _Texture) or texture.device is not self.device:
            raise TypeError("publish_frame_texture needs an MTLTexture made on this server's device")
        self.published.append((int(texture.data[0, 0, 0]), is_flipped, threading.current_thread().name))

    @property
    def has_clients(self) -> bool:
        return self.visible

    def stop(self) -> None:
        self._stopped = True

    @property
    def stopped(self) -> bool:
        return self._stopped


class SyphonServerDirectory:
    def __init__(self) -> None:
        self.run_loop_interval = 1.0

    def update_run_loop(self) -> None:
        if not isinstance(self.run_loop_interval, (int, float)) or self.run_loop_interval < 0:
            raise ValueError("run_loop_interval must be a non-negative number of seconds")
        thread = threading.current_thread()
        record.pumped_on.add(thread.name)
        if thread is threading.main_thread():  # distributed notifications arrive only here
            record.main_pumps += 1
            for server in record.servers:
                if not server.stopped:
                    server.visible = True


def create_mtl_texture(device, width: int, height: int, pixel_format: int = MTLPixelFormatRGBA8Unorm):
    if not isinstance(device, _Device):
        raise TypeError("create_mtl_texture needs an MTLDevice")
    return _Texture(device, width, height, pixel_format)


def copy_image_to_mtl_texture(image: np.ndarray, texture: _Texture) -> None:
    assert len(image.shape) == 3, "Image has to be of shape (m, n, 4)"  # the library's own checks
    assert image.shape[2] == 4, "Image has to be of shape (m, n, 4)"
    # replaceRegion reads width*4 bytes per row for height rows from image.tobytes(): anything
    # else reads past the end (a crash) or copies garbage, so we refuse it.
    if image.dtype != np.uint8:
        raise TypeError(f"the texture is RGBA8Unorm: uint8 pixels, got {image.dtype}")
    if image.shape[:2] != (texture.height(), texture.width()):
        raise ValueError(f"image {image.shape[1]}x{image.shape[0]} does not fit the {texture.width()}x{texture.height()} texture")
    texture.data[...] = image


def install() -> Record:
    """Put the fake under the real names; returns the record of what was asked of it."""
    global record
    record = Record()
    syphon = types.ModuleType("syphon")
    syphon.SyphonMetalServer = SyphonMetalServer
    syphon.SyphonServerDirectory = SyphonServerDirectory
    utils = types.ModuleType("syphon.utils")
    raw = types.ModuleType("syphon.utils.raw")
    raw.create_mtl_texture = create_mtl_texture
    numpy_utils = types.ModuleType("syphon.utils.numpy")
    numpy_utils.copy_image_to_mtl_texture = copy_image_to_mtl_texture
    syphon.utils, utils.raw, utils.numpy = utils, raw, numpy_utils
    sys.modules.update({"syphon": syphon, "syphon.utils": utils, "syphon.utils.raw": raw,
                        "syphon.utils.numpy": numpy_utils})
    return record
