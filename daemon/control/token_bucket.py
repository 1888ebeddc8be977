"""A token bucket: what each control surface may handle a second, with room for a burst.

OSC over UDP charges after handling (a bundle's messages are counted as they are handled, so the
bucket can go below zero and the next datagrams wait); the WebSocket asks before (a client's
message is refused whole). `clock` is injectable so tests step time instead of sleeping.
"""
from __future__ import annotations

import time
from collections.abc import Callable


class TokenBucket:
    def __init__(self, per_s: float, burst: float, clock: Callable[[], float] = time.monotonic) -> None:
        self.per_s = per_s
        self.burst = float(burst)
        self.clock = clock
        self.tokens = float(burst)
        self._at = clock()

    def refill(self) -> float:
        """Add what the time since the last refill earned; returns the clock's now."""
        now = self.clock()
        self.tokens = min(self.burst, self.tokens + (now - self._at) * self.per_s)
        self._at = now
        return now

    def take(self, cost: float) -> bool:
        """All of `cost` now, or nothing."""
        self.refill()
        if self.tokens >= cost:
            self.tokens -= cost
            return True
        return False

    def charge(self, cost: float) -> None:
        """After the fact: what was handled is paid for, even into debt."""
        self.tokens -= cost
