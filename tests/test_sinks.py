import time

import av
import numpy as np
import pytest

from latentvj.daemon.sinks import Sink, SinkError, SinkRunner, StreamInfo, make_sink


def frames(n, w=64, h=48):
    out = np.zeros((n, h, w, 4), np.uint8)
    for i in range(n):
        out[i, ..., 0] = i * 8
        out[i, ..., 3] = 255
    return out


def test_mp4_has_every_frame_and_the_audio(tmp_path):
    path = tmp_path / "o.mp4"
    sink = make_sink(f"file:{path}")
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


def test_png_numbers_frames_by_grid_index(tmp_path):
    sink = make_sink(f"png:{tmp_path / 'p'}")
    sink.open(StreamInfo(64, 48, 30))
    f = frames(1)[0]
    sink.write_frame(f, 0)
    sink.write_frame(f, 5)
    assert sorted(p.name for p in (tmp_path / "p").iterdir()) == ["frame_000000.png", "frame_000005.png"]


@pytest.mark.parametrize("spec", ["nope", "file:", "file:x.avi", "png:", "null:x"])
def test_bad_specs(spec):
    with pytest.raises(SinkError, match="--sink"):
        make_sink(spec)


def test_odd_size_mp4_refused_with_a_hint(tmp_path):
    with pytest.raises(SinkError, match="even"):
        make_sink(f"file:{tmp_path / 'o.mp4'}").open(StreamInfo(63, 48, 30))


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


def test_a_failing_sink_is_isolated_and_reopened_with_backoff(monkeypatch):
    from latentvj.daemon.sinks import base

    monkeypatch.setattr(base, "RETRY_FIRST_S", 0.2)
    flaky = Flaky()
    r = SinkRunner(flaky, StreamInfo(64, 48, 30), queue_frames=64)
    r.start()
    f = frames(1)[0]
    for i in range(6):
        r.put_frame(f, i)
    time.sleep(0.3)
    for i in range(6, 9):
        r.put_frame(f, i)
    r.stop()
    assert r.failures == 1 and flaky.opened == 2
    assert flaky.got[:3] == [0, 1, 2] and flaky.got[-3:] == [6, 7, 8]
    assert r.dropped == 2  # frames 4 and 5 came during the back-off
