"""`null`: takes frames and drops them (benchmarks, OSC-only use)."""
from __future__ import annotations

import numpy as np

from .base import Sink


class NullSink(Sink):
    def write_frame(self, frame: np.ndarray, index: int) -> None:
        pass
