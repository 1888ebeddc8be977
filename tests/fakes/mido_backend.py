"""A mido backend (the boundary mido itself offers: MIDO_BACKEND / mido.Backend) for machines
without a MIDI system. Ports are real mido BaseInput ports; a test moves a control with
`move()` and pulls the cable with `unplug()`, as rtmidi would show it: the device leaves the
input list and its port simply stops delivering, without an error.

In a subprocess (the daemon), FAKE_MIDI_SCRIPT names a JSON list of [seconds, event] played
from the first port's opening: event "unplug", "plug", or a mido message string.
"""
import json
import os
import threading
import time

import mido
from mido.ports import BaseInput

NAME = "Fake Controller:Fake Controller MIDI 1 20:0"
present = {NAME}
open_ports: list["Input"] = []


def get_devices(**kwargs):
    return [{"name": n, "is_input": True, "is_output": False} for n in sorted(present)]


class Input(BaseInput):
    def _open(self, callback=None, virtual=False, **kwargs):
        if virtual or self.name not in present:
            raise OSError(f"unknown port {self.name!r}")
        self.callback = callback
        open_ports.append(self)
        _start_script()

    def _close(self):
        open_ports.remove(self)

    def _receive(self, block=True):
        return None


def move(text: str) -> None:
    """Deliver a message (mido's string form) to every open port of a present device."""
    msg = mido.Message.from_str(text)
    for port in list(open_ports):
        if port.name in present and port.callback is not None:
            port.callback(msg)


def unplug(name: str = NAME) -> None:
    present.discard(name)


def plug(name: str = NAME) -> None:
    present.add(name)


_script_started = False


def _start_script() -> None:
    global _script_started
    path = os.environ.get("FAKE_MIDI_SCRIPT")
    if not path or _script_started:
        return
    _script_started = True
    events = json.loads(open(path).read())

    def play():
        t0 = time.monotonic()
        for at, event in events:
            time.sleep(max(0.0, t0 + at - time.monotonic()))
            {"unplug": unplug, "plug": plug}.get(event, move)(*(() if event in ("unplug", "plug") else (event,)))

    threading.Thread(target=play, daemon=True).start()
