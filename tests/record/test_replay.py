"""A live set recorded and replayed: the frames the live run published, frame for frame."""
from __future__ import annotations

from dataclasses import replace

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


def test_the_take_kept_a_fade_and_replays_it(live_take):
    take = Take.open(live_take.folder)
    fading = take.frames[take.frames["fade_clock"] >= 0]
    assert abs(len(fading) - FPS) <= 2  # the 1-s fade: both shows' clocks kept for each of its frames


def test_at_twice_the_rate_and_a_larger_size_the_set_keeps_its_timing(live_take):
    take = Take.open(live_take.folder)
    sink = MemorySink()
    result = replay(take, replace(CPU, size=(128, 96)), [sink], fps=2 * FPS)
    span = max(live_take.frames) - min(live_take.frames) + 1  # grid slots, dropped ones too
    assert abs(result.frames - (2 * span - 1)) <= 1
    assert sink.frames[0].shape == (96, 128, 4)
    # the same set: each live frame and the frame at its time at twice the rate look alike
    # (resized back to 64x64; the noise control draws per frame, so not bit for bit)
    j0 = min(live_take.frames)
    live = np.array([live_take.frames[j][..., :3].mean() for j in sorted(live_take.frames)])
    again = np.array([_shrink(sink.frames[2 * (j - j0)]).mean() for j in sorted(live_take.frames)])
    assert np.corrcoef(live, again)[0, 1] > 0.95
    assert np.abs(live - again).mean() < 6


def _shrink(frame: np.ndarray) -> np.ndarray:
    import torch

    t = torch.from_numpy(frame[..., :3].astype(np.float32)).permute(2, 0, 1)[None]
    return torch.nn.functional.interpolate(t, size=(64, 64), mode="area")[0].numpy()


def test_a_take_from_a_48_khz_input_replays_exactly_through_the_resampler(tmp_path, features_show, track_wav):
    from record.live_take import record_live

    live = record_live(tmp_path, features_show, track_wav, rate=48000)
    take = Take.open(live.folder)
    assert take.sample_rate == 48000
    sink = MemorySink()
    replay(take, CPU, [sink])
    for j, frame in sorted(live.frames.items()):
        np.testing.assert_array_equal(sink.frames[j], frame, err_msg=f"frame {j}")
