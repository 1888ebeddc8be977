"""One-shot onsets from an onset-strength stream: a kick, a snare, a hat, the moment it starts.

Causal and per band: an onset fires in the first hop whose strength rises above an adaptive
threshold (the recent mean plus `sensitivity` mean deviations, never below `floor`), at most once
per `refractory_s`, so a VJ's strobe fires on the hit, not a hop after its peak and not twice.
A caller can veto a frame (`shaped=False`: it looks like another drum's spill); the onset may then
fire in the next frame, but no later than one frame after the rise, so a hit's tail cannot.
"""
from __future__ import annotations

import math


class OnsetEvents:
    def __init__(self, frame_rate: float, sensitivity: float = 4.0, floor: float = 0.03,
                 memory_s: float = 0.5, refractory_s: float = 0.05) -> None:
        self.sensitivity = sensitivity
        self.floor = floor
        self._alpha = 1.0 - math.exp(-1.0 / (memory_s * frame_rate))  # EMA step per frame
        self._refractory = max(1, round(refractory_s * frame_rate))
        self.reset()

    def reset(self) -> None:
        self._mean = 0.0
        self._dev = 0.0
        self._since = 1 << 30  # frames since the last onset
        self._above = False
        self._rise = 1 << 30  # frames since the strength last rose above the threshold
        self._fired = False  # an onset fired since that rise

    def push(self, strength: float, shaped: bool = True) -> bool:
        """One value per frame; True in the frame an onset starts. `shaped` False: this frame
        does not look like this band's hit (another drum's spill), so it cannot start one."""
        if not math.isfinite(strength):
            strength = 0.0
        threshold = max(self._mean + self.sensitivity * self._dev, self.floor)
        above = strength > threshold
        if above and not self._above:
            self._rise, self._fired = 0, False
        elif above:
            self._rise += 1
        fire = (above and shaped and self._rise <= 1 and not self._fired and self._since >= self._refractory)
        self._above = above
        self._fired |= fire
        self._since = 0 if fire else self._since + 1
        a = self._alpha  # the statistics follow the stream after the decision, so a hit cannot hide itself
        self._dev += a * (abs(strength - self._mean) - self._dev)
        self._mean += a * (strength - self._mean)
        return fire
