"""The controls as one frame sees them: taken from `Control` once per frame, on the render thread.

Each pipeline's applier used to read `Control` itself; during a crossfade two appliers read it
in one frame, and a fader moved between the two reads gave the two shows different values. The
latch takes one snapshot per frame that every applier of that frame reads (same `version` and
`snapshot()` as Control, so an applier takes either), and a recording keeps exactly the
snapshots the frames used, at the frames that first used them; a replay sets them back.
"""
from __future__ import annotations

from .state import Control, ControlValues


class ControlLatch:
    def __init__(self, control: Control | None, dim: int) -> None:
        """control: the live state to follow (None: a replay sets every snapshot itself)."""
        self.control = control
        self.version = 0
        self._v = control.snapshot() if control is not None else ControlValues(dim)
        self._seen = control.version if control is not None else 0

    def latch(self) -> ControlValues | None:
        """Render thread, once per frame: the new snapshot if the controls moved, else None."""
        c = self.control
        if c is None or c.version == self._seen:
            return None
        self._seen = c.version
        self.set(c.snapshot())
        return self._v

    def set(self, values: ControlValues) -> None:
        """Use `values` from this frame on (a replay's recorded snapshot)."""
        self._v = values
        self.version += 1

    def snapshot(self) -> ControlValues:
        """This frame's values; the appliers only read them (a morph blends into its own copy)."""
        return self._v

    @property
    def dim(self) -> int:
        return self._v.dim
