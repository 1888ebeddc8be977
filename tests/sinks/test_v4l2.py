"""The v4l2 sink with the real pyvirtualcam (CI has no v4l2loopback module: the error paths)."""
import glob

import pytest

from latentvj.daemon.sinks import SinkError, StreamInfo, make_sink
from latentvj.daemon.sinks.v4l2 import V4l2Sink

pytest.importorskip("pyvirtualcam", reason="the v4l2 extra is part of the test install on Linux")


def test_a_missing_device_names_the_kernel_module():
    missing = "/dev/video63"
    assert missing not in glob.glob("/dev/video*")
    with pytest.raises(SinkError, match="v4l2loopback") as err:
        make_sink(f"v4l2:{missing}")
    assert "modprobe" in str(err.value)


def test_open_on_a_device_that_is_not_there_says_what_to_do():
    sink = V4l2Sink("v4l2:/dev/video63", "/dev/video63")
    with pytest.raises(SinkError, match=r"/dev/video63: .*does not exist.*modprobe v4l2loopback"):
        sink.open(StreamInfo(64, 48, 30))
