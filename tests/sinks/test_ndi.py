"""The NDI sink with the real cyndilib sender (discovery across machines is not tested here)."""
import logging

import numpy as np
import pytest

from conftest import drive_sink
from latentvj.daemon.sinks import make_sink

pytest.importorskip("cyndilib", reason="the NDI extra (latentvj[ndi]) is part of the test install")


@pytest.mark.parametrize("w, h", [(64, 48), (256, 256)])
def test_sends_every_frame(w, h, caplog):
    caplog.set_level(logging.INFO, "latentvj.sinks")
    runner = drive_sink(make_sink("ndi:latentvj-test"), 30, w=w, h=h)
    assert (runner.written, runner.failures, runner.dropped) == (30, 0, 0)
    assert "NDI source" in caplog.text and "(latentvj-test)" in caplog.text  # NDI shows it as "HOST (NAME)"


def test_a_frame_of_the_wrong_size_fails_the_sink_not_the_caller(fast_retry):
    runner = drive_sink(make_sink("ndi:latentvj-test"), 4,
                        frame_for=lambda i: np.zeros((48, 64, 4) if i != 1 else (10, 10, 4), np.uint8))
    assert runner.failures == 1 and runner.written == 1


def test_two_sources_with_one_name_both_send():
    a = drive_sink(make_sink("ndi:latentvj-dup"), 5)
    b = drive_sink(make_sink("ndi:latentvj-dup"), 5)
    assert a.written == b.written == 5
