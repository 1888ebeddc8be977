"""The last warnings and errors the daemon logged, for the page's "refused" list.

Every refusal (a bad OSC message, a broken show, a preset that would not load) is already logged,
and rate-limited where a sender could flood it (control/log_limits.py), so a logging handler on
the package's logger sees them all without another hook in each surface.
"""
from __future__ import annotations

import collections
import logging
import time

KEEP = 20
MAX_TEXT = 300


class RecentErrors(logging.Handler):
    def __init__(self, keep: int = KEEP) -> None:
        super().__init__(logging.WARNING)
        self._lines: collections.deque[str] = collections.deque(maxlen=keep)
        self.count = 0  # grows with each line: listeners compare it, not the list

    def emit(self, record: logging.LogRecord) -> None:
        try:
            text = record.getMessage().splitlines()[0][:MAX_TEXT]
        except Exception:  # noqa: BLE001 - a bad log call must not break logging
            return
        self._lines.append(f"{time.strftime('%H:%M:%S', time.localtime(record.created))} {text}")
        self.count += 1

    def lines(self) -> list[str]:
        """Oldest first."""
        return list(self._lines)

    def attach(self, logger_name: str = "latentvj") -> "RecentErrors":
        logging.getLogger(logger_name).addHandler(self)
        return self

    def detach(self, logger_name: str = "latentvj") -> None:
        logging.getLogger(logger_name).removeHandler(self)
