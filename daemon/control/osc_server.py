"""OSC control in: python-osc's blocking UDP server on its own thread, messages handled in order.

Every handler (vocabulary.ControlHandlers) validates its arguments and raises ControlError; the
dispatcher turns that, and anything that does not parse, into a log line and an
`/latentvj/error` reply to the sender.
Replies and log lines are rate-limited, so a flood costs a counter, not the frame rate.
`strict_timing=False`: a bundle with a future timetag is handled now, never slept on.
"""
from __future__ import annotations

import logging
import socket
import threading
import time

from pythonosc import osc_packet
from pythonosc.dispatcher import Dispatcher
from pythonosc.osc_server import BlockingOSCUDPServer
from pythonosc.parsing import osc_types

from .state import ControlError
from .vocabulary import ERROR_ADDRESS, ControlHandlers

log = logging.getLogger("latentvj.osc")

MAX_ERRORS_PER_S = 20


def check_complete(dgram: bytes) -> None:
    """Raise ParseError unless the message's bytes hold every argument its type tags announce.

    python-osc pads a short float with zeros (for Reaktor), so a truncated `/latentvj/scale 1.0`
    would otherwise arrive as scale 0."""
    _, i = osc_types.get_string(dgram, 0)
    tags, i = osc_types.get_string(dgram, i) if i < len(dgram) else (",", i)
    for t in tags[1:]:
        if t in "ifrmc":
            i += 4
        elif t in "dht":
            i += 8
        elif t in "sS":
            _, i = osc_types.get_string(dgram, i)
        elif t == "b":
            _, i = osc_types.get_blob(dgram, i)
    if i != len(dgram):
        raise osc_packet.ParseError(f"message is {len(dgram)} bytes, its type tags '{tags}' need {i}")


class _Limiter:
    """At most `rate` events a second per key (sender and address), so one flooding fader does
    not hide another message's error; counts what it refused."""

    MAX_KEYS = 256

    def __init__(self, rate: int) -> None:
        self.rate = rate
        self._window = 0.0
        self._counts: dict[tuple, int] = {}
        self.suppressed = 0

    def allow(self, key: tuple) -> bool:
        now = time.monotonic()
        if now - self._window >= 1.0:
            if self.suppressed:
                log.warning("OSC: %d more refused messages in the last second were not logged", self.suppressed)
            self._window, self.suppressed = now, 0
            self._counts.clear()
        if len(self._counts) >= self.MAX_KEYS and key not in self._counts:
            key = ("*",)  # a flood of distinct keys shares one budget
        n = self._counts.get(key, 0) + 1
        self._counts[key] = n
        if n > self.rate:
            self.suppressed += 1
            return False
        return True


class ControlDispatcher(Dispatcher):
    """Routes every /latentvj/ message to ControlHandlers and reports what it refused."""

    def __init__(self, handlers: ControlHandlers) -> None:
        super().__init__(strict_timing=False)
        self.handlers = handlers
        self.received = 0
        self.errors = 0
        self._limiter = _Limiter(MAX_ERRORS_PER_S)

    def _refuse(self, why: str, sender: tuple[str, int], replies: list, address: str = "") -> None:
        self.errors += 1
        if self._limiter.allow((sender[0], address)):
            log.warning("OSC from %s:%d refused: %s", sender[0], sender[1], why)
            replies.append((ERROR_ADDRESS, why))

    def call_handlers_for_packet(self, data: bytes, client_address: tuple[str, int]) -> list:
        replies: list = []
        try:
            messages = osc_packet.OscPacket(data).messages
            for timed in messages:
                check_complete(timed.message.dgram)
        except (osc_packet.ParseError, UnicodeDecodeError) as exc:
            self._refuse(f"malformed OSC packet ({len(data)} bytes): {exc}", client_address, replies)
            return replies
        for timed in messages:
            self.received += 1
            msg = timed.message
            try:
                reply = self.handlers.handle(msg.address, tuple(msg.params))
            except ControlError as exc:
                self._refuse(str(exc), client_address, replies, msg.address)
            else:
                if reply is not None:
                    replies.append(reply)
        return replies


class ControlServer(BlockingOSCUDPServer):
    """Blocking UDP server on its own thread; senders outside the allow-list are dropped."""

    def __init__(self, address: tuple[str, int], dispatcher: ControlDispatcher, allow: list[str] | None = None) -> None:
        super().__init__(address, dispatcher)
        # Room for bursts (a controller's fader sweep); the kernel caps it at net.core.rmem_max.
        self.socket.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 1 << 20)
        self.allow = set(allow) if allow else None
        self.refused_senders = 0
        self._thread = threading.Thread(target=self.serve_forever, kwargs={"poll_interval": 0.1},
                                        name="osc-control", daemon=True)

    def verify_request(self, request, client_address) -> bool:
        if self.allow is not None and client_address[0] not in self.allow:
            self.refused_senders += 1
            return False
        # Anything from an allowed sender is dispatched, so that garbage gets an error reply.
        return True

    def handle_error(self, request, client_address) -> None:
        # A bug in a handler must not print a traceback per packet or stop the server.
        log.exception("OSC: unexpected error handling a packet from %s", client_address)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self.shutdown()
        self.server_close()
        self._thread.join(timeout=2.0)
