"""MIDI maps: a controller's CCs and notes to any control address, with ranges and curves.

One TOML file:

    [[bind]]
    cc = 1                        # or note = 36
    channel = 1                   # 1..16; leave out for any channel
    address = "/latentvj/scale"   # any control address that takes one value (README's OSC table)
    range = [0.0, 4.0]            # what the CC's 0..127 (or a note off/on) becomes
    curve = "linear"              # linear | square | sqrt | smoothstep
    mode = "hold"                 # notes on 0/1 addresses: hold (on while held) | toggle
    value = "verse"               # string addresses (show, preset): what a press sends

Mistakes are reported at load as `FILE:LINE: what; fix`; a reload that fails keeps the running map.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from ..suggest import did_you_mean
from .map_files import CURVES, LineIndex, MapError, number_pair, read_map
from .vocabulary import PLAYABLE, RANGES, address_type, pattern_of

BIND_KEYS = {"cc", "note", "channel", "address", "range", "curve", "mode", "value"}
MODES = ("hold", "toggle")


@dataclass
class Binding:
    kind: str  # "cc" or "note"
    number: int
    channel: int | None  # 1..16, None = any
    address: str
    type: str
    low: float = 0.0
    high: float = 1.0
    curve: str = "linear"
    mode: str = "hold"
    value: str = ""
    state: int = field(default=0, compare=False)  # a toggle's 0/1
    held: int = field(default=0, compare=False)  # pressed (note on, CC at or above 64) last time

    def matches(self, msg) -> bool:
        if self.kind == "cc":
            hit = msg.type == "control_change" and msg.control == self.number
        else:
            hit = msg.type in ("note_on", "note_off") and msg.note == self.number
        return hit and (self.channel is None or msg.channel == self.channel - 1)

    def message(self, msg) -> tuple | None:
        """The (address, *args) this MIDI message plays, or None when it plays nothing."""
        if self.kind == "cc":
            t = msg.value / 127.0
        else:
            t = 1.0 if msg.type == "note_on" and msg.velocity > 0 else 0.0
        if self.type == "f":
            return (self.address, self.low + CURVES[self.curve](t) * (self.high - self.low))
        pressed = int(t >= 0.5)
        rising, changed, self.held = pressed and not self.held, pressed != self.held, pressed
        if self.type == "i":
            if self.mode == "hold":
                return (self.address, pressed) if changed else None
            if not rising:
                return None
            self.state ^= 1
            return (self.address, self.state)
        if not rising:  # '' and 's' addresses fire on a press
            return None
        return (self.address,) if self.type == "" else (self.address, self.value)

    def toml(self) -> str:
        lines = ["[[bind]]", f"{self.kind} = {self.number}"]
        if self.channel is not None:
            lines.append(f"channel = {self.channel}")
        lines.append(f'address = "{self.address}"')
        if self.type == "f":
            lines += [f"range = [{self.low!r}, {self.high!r}]", f'curve = "{self.curve}"']
        if self.type == "i":
            lines.append(f'mode = "{self.mode}"')
        if self.type == "s":
            lines.append(f'value = "{self.value}"')
        return "\n".join(lines) + "\n"


def learned(msg, address: str) -> Binding:
    """The binding for the control that sent `msg`, with the address's usual range."""
    kind = "cc" if msg.type == "control_change" else "note"
    number = msg.control if kind == "cc" else msg.note
    low, high = RANGES.get(pattern_of(address), (0.0, 1.0))
    return Binding(kind, number, msg.channel + 1, address, address_type(address) or "", low, high,
                   mode="toggle" if kind == "note" else "hold")


@dataclass
class MidiMap:
    path: Path | None
    bindings: list[Binding]

    def messages(self, msg) -> list[tuple]:
        out = []
        for b in self.bindings:
            if b.matches(msg):
                m = b.message(msg)
                if m is not None:
                    out.append(m)
        return out


def load_midi_map(path: str | Path) -> MidiMap:
    """Read and check one map; raises MapError naming the file, the line and the fix."""
    path, text, doc = read_map(path, "MIDI map")
    where = LineIndex(text, table="bind")

    def fail(k: int, msg: str, key: str) -> MapError:
        return MapError(f"{path}:{where.of_key(key, k)}: bind {k + 1}: {msg}")

    if set(doc) - {"bind"}:
        key = sorted(set(doc) - {"bind"})[0]
        raise MapError(f"{path}:{where.of_key(key)}: unknown setting '{key}'; a MIDI map holds [[bind]] tables")
    binds = doc.get("bind", [])
    if not isinstance(binds, list):
        raise MapError(f"{path}:1: 'bind' must be [[bind]] tables")
    out = []
    for k, b in enumerate(binds):
        for key in b:
            if key not in BIND_KEYS:
                raise fail(k, f"unknown key '{key}'{did_you_mean(key, BIND_KEYS)}", key)
        kinds = [key for key in ("cc", "note") if key in b]
        if len(kinds) != 1:
            raise fail(k, "give exactly one of cc = N or note = N", "address")
        kind, number = kinds[0], b[kinds[0]]
        if isinstance(number, bool) or not isinstance(number, int) or not 0 <= number <= 127:
            raise fail(k, f"{kind} {number!r}: expected 0..127", kind)
        channel = b.get("channel")
        if channel is not None and (isinstance(channel, bool) or channel not in range(1, 17)):
            raise fail(k, f"channel {channel!r}: expected 1..16 (or leave it out for any)", "channel")
        address = b.get("address")
        kind_of = address_type(address) if isinstance(address, str) else None
        if kind_of is None:
            raise fail(k, f"address {address!r} is not a control the daemon has"
                          f"{did_you_mean(address, [a.replace('<i>', '0') for a in PLAYABLE])}"
                          "; see the README's OSC table", "address")
        bind = Binding(kind, number, channel, address, kind_of)
        if kind_of == "f":
            try:
                bind.low, bind.high = number_pair(b.get("range", [0.0, 1.0]), "range")
            except ValueError as exc:
                raise fail(k, str(exc), "range") from exc
            bind.curve = b.get("curve", "linear")
            if bind.curve not in CURVES:
                raise fail(k, f"curve {bind.curve!r} is not one of {', '.join(CURVES)}", "curve")
        bind.mode = b.get("mode", "hold")
        if bind.mode not in MODES:
            raise fail(k, f"mode {bind.mode!r}: expected hold or toggle", "mode")
        if kind_of == "s":
            bind.value = b.get("value", "")
            if not isinstance(bind.value, str) or not bind.value:
                raise fail(k, f"{address} needs value = \"...\" (what a press sends)", "address")
        out.append(bind)
    return MidiMap(path, out)
