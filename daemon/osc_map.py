"""OSC output maps: latent dimensions or audio features, scaled, curved and clamped, to any
address on any host. Resolume's addresses take one value each (`/composition/layers/1/video/opacity`
on port 7000), so this is how the daemon drives a Resolume parameter directly.

One TOML file per map:

    target = "127.0.0.1:7000"      # HOST:PORT
    rate = 30                      # Hz, at most the frame rate (default: every frame)

    [[route]]
    source = "latent/0"            # latent/<i> (as the decoder got it) or feature/<name>
    address = "/composition/layers/1/video/opacity"
    in = [-2.0, 2.0]               # the source's range; values outside are clamped
    out = [0.0, 1.0]               # what the range becomes (reversed ranges invert)
    curve = "linear"               # linear | square | sqrt | smoothstep

Every mistake is reported at load with the file, the line and the fix; a reload that fails keeps
the maps already running.
"""
from __future__ import annotations

import difflib
import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ._toml import TOMLDecodeError, load_toml
from .config import ConfigError
from .features import FEATURE_NAMES

CURVES = {
    "linear": lambda t: t,
    "square": lambda t: t * t,
    "sqrt": lambda t: t ** 0.5,
    "smoothstep": lambda t: t * t * (3.0 - 2.0 * t),
}
ROUTE_KEYS = {"source", "address", "in", "out", "curve"}
TOP_KEYS = {"target", "rate", "route"}


class MapError(ConfigError):
    """A map file that cannot work: `FILE:LINE: what is wrong; how to fix it`."""


@dataclass(frozen=True)
class Route:
    source: str
    kind: str  # "latent" or "feature"
    index: int
    address: str
    in_lo: float
    in_hi: float
    out_lo: float
    out_hi: float
    curve: str

    def value(self, x: float) -> float:
        t = min(max((x - self.in_lo) / (self.in_hi - self.in_lo), 0.0), 1.0)
        return self.out_lo + CURVES[self.curve](t) * (self.out_hi - self.out_lo)


@dataclass(frozen=True)
class OscMap:
    path: Path
    target: tuple[str, int]
    rate: float | None
    routes: tuple[Route, ...]

    def every(self, fps: float) -> int:
        """Frames between sends."""
        return 1 if not self.rate else max(1, round(fps / self.rate))

    def values(self, latent: np.ndarray, features: np.ndarray) -> list[tuple[str, float]]:
        """latent: (dim,), features: (n_features,) -> (address, value) per route that applies."""
        out = []
        for r in self.routes:
            src = latent if r.kind == "latent" else features
            if r.index < len(src):  # a show with fewer dimensions than the map: skip, do not fail
                out.append((r.address, r.value(float(src[r.index]))))
        return out


class _Lines:
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


def _number_pair(value, what: str) -> tuple[float, float]:
    if (not isinstance(value, list) or len(value) != 2
            or not all(isinstance(v, (int, float)) and not isinstance(v, bool) and np.isfinite(v) for v in value)):
        raise ValueError(f"'{what}' must be two finite numbers [low, high], got {value!r}")
    lo, hi = float(value[0]), float(value[1])
    if lo == hi:
        raise ValueError(f"'{what}' = {value!r} has min = max; give two different values, e.g. [0.0, 1.0]")
    return lo, hi


def _source(text, latent_dim: int | None) -> tuple[str, int]:
    kind, _, name = str(text).partition("/")
    if kind == "latent" and name.isdigit():
        i = int(name)
        if latent_dim is not None and i >= latent_dim:
            raise ValueError(f"source {text!r}: this show's latent has {latent_dim} dimensions (latent/0 .. "
                             f"latent/{latent_dim - 1})")
        return "latent", i
    if kind == "feature" and name in FEATURE_NAMES:
        return "feature", FEATURE_NAMES.index(name)
    near = difflib.get_close_matches(str(text), [f"feature/{n}" for n in FEATURE_NAMES] + ["latent/0"], n=1)
    hint = f" (did you mean {near[0]!r}?)" if near else ""
    raise ValueError(f"source {text!r} is unknown{hint}; use latent/<i> or feature/<name> with name one of "
                     f"{', '.join(FEATURE_NAMES)}")


def _address(text) -> str:
    if not isinstance(text, str) or not text.startswith("/") or any(c in text for c in " #*,?[]{}"):
        raise ValueError(f"address {text!r} must start with '/' and hold no spaces or OSC pattern characters "
                         "(# * , ? [ ] { })")
    return text


def load_map(path: str | Path, latent_dim: int | None = None) -> OscMap:
    """Read and check one map file; raises MapError naming the file, the line and the fix."""
    from .osc_out import parse_host_port

    path = Path(path).expanduser()
    try:
        text = path.read_text()
    except OSError as exc:
        raise MapError(f"{path}: cannot read the OSC map ({exc.strerror})") from exc
    try:
        doc = load_toml(path)
    except TOMLDecodeError as exc:  # its message carries "(at line L, column C)"
        raise MapError(f"{path}: not valid TOML: {exc}") from exc
    where = _Lines(text)

    def fail(msg: str, key: str, route: int | None = None) -> MapError:
        return MapError(f"{path}:{where.of_key(key, route)}: {msg}")

    for key in doc:
        if key not in TOP_KEYS:
            near = difflib.get_close_matches(key, TOP_KEYS, n=1)
            raise fail(f"unknown setting '{key}'" + (f" (did you mean '{near[0]}'?)" if near else ""), key)
    if "target" not in doc:
        raise MapError(f"{path}:1: no target; add a line like target = \"127.0.0.1:7000\" (Resolume's OSC input)")
    try:
        target = parse_host_port(str(doc["target"]), "target")
    except ConfigError as exc:
        raise fail(str(exc), "target") from exc
    rate = doc.get("rate")
    if rate is not None and (isinstance(rate, bool) or not isinstance(rate, (int, float)) or rate <= 0):
        raise fail(f"rate {rate!r}: expected a number of messages a second above 0", "rate")
    routes_doc = doc.get("route", [])
    if not isinstance(routes_doc, list) or not routes_doc:
        raise MapError(f"{path}:1: no [[route]] tables; add at least one (see docs/resolume.md)")
    routes = []
    for k, r in enumerate(routes_doc):
        for key in r:
            if key not in ROUTE_KEYS:
                near = difflib.get_close_matches(key, ROUTE_KEYS, n=1)
                raise fail(f"route {k + 1}: unknown key '{key}'" + (f" (did you mean '{near[0]}'?)" if near else ""), key, k)
        for key in ("source", "address", "in", "out"):
            if key not in r:
                raise fail(f"route {k + 1}: '{key}' is missing", "route", k)
        curve = r.get("curve", "linear")
        if curve not in CURVES:
            raise fail(f"route {k + 1}: curve {curve!r} is not one of {', '.join(CURVES)}", "curve", k)
        for key, check in (("source", lambda v: _source(v, latent_dim)), ("address", _address),
                           ("in", lambda v: _number_pair(v, "in")), ("out", lambda v: _number_pair(v, "out"))):
            try:
                check(r[key])
            except ValueError as exc:
                raise fail(f"route {k + 1}: {exc}", key, k) from exc
        kind, index = _source(r["source"], latent_dim)
        (in_lo, in_hi), (out_lo, out_hi) = _number_pair(r["in"], "in"), _number_pair(r["out"], "out")
        routes.append(Route(r["source"], kind, index, r["address"], in_lo, in_hi, out_lo, out_hi, curve))
    return OscMap(path, target, float(rate) if rate else None, tuple(routes))
