"""Performer controls over the latent: scale, bias, smoothing, freeze, noise, permutation, and
their presets.

OSC, MIDI (or, later, web) handlers write into one `Control` under its lock; the render thread's
`applier.ControlApplier` copies the values once per frame, only when they changed. Latents come
in standardised, so scale 1 and bias 0 mean "as trained".

A preset loaded over some seconds is a morph: the values become the preset's at once (what
OSCQuery, the page and a saved preset see: where the controls are going), and the snapshot carries
where they came from (`Morph`); the applier goes from one to the other over the morph's time in
frame time, so render and live give the same frames. A control moved during a morph leaves it.
"""
from __future__ import annotations

import math
import re
import threading
import time
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Callable

import numpy as np

from ..toml_io import dumps_toml, read_toml

MAX_ABS = 1e3  # beyond this a value is a mistake, not a performance
MAX_SMOOTH_S = 60.0
MAX_TIME_S = 3600.0  # a longer morph or fade is a typo
PRESET_NAME = re.compile(r"^[A-Za-z0-9_-]{1,64}$")


class ControlError(ValueError):
    """A control value that was refused; the message says which and why."""


def _finite(name: str, value: float, lo: float = -MAX_ABS, hi: float = MAX_ABS) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise ControlError(f"{name}: expected a number, got {type(value).__name__}")
    value = float(value)
    if not math.isfinite(value):
        raise ControlError(f"{name}: {value} is not finite")
    if not lo <= value <= hi:
        raise ControlError(f"{name}: {value} is outside [{lo:g}, {hi:g}]")
    return value


@dataclass
class ControlValues:
    dim: int
    scale: float = 1.0
    scales: np.ndarray = field(default=None)  # (dim,)
    biases: np.ndarray = field(default=None)  # (dim,)
    smooth: float = 0.0  # time constant in seconds; 0 = off
    freeze: bool = False
    noise: float = 0.0  # std of gaussian noise added per frame
    permutation: np.ndarray = field(default=None)  # (dim,) int: output i takes input permutation[i]
    morph: Morph | None = None  # a preset morph under way: where the values came from

    def __post_init__(self) -> None:
        if self.scales is None:
            self.scales = np.ones(self.dim, dtype=np.float32)
        if self.biases is None:
            self.biases = np.zeros(self.dim, dtype=np.float32)
        if self.permutation is None:
            self.permutation = np.arange(self.dim)

    def copy(self) -> "ControlValues":
        return ControlValues(
            self.dim, self.scale, self.scales.copy(), self.biases.copy(), self.smooth,
            self.freeze, self.noise, self.permutation.copy(), self.morph,
        )


@dataclass(frozen=True)
class Morph:
    """From `start` (the values on screen when the preset was asked for) to the values it rides on,
    over `seconds`. `left`: the controls moved since, which follow their own value: "scale",
    "smooth", "noise", "permutation", ("scales", i), ("biases", i). Immutable: a fader makes a new one."""

    start: ControlValues  # without a morph of its own
    seconds: float
    serial: int  # which morph: the applier restarts its time when this changes
    started: float  # Control's clock, to tell where a morph that supersedes this one starts from
    left: frozenset = frozenset()

    def progress(self, elapsed: float) -> float:
        return 1.0 if self.seconds <= 0 else min(1.0, max(0.0, elapsed / self.seconds))


def blend(start: ControlValues, end: ControlValues, u: float, left: frozenset, out: ControlValues) -> None:
    """out = start + u (end - start) for each control not `left` (those take end's); the
    permutation, a discrete control, switches at u = 1. out has end's size; no allocation."""
    def mix(name: str, a: float, b: float) -> float:
        return b if name in left else a + u * (b - a)

    out.scale = mix("scale", start.scale, end.scale)
    out.smooth = mix("smooth", start.smooth, end.smooth)
    out.noise = mix("noise", start.noise, end.noise)
    out.freeze = end.freeze
    np.subtract(end.scales, start.scales, out=out.scales)
    out.scales *= u
    out.scales += start.scales
    np.subtract(end.biases, start.biases, out=out.biases)
    out.biases *= u
    out.biases += start.biases
    for key in left:
        if isinstance(key, tuple):
            arr, i = key
            getattr(out, arr)[i] = getattr(end, arr)[i]
    out.permutation[:] = end.permutation if (u >= 1.0 or "permutation" in left) else start.permutation


