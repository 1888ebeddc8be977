"""The control vocabulary: every address the daemon takes, its arguments, its fader range, and
the handler that validates and applies it. OSC, MIDI and OSCQuery (and any later surface) read
this one table, so they cannot drift apart; the README's table lists each address (a test checks).
"""
from __future__ import annotations

import re
from typing import Callable

from .state import Control, ControlError

PREFIX = "/latentvj"
ERROR_ADDRESS = f"{PREFIX}/error"

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

# One-value addresses a fader or button can play (MIDI maps); permute needs a whole list, learn is
# not a control.
PLAYABLE = {a: t for a, t, _ in ADDRESSES if t in ("f", "i", "s", "") and "/midi/" not in a}


def address_type(address: str) -> str | None:
    """The OSC type a playable address takes ('f', 'i', 's', ''), or None if there is no such address."""
    return PLAYABLE.get(pattern_of(address))


def pattern_of(address: str) -> str:
    """'/latentvj/bias/3' -> '/latentvj/bias/<i>' (the form ADDRESSES and RANGES use)."""
    return re.sub(r"/\d+$", "/<i>", address)


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
