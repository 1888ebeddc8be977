"""OSC control in: python-osc's blocking UDP server on its own thread, messages handled in order.

Every handler validates its arguments and raises ControlError; the dispatcher turns that, and
anything that does not parse, into a log line and an `/latentvj/error` reply to the sender.
Replies and log lines are rate-limited, so a flood costs a counter, not the frame rate.
`strict_timing=False`: a bundle with a future timetag is handled now, never slept on.
"""
from __future__ import annotations

import logging
import socket
import threading
import time
from typing import Callable

from pythonosc import osc_packet
from pythonosc.parsing import osc_types
from pythonosc.dispatcher import Dispatcher
from pythonosc.osc_server import BlockingOSCUDPServer

from .control import Control, ControlError

log = logging.getLogger("latentvj.osc")

PREFIX = "/latentvj"
ERROR_ADDRESS = f"{PREFIX}/error"
MAX_ERRORS_PER_S = 20

# address, arguments, what it does; the README's table lists each one (a test checks).
ADDRESSES: list[tuple[str, str, str]] = [
    ("/latentvj/scale", "f", "global latent scale (1 = as trained)"),
    ("/latentvj/scale/<i>", "f", "scale of dimension i"),
    ("/latentvj/bias/<i>", "f", "bias added to dimension i (0 = as trained)"),
    ("/latentvj/smooth", "f", "smoothing time constant in seconds (0 = off, max 60)"),
    ("/latentvj/freeze", "i", "1 holds the current latent, 0 releases it"),
    ("/latentvj/noise", "f", "std of gaussian noise added to every dimension per frame (0..100)"),
    ("/latentvj/permute", "i...", "a permutation of 0..dim-1: output dimension k takes input dimension p[k]"),
    ("/latentvj/reset", "", "all controls back to as trained"),
    ("/latentvj/preset/save", "s", "save the controls to PRESET_DIR/<name>.toml"),
    ("/latentvj/preset/load", "s", "load PRESET_DIR/<name>.toml (all or nothing)"),
    ("/latentvj/show", "s", "switch to another show bundle; frames go on, a bad bundle is refused"),
    ("/latentvj/map/reload", "", "re-read the --osc-map and --midi-map files; a bad file is refused and the running maps stay"),
    ("/latentvj/midi/learn", "s", "bind the next moved MIDI control to this address (needs --midi)"),
    ("/latentvj/ping", "", "answers /latentvj/pong to the sender"),
]

# The range a fader should cover (MIDI learn's default, OSCQuery's RANGE). Where the daemon's
# own limit is narrow it is that limit; scale and bias accept more (up to ±1000).
RANGES: dict[str, tuple[float, float]] = {
    "/latentvj/scale": (0.0, 4.0),
    "/latentvj/scale/<i>": (0.0, 4.0),
    "/latentvj/bias/<i>": (-3.0, 3.0),
    "/latentvj/smooth": (0.0, 60.0),
    "/latentvj/freeze": (0, 1),
    "/latentvj/noise": (0.0, 100.0),
}


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


class ControlHandlers:
    """The receiving end of each address; `switch_show` is the engine's."""

    def __init__(self, control: Control, switch_show: Callable[[str], None],
                 reload_maps: Callable[[], str] | None = None,
                 midi_learn: Callable[[str], str] | None = None) -> None:
        self.control = control
        self.switch_show = switch_show
        self.reload_maps = reload_maps
        self.midi_learn = midi_learn

    @staticmethod
    def _args(address: str, args: tuple, types: str) -> tuple:
        if len(args) != len(types):
            raise ControlError(f"{address}: expected {len(types)} argument(s) ({types or 'none'}), got {len(args)}")
        for a, t in zip(args, types):
            ok = {"f": isinstance(a, (int, float)) and not isinstance(a, bool),
                  "i": isinstance(a, (int, bool)), "s": isinstance(a, str)}[t]
            if not ok:
                raise ControlError(f"{address}: expected {types}, got {type(a).__name__} {a!r}")
        return args

    @staticmethod
    def _dim(address: str) -> int:
        tail = address.rsplit("/", 1)[-1]
        if not tail.isdigit():
            raise ControlError(f"{address}: dimension must be a non-negative integer")
        return int(tail)

    def handle(self, address: str, args: tuple) -> tuple | None:
        """Apply one message; returns a reply (address, *args) or None; raises ControlError."""
        c = self.control
        parts = address.split("/")  # ['', 'latentvj', 'scale', ...]
        name = "/".join(parts[:3])
        if address == f"{PREFIX}/scale":
            c.set_scale(*self._args(address, args, "f"))
        elif name == f"{PREFIX}/scale" and len(parts) == 4:
            c.set_dim_scale(self._dim(address), *self._args(address, args, "f"))
        elif name == f"{PREFIX}/bias" and len(parts) == 4:
            c.set_dim_bias(self._dim(address), *self._args(address, args, "f"))
        elif address == f"{PREFIX}/smooth":
            c.set_smooth(*self._args(address, args, "f"))
        elif address == f"{PREFIX}/freeze":
            (on,) = self._args(address, args, "i")
            c.set_freeze(int(on))
        elif address == f"{PREFIX}/noise":
            c.set_noise(*self._args(address, args, "f"))
        elif address == f"{PREFIX}/permute":
            if not all(isinstance(a, int) and not isinstance(a, bool) for a in args):
                raise ControlError(f"{address}: expected integers")
            c.set_permutation(list(args))
        elif address == f"{PREFIX}/reset":
            self._args(address, args, "")
            c.reset()
        elif address == f"{PREFIX}/preset/save":
            path = c.save_preset(*self._args(address, args, "s"))
            return (f"{PREFIX}/preset/saved", str(path))
        elif address == f"{PREFIX}/preset/load":
            path = c.load_preset(*self._args(address, args, "s"))
            return (f"{PREFIX}/preset/loaded", str(path))
        elif address == f"{PREFIX}/show":
            self.switch_show(*self._args(address, args, "s"))
        elif address == f"{PREFIX}/map/reload":
            self._args(address, args, "")
            if self.reload_maps is None:
                raise ControlError(f"{address}: the daemon runs without --osc-map")
            return (f"{PREFIX}/map/reloaded", self.reload_maps())
        elif address == f"{PREFIX}/midi/learn":
            (target,) = self._args(address, args, "s")
            if self.midi_learn is None:
                raise ControlError(f"{address}: the daemon runs without --midi")
            return (f"{PREFIX}/midi/learning", self.midi_learn(target))
        elif address == f"{PREFIX}/ping":
            return (f"{PREFIX}/pong",)
        else:
            raise ControlError(f"{address}: unknown address (see the README's OSC table)")
        return None


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
