"""Handing freed memory back to the system after a show is swapped out.

A show switch loads and warms the new show's models on a control thread while the old show
plays, then drops the old one. glibc keeps the freed pages in that thread's malloc arena, so
without a trim the daemon's RSS rises by about 100 MB at the first switch and stays there
(measured: `python -m latentvj.stress --only soak`). `malloc_trim(0)` returns them.
Elsewhere (macOS, Windows, musl) there is nothing to call and this does nothing.
"""
from __future__ import annotations

import ctypes
import ctypes.util


def _malloc_trim():
    name = ctypes.util.find_library("c")
    if name is None:
        return None
    try:
        return getattr(ctypes.CDLL(name), "malloc_trim", None)
    except OSError:
        return None


_TRIM = _malloc_trim()


def give_back_freed_memory() -> bool:
    """Return the heap's free pages to the system; False where the C library has no malloc_trim."""
    if _TRIM is None:
        return False
    _TRIM(0)
    return True
