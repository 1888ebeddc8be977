"""What a show's model takes from the audio: its conditioning streams, in order, each with its
window and the stats that standardise it (`[[conditioning]]` in show.toml, format 2).

- `rave`: the RAVE encoder's latents, one row per RAVE hop, interpolated (or held) by the
  latent clock and read with the long offset (a hop plus a margin);
- `music`: named columns of the music stream (audio/music_analysis.STREAM_NAMES) on the fine
  hop, held, read with the short offset, so transients reach the picture without waiting for RAVE;
- `features`: the six hand-made features of format-1 features shows on the encoder's hop (kept
  so old bundles play; new shows use `music`).

The conditioning row is the streams' standardised values side by side, in show.toml order. The
decoder gets a window of `context` rows (the longest stream window), newest last; a stream with a
shorter window is meant to be read from the last `window` rows of its own columns (`layout`).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from ..audio.features import feature_names
from ..audio.music_analysis import STREAM_NAMES
from ..audio.music_features import MUSIC_FEATURE_NAMES
from ..suggest import did_you_mean

STREAM_KINDS = ("rave", "music", "features")
DEFAULT_MUSIC = MUSIC_FEATURE_NAMES  # loudness, centroid, four onsets, twelve chroma
MAX_WINDOW = 256  # rows; a longer window is a typo, not a model


class ConditioningError(ValueError):
    """A conditioning declaration that cannot be played; the message says where and why."""


@dataclass
class Stream:
    kind: str  # one of STREAM_KINDS
    names: tuple[str, ...]  # one per column
    window: int  # rows of this stream the model reads, newest last
    mean: np.ndarray  # (dim,) float32
    std: np.ndarray  # (dim,) float32, > 0

    @property
    def dim(self) -> int:
        return len(self.names)

    @property
    def source_index(self) -> np.ndarray:
        """Columns of this stream's source row: STREAM_NAMES for music, all columns otherwise."""
        if self.kind == "music":
            return np.array([STREAM_NAMES.index(n) for n in self.names], dtype=np.int64)
        return np.arange(self.dim, dtype=np.int64)


@dataclass
class Conditioning:
    streams: tuple[Stream, ...]

    @property
    def dim(self) -> int:
        return sum(s.dim for s in self.streams)

    @property
    def context(self) -> int:
        return max(s.window for s in self.streams)

    @property
    def names(self) -> list[str]:
        return [f"{s.kind}/{n}" for s in self.streams for n in s.names]

    def uses(self, kind: str) -> bool:
        return any(s.kind == kind for s in self.streams)

    def slices(self) -> list[tuple[Stream, slice]]:
        out, a = [], 0
        for s in self.streams:
            out.append((s, slice(a, a + s.dim)))
            a += s.dim
        return out

    def layout(self) -> list[tuple[int, int, int]]:
        """(first column, columns, window) per stream: what a model reads of the (context, dim) input."""
        return [(sl.start, s.dim, s.window) for s, sl in self.slices()]

    def to_toml(self) -> list[dict[str, Any]]:
        tables = []
        for s in self.streams:
            t: dict[str, Any] = {"stream": s.kind, "window": s.window}
            if s.kind == "music":
                t["names"] = list(s.names)
            t["mean"] = [float(x) for x in s.mean]
            t["std"] = [float(x) for x in s.std]
            tables.append(t)
        return tables


def default_names(kind: str, rave_dim: int = 0) -> tuple[str, ...]:
    if kind == "rave":
        return tuple(f"z{i}" for i in range(rave_dim))
    if kind == "features":
        return tuple(feature_names())
    return DEFAULT_MUSIC


def check_music_names(names: list[str] | tuple[str, ...], where: str) -> tuple[str, ...]:
    for n in names:
        if not isinstance(n, str) or n not in STREAM_NAMES:
            raise ConditioningError(f"{where}: '{n}' is not a music stream column{did_you_mean(str(n), STREAM_NAMES)} "
                                    f"(columns: {', '.join(STREAM_NAMES)})")
    if len(set(names)) != len(names):
        raise ConditioningError(f"{where}: a music column is named twice")
    if not names:
        raise ConditioningError(f"{where}: 'names' is empty")
    return tuple(names)


def _finite_vector(value: Any, n: int, key: str, where: str) -> np.ndarray:
    try:
        arr = np.asarray(value, dtype=np.float64)
    except (TypeError, ValueError):
        arr = np.zeros(0)
    if arr.shape != (n,) or not np.all(np.isfinite(arr)):
        raise ConditioningError(f"{where}: '{key}' should be {n} finite numbers")
    return arr.astype(np.float32)


def parse_stream(table: Any, where: str, rave_dim: int) -> Stream:
    """One `[[conditioning]]` table; rave_dim is the encoder's latent size (0 without RAVE)."""
    if not isinstance(table, dict):
        raise ConditioningError(f"{where}: should be a table")
    kind = table.get("stream")
    if kind not in STREAM_KINDS:
        raise ConditioningError(f"{where}: 'stream' should be one of {', '.join(STREAM_KINDS)}, got {kind!r}")
    if kind == "rave" and rave_dim < 1:
        raise ConditioningError(f"{where}: a 'rave' stream needs a RAVE [encoder]")
    window = table.get("window", 1)
    if isinstance(window, bool) or not isinstance(window, int) or not 1 <= window <= MAX_WINDOW:
        raise ConditioningError(f"{where}: 'window' should be a whole number of rows from 1 to {MAX_WINDOW}, "
                                f"got {window!r}")
    if kind == "music":
        names = table.get("names", list(DEFAULT_MUSIC))
        if not isinstance(names, list):
            raise ConditioningError(f"{where}: 'names' should be a list of music stream columns")
        names = check_music_names(names, where)
    else:
        names = default_names(kind, rave_dim)
    mean = _finite_vector(table.get("mean"), len(names), "mean", where)
    std = _finite_vector(table.get("std"), len(names), "std", where)
    if np.any(std <= 0):
        raise ConditioningError(f"{where}: 'std' must be positive")
    return Stream(kind, names, window, mean, std)


def parse_conditioning(tables: Any, where: str, rave_dim: int) -> Conditioning:
    if not isinstance(tables, list) or not tables:
        raise ConditioningError(f"{where}: [[conditioning]] should list at least one stream")
    streams = tuple(parse_stream(t, f"{where} [[conditioning]] #{i + 1}", rave_dim) for i, t in enumerate(tables))
    kinds = [s.kind for s in streams]
    if len(set(kinds)) != len(kinds):
        raise ConditioningError(f"{where}: each stream may appear once in [[conditioning]], got {', '.join(kinds)}")
    return Conditioning(streams)


def single_stream(kind: str, mean: np.ndarray, std: np.ndarray, window: int = 1, rave_dim: int = 0) -> Conditioning:
    """The conditioning of a format-1 bundle (and of `show create`): one stream, its stats."""
    names = default_names(kind, rave_dim or len(mean))
    return Conditioning((Stream(kind, names, window, np.asarray(mean, np.float32), np.asarray(std, np.float32)),))
