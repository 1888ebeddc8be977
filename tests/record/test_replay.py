"""A live set recorded and replayed: the frames the live run published, frame for frame."""
from __future__ import annotations

import numpy as np

from conftest import CPU
from latentvj.daemon.engine.replay import replay
from latentvj.daemon.record.take import Take
from record.live_take import FPS, MemorySink


def test_a_replay_at_the_recorded_size_and_rate_gives_the_live_frames(live_take):
    assert not live_take.errors
    take = Take.open(live_take.folder)
    assert take.clean and take.fps == FPS
    kinds = [e["kind"] for e in take.events]
    assert kinds.count("take") == 1 and kinds.count("install") == 1 and kinds.count("state") >= 4
    sink = MemorySink()
    result = replay(take, CPU, [sink])
    assert result.frames == len(live_take.frames)
    j0 = min(live_take.frames)
    for j, live in sorted(live_take.frames.items()):  # late frames and all: each reads what it read live
        np.testing.assert_array_equal(sink.frames[j - j0], live, err_msg=f"frame {j}")
    shows = {j: f.mean() for j, f in live_take.frames.items()}
    assert len(set(np.round(list(shows.values()), 1))) > 10  # the picture moved: the test is not vacuous
