from latentvj.daemon.sinks.base import Sink
from latentvj.daemon.sinks.sink_set import route_device_frames


def sink(kind: str) -> Sink:
    s = Sink(kind or "host")
    s.gpu_device_type = kind
    return s


def test_only_a_sink_of_the_decoders_device_makes_device_frames():
    spout, syphon, preview, mp4 = sink("cuda"), sink("mps"), sink("any"), sink("")
    assert route_device_frames([spout, preview], "cuda", gpu_texture=True) == (True, False)
    assert spout.gpu and preview.gpu  # no host copy at all: the preview copies what it encodes
    assert route_device_frames([spout, preview, mp4], "cuda", True) == (True, True) and not mp4.gpu
    # the preview alone never turns device frames on, nor does a sink of another device
    assert route_device_frames([syphon, preview, mp4], "cuda", True) == (False, True)
    assert not any(s.gpu for s in (syphon, preview, mp4))
    assert route_device_frames([spout, preview], "cuda", gpu_texture=False) == (False, True)
    assert route_device_frames([spout, preview], "cpu", gpu_texture=True) == (False, True)
    assert not spout.gpu and not preview.gpu
