"""A MIDI controller read by the daemon itself (mido + python-rtmidi, the `midi` extra).

mido calls `_on_message` on the MIDI library's thread; it maps the message and hands it to the
same handlers OSC uses, so MIDI and OSC are validated alike. Nothing here touches the render
thread: a controller that is unplugged is noticed by a watcher that polls the device list, the
port is closed, and it is reopened when the device comes back, while the frames go on.
"""
from __future__ import annotations

import logging
import os
import threading
from typing import Callable

from ..config import ConfigError
from ..engine.latest_slot import LatestSlot
from .midi_map import MidiMap, learned
from .state import ControlError
from .vocabulary import address_type

log = logging.getLogger("latentvj.midi")
DEFAULT_BACKEND = "mido.backends.rtmidi"
INSTALL = "pip install 'latentvj[midi]'"


class MidiError(ConfigError):
    """No MIDI library, no MIDI system, or no such device; the message says which."""


def open_backend(name: str | None = None):
    """rtmidi, or the backend named by MIDO_BACKEND (mido's own switch)."""
    name = name or os.environ.get("MIDO_BACKEND") or DEFAULT_BACKEND
    try:
        import mido
    except ImportError as exc:
        raise MidiError(f"MIDI needs mido and python-rtmidi: {INSTALL}") from exc
    try:
        return mido.Backend(name, load=True)
    except ImportError as exc:
        raise MidiError(f"MIDI backend {name} cannot load ({exc}); {INSTALL}") from exc


def input_names(backend) -> list[str]:
    try:
        return list(backend.get_input_names())
    except Exception as exc:  # rtmidi raises its own SystemError when there is no MIDI system
        raise MidiError(f"MIDI: cannot list input devices ({exc}); on Linux the ALSA sequencer "
                        "(/dev/snd/seq) must exist") from exc


def resolve(device: str, names: list[str]) -> str:
    """An exact name, or a part of exactly one name (case-insensitive): 'nanoKONTROL' will do."""
    if device in names:
        return device
    hits = [n for n in names if device.lower() in n.lower()]
    if len(hits) == 1:
        return hits[0]
    listing = ", ".join(repr(n) for n in names) or "none"
    what = "matches several" if hits else "is not connected"
    raise MidiError(f"--midi {device!r} {what}; MIDI inputs: {listing} (`latentvj midi list`)")


class MidiInput:
    """One input device; `deliver(address, args)` applies a control (ControlHandlers.handle)."""

    def __init__(self, device: str, midi_map: MidiMap, deliver: Callable[[str, tuple], object],
                 backend=None, poll_s: float = 1.0) -> None:
        self.backend = backend or open_backend()
        self.name = resolve(device, input_names(self.backend))
        self.map = midi_map  # swapped whole on reload
        self.deliver = deliver
        self.poll_s = poll_s
        self.port = None
        self.received = self.refused = self.unplugs = 0
        self._learn: LatestSlot[tuple[str, Callable]] = LatestSlot()  # OSC or web thread -> MIDI thread
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._watch, name="midi-watch", daemon=True)

    def start(self) -> None:
        self._open()
        self._thread.start()

    def _open(self) -> None:
        self.port = self.backend.open_input(self.name, callback=self._on_message)
        log.info("MIDI: reading %s", self.name)

    def _on_message(self, msg) -> None:
        """On the MIDI library's thread."""
        self.received += 1
        moved = msg.type == "control_change" or msg.type == "note_on" and msg.velocity > 0
        if moved and (learn := self._learn.take()) is not None:  # taken and emptied in one step
            learn[1](learned(msg, learn[0]))
            return
        for address, *args in self.map.messages(msg):
            try:
                self.deliver(address, tuple(args))
            except ControlError as exc:
                self.refused += 1
                if self.refused in (1, 10, 100, 1000):
                    log.warning("MIDI: %s refused (%s); %d so far", address, exc, self.refused)

    def learn(self, address: str, on_bound: Callable) -> None:
        """Bind the next moved control to `address`; `on_bound(binding)` runs on the MIDI thread."""
        if not isinstance(address, str) or address_type(address) is None:
            raise ControlError(f"midi learn: {address!r} is not a control address that takes one value")
        self._learn.put((address, on_bound))

    def _watch(self) -> None:
        while not self._stop.wait(self.poll_s):
            try:
                present = self.name in self.backend.get_input_names()
            except Exception as exc:  # rtmidi raises its own errors while the MIDI system re-enumerates
                log.debug("MIDI: listing inputs failed (%s); counting %s as gone for now", exc, self.name)
                present = False
            if self.port is not None and not present:
                self.unplugs += 1
                self._close()
                log.warning("MIDI: %s is gone (unplugged?); the frames go on, waiting for it", self.name)
            elif self.port is None and present:
                try:
                    self._open()
                except Exception as exc:  # a half-enumerated device: try again next poll
                    log.warning("MIDI: %s is back but does not open yet (%s)", self.name, exc)

    def _close(self) -> None:
        port, self.port = self.port, None
        if port is not None:
            try:
                port.close()
            except Exception as exc:  # a vanished device can fail to close; it is gone either way
                log.debug("MIDI: closing %s: %s", self.name, exc)

    def stop(self) -> None:
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(timeout=2.0)
        self._close()
