"""Generated and file sources at real-time pace, and picking an input by its --input spec."""
import time

from latentvj.daemon.audio.sources import PacedSource, tone_signal


def test_paced_source_never_runs_ahead_of_the_wall_clock():
    src = PacedSource("tone", tone_signal(44100, 1.0), 44100, loop=True)
    src.start()
    time.sleep(0.3)
    written, elapsed = src.ring.written, time.monotonic() - src.start_time
    src.stop()
    assert 0 < written <= elapsed * 44100 + src.block
