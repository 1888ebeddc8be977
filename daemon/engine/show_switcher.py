"""The show worker's side of the engine: load a show beside the playing one, hand it to the
encoder thread, and wait for the renderer to draw it (for a fade, until the fade is over, on a
thread of its own, so the next switch can take over mid-fade).

Owns the switch counter (under its lock) and the hand-over to the encoder (`pending`, newest
wins); it reads the engine's published status and nothing else of the engine's.
"""
from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable

from ..control.state import ControlError
from ..show.bundle import ShowError
from ..show.heap import give_back_freed_memory
from ..show.runtime import RuntimeOptions, ShowRuntime
from .engine_status import EngineStatus
from .latest_slot import LatestSlot

log = logging.getLogger("latentvj.engine")

POLL_S = 0.005  # how often a waiting switch looks at the status
SWAP_WAIT_S = 5.0  # how long a show switch waits for the renderer to take the new show


class ShowSwitcher:
    def __init__(self, opts: RuntimeOptions, prepare: Callable[[ShowRuntime], None],
                 status: Callable[[], EngineStatus], stopped: threading.Event) -> None:
        """opts: how shows load (at the output's size); prepare: the engine's set-up of a new
        show's decoder (device frames); status: the engine's newest status."""
        self.opts, self.prepare, self.status, self.stopped = opts, prepare, status, stopped
        self._lock = threading.Lock()
        self.serial = 0  # switches asked for so far
        self.pending: LatestSlot[tuple[ShowRuntime, int, float]] = LatestSlot()  # (show, serial, fade s) -> encoder

    def switch(self, spec: str, fade: float = 0.0, faded: Callable[[str | None], None] | None = None) -> str:
        """Load, check and warm up `spec` beside the playing show, then swap it in between frames
        (or fade it in over `fade` seconds); returns its name once the renderer draws it: alone
        after a cut; for a fade, as the fade starts, so that a switch asked for during the fade
        starts at once (from the picture on screen). `faded(name)` comes when the fade is over,
        `faded(None)` if a newer switch took over first. A bad show raises ControlError and the
        playing one goes on."""
        if not self._lock.acquire(blocking=False):
            raise ControlError(f"show: still loading the previous request; {spec!r} ignored")
        try:
            t = time.perf_counter()
            try:
                rt = ShowRuntime.load(spec, self.opts)  # the output keeps its size
            except ShowError as exc:
                raise ControlError(f"show: {exc}; still playing '{self.status().show}'") from exc
            self.prepare(rt)
            self.serial += 1
            mine = self.serial
        finally:
            self._lock.release()
        log.info("loaded %s in %.1f s; switching", rt.describe(), time.perf_counter() - t)
        replaced = self.pending.put((rt, mine, fade))
        if replaced is not None:
            log.info("show '%s' was replaced by '%s' before it played", replaced[0].name, rt.name)
            replaced = None  # our last reference to it: freed before the trim
        name = rt.name
        del rt
        if fade <= 0:
            self._release_old_show(mine)
            return name
        self._wait(lambda: self.status().show_serial >= mine, mine, SWAP_WAIT_S)  # the fade has started
        threading.Thread(target=self._see_fade_out, args=(mine, fade, name, faded), name="fade-end",
                         daemon=True).start()
        return name

    def _wait(self, done: Callable[[], bool], mine: int, seconds: float) -> None:
        """Poll `done` until it holds, a newer switch is asked for, the engine stops or time is up."""
        end = time.monotonic() + seconds
        while not done() and self.serial == mine and not self.stopped.is_set() and time.monotonic() < end:
            time.sleep(POLL_S)

    def _see_fade_out(self, mine: int, fade: float, name: str, faded: Callable[[str | None], None] | None) -> None:
        """Its own thread, for the length of a fade: trim the old show's memory and tell whoever
        asked once the fade is over (or that a newer switch took over)."""
        self._release_old_show(mine, fade)
        st = self.status()
        if faded is not None:
            faded(name if st.show_serial == mine and not st.fading else None)

    def _release_old_show(self, mine: int, fade: float = 0.0) -> None:
        """Once the renderer draws switch `mine` alone (its fade over), the old show has no
        references left; give its memory back to the system. A newer switch (it trims after
        itself) or the engine stopping ends the wait."""
        drawn_alone = lambda: self.status().show_serial >= mine and not self.status().fading  # noqa: E731
        self._wait(drawn_alone, mine, SWAP_WAIT_S + fade)
        st = self.status()
        if st.show_serial == mine and not st.fading:
            give_back_freed_memory()
