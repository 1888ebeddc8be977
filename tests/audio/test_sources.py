"""Generated and file sources at real-time pace, and picking an input by its --input spec."""
import time

import pytest

from conftest import eventually

from latentvj.daemon.app import DEMO_LOOP
from latentvj.daemon.audio.files import AudioInputError
from latentvj.daemon.audio.sources import PacedSource, open_input, tone_signal


def test_paced_source_never_runs_ahead_of_the_wall_clock():
    src = PacedSource("tone", tone_signal(44100, 1.0), 44100, loop=True)
    src.start()
    assert eventually(lambda: src.ring.written >= 0.2 * 44100)
    written, elapsed = src.ring.written, time.monotonic() - src.start_time
    src.stop()
    assert 0 < written <= elapsed * 44100 + src.block


def test_open_input_takes_demo_tone_a_file_and_names_a_missing_file(track_wav, tmp_path):
    tone = open_input("tone", 48000)
    assert (tone.name, tone.sample_rate, tone.loop) == ("tone", 48000, True)
    demo = open_input("demo", 44100, demo_loop=DEMO_LOOP)
    assert demo.loop and demo.sample_rate == 44100 and demo.duration > 1.0
    song = open_input(str(track_wav), 22050)
    assert (song.name, song.sample_rate, song.loop) == ("track.wav", 22050, False)
    assert open_input(str(track_wav), 22050, loop=True).loop
    with pytest.raises(AudioInputError, match="no such file"):
        open_input(str(tmp_path / "set.wav"), 44100)
    with pytest.raises(AudioInputError, match="no demo loop"):
        open_input("demo", 44100)