class Control:
    """Thread-safe control state. Every setter validates and raises ControlError."""

    def __init__(self, dim: int, preset_dir: Path | None = None, clock: Callable[[], float] = time.monotonic) -> None:
        self._lock = threading.Lock()
        self._v = ControlValues(dim)
        self.version = 0  # bumped on every change, so the renderer copies only when needed
        self.preset_dir = preset_dir
        self.clock = clock  # only tells where a morph stands when another supersedes it
        self._morphs = 0

    @property
    def dim(self) -> int:
        return self._v.dim

    def _index(self, name: str, i: int) -> int:
        if isinstance(i, bool) or not isinstance(i, int):
            raise ControlError(f"{name}: dimension index must be an integer, got {i!r}")
        if not 0 <= i < self._v.dim:
            raise ControlError(f"{name}: dimension {i} is out of range 0..{self._v.dim - 1}")
        return i

    def _changed(self, leaves: str | tuple | None = None) -> None:
        """Under the lock: a control moved; `leaves` takes it out of a morph under way."""
        m = self._v.morph
        if m is not None and leaves is not None and leaves not in m.left:
            self._v.morph = replace(m, left=m.left | {leaves})
        self.version += 1

    def set_scale(self, value: float) -> None:
        value = _finite("scale", value)
        with self._lock:
            self._v.scale = value
            self._changed("scale")

    def set_dim_scale(self, i: int, value: float) -> None:
        value = _finite("scale", value)
        with self._lock:
            self._v.scales[self._index("scale", i)] = value
            self._changed(("scales", i))

    def set_dim_bias(self, i: int, value: float) -> None:
        value = _finite("bias", value)
        with self._lock:
            self._v.biases[self._index("bias", i)] = value
            self._changed(("biases", i))

    def set_smooth(self, seconds: float) -> None:
        seconds = _finite("smooth", seconds, 0.0, MAX_SMOOTH_S)
        with self._lock:
            self._v.smooth = seconds
            self._changed("smooth")

    def set_freeze(self, on: int | bool) -> None:
        if not isinstance(on, (int, bool)) or on not in (0, 1):
            raise ControlError(f"freeze: expected 0 or 1, got {on!r}")
        with self._lock:
            self._v.freeze = bool(on)
            self._changed()

    def set_noise(self, std: float) -> None:
        std = _finite("noise", std, 0.0, 100.0)
        with self._lock:
            self._v.noise = std
            self._changed("noise")

    def set_permutation(self, perm: list[int]) -> None:
        arr = np.asarray(perm)
        with self._lock:  # checked against the size under the lock: a show switch may change it
            if arr.shape != (self._v.dim,) or sorted(arr.tolist()) != list(range(self._v.dim)):
                raise ControlError(f"permute: expected a permutation of 0..{self._v.dim - 1}, got {list(perm)}")
            self._v.permutation = arr.astype(np.int64)
            self._changed("permutation")

    def reset(self, dim: int | None = None) -> None:
        """Back to "as trained"; a new show with another latent size resets too."""
        with self._lock:
            self._v = ControlValues(self._v.dim if dim is None else dim)
            self._changed()

    def snapshot(self) -> ControlValues:
        with self._lock:
            return self._v.copy()

    # presets ---------------------------------------------------------------------------------
    def preset_path(self, name: str) -> Path:
        """The file of preset `name`; ControlError for a name that is not 1-64 plain characters."""
        if not isinstance(name, str) or not PRESET_NAME.match(name):
            raise ControlError(f"preset: name must be 1-64 letters, digits, '-' or '_', got {name!r}")
        if self.preset_dir is None:
            raise ControlError("preset: no preset folder configured (--preset-dir)")
        return self.preset_dir / f"{name}.toml"

    def save_preset(self, name: str, values: ControlValues | None = None) -> Path:
        """Write `values` (default: the controls now) to the preset file, atomically."""
        path = self.preset_path(name)
        v = values if values is not None else self.snapshot()
        doc = {
            "dim": v.dim, "scale": v.scale, "scales": v.scales.tolist(), "biases": v.biases.tolist(),
            "smooth": v.smooth, "noise": v.noise, "permutation": v.permutation.tolist(),
        }
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            tmp = path.with_suffix(".tmp")
            tmp.write_text(dumps_toml(doc))
            tmp.replace(path)
        except OSError as exc:
            raise ControlError(f"preset: cannot write {path} ({exc.strerror})") from exc
        return path

    def load_preset(self, name: str, seconds: float = 0.0) -> Path:
        """All or nothing: a bad preset file leaves the controls as they were. `seconds` > 0 morphs
        to it from where the controls are now (mid-way through another morph: from there)."""
        seconds = seconds_of("morph time", seconds)
        path = self.preset_path(name)
        if not path.is_file():
            raise ControlError(f"preset: {path} does not exist")
        doc = read_toml(path, ControlError, "preset")
        v = ControlValues(self.dim)
        if doc.get("dim") != v.dim:
            raise ControlError(f"preset: {path} is for {doc.get('dim')} dimensions, the show has {v.dim}")
        try:
            v.scale = _finite("scale", doc.get("scale", 1.0))
            v.smooth = _finite("smooth", doc.get("smooth", 0.0), 0.0, MAX_SMOOTH_S)
            v.noise = _finite("noise", doc.get("noise", 0.0), 0.0, 100.0)
            for key, arr in (("scales", v.scales), ("biases", v.biases)):
                vals = doc.get(key, arr.tolist())
                if not isinstance(vals, list) or len(vals) != v.dim:
                    raise ControlError(f"{key}: expected {v.dim} numbers")
                arr[:] = [_finite(key, x) for x in vals]
            perm = doc.get("permutation", list(range(v.dim)))
            if sorted(perm) != list(range(v.dim)):
                raise ControlError("permutation: not a permutation")
            v.permutation = np.asarray(perm, dtype=np.int64)
        except (ControlError, TypeError) as exc:
            raise ControlError(f"preset: {path}: {exc}") from exc
        with self._lock:
            if v.dim != self._v.dim:  # a show with another size came in while the file was read
                raise ControlError(f"preset: {path} is for {v.dim} dimensions, the show now has {self._v.dim}")
            v.freeze = self._v.freeze
            if seconds > 0:
                now = self.clock()
                self._morphs += 1
                v.morph = Morph(self._on_screen(now), seconds, self._morphs, now)
            self._v = v
            self._changed()
        return path

    def _on_screen(self, now: float) -> ControlValues:
        """Under the lock: the values the picture shows now, a morph under way included."""
        v, m = self._v, self._v.morph
        out = replace(v.copy(), morph=None)
        if m is not None:
            blend(m.start, v, m.progress(now - m.started), m.left, out)
        return out


def seconds_of(what: str, seconds: float) -> float:
    """A morph or fade time: 0 (a jump) up to an hour; negative, NaN or longer is refused with the reason."""
    if isinstance(seconds, bool) or not isinstance(seconds, (int, float)) or not math.isfinite(seconds):
        raise ControlError(f"{what}: expected a number of seconds, got {seconds!r}")
    if not 0.0 <= seconds <= MAX_TIME_S:
        raise ControlError(f"{what}: {seconds:g} s is outside 0..{MAX_TIME_S:g} s")
    return float(seconds)
