"""The sink runner: a failing sink is isolated from the frames and reopened with back-off."""
import numpy as np

from conftest import eventually
from fakes.manual_clock import ManualClock

from latentvj.daemon.sinks import Sink, SinkRunner, StreamInfo


class Flaky(Sink):
    """Raises on frame 3, then works again when reopened."""

    def __init__(self):
        super().__init__("flaky")
        self.opened = 0
        self.got = []

    def open(self, info):
        self.opened += 1

    def write_frame(self, frame, index):
        if index == 3:
            raise RuntimeError("library exploded")
        self.got.append(index)


def test_a_failing_sink_is_isolated_and_reopened_with_backoff():
    from latentvj.daemon.sinks import base

    clock = ManualClock()
    flaky = Flaky()
    r = SinkRunner(flaky, StreamInfo(64, 48, 30), queue_frames=64, clock=clock)
    r.start()
    f = np.full((48, 64, 4), 255, np.uint8)
    for i in range(6):
        r.put_frame(f, i)
    assert eventually(lambda: r.dropped == 2)  # frames 4 and 5 came during the back-off
    clock.advance(base.RETRY_FIRST_S)
    for i in range(6, 9):
        r.put_frame(f, i)
    r.stop()
    assert r.failures == 1 and flaky.opened == 2
    assert flaky.got[:3] == [0, 1, 2] and flaky.got[-3:] == [6, 7, 8]
    assert r.dropped == 2  # frames 4 and 5 came during the back-off
