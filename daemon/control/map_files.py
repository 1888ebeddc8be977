"""What every map file (OSC output maps, MIDI maps) shares: the error that names FILE:LINE, where a
key sits in the file (the TOML parser does not say), ranges given as [low, high], the curves.
"""
from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import numpy as np

from ..config import ConfigError
from ..toml_io import read_toml

CURVES = {
    "linear": lambda t: t,
    "square": lambda t: t * t,
    "sqrt": lambda t: t ** 0.5,
    "smoothstep": lambda t: t * t * (3.0 - 2.0 * t),
}


class MapError(ConfigError):
    """A map file that cannot work: `FILE:LINE: what is wrong; how to fix it`."""


def read_map(path: str | Path, what: str) -> tuple[Path, str, dict[str, Any]]:
    """(path, text, parsed TOML) of a map file; MapError naming the file when it cannot be read."""
    path = Path(path).expanduser()
    doc = read_toml(path, MapError, what)
    return path, path.read_text(), doc


class LineIndex:
    """Where things are in the file, since the TOML parser does not say."""

    def __init__(self, text: str, table: str = "route") -> None:
        self.lines = text.splitlines()
        self.routes = [i + 1 for i, line in enumerate(self.lines) if re.match(rf"\s*\[\[\s*{table}\s*\]\]", line)]

    def of_key(self, key: str, route: int | None = None) -> int:
        start, end = 1, len(self.lines)
        if route is not None and route < len(self.routes):
            start = self.routes[route]
            end = self.routes[route + 1] - 1 if route + 1 < len(self.routes) else len(self.lines)
        elif route is None and self.routes:
            end = self.routes[0] - 1
        pattern = re.compile(rf"\s*[\"']?{re.escape(key)}[\"']?\s*=")
        for n in range(start, end + 1):
            if pattern.match(self.lines[n - 1]):
                return n
        return start if route is not None else 1


def number_pair(value, what: str) -> tuple[float, float]:
    if (not isinstance(value, list) or len(value) != 2
            or not all(isinstance(v, (int, float)) and not isinstance(v, bool) and np.isfinite(v) for v in value)):
        raise ValueError(f"'{what}' must be two finite numbers [low, high], got {value!r}")
    lo, hi = float(value[0]), float(value[1])
    if lo == hi:
        raise ValueError(f"'{what}' = {value!r} has min = max; give two different values, e.g. [0.0, 1.0]")
    return lo, hi
