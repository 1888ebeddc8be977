"""The control vocabulary: every address the daemon takes, its arguments, its fader range, its
reply and the handler that validates and applies it, in one table (`ADDRESSES`). Dispatch, OSC's
budget (which addresses may wait), MIDI maps and OSCQuery all read it, so a new address is one
row here and a handler method, and none of them can drift apart; the README's table lists each
address (a test checks).
"""
from __future__ import annotations

import re
from typing import Callable, NamedTuple

from .slow_work import Reply, SlowWorker
from .state import Control, ControlError, seconds_of

PREFIX = "/latentvj"
ERROR_ADDRESS = f"{PREFIX}/error"
MAX_DIM_DIGITS = 6  # /latentvj/bias/<i>: no latent has a million dimensions
MAX_SPEC = 1024  # characters of a show's name or path (a file system refuses far less per name)


class Address(NamedTuple):
    path: str  # "<i>" stands for a latent dimension
    types: str  # OSC types of the arguments; "i..." any number of ints; "s[f]": an s, then an f or nothing
    doc: str
    handler: str  # the ControlHandlers method that takes it: on_<handler>(address, args, reply)
    range: tuple[float, float] | None = None  # what a fader should cover (MIDI learn, OSCQuery's RANGE)
    reply: str | None = None  # what the sender gets back when slow work is done


def required_types(types: str) -> str:
    """'s[f]' -> 's': what every message to the address carries."""
    return types.split("[", 1)[0]


# Ranges: where the daemon's own limit is narrow it is that limit; scale and bias accept more (±1000).
ADDRESSES: list[Address] = [
    Address("/latentvj/scale", "f", "global latent scale (1 = as trained)", "scale", (0.0, 4.0)),
    Address("/latentvj/scale/<i>", "f", "scale of dimension i", "dim_scale", (0.0, 4.0)),
    Address("/latentvj/bias/<i>", "f", "bias added to dimension i (0 = as trained)", "dim_bias", (-3.0, 3.0)),
    Address("/latentvj/smooth", "f", "smoothing time constant in seconds (0 = off, max 60)", "smooth", (0.0, 60.0)),
    Address("/latentvj/freeze", "i", "1 holds the current latent, 0 releases it", "freeze", (0, 1)),
    Address("/latentvj/noise", "f", "std of gaussian noise added to every dimension per frame (0..100)", "noise",
            (0.0, 100.0)),
    Address("/latentvj/permute", "i...", "a permutation of 0..dim-1: output dimension k takes input dimension p[k]",
            "permute"),
    Address("/latentvj/reset", "", "all controls back to as trained", "reset"),
    Address("/latentvj/preset/save", "s", "save the controls to PRESET_DIR/<name>.toml", "preset_save",
            reply=f"{PREFIX}/preset/saved"),
    Address("/latentvj/preset/load", "s[f]", "load PRESET_DIR/<name>.toml (all or nothing); with seconds, morph "
            "every control to it over that time (a control moved meanwhile leaves the morph)", "preset_load",
            reply=f"{PREFIX}/preset/loaded"),
    Address("/latentvj/show", "s[f]", "switch to another show bundle; frames go on while it loads, a bad bundle is "
            "refused; with seconds, fade to it over that time", "show", reply=f"{PREFIX}/show/loaded"),
    Address("/latentvj/record", "i", "1 starts recording a take (audio, controls, shows) into the --record folder, "
            "0 ends it; `latentvj render --replay TAKE` renders it again", "record", (0, 1),
            reply=f"{PREFIX}/record/state"),
    Address("/latentvj/map/reload", "", "re-read the --osc-map and --midi-map files; a bad file is refused and the "
            "running maps stay", "map_reload", reply=f"{PREFIX}/map/reloaded"),
    Address("/latentvj/midi/learn", "s", "bind the next moved MIDI control to this address (needs --midi)",
            "midi_learn"),
    Address("/latentvj/ping", "", "answers /latentvj/pong to the sender", "ping"),
]
BY_PATH = {a.path: a for a in ADDRESSES}
RANGES = {a.path: a.range for a in ADDRESSES if a.range is not None}
REPLIES = {a.path: a.reply for a in ADDRESSES if a.reply is not None}  # the README's table lists these too

# One-value addresses a fader or button can play (MIDI maps); permute needs a whole list, learn is
# not a control.
PLAYABLE = {a.path: required_types(a.types) for a in ADDRESSES
            if required_types(a.types) in ("f", "i", "s", "") and "/midi/" not in a.path}


