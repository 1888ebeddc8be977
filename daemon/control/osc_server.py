"""OSC control in: one thread reads the UDP socket and handles messages in order, within a budget.

Every datagram is checked byte by byte (osc_packet_check.py) before python-osc parses it; every
handler (vocabulary.ControlHandlers) validates its arguments and raises ControlError; the
dispatcher turns both into a rate-limited log line and `/latentvj/error` reply to the sender
(log_limits.py). Anything else a handler raises is a bug: logged once a minute with its
traceback, counted, and the server goes on.

A flood must cost a counter, not the frame rate or the next fader move. So:
- pings are answered the moment they are read, before any other work;
- messages are handled within a budget (`max_per_s`, a token bucket); past it a message waits in
  a small table keyed by its address where a newer one replaces it (a fader's latest value is the
  only one that matters; a reset or a preset load keeps its place in the order of last
  arrivals), and is handled as the budget refills, so the last value sent is always the one in
  effect; a datagram to no address the daemon knows is dropped there and counted;
- datagrams up to the UDP maximum are read.
`strict_timing` does not apply: a bundle with a future timetag is handled now, never slept on.
"""
from __future__ import annotations

import logging
import socket
import threading
import time
from typing import Callable

from pythonosc import osc_packet

from .log_limits import ErrorLog, RefusalLimiter, limit_library_warnings
from .osc_encode import encode
from .token_bucket import TokenBucket
from .osc_packet_check import BUNDLE, PacketError, check_packet
from .state import ControlError
from .vocabulary import ERROR_ADDRESS, KNOWN_BYTES, ControlHandlers

log = logging.getLogger("latentvj.osc")

MAX_DATAGRAM = 65507  # the largest UDP payload over IPv4
MAX_PER_S = 2000  # messages handled a second; a fader sweep on 64 dimensions at 30 Hz is 1920
BURST = 500  # messages handled at once before the budget applies
MAX_WAITING = 1024  # addresses waiting for budget; more are dropped (counted)
PING = b"/latentvj/ping\x00\x00"
PING_BARE = (PING, PING + b",\x00\x00\x00")
_ALWAYS_IN_ORDER = (b"/latentvj/preset/save",)  # each one a file: never folded into a later one


class ControlDispatcher:
    """Turns one datagram into handler calls and replies; counts and limits what it refuses."""

    def __init__(self, handlers: ControlHandlers, clock: Callable[[], float] = time.monotonic) -> None:
        self.handlers = handlers
        self.clock = clock  # every rate limit of this control surface reads it (tests step it)
        self.received = 0  # messages handled (a bundle counts each)
        self.errors = 0  # refused: malformed, invalid or unknown
        self.unexpected = ErrorLog(log)
        self.limiter = RefusalLimiter(clock=clock)
        limit_library_warnings()

    def refuse(self, why: str, sender: tuple[str, int], via: str = "OSC") -> tuple | None:
        """Count a refusal; the error reply to send, unless this sender was told too often lately."""
        self.errors += 1
        if not self.limiter.allow(f"{sender[0]}:{sender[1]}"):
            return None
        log.warning("%s from %s:%d refused: %s", via, sender[0], sender[1], why)
        return (ERROR_ADDRESS, why)

    def _refuse(self, why: str, sender: tuple[str, int], replies: list) -> None:
        if (r := self.refuse(why, sender)) is not None:
            replies.append(r)

    def call_handlers_for_packet(self, data: bytes, sender: tuple[str, int], reply=None) -> list:
        """Handle one datagram; returns the replies due now. `reply` sends later ones (slow work)."""
        replies: list = []
        try:
            check_packet(data)
            messages = osc_packet.OscPacket(data).messages
        except PacketError as exc:
            self._refuse(f"malformed OSC packet ({len(data)} bytes): {exc}", sender, replies)
            return replies
        except Exception as exc:  # python-osc disagreeing with our check is a bug, not a crash
            self.unexpected.report(exc, f"OSC: python-osc failed on a checked packet from {sender[0]}")
            self._refuse(f"malformed OSC packet ({len(data)} bytes)", sender, replies)
            return replies
        for timed in messages:
            self.received += 1
            msg = timed.message
            try:
                out = self.handlers.handle(msg.address, tuple(msg.params), reply)
            except ControlError as exc:
                self._refuse(str(exc), sender, replies)
            except Exception as exc:
                self.unexpected.report(exc, f"OSC: unexpected error handling {msg.address[:80]} from {sender[0]}")
                self.errors += 1
            else:
                if out is not None:
                    replies.append(out)
        return replies


