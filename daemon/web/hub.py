"""What every WebSocket client of one server shares: the values of this tick, gathered on the
server's loop 30 times a second, each encoded once whatever the number of clients, and the count
of pages watching the preview (the preview sink encodes only while there is one)."""
from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass

from ..control.log_limits import ErrorLog
from ..control.osc_server import ControlDispatcher
from ..control.oscquery import Namespace
from ..control.osc_encode import encode
from .guard import Guard
from .live_values import PREVIEW, LiveValues
from .preview import PreviewSink

log = logging.getLogger("latentvj.web")

TICK_HZ = 30.0  # how often values are gathered and sent to listeners


@dataclass
class WebPage:
    """What the page and the WebSocket need besides the tree (None: OSCQuery's JSON only)."""
    live: LiveValues
    dispatcher: ControlDispatcher
    guard: Guard
    preview: PreviewSink | None = None


class Hub:
    """The values of this tick, shared by every client; runs on the server's loop."""

    def __init__(self, namespace: Namespace, page: WebPage, loop: asyncio.AbstractEventLoop) -> None:
        self.namespace = namespace
        self.live = page.live
        self.dispatcher = page.dispatcher
        self.preview = page.preview
        self.loop = loop
        self.values: dict[str, tuple] = {}
        self.sessions: set = set()  # ws_session.Session, one per connected client
        self.too_fast = 0
        self.opening = 0  # WebSocket handshakes under way (they count towards MAX_CLIENTS)
        self.errors = ErrorLog(log)
        self._cache: dict[str, tuple[tuple, bytes]] = {}
        self._tick = loop.create_future()

    def next_tick(self) -> asyncio.Future:
        """Awaitable by many clients; shielded, so a client that goes away cannot cancel it for the rest."""
        return asyncio.shield(self._tick)

    def dgram(self, address: str, args: tuple) -> bytes:
        """Encoded once per value, whatever the number of clients."""
        hit = self._cache.get(address)
        if hit is not None and hit[0] == args:
            return hit[1]
        d = encode(address, args, doubles=address == PREVIEW)  # wall time: a float32 cannot hold it
        self._cache[address] = (args, d)
        return d

    def watch(self, delta: int) -> None:
        if self.preview is not None:
            self.preview.watchers = max(0, self.preview.watchers + delta)

    async def run(self) -> None:
        period = 1.0 / TICK_HZ
        while True:
            try:
                if self.sessions:
                    self.namespace.follow_size()
                    self.values = self.live.collect()
            except Exception as exc:  # noqa: BLE001 - a display glitch must not end the page's updates
                self.errors.report(exc, "web: gathering values failed")
            tick, self._tick = self._tick, self.loop.create_future()
            if not tick.done():
                tick.set_result(None)
            await asyncio.sleep(period)