def _path_regex(path: str) -> str:
    return re.escape(path).replace(re.escape("<i>"), f"[0-9]{{1,{MAX_DIM_DIGITS}}}")


# Any address of the table, "<i>" as ASCII digits (OSC's budget matches raw datagrams, as bytes)
KNOWN = re.compile("(?:" + "|".join(_path_regex(a.path) for a in ADDRESSES) + r")\Z")
KNOWN_BYTES = re.compile(KNOWN.pattern.encode("ascii"))


def address_type(address: str) -> str | None:
    """The OSC type a playable address takes ('f', 'i', 's', ''), or None if there is no such address."""
    return PLAYABLE.get(pattern_of(address))


def pattern_of(address: str) -> str:
    """'/latentvj/bias/3' -> '/latentvj/bias/<i>' (the form ADDRESSES and RANGES use)."""
    return re.sub(r"/[0-9]+$", "/<i>", address)


class ControlHandlers:
    """The receiving end of each address (`on_<handler>` per row of ADDRESSES); `switch_show` is the
    engine's and returns the show's name.

    What touches the disk (show switches, presets, map reloads) runs on a worker thread
    (slow_work.py), so the thread that handles a message never waits on it; its reply goes to the
    `reply` callback the message came with."""

    def __init__(self, control: Control, switch_show: Callable[..., str | None],
                 reload_maps: Callable[[], str] | None = None,
                 midi_learn: Callable[[str], str] | None = None, default_fade: float = 0.0,
                 record: Callable[[bool, Reply | None], tuple] | None = None) -> None:
        """switch_show(spec) cuts to a show, switch_show(spec, seconds) fades to it; default_fade:
        the fade of a /latentvj/show without a time (the rig's show_fade_s)."""
        self.control = control
        self.switch_show = switch_show
        self.default_fade = seconds_of("show_fade_s", default_fade)
        self.reload_maps = reload_maps
        self.midi_learn = midi_learn
        self.record = record  # record(on, reply) -> the reply; it touches the disk: on a worker
        self.observer: Callable[[str, tuple], None] | None = None  # sees every message applied (a recording)
        self.shows = SlowWorker("show", latest_wins=True, error_address=ERROR_ADDRESS)
        self.presets = SlowWorker("preset", latest_wins=False, error_address=ERROR_ADDRESS)
        self.maps = SlowWorker("map", latest_wins=True, error_address=ERROR_ADDRESS)
        self.takes = SlowWorker("record", latest_wins=False, error_address=ERROR_ADDRESS)

    def idle(self) -> bool:
        """No slow job waiting or running (tests and tools wait on this)."""
        return all(w.idle() for w in (self.shows, self.presets, self.maps, self.takes))

    def stop(self) -> None:
        for w in (self.shows, self.presets, self.maps, self.takes):
            w.stop()

    @staticmethod
    def _args(address: str, args: tuple, types: str) -> tuple:
        if types == "i...":
            if not all(isinstance(a, int) and not isinstance(a, bool) for a in args):
                raise ControlError(f"{address}: expected integers")
            return args
        required, _, optional = types.partition("[")
        optional = optional.rstrip("]")
        if len(args) not in (len(required), len(required) + len(optional)):
            raise ControlError(f"{address}: expected {types or 'no arguments'}, got {len(args)} argument(s)")
        for a, t in zip(args, required + optional):
            ok = {"f": isinstance(a, (int, float)) and not isinstance(a, bool),
                  "i": isinstance(a, (int, bool)), "s": isinstance(a, str)}[t]
            if not ok:
                raise ControlError(f"{address}: expected {types}, got {type(a).__name__} {a!r}")
        return args

    @staticmethod
    def _dim(address: str) -> int:
        """ASCII digits only: str.isdigit() also takes '²' and int() then fails; and a bounded length."""
        tail = address.rsplit("/", 1)[-1]
        if not (0 < len(tail) <= MAX_DIM_DIGITS and tail.isascii() and tail.isdigit()):
            raise ControlError(f"{address[:80]}: dimension must be a non-negative integer of at most "
                               f"{MAX_DIM_DIGITS} digits")
        return int(tail)

    @staticmethod
    def _spec(address: str, spec: str) -> str:
        if not 0 < len(spec) <= MAX_SPEC or not spec.isprintable():
            raise ControlError(f"{address}: expected a name or path of 1-{MAX_SPEC} printable characters, "
                               f"got {len(spec)} characters")
        return spec

    def handle(self, address: str, args: tuple, reply: Reply | None = None) -> tuple | None:
        """Apply one message; returns a reply (address, *args) or None; raises ControlError.
        Slow work replies later through `reply`."""
        entry = BY_PATH.get(pattern_of(address))
        if entry is None or not address.startswith(PREFIX + "/"):
            raise ControlError(f"{address}: unknown address (see the README's OSC table)")
        args = self._args(address, args, entry.types)
        out = getattr(self, "on_" + entry.handler)(address, args, reply)
        if self.observer is not None and entry.handler != "ping":
            self.observer(address, args)
        return out

    # ---- one per row of ADDRESSES: (address, checked args, reply) -> an immediate reply or None --------
    def on_scale(self, address: str, args: tuple, reply: Reply | None) -> None:
        self.control.set_scale(*args)

    def on_dim_scale(self, address: str, args: tuple, reply: Reply | None) -> None:
        self.control.set_dim_scale(self._dim(address), *args)

    def on_dim_bias(self, address: str, args: tuple, reply: Reply | None) -> None:
        self.control.set_dim_bias(self._dim(address), *args)

    def on_smooth(self, address: str, args: tuple, reply: Reply | None) -> None:
        self.control.set_smooth(*args)

    def on_freeze(self, address: str, args: tuple, reply: Reply | None) -> None:
        self.control.set_freeze(int(args[0]))

    def on_noise(self, address: str, args: tuple, reply: Reply | None) -> None:
        self.control.set_noise(*args)

    def on_permute(self, address: str, args: tuple, reply: Reply | None) -> None:
        self.control.set_permutation(list(args))

    def on_reset(self, address: str, args: tuple, reply: Reply | None) -> None:
        self.control.reset()

    def on_preset_save(self, address: str, args: tuple, reply: Reply | None) -> None:
        (name,), c = args, self.control
        c.preset_path(name)  # a bad name is refused now, not later
        values = c.snapshot()  # the controls as they are when asked, not when written
        self.presets.submit(f"preset save {name!r}", lambda: (REPLIES[address], str(c.save_preset(name, values))),
                            reply)

    def on_preset_load(self, address: str, args: tuple, reply: Reply | None) -> None:
        name, seconds, c = args[0], seconds_of("morph time", args[1]) if len(args) > 1 else 0.0, self.control
        c.preset_path(name)  # a bad name or morph time is refused now, and nothing changes
        self.presets.submit(f"preset load {name!r}", lambda: (REPLIES[address], str(c.load_preset(name, seconds))),
                            reply)

    def on_show(self, address: str, args: tuple, reply: Reply | None) -> None:
        spec = self._spec(address, args[0])
        fade = seconds_of("fade time", args[1]) if len(args) > 1 else self.default_fade  # refused now: nothing changes

        def faded(name: str | None) -> None:
            """A fade's reply, when it ends (the worker is free meanwhile for the next switch)."""
            if reply is not None:
                reply((REPLIES[address], name) if name is not None else
                      (ERROR_ADDRESS, f"show {spec!r}: its fade was not finished, superseded by a newer switch"))

        def switch():
            if fade > 0:
                self.switch_show(spec, fade, faded)
                return None
            return (REPLIES[address], self.switch_show(spec) or spec)

        self.shows.submit(f"show {spec!r}", switch, reply)

    def on_record(self, address: str, args: tuple, reply: Reply | None) -> None:
        if self.record is None:
            raise ControlError(f"{address}: this daemon cannot record")
        if args[0] not in (0, 1):
            raise ControlError(f"{address}: expected 1 (start) or 0 (stop), got {args[0]!r}")
        on, record = bool(args[0]), self.record
        self.takes.submit("record " + ("start" if on else "stop"), lambda: record(on, reply), reply)

    def on_map_reload(self, address: str, args: tuple, reply: Reply | None) -> None:
        if self.reload_maps is None:
            raise ControlError(f"{address}: the daemon runs without --osc-map")
        reload_maps = self.reload_maps
        self.maps.submit("map reload", lambda: (REPLIES[address], reload_maps()), reply)

    def on_midi_learn(self, address: str, args: tuple, reply: Reply | None) -> tuple:
        if self.midi_learn is None:
            raise ControlError(f"{address}: the daemon runs without --midi")
        return (f"{PREFIX}/midi/learning", self.midi_learn(args[0]))

    def on_ping(self, address: str, args: tuple, reply: Reply | None) -> tuple:
        return (f"{PREFIX}/pong",)
