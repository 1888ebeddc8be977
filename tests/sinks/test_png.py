"""The png sink numbers frames by their grid index (gaps are dropped frames)."""

import numpy as np

from latentvj.daemon.sinks import StreamInfo, make_sink


def test_png_numbers_frames_by_grid_index(tmp_path):
    sink = make_sink(f"png:{tmp_path / 'p'}")
    sink.open(StreamInfo(64, 48, 30))
    f = np.full((48, 64, 4), 255, np.uint8)
    sink.write_frame(f, 0)
    sink.write_frame(f, 5)
    assert sorted(p.name for p in (tmp_path / "p").iterdir()) == ["frame_000000.png", "frame_000005.png"]
