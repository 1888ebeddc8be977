"""Control snapshots (state.ControlValues, with a morph under way) to JSON and back, exactly:
float32 values go out as the doubles they are and come back to the same float32."""
from __future__ import annotations

from typing import Any

import numpy as np

from ..control.state import ControlValues, Morph


def values_to_json(v: ControlValues) -> dict[str, Any]:
    doc: dict[str, Any] = {"dim": v.dim, "scale": v.scale, "scales": v.scales.tolist(), "biases": v.biases.tolist(),
                           "smooth": v.smooth, "freeze": v.freeze, "noise": v.noise,
                           "permutation": v.permutation.tolist()}
    m = v.morph
    if m is not None:
        doc["morph"] = {"start": values_to_json(m.start), "seconds": m.seconds, "serial": m.serial,
                        "started": m.started,
                        "left": sorted((list(k) if isinstance(k, tuple) else k for k in m.left), key=str)}
    return doc


def values_from_json(doc: dict[str, Any]) -> ControlValues:
    """Raises KeyError, TypeError or ValueError on a malformed document (the reader names the line)."""
    dim = int(doc["dim"])
    v = ControlValues(dim, float(doc["scale"]), np.asarray(doc["scales"], dtype=np.float32),
                      np.asarray(doc["biases"], dtype=np.float32), float(doc["smooth"]), bool(doc["freeze"]),
                      float(doc["noise"]), np.asarray(doc["permutation"], dtype=np.int64))
    if v.scales.shape != (dim,) or v.biases.shape != (dim,) or v.permutation.shape != (dim,):
        raise ValueError(f"control values of {dim} dimensions with arrays of another size")
    m = doc.get("morph")
    if m is not None:
        left = frozenset(tuple(k) if isinstance(k, list) else k for k in m["left"])
        v.morph = Morph(values_from_json(m["start"]), float(m["seconds"]), int(m["serial"]), float(m["started"]), left)
    return v
