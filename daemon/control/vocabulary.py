"""The control vocabulary: every address the daemon takes, its arguments, its fader range, and
the handler that validates and applies it. OSC, MIDI and OSCQuery (and any later surface) read
this one table, so they cannot drift apart; the README's table lists each address (a test checks).
"""
from __future__ import annotations

import re
from typing import Callable

from .slow_work import Reply, SlowWorker
from .state import Control, ControlError

PREFIX = "/latentvj"
ERROR_ADDRESS = f"{PREFIX}/error"
MAX_DIM_DIGITS = 6  # /latentvj/bias/<i>: no latent has a million dimensions
MAX_SPEC = 1024  # characters of a show's name or path (a file system refuses far less per name)

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
    ("/latentvj/show", "s", "switch to another show bundle; frames go on while it loads, a bad bundle is refused"),
    ("/latentvj/map/reload", "", "re-read the --osc-map and --midi-map files; a bad file is refused and the running maps stay"),
    ("/latentvj/midi/learn", "s", "bind the next moved MIDI control to this address (needs --midi)"),
    ("/latentvj/ping", "", "answers /latentvj/pong to the sender"),
]
# Replies a sender gets back (the README's table lists these too).
REPLIES = {
    "/latentvj/show": f"{PREFIX}/show/loaded",
    "/latentvj/preset/save": f"{PREFIX}/preset/saved",
    "/latentvj/preset/load": f"{PREFIX}/preset/loaded",
    "/latentvj/map/reload": f"{PREFIX}/map/reloaded",
}

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

# One-value addresses a fader or button can play (MIDI maps); permute needs a whole list, learn is
# not a control.
PLAYABLE = {a: t for a, t, _ in ADDRESSES if t in ("f", "i", "s", "") and "/midi/" not in a}


def address_type(address: str) -> str | None:
    """The OSC type a playable address takes ('f', 'i', 's', ''), or None if there is no such address."""
    return PLAYABLE.get(pattern_of(address))


def pattern_of(address: str) -> str:
    """'/latentvj/bias/3' -> '/latentvj/bias/<i>' (the form ADDRESSES and RANGES use)."""
    return re.sub(r"/[0-9]+$", "/<i>", address)


class ControlHandlers:
    """The receiving end of each address; `switch_show` is the engine's and returns the show's name.

    What touches the disk (show switches, presets, map reloads) runs on a worker thread
    (slow_work.py), so the thread that handles a message never waits on it; its reply goes to the
    `reply` callback the message came with."""

    def __init__(self, control: Control, switch_show: Callable[[str], str | None],
                 reload_maps: Callable[[], str] | None = None,
                 midi_learn: Callable[[str], str] | None = None) -> None:
        self.control = control
        self.switch_show = switch_show
        self.reload_maps = reload_maps
        self.midi_learn = midi_learn
        self.shows = SlowWorker("show", latest_wins=True, error_address=ERROR_ADDRESS)
        self.presets = SlowWorker("preset", latest_wins=False, error_address=ERROR_ADDRESS)
        self.maps = SlowWorker("map", latest_wins=True, error_address=ERROR_ADDRESS)

    def idle(self) -> bool:
        """No slow job waiting or running (tests and tools wait on this)."""
        return all(w.idle() for w in (self.shows, self.presets, self.maps))

    def stop(self) -> None:
        for w in (self.shows, self.presets, self.maps):
            w.stop()

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
        """ASCII digits only: str.isdigit() also takes '²' and int() then fails; and a bounded length."""
        tail = address.rsplit("/", 1)[-1]
        if not (0 < len(tail) <= MAX_DIM_DIGITS and tail.isascii() and tail.isdigit()):
            raise ControlError(f"{address[:80]}: dimension must be a non-negative integer of at most "
                               f"{MAX_DIM_DIGITS} digits")
        return int(tail)

    @staticmethod
    def _spec(address: str, args: tuple) -> str:
        (spec,) = ControlHandlers._args(address, args, "s")
        if not 0 < len(spec) <= MAX_SPEC or not spec.isprintable():
            raise ControlError(f"{address}: expected a name or path of 1-{MAX_SPEC} printable characters, "
                               f"got {len(spec)} characters")
        return spec

    def handle(self, address: str, args: tuple, reply: Reply | None = None) -> tuple | None:
        """Apply one message; returns a reply (address, *args) or None; raises ControlError.
        Slow work replies later through `reply`."""
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
            (name,) = self._args(address, args, "s")
            c.preset_path(name)  # a bad name is refused now, not later
            values = c.snapshot()  # the controls as they are when asked, not when written
            self.presets.submit(f"preset save {name!r}",
                                lambda: (REPLIES[address], str(c.save_preset(name, values))), reply)
        elif address == f"{PREFIX}/preset/load":
            (name,) = self._args(address, args, "s")
            c.preset_path(name)
            self.presets.submit(f"preset load {name!r}", lambda: (REPLIES[address], str(c.load_preset(name))), reply)
        elif address == f"{PREFIX}/show":
            spec = self._spec(address, args)
            self.shows.submit(f"show {spec!r}", lambda: (REPLIES[address], self.switch_show(spec) or spec), reply)
        elif address == f"{PREFIX}/map/reload":
            self._args(address, args, "")
            if self.reload_maps is None:
                raise ControlError(f"{address}: the daemon runs without --osc-map")
            self.maps.submit("map reload", lambda: (REPLIES[address], self.reload_maps()), reply)
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
