"""The mp4 sink: every frame and the audio in the file; sizes H.264 refuses are named."""

import av
import numpy as np
import pytest

from latentvj.daemon.sinks import SinkError, StreamInfo, make_sink
from latentvj.daemon.sinks.mp4 import H264Settings


def frames(n, w=64, h=48):
    out = np.zeros((n, h, w, 4), np.uint8)
    for i in range(n):
        out[i, ..., 0] = i * 8
        out[i, ..., 3] = 255
    return out


@pytest.mark.parametrize("h264", [None, H264Settings(threads=1, preset="ultrafast")], ids=["default", "budget"])
def test_mp4_has_every_frame_and_the_audio(tmp_path, h264):
    path = tmp_path / "o.mp4"
    sink = make_sink(f"file:{path}", h264)
    if h264 is not None:
        assert sink.settings.threads == 1 and sink.options["preset"] == "ultrafast"
    sink.open(StreamInfo(64, 48, 30, audio_rate=44100, audio_channels=2, audio_delay=0.05))
    for i, f in enumerate(frames(30)):
        sink.write_frame(f, i)
    sink.write_audio(np.zeros((44100, 2), np.float32))
    sink.close()
    with av.open(str(path)) as c:
        v, a = c.streams.video[0], c.streams.audio[0]
        assert (v.width, v.height) == (64, 48) and a.rate == 44100
        decoded = [f.to_ndarray(format="rgb24") for f in c.decode(video=0)]
    assert len(decoded) == 30
    assert abs(int(decoded[10][..., 0].mean()) - 80) <= 3


def test_odd_size_mp4_refused_with_a_hint(tmp_path):
    with pytest.raises(SinkError, match="even"):
        make_sink(f"file:{tmp_path / 'o.mp4'}").open(StreamInfo(63, 48, 30))
