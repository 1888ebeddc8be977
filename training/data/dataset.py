"""Reading a built dataset: memory-mapped frames and conditioning rows, the held-out split, batches.

The split is by contiguous time segments on the dataset's concatenated timeline: one segment of
`heldout_seconds` in every `heldout_every` is held out, so held-out frames are never the
neighbours of training frames (which would make held-out metrics a test of memory).
"""
from __future__ import annotations

from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

from latentvj.daemon.show.conditioning import (
    Conditioning,
    ConditioningError,
    Stream,
    check_music_names,
    default_names,
)
from latentvj.daemon.toml_io import read_toml

DATASET_FORMAT = 2  # 2: rows carry the music stream too
MANIFEST = "dataset.toml"


class DatasetError(Exception):
    """A dataset or input we cannot use; the message names the file and the problem."""


def heldout_mask(start: float, n: int, fps: float, seconds: float, every: int) -> np.ndarray:
    """(n,) bool for an item starting at `start` s on the timeline: True where held out."""
    t = start + np.arange(n) / fps
    seg = np.floor(t / seconds).astype(np.int64)
    return seg % every == every // 2


class FrameDataset:
    """All items of a dataset as one indexable sequence of frames.

    `inputs(idx, conditioning)` gives standardised conditioning windows ending at each index (the
    window is clamped at the start of its video, never crossing into another), `frames(idx)` the
    pictures. Memory maps are opened lazily so DataLoader workers each get their own.
    """

    def __init__(self, root: Path) -> None:
        self.root = Path(root)
        path = self.root / MANIFEST
        if not path.is_file():
            raise DatasetError(f"{self.root}: not a dataset (no {MANIFEST}); build one with `latentvj dataset build`")
        m = read_toml(path, DatasetError, "dataset manifest")
        if m.get("format") != DATASET_FORMAT:
            raise DatasetError(f"{path}: format {m.get('format')!r}, this version reads {DATASET_FORMAT}; run the "
                               "same `latentvj dataset build` command again to rebuild it")
        self.manifest = m
        self.size = int(m["size"])
        self.fps = float(m["fps"])
        self.latent_dim = int(m["latent_dim"])
        self.n_features = len(m["features"])
        self.music_names = tuple(m["music"])
        self.width = self.latent_dim + self.n_features + len(self.music_names)
        st = m["stats"]
        # per column of the rows ([z | features | music]), over the training frames
        self.mean = np.concatenate([st["latent_mean"], st["features_mean"], st["music_mean"]]).astype(np.float32)
        self.std = np.concatenate([st["latent_std"], st["features_std"], st["music_std"]]).astype(np.float32)
        self.items = m["items"]
        counts = [int(it["frames"]) for it in self.items]
        self.offsets = np.concatenate([[0], np.cumsum(counts)]).astype(np.int64)  # (items + 1,)
        self.n = int(self.offsets[-1])
        self.item_of = np.repeat(np.arange(len(counts)), counts)  # (n,)
        sp = m["split"]
        held = np.concatenate([heldout_mask(float(it["start"]), int(it["frames"]), self.fps,
                                            float(sp["heldout_seconds"]), int(sp["heldout_every"])) for it in self.items])
        self.train_idx = np.flatnonzero(~held)
        self.heldout_idx = np.flatnonzero(held)
        if len(self.train_idx) == 0 or len(self.heldout_idx) == 0:
            raise DatasetError(f"{path}: {self.n / self.fps:.1f} s of frames give {len(self.train_idx)} training and "
                               f"{len(self.heldout_idx)} held-out frames; add videos or lower --heldout-seconds")
        self._frames: list[np.memmap] | None = None
        self._rows: list[np.memmap] | None = None

    def _open(self) -> None:
        self._frames, self._rows = [], []
        for it in self.items:
            d = self.root / "items" / it["key"]
            n = int(it["frames"])
            try:
                self._frames.append(np.memmap(d / "frames.u8", np.uint8, "r", shape=(n, self.size, self.size, 3)))
                self._rows.append(np.memmap(d / "rows.f32", np.float32, "r", shape=(n, self.width)))
            except (OSError, ValueError) as exc:
                raise DatasetError(f"{d}: arrays missing or the wrong size ({exc}); rebuild the dataset") from exc

    def __getstate__(self) -> dict:  # memory maps are reopened in each worker
        return {**self.__dict__, "_frames": None, "_rows": None}

    def _locate(self, idx: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        if self._frames is None:
            self._open()
        item = self.item_of[idx]
        return item, idx - self.offsets[item]

    def rows(self, idx: np.ndarray) -> np.ndarray:
        """(B,) global indices -> (B, latent_dim + n_features) raw rows."""
        item, local = self._locate(idx)
        return np.stack([self._rows[i][j] for i, j in zip(item, local)])

    def columns(self, kind: str, names: tuple[str, ...]) -> np.ndarray:
        """Where a conditioning stream's columns are in this dataset's rows."""
        if kind == "rave":
            return np.arange(self.latent_dim)
        if kind == "features":
            return self.latent_dim + np.arange(self.n_features)
        return self.latent_dim + self.n_features + np.array([self.music_names.index(n) for n in names])

    def conditioning(self, kinds: list[str], music_names: tuple[str, ...] | None = None, rave_window: int = 1,
                     music_window: int = 1) -> Conditioning:
        """The conditioning a model trained here takes, with this dataset's training-frame stats."""
        if "rave" in kinds and self.latent_dim == 0:
            raise DatasetError(f"{self.root}: built without a RAVE encoder, so a show on it cannot read the 'rave' "
                               "stream; train with --conditioning music, or rebuild it with --encoder")
        streams = []
        try:
            for kind in kinds:
                if kind == "music":
                    names = check_music_names(tuple(music_names or default_names("music")), "music features")
                else:
                    names = default_names(kind, self.latent_dim)
                cols = self.columns(kind, names)
                streams.append(Stream(kind, names, music_window if kind == "music" else rave_window,
                                      self.mean[cols], self.std[cols]))
        except ConditioningError as exc:
            raise DatasetError(str(exc)) from exc
        return Conditioning(tuple(streams))

    def inputs(self, idx: np.ndarray, cond: Conditioning) -> np.ndarray:
        """(B,) -> (B, context, cond.dim) standardised conditioning windows, oldest first."""
        item, local = self._locate(idx)
        ctx = cond.context
        cols = np.concatenate([self.columns(s.kind, s.names) for s in cond.streams])
        mean = np.concatenate([s.mean for s in cond.streams])
        std = np.concatenate([s.std for s in cond.streams])
        out = np.empty((len(idx), ctx, len(cols)), np.float32)
        for b, (i, j) in enumerate(zip(item, local)):
            src = self._rows[i][max(j - ctx + 1, 0) : j + 1][:, cols]
            out[b, ctx - len(src) :] = src
            out[b, : ctx - len(src)] = src[0]
        out -= mean
        out /= std
        return out

    def frames(self, idx: np.ndarray) -> np.ndarray:
        """(B,) -> (B, size, size, 3) uint8."""
        item, local = self._locate(idx)
        return np.stack([self._frames[i][j] for i, j in zip(item, local)])

    def item_frames(self, i: int) -> np.ndarray:
        """Item i's (frames, size, size, 3) uint8 as a memory map: a whole video without loading it."""
        if self._frames is None:
            self._open()
        return self._frames[i]

    def segments(self, idx: np.ndarray) -> list[np.ndarray]:
        """Split sorted indices into runs of consecutive frames within one video (for flicker)."""
        breaks = np.flatnonzero((np.diff(idx) != 1) | (np.diff(self.item_of[idx]) != 0)) + 1
        return [s for s in np.split(idx, breaks) if len(s) > 1]


def to_tensor(frames: np.ndarray) -> torch.Tensor:
    """(B, H, W, 3) uint8 -> (B, 3, H, W) float in [0, 1]."""
    return torch.from_numpy(frames).permute(0, 3, 1, 2).float().div_(255.0)


class StepBatches(torch.utils.data.Dataset):
    """Batch number s -> (latents, frames): indices depend only on (seed, s), so a resumed run
    reads exactly the batches the interrupted one would have read (the data position is the step)."""

    def __init__(self, data: FrameDataset, batch: int, cond: Conditioning, seed: int, rank: int = 0,
                 world: int = 1) -> None:
        self.data, self.batch, self.cond, self.seed = data, batch, cond, seed
        self.rank, self.world = rank, world
        self.per_epoch = max(len(data.train_idx) // (batch * world), 1)

    def __len__(self) -> int:
        return 1 << 40

    def indices(self, step: int) -> np.ndarray:
        epoch, pos = divmod(step, self.per_epoch)
        perm = np.random.default_rng([self.seed, epoch]).permutation(len(self.data.train_idx))
        start = (pos * self.world + self.rank) * self.batch
        take = perm[np.arange(start, start + self.batch) % len(perm)]
        return np.sort(self.data.train_idx[take])

    def __getitem__(self, step: int) -> tuple[torch.Tensor, torch.Tensor]:
        idx = self.indices(step)
        return torch.from_numpy(self.data.inputs(idx, self.cond)), torch.from_numpy(self.data.frames(idx))


def device_images(frames: torch.Tensor, size: tuple[int, int], device: torch.device) -> torch.Tensor:
    """(B, H, W, 3) uint8 on the host -> (B, 3, h, w) float in [0, 1] on the device at the model's size."""
    x = frames.to(device, non_blocking=True).permute(0, 3, 1, 2).float().div_(255.0)
    w, h = size
    if x.shape[-2:] != (h, w):
        x = F.interpolate(x, size=(h, w), mode="area")
    return x


__all__ = ["FrameDataset", "DatasetError", "StepBatches", "device_images", "heldout_mask", "to_tensor", "MANIFEST"]
