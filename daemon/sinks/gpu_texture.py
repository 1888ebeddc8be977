"""Decoder output to a shared texture without a trip through host memory (`--gpu-texture`).

- Syphon + MPS: an MPS tensor lives in an MTLBuffer (its storage pointer is the buffer, as in
  PyTorch's custom-MPS-op examples); a texture view over that buffer (made once per frame slot)
  is published as is. Metal needs rows aligned to the device's linear texture alignment.
- Spout + CUDA: one OpenGL texture in Spout's context, registered with CUDA (GL interop); each
  frame is a device-to-device copy into it, then `sendTexture`.

UNVERIFIED: neither path has run on a Mac or a Windows PC with an NVIDIA GPU (see
docs/platform-checklist.md, which asks for exactly this). The names and signatures were checked
against pyobjc's Metal bridge documentation and cuda-bindings 13.5 (`cuda.bindings.runtime`).
"""
from __future__ import annotations

import importlib

import torch

from .base import SinkError


class MetalViews:
    """MTLTexture views over the MPS tensors the decoder writes, one per frame slot."""

    def __init__(self, width: int, height: int) -> None:
        self.metal = importlib.import_module("Metal")
        self.objc = importlib.import_module("objc")
        self.width, self.height = width, height
        self._views: dict[int, object] = {}

    def texture(self, rgba: torch.Tensor):
        """rgba: (H, W, 4) uint8 on mps, contiguous."""
        key = rgba.untyped_storage().data_ptr()
        tex = self._views.get(key)
        if tex is None:
            m = self.metal
            buf = self.objc.objc_object(c_void_p=key)
            row = self.width * 4
            align = buf.device().minimumLinearTextureAlignmentForPixelFormat_(m.MTLPixelFormatRGBA8Unorm)
            if row % align or (rgba.storage_offset() * rgba.element_size()) % align:
                raise SinkError(f"--gpu-texture: rows of {row} bytes are not aligned to Metal's {align}; "
                                "use a width that is a multiple of 64, or drop --gpu-texture")
            desc = m.MTLTextureDescriptor.texture2DDescriptorWithPixelFormat_width_height_mipmapped_(
                m.MTLPixelFormatRGBA8Unorm, self.width, self.height, False)
            desc.setStorageMode_(buf.storageMode())
            desc.setUsage_(m.MTLTextureUsageShaderRead)
            tex = buf.newTextureWithDescriptor_offset_bytesPerRow_(desc, rgba.storage_offset() * rgba.element_size(), row)
            if tex is None:
                raise SinkError("--gpu-texture: Metal refused a texture view of the decoder's buffer")
            self._views[key] = tex
        torch.mps.synchronize()  # Syphon's blit runs on its own queue: the decoder must be done
        return tex


class CudaGlTexture:
    """One GL texture in the current (Spout's) context, written by CUDA."""

    def __init__(self, width: int, height: int) -> None:
        try:
            self.gl = importlib.import_module("OpenGL.GL")
            self.rt = importlib.import_module("cuda.bindings.runtime")
        except ImportError as exc:
            raise SinkError(f"--gpu-texture with Spout needs PyOpenGL and cuda-python ({exc.name} is missing): "
                            "pip install 'latentvj[gpu-texture]'") from exc
        gl, rt = self.gl, self.rt
        self.width, self.height = width, height
        self.tex = int(gl.glGenTextures(1))
        gl.glBindTexture(gl.GL_TEXTURE_2D, self.tex)
        gl.glTexImage2D(gl.GL_TEXTURE_2D, 0, gl.GL_RGBA8, width, height, 0, gl.GL_RGBA, gl.GL_UNSIGNED_BYTE, None)
        gl.glBindTexture(gl.GL_TEXTURE_2D, 0)
        err, self.resource = rt.cudaGraphicsGLRegisterImage(
            self.tex, gl.GL_TEXTURE_2D, rt.cudaGraphicsRegisterFlags.cudaGraphicsRegisterFlagsWriteDiscard)
        self._check(err, "register the GL texture with CUDA (is the GL context on the NVIDIA GPU?)")

    def _check(self, err, what: str) -> None:
        if err != self.rt.cudaError_t.cudaSuccess:
            raise SinkError(f"--gpu-texture: CUDA could not {what}: {err.name}")

    def upload(self, rgba: torch.Tensor) -> int:
        """rgba: (H, W, 4) uint8 on cuda, contiguous -> the GL texture's name."""
        rt = self.rt
        torch.cuda.current_stream().synchronize()
        self._check(rt.cudaGraphicsMapResources(1, self.resource, 0)[0], "map the texture")
        try:
            err, array = rt.cudaGraphicsSubResourceGetMappedArray(self.resource, 0, 0)
            self._check(err, "get the texture's array")
            row = self.width * 4
            self._check(rt.cudaMemcpy2DToArray(array, 0, 0, rgba.data_ptr(), row, row, self.height,
                                               rt.cudaMemcpyKind.cudaMemcpyDeviceToDevice)[0], "copy the frame")
        finally:
            rt.cudaGraphicsUnmapResources(1, self.resource, 0)
        return self.tex

    def close(self) -> None:
        self.rt.cudaGraphicsUnregisterResource(self.resource)
        self.gl.glDeleteTextures([self.tex])
