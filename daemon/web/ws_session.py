"""One WebSocket client, as the OSCQuery proposal's WebSocket section describes it.

Text frames are JSON commands: {"COMMAND": "LISTEN" | "IGNORE", "DATA": "/an/address"}; the
server sends {"COMMAND": "PATH_CHANGED", "DATA": "/"} when the address space changes (a show
with another latent size). Binary frames are OSC packets both ways: the client's go through the
same checks and handlers as UDP OSC (control/osc_server.py's ControlDispatcher); the values of
the addresses it listens to come back when they change.

Sending takes the newest values at each tick: a client that reads slowly skips values (and
preview frames) instead of queueing them.
"""
from __future__ import annotations

import asyncio
import json
import logging

from aiohttp import WSMsgType, web

from ..control.osc_packet_check import BUNDLE, MAX_ADDRESS, PacketError, check_packet
from ..control.vocabulary import ERROR_ADDRESS
from ..control.osc_encode import encode
from ..control.token_bucket import TokenBucket
from .hub import Hub
from .live_values import ONSET, PREVIEW

log = logging.getLogger("latentvj.web")

MAX_PER_S = 200.0  # messages a second from one client (a page sends a fader at most 30 times a second)
BURST = 100.0
REFUSAL_EVERY_S = 1.0  # at most one "too fast" reply a second
OUTBOX = 64  # replies waiting to be sent to a client; more are dropped (the client is not reading)
MAX_LISTENS = 1024  # addresses one client may listen to (each at most MAX_ADDRESS bytes)


class Session:
    def __init__(self, hub: Hub, ws: web.WebSocketResponse, peer: tuple[str, int]) -> None:
        self.hub = hub
        self.ws = ws
        self.peer = peer
        self.listening: set[str] = set()
        self.sent: dict[str, tuple] = {}
        self.outbox: asyncio.Queue[bytes | str] = asyncio.Queue(OUTBOX)
        self.budget = TokenBucket(MAX_PER_S, BURST, hub.dispatcher.clock)
        self.too_fast = 0
        self.refused_at = -REFUSAL_EVERY_S
        self.version = hub.namespace.version
        self.watching = False

    # ---- in ---------------------------------------------------------------------------------
    async def read(self) -> None:
        async for msg in self.ws:
            if msg.type not in (WSMsgType.TEXT, WSMsgType.BINARY):
                break
            if not self._budget(1 if msg.type == WSMsgType.TEXT else self._cost(msg.data)):
                continue
            if msg.type == WSMsgType.TEXT:
                self._command(msg.data)
            else:
                for reply in self.hub.dispatcher.call_handlers_for_packet(msg.data, self.peer, self.reply_later):
                    self._post(encode(reply[0], tuple(reply[1:])))

    @staticmethod
    def _cost(data: bytes) -> int:
        """A bundle costs each message it holds (a 64 KB bundle holds two thousand)."""
        if not data.startswith(BUNDLE):
            return 1
        try:
            return max(1, check_packet(data))
        except PacketError:
            return 1  # the dispatcher refuses it, with the reason

    def _budget(self, cost: int) -> bool:
        if self.budget.take(cost):
            return True
        now = self.budget.clock()
        self.too_fast += 1
        self.hub.too_fast += 1
        if now - self.refused_at >= REFUSAL_EVERY_S:
            self.refused_at = now
            why = (f"web: more than {MAX_PER_S:.0f} messages a second (or {BURST:.0f} at once; a bundle counts each) "
                   f"from {self.peer[0]}:{self.peer[1]}; {self.too_fast} refused so far")
            log.warning("%s", why)
            self._post(encode(ERROR_ADDRESS, (why,)))
        return False

    def _command(self, text: str) -> None:
        try:
            cmd = json.loads(text)
            name, path = cmd["COMMAND"], cmd["DATA"]
            if not isinstance(name, str) or not isinstance(path, str) or not path.startswith("/") \
                    or len(path.encode("utf-8", "replace")) > MAX_ADDRESS:
                raise ValueError
        except (ValueError, KeyError, TypeError, RecursionError):  # RecursionError: "[[[[..." 60,000 deep
            self._refuse(f"expected {{\"COMMAND\": \"LISTEN\" or \"IGNORE\", \"DATA\": \"/address\"}} "
                         f"(an address of at most {MAX_ADDRESS} bytes), got {text[:80]!r}")
            return
        if name == "LISTEN":
            if len(self.listening) >= MAX_LISTENS:
                self._refuse(f"LISTEN: at most {MAX_LISTENS} addresses")
                return
            self.listening.add(path)
            self.sent.pop(path, None)  # send its value now, even if it was sent before an IGNORE
        elif name == "IGNORE":
            self.listening.discard(path)
        else:
            self._refuse(f"unknown COMMAND {name[:40]!r} (LISTEN, IGNORE)")
            return
        watching = PREVIEW in self.listening
        if watching != self.watching:
            self.watching = watching
            self.hub.watch(+1 if watching else -1)

    def _refuse(self, why: str) -> None:
        if (r := self.hub.dispatcher.refuse(why, self.peer, via="web")) is not None:
            self._post(encode(r[0], r[1:]))

    def _post(self, item: bytes | str) -> None:
        try:
            self.outbox.put_nowait(item)
        except asyncio.QueueFull:
            pass  # the client is not reading its replies: they are dropped, not piled up

    def reply_later(self, reply: tuple) -> None:
        """From a control worker thread (a show switch, a preset saved): hand over to the loop."""
        try:
            self.hub.loop.call_soon_threadsafe(self._post, encode(reply[0], tuple(reply[1:])))
        except RuntimeError:  # the server stopped while the work ran: nobody to tell
            pass

    # ---- out --------------------------------------------------------------------------------
    async def write(self) -> None:
        try:
            await self._write()
        except ConnectionError:  # the client went away mid-send: read() ends the session
            pass
        except Exception as exc:  # noqa: BLE001 - a bug must not leave a page "live" with nothing coming
            self.hub.errors.report(exc, "web: sending to a page failed; closing its socket")
            await self.ws.close()

    async def _write(self) -> None:
        while not self.ws.closed:
            await self.hub.next_tick()
            while not self.outbox.empty():
                item = self.outbox.get_nowait()
                await (self.ws.send_str(item) if isinstance(item, str) else self.ws.send_bytes(item))
            if self.hub.namespace.version != self.version:
                self.version = self.hub.namespace.version
                await self.ws.send_str(json.dumps({"COMMAND": "PATH_CHANGED", "DATA": "/"}))
            values = self.hub.values
            for address in list(self.listening):
                args = values.get(address)
                if args is None or self.sent.get(address) == args:
                    continue
                first = address not in self.sent
                self.sent[address] = args
                if address.startswith(ONSET):
                    if not first:  # an onset happened since the last tick: the event itself, no arguments
                        await self.ws.send_bytes(self.hub.dgram(address, ()))
                    continue
                await self.ws.send_bytes(self.hub.dgram(address, args))

    def close(self) -> None:
        if self.watching:
            self.watching = False
            self.hub.watch(-1)
