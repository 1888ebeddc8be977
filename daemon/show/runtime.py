"""A loaded, checked and warmed-up show: what the engine swaps in as one piece.

Two clocks, each with its own hop and offset:
- the encoder's (RAVE, or the built-in features): raw [z | features] rows, interpolated;
- the music stream's (audio/music_analysis.py) on the fine hop: features, beat and onsets, held,
  published by every show and read by shows whose conditioning names it.

Per frame: each conditioning stream's row, standardised with the show's stats, side by side
(conditioning.py) -> [VAE: affine mapping; image show: the mapping network over the window of
conditioning rows, plus the shot's residual (shots.py)] -> decoder latent (latent_dim), the
space the controls work in and /latentvj/latent publishes.
"""
from __future__ import annotations

import logging
import math
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from ..audio.features import FeaturesEncoder
from ..audio.music_analysis import MusicAnalysis
from ..engine.latent_clock import CAPACITY, LatentClock
from .bundle import (
    Manifest,
    ShowError,
    bundle_digest,
    load_manifest,
    open_show,
    verify_checksums,
)
from .frame_decoder import FrameDecoder
from .rave_encoder import RaveEncoder
from .shots import SHOT_COLUMNS, ShotPlayer
from .torchscript import load_torchscript

log = logging.getLogger("latentvj.show")


class LatentMap:
    """Standardised conditioning -> the decoder's latent, before the controls: one type per kind
    of show, chosen once when the show is built. `window`: conditioning rows it reads, newest last."""

    window = 1
    shots: ShotPlayer | None = None  # the footage walk an image show adds; it rides on the music clock

    def __call__(self, c: np.ndarray, out: np.ndarray, shot: np.ndarray, t: float) -> None:
        """c: (window, cond_dim) -> out: (latent_dim,); `shot` the shot row at media time t."""
        raise NotImplementedError

    def batch(self, c: np.ndarray, out: np.ndarray, shots: np.ndarray, t: np.ndarray) -> None:
        """Several frames at once (render): c (B, window, cond_dim) -> out (B, latent_dim); shots
        (B, shot columns) at media times t (B,)."""
        for k in range(len(c)):
            self(c[k], out[k], shots[k], float(t[k]))

    def warmup(self) -> None:
        pass


class DirectMap(LatentMap):
    """A decoder trained on the conditioning itself (`train decoder`)."""

    def __call__(self, c: np.ndarray, out: np.ndarray, shot: np.ndarray, t: float) -> None:
        out[:] = c[-1]


class AffineMap(LatentMap):
    """A fixed affine map (a VAE show's `--mapping direct`: loudness on the largest direction)."""

    def __init__(self, weight: np.ndarray, bias: np.ndarray) -> None:
        self.weight, self.bias = weight, bias  # (latent_dim, cond_dim), (latent_dim,)

    def __call__(self, c: np.ndarray, out: np.ndarray, shot: np.ndarray, t: float) -> None:
        np.dot(self.weight, c[-1], out=out)
        out += self.bias


