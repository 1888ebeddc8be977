"""Rate limits for everything a sender can make the daemon log or reply, so a flood of bad packets
costs a counter: refusals (20 a second overall, at most half of them for any one sender, so one
flooding sender cannot hide another's errors), unexpected errors (one traceback per distinct error
a minute, then a count), and python-osc's own warnings, which go through the same limit.
"""
from __future__ import annotations

import logging
import time
import traceback
from typing import Callable

log = logging.getLogger("latentvj.osc")

MAX_REFUSALS_PER_S = 20
MAX_SENDERS = 256  # senders tracked per second; beyond this they share one budget


class RefusalLimiter:
    """At most `rate` refusals a second in all, `per_sender` of them from one sender; counts the rest."""

    def __init__(self, rate: int = MAX_REFUSALS_PER_S, per_sender: int | None = None,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.rate = rate
        self.per_sender = per_sender if per_sender is not None else max(1, rate // 2)
        self.clock = clock  # injectable: tests step time instead of sleeping
        self._window = clock()
        self._total = 0
        self._senders: dict[str, int] = {}
        self.suppressed = 0  # in this window
        self.suppressed_total = 0

    def allow(self, sender: str) -> bool:
        now = self.clock()
        if now - self._window >= 1.0:
            if self.suppressed:
                log.warning("OSC: %d more refused messages in the last second were not logged or answered",
                            self.suppressed)
            self._window, self._total, self.suppressed = now, 0, 0
            self._senders.clear()
        if len(self._senders) >= MAX_SENDERS and sender not in self._senders:
            sender = "*"
        n = self._senders.get(sender, 0)
        if self._total >= self.rate or n >= self.per_sender:
            self.suppressed += 1
            self.suppressed_total += 1
            return False
        self._senders[sender] = n + 1
        self._total += 1
        return True


class ErrorLog:
    """Unexpected errors (bugs): the first of each kind a minute with its traceback, then a count."""

    PERIOD_S = 60.0

    def __init__(self, logger: logging.Logger = log) -> None:
        self.logger = logger
        self._seen: dict[tuple, list] = {}  # (type, file, line) -> [window start, count since]
        self.count = 0

    def report(self, exc: BaseException, what: str) -> None:
        self.count += 1
        tb = traceback.extract_tb(exc.__traceback__)
        where = (tb[-1].filename, tb[-1].lineno) if tb else ("", 0)
        key = (type(exc).__name__, *where)
        now = time.monotonic()
        entry = self._seen.get(key)
        if entry is not None and now - entry[0] < self.PERIOD_S:
            entry[1] += 1
            return
        if len(self._seen) > 1000:
            self._seen.clear()
        repeats = entry[1] if entry else 0
        self._seen[key] = [now, 0]
        self.logger.error("%s%s", what, f" ({repeats} more like it in the last minute)" if repeats else "",
                          exc_info=(type(exc), exc, exc.__traceback__))


class LibraryWarnings(logging.Filter):
    """python-osc logs with `logging.warning` on the root logger (an unknown type tag, an odd
    bundle element); let those through at most `rate` a second, like our own refusals."""

    def __init__(self, rate: int = MAX_REFUSALS_PER_S) -> None:
        super().__init__()
        self.limiter = RefusalLimiter(rate, rate)

    def filter(self, record: logging.LogRecord) -> bool:
        if "pythonosc" not in record.pathname:
            return True
        return self.limiter.allow("python-osc")


_library_filter: LibraryWarnings | None = None


def limit_library_warnings() -> None:
    """Install the python-osc filter on the root logger once per process."""
    global _library_filter
    if _library_filter is None:
        _library_filter = LibraryWarnings()
        logging.getLogger().addFilter(_library_filter)
