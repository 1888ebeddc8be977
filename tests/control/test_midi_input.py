"""A MIDI controller through mido's backend switch (no ALSA sequencer here): finding it, playing, unplugging, learn; and the daemon reading one."""
import json
import os
import subprocess

import pytest

from conftest import TESTS, eventually
from daemon_process import LATENTVJ, Listener, run
from fakes import mido_backend as fake
from latentvj.daemon.control.midi_input import MidiError, MidiInput, open_backend
from latentvj.daemon.control.midi_map import MidiMap, load_midi_map
from latentvj.daemon.control.state import Control
from latentvj.daemon.control.vocabulary import ControlHandlers

MAP = (TESTS / "control" / "midi_map.toml").read_text()  # a map every kind of binding is in




def write(tmp_path, text):
    p = tmp_path / "midi.toml"
    p.write_text(text)
    return p


@pytest.fixture()
def backend(monkeypatch):
    monkeypatch.setattr(fake, "present", {fake.NAME})
    monkeypatch.setattr(fake, "open_ports", [])
    return open_backend("fakes.mido_backend")


def test_a_device_is_found_by_part_of_its_name_and_a_missing_one_is_named(backend):
    handlers = ControlHandlers(Control(4), lambda s: None)
    assert MidiInput("fake controller", MidiMap(None, []), handlers.handle, backend).name == fake.NAME
    with pytest.raises(MidiError, match=r"'nanoKONTROL' is not connected; MIDI inputs: 'Fake Controller"):
        MidiInput("nanoKONTROL", MidiMap(None, []), handlers.handle, backend)


def test_the_controller_plays_the_controls_and_survives_being_unplugged(tmp_path, backend):
    control = Control(4)
    handlers = ControlHandlers(control, lambda s: None)
    midi = MidiInput("Fake", load_midi_map(write(tmp_path, MAP)), handlers.handle, backend, poll_s=0.05)
    midi.start()
    try:
        fake.move("control_change channel=0 control=1 value=64")
        assert abs(control.snapshot().scale - 4 * 64 / 127) < 1e-6
        fake.unplug()
        assert eventually(lambda: midi.port is None and midi.unplugs == 1)
        fake.move("control_change channel=0 control=1 value=0")  # nothing arrives while it is gone
        fake.plug()
        assert eventually(lambda: midi.port is not None)
        fake.move("control_change channel=0 control=1 value=127")
        fake.move("note_on channel=0 note=36 velocity=100")
        v = control.snapshot()
        assert v.scale == 4.0 and v.freeze
    finally:
        midi.stop()
    assert fake.open_ports == []


def test_values_the_daemon_refuses_are_counted_not_raised(tmp_path, backend):
    control = Control(4)
    path = write(tmp_path, '[[bind]]\ncc = 5\naddress = "/latentvj/noise"\nrange = [0.0, 500.0]\n')
    midi = MidiInput("Fake", load_midi_map(path), ControlHandlers(control, lambda s: None).handle, backend)
    midi.start()
    try:
        fake.move("control_change channel=0 control=5 value=127")  # 500 > the daemon's 100
        fake.move("control_change channel=0 control=5 value=10")
    finally:
        midi.stop()
    assert midi.refused == 1 and 39 < control.snapshot().noise < 40


def test_learn_binds_the_next_moved_control(backend):
    control = Control(4)
    handlers = ControlHandlers(control, lambda s: None)
    midi = MidiInput("Fake", MidiMap(None, []), handlers.handle, backend)
    got = []

    def bound(binding):
        midi.map.bindings.append(binding)
        got.append(binding.toml())

    midi.start()
    try:
        midi.learn("/latentvj/noise", bound)
        fake.move("control_change channel=3 control=21 value=5")
        fake.move("control_change channel=3 control=21 value=127")
    finally:
        midi.stop()
    assert got == ['[[bind]]\ncc = 21\nchannel = 4\naddress = "/latentvj/noise"\nrange = [0.0, 100.0]\n'
                   'curve = "linear"\n']
    assert control.snapshot().noise == 100.0


def _env(tmp_path, events):
    script = tmp_path / "script.json"
    script.write_text(json.dumps(events))
    tests = str(TESTS)
    return dict(os.environ, MIDO_BACKEND="fakes.mido_backend", FAKE_MIDI_SCRIPT=str(script),
                PYTHONPATH=os.pathsep.join([tests, os.environ.get("PYTHONPATH", "")]))


def test_the_daemon_reads_the_controller_and_unplugging_does_not_stop_the_frames(tmp_path, port):
    """CC1 -> scale 0 makes the latents 0; the cable is pulled and put back; CC1 -> 4 brings them back."""
    mapping = write(tmp_path, MAP)
    listener = Listener()
    events = [[0.5, "control_change channel=0 control=1 value=0"], [1.0, "unplug"], [2.6, "plug"],
              [3.6, "control_change channel=0 control=1 value=127"]]
    try:
        proc = subprocess.run(
            [*LATENTVJ, "run", "--midi", "Fake", "--midi-map", str(mapping), "--sink", "null", "--duration", "5",
             "--osc-in", f"127.0.0.1:{port}", "--osc-out", f"127.0.0.1:{listener.port}", "--oscquery", "off"],
            capture_output=True, text=True, timeout=120, env=_env(tmp_path, events))
    finally:
        listener.close()
    assert proc.returncode == 0, proc.stderr
    assert "is gone (unplugged?)" in proc.stderr and "MIDI: reading" in proc.stderr
    assert "midi           2 messages from Fake Controller" in proc.stdout and "unplugged 1 times" in proc.stdout
    published = int(proc.stdout.split("published ")[1].split()[0])
    assert published >= 140  # 5 s at 30 fps, whatever the controller did
    zeros = [i for i, (_, v) in enumerate(listener.latents) if not any(v)]
    assert zeros and any(any(v) for _, v in listener.latents[zeros[-1] + 1:])


def test_midi_learn_and_a_missing_device_from_the_command_line(tmp_path):
    mapping = write(tmp_path, MAP)
    env = _env(tmp_path, [[0.3, "control_change channel=0 control=7 value=99"]])
    proc = subprocess.run([*LATENTVJ, "midi", "learn", "--midi", "Fake", "--address", "/latentvj/smooth",
                           "--midi-map", str(mapping), "--timeout", "20"],
                          capture_output=True, text=True, timeout=60, env=env)
    assert proc.returncode == 0, proc.stderr
    assert "cc = 7" in proc.stdout and "range = [0.0, 60.0]" in proc.stdout
    assert load_midi_map(mapping).bindings[-1].address == "/latentvj/smooth"
    proc = subprocess.run([*LATENTVJ, "run", "--midi", "nanoKONTROL", "--sink", "null", "--duration", "1"],
                          capture_output=True, text=True, timeout=60, env=env)
    assert proc.returncode == 2 and "'nanoKONTROL' is not connected; MIDI inputs: 'Fake Controller" in proc.stderr
    proc = run("run", "--midi-map", str(mapping), "--duration", "1")
    assert proc.returncode == 2 and "midi_map needs midi" in proc.stderr