class ImageMap(LatentMap):
    """An image show: the mapping network over the conditioning window, plus the footage code of
    the frame the shot in effect plays (shots.py)."""

    def __init__(self, m: Manifest, device: torch.device, music_period: float) -> None:
        net = m.network
        self.window = m.conditioning.context
        self.mapping = load_torchscript(m.root / net.file, device)
        self._cin = torch.zeros((1, self.window, m.conditioning.dim), device=device)  # (1, context, D)
        try:
            with torch.no_grad():
                out = self.mapping(self._cin)
        except RuntimeError as exc:
            raise ShowError(f"{m.root / net.file}: forward(c) fails on c of shape {tuple(self._cin.shape)} "
                            f"(the conditioning's window x dims): {str(exc).strip().splitlines()[0]}") from exc
        if not isinstance(out, torch.Tensor) or tuple(out.shape) != (1, m.latent_dim):
            got = tuple(out.shape) if isinstance(out, torch.Tensor) else type(out).__name__
            raise ShowError(f"{m.root / net.file}: the mapping returns {got}, the decoder takes (1, {m.latent_dim}): "
                            "mapping and decoder disagree on the latent size")
        path = m.root / net.residuals
        try:
            res = np.load(path, allow_pickle=False)
        except (OSError, ValueError) as exc:
            raise ShowError(f"{path}: unreadable residuals ({exc})") from exc
        want = (int(net.runs[-1, 1]), m.latent_dim)
        if res.shape != want or res.dtype != np.float32 or not np.all(np.isfinite(res)):
            raise ShowError(f"{path}: should be {want} finite float32 (frames in 'runs' x latent_dim), "
                            f"got {res.shape} {res.dtype}")
        self.residuals = res  # (frames, latent_dim)
        self.shots = ShotPlayer(net.runs, net.fps, net.rules, music_period)

    def __call__(self, c: np.ndarray, out: np.ndarray, shot: np.ndarray, t: float) -> None:
        with torch.no_grad():
            self._cin.copy_(torch.from_numpy(c).view(self._cin.shape))
            torch.from_numpy(out).copy_(self.mapping(self._cin)[0])
        out += self.residuals[self.shots.index(shot, t)]

    def batch(self, c: np.ndarray, out: np.ndarray, shots: np.ndarray, t: np.ndarray) -> None:
        """One network call for all B frames (render: 5x cheaper a frame than B calls on 2 CPU
        cores; a batched call may round the last bit differently from the live path's one)."""
        with torch.no_grad():
            torch.from_numpy(out).copy_(self.mapping(torch.from_numpy(c).to(self._cin.device)))
        for k in range(len(c)):
            out[k] += self.residuals[self.shots.index(shots[k], float(t[k]))]

    def warmup(self) -> None:
        with torch.no_grad():
            for _ in range(8):
                self.mapping(self._cin)


@dataclass(frozen=True)
class RuntimeOptions:
    device: torch.device
    size: tuple[int, int] | None = None  # output (W, H); None = the decoder's own
    half: bool = False
    deterministic: bool = True
    upscale: str = "lanczos"  # the filter behind --size: lanczos, bicubic, bilinear or nearest (show/upscale.py)


