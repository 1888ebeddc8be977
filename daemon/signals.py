"""Ctrl-C and SIGTERM as an event the main loop watches, so every verb stops the same clean way
(threads joined, files closed, summary printed) instead of dying mid-write."""
from __future__ import annotations

import signal
import threading


def stop_on_signals() -> threading.Event:
    """Main thread only (Python delivers signals there): an event set by SIGINT or SIGTERM."""
    stop = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stop.set())
    return stop
