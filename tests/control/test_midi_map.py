"""MIDI maps: CCs and notes to control addresses with ranges, curves and modes; mistakes named by file and line."""

import mido
import pytest

from conftest import TESTS
from latentvj.daemon.control.midi_map import MapError, load_midi_map

MAP = (TESTS / "control" / "midi_map.toml").read_text()  # a map every kind of binding is in




def write(tmp_path, text):
    p = tmp_path / "midi.toml"
    p.write_text(text)
    return p


def play(m, *texts):
    out = []
    for t in texts:
        out += m.messages(mido.Message.from_str(t))
    return out


def test_ccs_and_notes_play_addresses_with_ranges_curves_and_modes(tmp_path):
    m = load_midi_map(write(tmp_path, MAP))
    assert play(m, "control_change channel=0 control=1 value=127") == [("/latentvj/scale", 4.0)]
    assert play(m, "control_change channel=1 control=2 value=127",  # channel 2 on the wire is 1
                "control_change channel=0 control=2 value=127") == [("/latentvj/bias/3", 3.0)]
    hold = play(m, "note_on channel=0 note=36 velocity=90", "note_on channel=0 note=36 velocity=0")
    assert hold == [("/latentvj/freeze", 1), ("/latentvj/freeze", 0)]
    toggle = play(m, "note_on channel=0 note=37 velocity=90", "note_off channel=0 note=37",
                  "note_on channel=0 note=37 velocity=90")
    assert toggle == [("/latentvj/freeze", 1), ("/latentvj/freeze", 0)]
    assert play(m, "note_on channel=0 note=38 velocity=1", "note_off channel=0 note=38") == [("/latentvj/reset",)]
    assert play(m, "note_on channel=0 note=39 velocity=1") == [("/latentvj/preset/load", "chorus")]
    assert play(m, "clock", "pitchwheel channel=0 pitch=5", "control_change channel=0 control=9 value=3") == []


@pytest.mark.parametrize("edit, line, message", [
    (lambda t: t.replace('"/latentvj/scale"', '"/latentvj/scael"'), 3, "did you mean '/latentvj/scale'"),
    (lambda t: t.replace('"/latentvj/scale"', '"/latentvj/permute"'), 3, "not a control the daemon has"),
    (lambda t: t.replace("range = [0.0, 4.0]", "range = [1.0, 1.0]"), 4, "min = max"),
    (lambda t: t.replace("channel = 2", "channel = 17"), 8, "1..16"),
    (lambda t: t.replace("cc = 1\n", "cc = 1\nnote = 3\n"), 4, "exactly one of"),
    (lambda t: t.replace('value = "chorus"', ""), 28, "needs value"),
    (lambda t: t.replace('curve = "square"', 'curve = "cubic"'), 11, "not one of"),
    (lambda t: t.replace("range = [0.0, 4.0]", "rnage = [0.0, 4.0]"), 4, "did you mean 'range'"),
    (lambda t: t.replace("[[bind]]\ncc = 1", "[[bind]\ncc = 1", 1), 1, "not valid TOML"),
])
def test_map_mistakes_name_file_line_and_fix(tmp_path, edit, line, message):
    path = write(tmp_path, edit(MAP))
    with pytest.raises(MapError) as err:
        load_midi_map(path)
    text = str(err.value)
    assert text.startswith(f"{path}:") and message in text
    if "TOML" not in message:
        assert text.startswith(f"{path}:{line}:")
