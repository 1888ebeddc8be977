"""OSC output maps: latent dimensions or audio features, scaled, curved and clamped, to any
address on any host. Resolume's addresses take one value each (`/composition/layers/1/video/opacity`
on port 7000), so this is how the daemon drives a Resolume parameter directly.

One TOML file per map:

    target = "127.0.0.1:7000"      # HOST:PORT
    rate = 30                      # Hz, at most the frame rate (default: every frame)

    [[route]]
    source = "latent/0"            # latent/<i> (as the decoder got it) or feature/<name> (music_analysis.STREAM_NAMES)
    address = "/composition/layers/1/video/opacity"
    in = [-2.0, 2.0]               # the source's range; values outside are clamped
    out = [0.0, 1.0]               # what the range becomes (reversed ranges invert)
    curve = "linear"               # linear | square | sqrt | smoothstep

Every mistake is reported at load with the file, the line and the fix; a reload that fails keeps
the maps already running.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..audio.music_analysis import STREAM_NAMES
from ..config import ConfigError, parse_host_port
from ..suggest import did_you_mean
from .map_files import CURVES, LineIndex, MapError, number_pair, read_map

ROUTE_KEYS = {"source", "address", "in", "out", "curve"}
TOP_KEYS = {"target", "rate", "route"}


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


def _source(text, latent_dim: int | None) -> tuple[str, int]:
    kind, _, name = str(text).partition("/")
    if kind == "latent" and name.isdigit():
        i = int(name)
        if latent_dim is not None and i >= latent_dim:
            raise ValueError(f"source {text!r}: this show's latent has {latent_dim} dimensions (latent/0 .. "
                             f"latent/{latent_dim - 1})")
        return "latent", i
    if kind == "feature" and name in STREAM_NAMES:
        return "feature", STREAM_NAMES.index(name)
    hint = did_you_mean(text, [f"feature/{n}" for n in STREAM_NAMES] + ["latent/0"])
    raise ValueError(f"source {text!r} is unknown{hint}; use latent/<i> or feature/<name> with name one of "
                     f"{', '.join(STREAM_NAMES)}")


def _address(text) -> str:
    if not isinstance(text, str) or not text.startswith("/") or any(c in text for c in " #*,?[]{}"):
        raise ValueError(f"address {text!r} must start with '/' and hold no spaces or OSC pattern characters "
                         "(# * , ? [ ] { })")
    return text


def load_map(path: str | Path, latent_dim: int | None = None) -> OscMap:
    """Read and check one map file; raises MapError naming the file, the line and the fix."""
    path, text, doc = read_map(path, "OSC map")
    where = LineIndex(text)

    def fail(msg: str, key: str, route: int | None = None) -> MapError:
        return MapError(f"{path}:{where.of_key(key, route)}: {msg}")

    for key in doc:
        if key not in TOP_KEYS:
            raise fail(f"unknown setting '{key}'{did_you_mean(key, TOP_KEYS)}", key)
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
                raise fail(f"route {k + 1}: unknown key '{key}'{did_you_mean(key, ROUTE_KEYS)}", key, k)
        for key in ("source", "address", "in", "out"):
            if key not in r:
                raise fail(f"route {k + 1}: '{key}' is missing", "route", k)
        curve = r.get("curve", "linear")
        if curve not in CURVES:
            raise fail(f"route {k + 1}: curve {curve!r} is not one of {', '.join(CURVES)}", "curve", k)
        for key, check in (("source", lambda v: _source(v, latent_dim)), ("address", _address),
                           ("in", lambda v: number_pair(v, "in")), ("out", lambda v: number_pair(v, "out"))):
            try:
                check(r[key])
            except ValueError as exc:
                raise fail(f"route {k + 1}: {exc}", key, k) from exc
        kind, index = _source(r["source"], latent_dim)
        (in_lo, in_hi), (out_lo, out_hi) = number_pair(r["in"], "in"), number_pair(r["out"], "out")
        routes.append(Route(r["source"], kind, index, r["address"], in_lo, in_hi, out_lo, out_hi, curve))
    return OscMap(path, target, float(rate) if rate else None, tuple(routes))
