"""Latent -> RGBA frame on the device, with every buffer allocated once.

Decoder contract: a TorchScript module whose `forward(z)` takes float32 (batch, latent_dim), or
(batch, context, latent_dim) when the show's context window is longer than 1, and returns
(batch, 3, H, W) in [0, 1]. VAE shows use the same contract: their features -> latent mapping
happens before the controls (see runtime.ShowRuntime.to_decoder_latent).
"""
from __future__ import annotations

import copy
import time
from pathlib import Path

import numpy as np
import torch

from ..config import ConfigError
from .bundle import ShowError
from .device import synchronize
from .torchscript import load_torchscript
from .upscale import FILTERS, Resampler

WARMUP_CALLS = 8


class FrameDecoder:
    """Decodes one latent window into an (H, W, 4) uint8 RGBA frame, top-down, contiguous."""

    def __init__(
        self,
        path: Path,
        latent_dim: int,
        context: int,
        native_size: tuple[int, int],
        device: torch.device,
        out_size: tuple[int, int] | None = None,
        half: bool = False,
        upscale: str = "lanczos",
    ) -> None:
        self.path = path
        self.device = device
        self.latent_dim = latent_dim
        self.context = context
        self.half = half and device.type in ("cuda", "mps")
        self.module = load_torchscript(path, device)
        # channels-last weights carry the activations in that layout: on 2 CPU cores the demo's
        # decoder went 4.7 -> 3.7 ms a frame on one thread, 3.1 -> 2.4 on two
        self.module.to(memory_format=torch.channels_last)
        if self.half:
            self.module = self.module.half()
        dtype = torch.float16 if self.half else torch.float32
        shape = (1, latent_dim) if context == 1 else (1, context, latent_dim)
        self._z = torch.zeros(shape, dtype=dtype, device=device)
        self._batch_z: dict[int, torch.Tensor] = {}  # render's batches: (B, ...) like _z
        self.native_w, self.native_h = native_size
        self.width, self.height = out_size or native_size
        if upscale not in FILTERS:
            raise ConfigError(f"upscale {upscale!r}: expected one of {', '.join(FILTERS)}")
        self._check_output()
        self.resize: Resampler | None = None  # native -> out size on the device, its matrices made once
        if (self.width, self.height) != (self.native_w, self.native_h):
            self.resize = Resampler(native_size, (self.width, self.height), upscale, device)
        self._rgba = None  # (H, W, 4) uint8 on the device, only where that is not the host
        self._rgba_pool: list[torch.Tensor] = []  # --gpu-texture: device frames the sinks read in turn
        self._slot = 0
        self.host_copy = True  # False when every sink takes device frames: no copy to the host at all
        self.device_frame: torch.Tensor | None = None  # the newest device RGBA frame, with a pool
        self.profile = False  # bench: wait for the device after the network, to split the two times below
        self.net_ms = 0.0  # last frame: the network
        self.rgba_ms = 0.0  # last frame: resize, RGBA uint8 conversion and the copy into the host frame
        if device.type != "cpu":
            self._rgba = torch.full((self.height, self.width, 4), 255, dtype=torch.uint8, device=device)

    @torch.no_grad()
    def _check_output(self) -> None:
        """One call on the rest latent: the decoder must take our input and return our size."""
        want = (1, 3, self.native_h, self.native_w)
        try:
            out = self.module(self._z)
        except RuntimeError as exc:
            msg = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
            raise ShowError(
                f"{self.path}: forward(z) fails on z of shape {tuple(self._z.shape)} "
                f"(latent_dim {self.latent_dim}, context {self.context} from show.toml): {msg}"
            ) from exc
        if not isinstance(out, torch.Tensor) or tuple(out.shape) != want:
            got = tuple(out.shape) if isinstance(out, torch.Tensor) else type(out).__name__
            raise ShowError(f"{self.path}: forward(z) returns {got}, show.toml says {want} (batch, 3, H, W)")

    @torch.no_grad()
    def decode(self, window: np.ndarray, out: np.ndarray) -> None:
        """window: (context, latent_dim) float32, newest last -> out: (H, W, 4) uint8."""
        t0 = time.perf_counter()
        self._z.copy_(torch.from_numpy(window).view(self._z.shape))
        img = self.module(self._z)[0]  # (3, h, w)
        if self.profile:
            synchronize(self.device)
        t1 = time.perf_counter()
        self._to_rgba(img, out)
        t2 = time.perf_counter()
        self.net_ms, self.rgba_ms = (t1 - t0) * 1e3, (t2 - t1) * 1e3

    @torch.no_grad()
    def decode_batch(self, windows: np.ndarray, outs: list[np.ndarray]) -> None:
        """Offline render: windows (B, context, latent_dim) -> outs[b] (H, W, 4) uint8, one network
        call for all B (about 1.4x the frames a second on 2 CPU cores at B = 8; the batched
        convolutions round a few values differently, so a frame may differ from `decode`'s by 1 in
        a handful of its values)."""
        z = self._batch_z.get(len(windows))
        if z is None:  # one buffer per batch size, made at its first use
            z = self._batch_z[len(windows)] = torch.zeros((len(windows), *self._z.shape[1:]), dtype=self._z.dtype,
                                                          device=self.device)
        z.copy_(torch.from_numpy(windows).view(z.shape))
        imgs = self.module(z)  # (B, 3, h, w)
        for img, out in zip(imgs, outs):
            self._to_rgba(img, out)

    def twin(self) -> FrameDecoder:
        """Another decoder over the same network with buffers of its own, for another thread: render
        decodes batches on every core at once (a scripted network's forward is safe to call from
        several threads; only the buffers around it are per decoder)."""
        twin = copy.copy(self)
        twin._z = torch.zeros_like(self._z)
        twin._batch_z = {}
        if self.resize is not None:
            twin.resize = Resampler((self.native_w, self.native_h), (self.width, self.height), self.resize.filter,
                                    self.device)
        if self._rgba is not None:
            twin._rgba = torch.full_like(self._rgba, 255)
        twin._rgba_pool = []
        return twin

    def _to_rgba(self, img: torch.Tensor, out: np.ndarray) -> None:
        """img: (3, h, w) on the device, about [0, 1] -> out: (H, W, 4) uint8 on the host."""
        if self.resize is not None:
            img = self.resize(img)  # (3, H, W) float32 in [0, 1]: the resampler's own buffer
        else:
            img = img.float().clamp_(0.0, 1.0)
        img = img.mul_(255.0).add_(0.5)
        dst = torch.from_numpy(out)  # (H, W, 4) view of the caller's frame
        if self._rgba is None:  # cpu: write straight into the frame
            dst[..., :3].copy_(img.permute(1, 2, 0))  # float -> uint8 truncates; +0.5 rounds
            dst[..., 3] = 255
        else:  # gpu: convert on the device, one copy to the host
            rgba = self._rgba
            if self._rgba_pool:
                self._slot = (self._slot + 1) % len(self._rgba_pool)
                rgba = self.device_frame = self._rgba_pool[self._slot]
            rgba[..., :3].copy_(img.permute(1, 2, 0))
            if self.host_copy:
                dst.copy_(rgba)

    @property
    def rgba(self) -> torch.Tensor | None:
        """The last frame on the device, (H, W, 4) uint8 (a GPU decoder's; None on the CPU, where
        frames go straight to the host): a show fade mixes two of them there."""
        return self._rgba

    def use_device_frames(self, n: int, host_copy: bool) -> None:
        """Keep n device RGBA frames in turn for sinks that take them (they read on their own
        threads, so one buffer would be overwritten under them); allocated here, once."""
        if self.device.type == "cpu":
            raise ConfigError("--gpu-texture: the decoder runs on the CPU; there is no GPU texture to share")
        self._rgba_pool = [torch.full((self.height, self.width, 4), 255, dtype=torch.uint8, device=self.device)
                           for _ in range(n)]
        self.host_copy = host_copy

    def warmup(self, calls: int = WARMUP_CALLS) -> None:
        window = np.zeros((self.context, self.latent_dim), dtype=np.float32)
        frame = np.empty((self.height, self.width, 4), dtype=np.uint8)
        for _ in range(calls):
            self.decode(window, frame)
