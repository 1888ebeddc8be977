"""A one-slot hand-over between threads where the newest request wins.

A VJ who sends two show switches in a row wants the second: the slot keeps only the newest item,
and `take` empties it in the same locked step, so an item put between a reader's check and its
clear can never be lost (the bug of a plain attribute set on one thread and cleared on another).
The reader's empty check takes no lock, so polling it on a hot loop costs one attribute read.
"""
from __future__ import annotations

import threading
from typing import Generic, TypeVar

T = TypeVar("T")


class LatestSlot(Generic[T]):
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._item: T | None = None

    def put(self, item: T) -> T | None:
        """Offer `item`; returns the item it replaced (never taken), or None."""
        with self._lock:
            replaced, self._item = self._item, item
        return replaced

    def take(self) -> T | None:
        """The newest item, emptying the slot; None when there is none."""
        if self._item is None:
            return None
        with self._lock:
            item, self._item = self._item, None
        return item