class ShowRuntime:
    def __init__(self, manifest: Manifest, opts: RuntimeOptions) -> None:
        m = manifest
        self.manifest = m
        self.name = m.name
        self.source = str(m.origin)  # the folder or zip it came from
        self.checksum = bundle_digest(m)  # what a recording names it by
        if m.encoder_kind == "rave":
            self.encoder = RaveEncoder(m.encoder_path, opts.device, deterministic=opts.deterministic)
            for what, got, want in (("sample rate", self.encoder.sample_rate, m.sample_rate),
                                    ("hop", self.encoder.hop, m.hop),
                                    ("latent_dim", self.encoder.latent_dim, m.encoder_dim)):
                if got != want:
                    raise ShowError(f"{m.encoder_path}: {what} is {got}, {m.manifest_path} says {want}")
        else:
            self.encoder = FeaturesEncoder(m.sample_rate, m.hop)
            if self.encoder.latent_dim != m.encoder_dim:
                raise ShowError(f"{m.manifest_path}: features have {self.encoder.latent_dim} dims, "
                                f"the manifest says {m.encoder_dim}")
        # The six old features, only where a stream reads them; a features show reuses its encoder.
        self.features_show = m.encoder_kind == "features"  # its encoder's latent is the features
        self.features: FeaturesEncoder | None = self.encoder if self.features_show else (
            FeaturesEncoder(m.sample_rate, m.hop) if m.conditioning.uses("features") else None)
        self.decoder = FrameDecoder(m.decoder_path, m.latent_dim, m.context, (m.width, m.height),
                                    opts.device, out_size=opts.size, half=opts.half,
                                    upscale=opts.upscale)
        self.sample_rate = m.sample_rate
        self.hop = m.hop
        self.encoder_dim = m.encoder_dim
        self.n_features = self.features.latent_dim if self.features is not None else 0
        self.conditioning = m.conditioning
        self.cond_dim = m.conditioning.dim
        self.latent_dim = m.latent_dim
        self.context = m.context
        self.period = m.hop / m.sample_rate  # seconds per latent
        self.uses_clock = m.conditioning.uses("rave") or m.conditioning.uses("features")  # the encoder's clock
        self.uses_music = m.conditioning.uses("music")
        # per stream: (source, columns of the source row, output slice, mean, 1 / std); sources:
        # 0 the encoder clock's row [z | features], 1 the music row
        self._parts = []
        for stream, sl in m.conditioning.slices():
            if stream.kind == "music":
                src, cols = 1, stream.source_index
            else:
                src, cols = 0, stream.source_index + (self.encoder_dim if stream.kind == "features" else 0)
            self._parts.append((src, cols, sl, stream.mean, (1.0 / stream.std).astype(np.float32)))
        self.music = MusicAnalysis(m.sample_rate)
        self.music_period = self.music.hop / m.sample_rate  # seconds per music row
        if m.network is not None:
            self.latent_map: LatentMap = ImageMap(m, opts.device, self.music_period)
        elif m.mapping_weight is not None:
            self.latent_map = AffineMap(m.mapping_weight, m.mapping_bias)
        else:
            self.latent_map = DirectMap()
        self.shots = self.latent_map.shots
        self.n_shot = SHOT_COLUMNS if self.shots is not None else 0  # extra columns of the music rows
        self._no_features = np.zeros(0, dtype=np.float32)
        self.encode_ms = self.warmup()
        self._silence_features, self._silence_music = self._silence_rows()
        self.clock, self.music_clock = self._clocks(0.0, True, 0, 0.0)

    @classmethod
    def load(cls, spec: str | Path, opts: RuntimeOptions) -> "ShowRuntime":
        """Resolve, validate and warm up; raises ShowError naming the file and the problem.
        Every file is read into memory here, so a zipped show's unpacked copy goes at once."""
        with open_show(spec) as (root, source):
            manifest = load_manifest(root)
            manifest.source = source
            verify_checksums(manifest)
            return cls(manifest, opts)  # built, checked and warmed up in one step

    def warmup(self) -> float:
        """Run every model a few times (the first calls are slow); returns the encoder's ms per hop."""
        self.encoder.warmup()
        self.decoder.warmup()
        self.latent_map.warmup()
        silence = np.zeros(self.hop, dtype=np.float32)
        t = time.perf_counter()
        for _ in range(8):
            self.encoder.encode_hop(silence)
        ms = (time.perf_counter() - t) / 8 * 1e3
        self.reset()
        return ms

    def _silence_rows(self) -> tuple[np.ndarray, np.ndarray]:
        """What silence reads as, for the features and the music row: the clocks' rest state."""
        silence = np.zeros(self.hop, dtype=np.float32)
        features = self.features.encode_hop(silence).copy() if self.features is not None else self._no_features
        self.reset()
        music = self.music.encode_hop(silence[: self.music.hop]).copy()
        self.reset()
        return features, music

    def reset(self) -> None:
        self.encoder.reset()
        if self.features is not None and not self.features_show:
            self.features.reset()
        self.music.reset()

    def new_clock(self, t0: float, interpolate: bool = True, seed: int = 0, ahead_s: float = 0.0) -> LatentClock:
        """Fresh clocks from media time t0; `seed` draws an image show's shots; `ahead_s`: how far
        render's encoders may run ahead of the frame being read (each clock keeps that much more)."""
        self.clock, self.music_clock = self._clocks(t0, interpolate, seed, ahead_s)
        return self.clock

    def _clocks(self, t0: float, interpolate: bool, seed: int, ahead_s: float) -> tuple[LatentClock, LatentClock]:
        rest = np.zeros(self.encoder_dim + self.n_features, dtype=np.float32)  # raw [z | features] of silence
        rest[self.encoder_dim :] = self._silence_features
        if self.features_show:  # a features show's z is its features
            rest[: self.encoder_dim] = self._silence_features
        else:  # RAVE at rest: the show's mean latent, which standardises to 0
            for stream in self.conditioning.streams:
                if stream.kind == "rave":
                    rest[: self.encoder_dim] = stream.mean
        clock = LatentClock(self.encoder_dim, self.n_features, self.period, t0=t0, rest=rest, interpolate=interpolate,
                            capacity=CAPACITY + math.ceil(ahead_s / self.period))
        # music rows are held, never interpolated: an onset must not be smeared over a hop
        rest_music = self._silence_music
        if self.shots is not None:  # [music row | shot row]
            rest_music = np.concatenate([self._silence_music, self.shots.reset(seed, t0)])
        return clock, LatentClock(self.music.dim, self.n_shot, self.music_period, t0=t0, rest=rest_music,
                                  interpolate=False, capacity=CAPACITY + math.ceil(ahead_s / self.music_period))

    def encode_hop(self, mono: np.ndarray) -> None:
        """mono: (hop,) float32 at the show's sample rate -> one raw row pushed on the clock."""
        z = self.encoder.encode_hop(mono)
        if self.features is None:
            f = self._no_features
        else:
            f = z if self.features_show else self.features.encode_hop(mono)
        self.clock.push(z, f)

    def encode_music_hop(self, mono: np.ndarray) -> int:
        """mono: (music.hop,) float32 -> one row pushed on the music clock; returns the event bits
        (music_analysis.EVENTS) that started in this hop."""
        self._push_music(self.music.encode_hop(mono))
        return self.music.events

    def encode_music_hops(self, mono: np.ndarray) -> None:
        """mono: (k * music.hop,) float32 -> k rows pushed, as k calls of encode_music_hop push them."""
        for row in self.music.encode_hops(mono):
            self._push_music(row)

    def _push_music(self, row: np.ndarray) -> None:
        shot = self._no_features
        if self.shots is not None:
            shot = self.shots.push(self.music.events, self.music_clock.stamp(self.music_clock.count))
        self.music_clock.push(row, shot)

    def condition(self, clock_row: np.ndarray, music_row: np.ndarray, out: np.ndarray) -> None:
        """clock_row: (encoder_dim + n_features,) raw, music_row: (music.dim,) -> out: (cond_dim,)
        standardised, the streams side by side; no allocation (the render thread calls it)."""
        rows = (clock_row, music_row)
        for src, cols, sl, mean, inv_std in self._parts:
            part = out[sl]
            np.take(rows[src], cols, out=part)
            part -= mean
            part *= inv_std

    def to_decoder_latent(self, c: np.ndarray, out: np.ndarray, shot: np.ndarray | None = None,
                          t: float = 0.0) -> None:
        """c: (window, cond_dim) standardised conditioning, newest last, or one row (cond_dim,) ->
        out: (latent_dim,) before the controls; `shot`: the shot row of the music clock at media time t."""
        self.latent_map(c if c.ndim == 2 else c[None], out, self._no_features if shot is None else shot, t)

    def describe(self) -> str:
        m = self.manifest
        streams = " + ".join(f"{s.kind} {s.dim}" + (f" x{s.window}" if s.window > 1 else "")
                             for s in self.conditioning.streams)
        return (f"show '{m.name}' ({m.origin}): {m.encoder_kind} encoder {m.encoder_dim}-d at "
                f"{m.sample_rate} Hz, hop {m.hop} ({self.period * 1e3:.1f} ms); conditioning {streams}; "
                f"{m.decoder_kind} decoder {m.latent_dim}-d -> {self.decoder.width}x{self.decoder.height}")