class ControlServer:
    """The UDP socket and the thread that reads it; senders outside the allow-list are dropped."""

    def __init__(self, address: tuple[str, int], dispatcher: ControlDispatcher, allow: list[str] | None = None,
                 max_per_s: float = MAX_PER_S) -> None:
        self.dispatcher = dispatcher
        self.socket = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        try:
            # Room for bursts (a controller's fader sweep); the kernel caps it at net.core.rmem_max.
            self.socket.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 1 << 20)
            self.socket.bind(address)
        except OSError:
            self.socket.close()
            raise
        self.socket.settimeout(0.05)
        self.server_address = self.socket.getsockname()
        self.allow = set(allow) if allow else None
        self.max_per_s = max_per_s
        self._budget = TokenBucket(max_per_s, BURST, dispatcher.clock)
        self._waiting: dict[bytes, tuple[bytes, tuple]] = {}  # key -> (datagram, sender), oldest first
        self.refused_senders = 0
        self.deferred = 0  # messages that waited for budget (or were replaced while waiting)
        self.dropped = 0  # datagrams past the budget to no known address, or past MAX_WAITING
        self.pings = 0
        self.send_errors = 0
        self._stopping = False
        self._thread = threading.Thread(target=self._serve, name="osc-control", daemon=True)

    # ---- the loop -----------------------------------------------------------------------------
    def _serve(self) -> None:
        while not self._stopping:
            try:
                data, sender = self.socket.recvfrom(MAX_DATAGRAM)
            except socket.timeout:
                self._drain_waiting()
                continue
            except OSError:
                if self._stopping:
                    return
                continue  # e.g. an ICMP "port unreachable" from an earlier reply: not ours to stop on
            try:
                self._receive(data, sender)
            except Exception as exc:  # never let one datagram end the control plane
                self.dispatcher.unexpected.report(exc, f"OSC: unexpected error on a packet from {sender[0]}")

    def _receive(self, data: bytes, sender: tuple) -> None:
        if self.allow is not None and sender[0] not in self.allow:
            self.refused_senders += 1
            return
        if data in PING_BARE:  # before anything else: a controller's liveness check never waits
            self.pings += 1
            self.dispatcher.received += 1
            self._send(PONG, sender)
            return
        self._budget.refill()
        if not self._waiting and self._budget.tokens > 0:
            self._handle(data, sender)
            return
        key = self._key(data, sender)
        if key is None:
            self.dropped += 1
            return
        self.deferred += 1
        self._waiting.pop(key, None)  # a newer one goes to the end: order of last arrival
        if len(self._waiting) >= MAX_WAITING:
            self.dropped += 1
            return
        self._waiting[key] = (data, sender)
        self._drain_waiting(refill=False)

    @staticmethod
    def _key(data: bytes, sender: tuple) -> bytes | None:
        """Which waiting datagram a newer one replaces; None: not worth waiting for."""
        if data.startswith(BUNDLE):
            return b"#bundle " + sender[0].encode() + b":" + str(sender[1]).encode()  # a sender's latest
        end = data.find(b"\x00", 0, 64)
        address = data[:end] if end > 0 else b""
        if not KNOWN_BYTES.match(address):  # any address of the vocabulary
            return None
        return data if address in _ALWAYS_IN_ORDER else address

    def _drain_waiting(self, refill: bool = True) -> None:
        if not self._waiting:
            return
        if refill:
            self._budget.refill()
        while self._waiting and self._budget.tokens > 0:
            key = next(iter(self._waiting))
            data, sender = self._waiting.pop(key)
            self._handle(data, sender)

    def _handle(self, data: bytes, sender: tuple) -> None:
        before = self.dispatcher.received + self.dispatcher.errors
        def reply(r: tuple) -> None:
            self._send(encode(r[0], r[1:]), sender)

        for r in self.dispatcher.call_handlers_for_packet(data, sender, reply):
            reply(r)
        self._budget.charge(max(1, self.dispatcher.received + self.dispatcher.errors - before))

    def _send(self, dgram: bytes, to: tuple) -> None:
        try:
            self.socket.sendto(dgram, to)
        except OSError:
            self.send_errors += 1  # the sender is gone or unreachable: its problem, not the show's

    # ---- lifetime -----------------------------------------------------------------------------
    def idle(self) -> bool:
        """Nothing waiting for budget (tests wait on this after a flood)."""
        return not self._waiting

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stopping = True
        if self._thread.is_alive():
            self._thread.join(timeout=2.0)
        self.socket.close()


PONG = encode("/latentvj/pong")
