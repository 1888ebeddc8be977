"""Offline `render`: the frame count, the audio the sinks get, progress, determinism, channel choice."""
import math

import numpy as np
import pytest
import torch

from conftest import CPU
from latentvj.daemon.audio.files import load_audio
from latentvj.daemon.control.state import Control
from latentvj.daemon.engine.engine_options import EngineOptions, latency_seconds
from latentvj.daemon.engine.offline import render
from latentvj.daemon.show.runtime import ShowRuntime
from latentvj.daemon.sinks import Sink

SR = 44100


class MemorySink(Sink):
    def __init__(self, wants_audio=True):
        super().__init__("memory")
        self.wants_audio = wants_audio
        self.frames = {}
        self.chunks = []

    def write_frame(self, frame, index):
        self.frames[index] = frame.copy()

    def write_audio(self, samples):
        self.chunks.append(samples.copy())


@pytest.fixture(scope="module")
def stereo(track_wav):
    """1.23 s of music, its two channels made different (left: the track, right: the track reversed)."""
    audio, _ = load_audio(track_wav, SR)
    mono = audio.mean(axis=1)[: int(1.23 * SR)]
    return np.ascontiguousarray(np.stack([mono, mono[::-1]], axis=1), dtype=np.float32)


@pytest.fixture(scope="module")
def runtime(features_show):
    return ShowRuntime.load(features_show, CPU)


def run(audio, runtime, opts, control=None, **kw):
    sink = MemorySink()
    result = render(audio, runtime, control or Control(runtime.latent_dim), [sink], opts, **kw)
    return result, sink


def stack(sink):
    assert sorted(sink.frames) == list(range(len(sink.frames)))
    return np.stack([sink.frames[j] for j in range(len(sink.frames))])


@pytest.mark.parametrize("interpolate", [True, False], ids=["linear", "hold"])
def test_frame_count_media_time_and_latency(stereo, runtime, interpolate):
    opts = EngineOptions(fps=20, latency_margin_ms=15.0, interpolate=interpolate)
    result, sink = run(stereo, runtime, opts)
    n = math.ceil(len(stereo) / SR * 20)
    assert n == 25  # 1.23 s at 20 fps: the last, partial slot counts
    assert result.frames == len(sink.frames) == n
    assert result.media_seconds == pytest.approx(n / 20)
    assert result.latency == latency_seconds(runtime, opts)
    hop_s = runtime.hop / runtime.sample_rate
    assert result.latency == pytest.approx((hop_s if interpolate else 0.0) + 0.015)
    assert all(f.shape == (32, 32, 4) for f in sink.frames.values())


def test_an_exact_length_gets_exactly_its_frames(runtime):
    """49392 samples at 25 fps are 28 slots exactly; a floating-point ceil made them 29."""
    result, sink = run(np.zeros((49392, 1), np.float32), runtime, EngineOptions(fps=25))
    assert result.frames == len(sink.frames) == 28


def test_frames_argument_sets_the_count(stereo, runtime):
    result, sink = run(stereo, runtime, EngineOptions(fps=20), frames=7)
    assert result.frames == 7 and sorted(sink.frames) == list(range(7))
    assert result.media_seconds == pytest.approx(7 / 20)


def test_an_audio_sink_gets_every_sample_in_order(stereo, runtime):
    result, sink = run(stereo, runtime, EngineOptions(fps=20))
    assert sum(len(c) for c in sink.chunks) == len(stereo)
    np.testing.assert_array_equal(np.concatenate(sink.chunks), stereo)


def test_a_sink_that_wants_no_audio_gets_none(stereo, runtime):
    sink = MemorySink(wants_audio=False)
    render(stereo, runtime, Control(8), [sink], EngineOptions(fps=20))
    assert sink.chunks == [] and len(sink.frames) == 25


def test_progress_is_called_once_per_frame(stereo, runtime):
    calls = []
    result, _ = run(stereo, runtime, EngineOptions(fps=20), progress=lambda done, total: calls.append((done, total)))
    assert calls == [(j + 1, result.frames) for j in range(result.frames)]


def test_rendering_twice_gives_the_same_frames(stereo, runtime):
    control = Control(8)
    control.set_noise(0.4)  # seeded noise must repeat too
    control.set_smooth(0.1)
    opts = EngineOptions(fps=24, seed=3)
    _, a = run(stereo, runtime, opts, control)
    _, b = run(stereo, runtime, opts, control)
    fa, fb = stack(a), stack(b)
    np.testing.assert_array_equal(fa, fb)
    assert np.abs(fa[1:].astype(int) - fa[:-1]).max() > 0  # the frames move: not trivially equal
    _, c = run(stereo, runtime, EngineOptions(fps=24, seed=4), control)
    assert not np.array_equal(stack(c), fa)


def test_channel_picks_one_channel_and_none_mixes_down(stereo, runtime):
    left, right = stereo[:, :1], stereo[:, 1:]
    frames = {}
    for ch in (0, 1, None):
        _, sink = run(stereo, runtime, EngineOptions(fps=20, channel=ch))
        frames[ch] = stack(sink)
    assert not np.array_equal(frames[0], frames[1])
    _, only_left = run(np.ascontiguousarray(np.repeat(left, 2, axis=1)), runtime, EngineOptions(fps=20))
    np.testing.assert_array_equal(frames[0], stack(only_left))
    _, only_right = run(np.ascontiguousarray(right), runtime, EngineOptions(fps=20))
    np.testing.assert_array_equal(frames[1], stack(only_right))
    _, mixed = run(np.ascontiguousarray(stereo.mean(axis=1, keepdims=True)), runtime, EngineOptions(fps=20))
    np.testing.assert_array_equal(frames[None], stack(mixed))


def test_twice_the_shows_fps_plays_the_same_show(demo_show):
    """At 60 fps a 30-fps show's mapping still reads rows 1/30 s apart: every other frame is the
    30-fps frame, bit for bit (before, its window spanned half the time and its flashes ran double speed)."""
    from latentvj.daemon.bench.click_effect import click_audio, rendered

    rt = ShowRuntime.load(demo_show, CPU)
    assert rt.manifest.fps == 30 and rt.latent_map.window > 1
    audio = click_audio(rt.sample_rate, 3.0, [1.0, 2.2])
    at30 = rendered(audio, rt, EngineOptions(fps=30), 0, 90)
    at60 = rendered(audio, rt, EngineOptions(fps=60), 0, 180)
    np.testing.assert_array_equal(at60[::2], at30)
    assert np.abs(at60[1::2] - at30).mean() > 0  # and the frames between are its own


@pytest.fixture
def one_thread():
    """What `latentvj render` sets on the CPU (thread_budget.py): one intra-op thread per decoder."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


@pytest.mark.parametrize("decoders", [1, 2])
def test_a_batched_decoder_differs_from_the_live_calls_by_rounding_only(demo_show, track_wav, decoders, request):
    """batch=1 is the live path's calls exactly (test_live_engine); the default batch runs the
    decoder once for 8 frames, and its convolutions may round a value to the next level. Render's
    CPU default, two decoders of one thread each, is held to the same."""
    audio, _ = load_audio(track_wav, SR)
    rt = ShowRuntime.load(demo_show, CPU)
    _, exact = run(audio, rt, EngineOptions(fps=30), batch=1)
    if decoders > 1:
        request.getfixturevalue("one_thread")
    _, batched = run(audio, rt, EngineOptions(fps=30), decoders=decoders)
    a, b = stack(exact).astype(int), stack(batched).astype(int)
    assert a.shape == b.shape
    diff = np.abs(a - b)
    assert diff.max() <= 1 and (diff > 0).mean() < 1e-3
    assert np.abs(np.diff(a, axis=0)).mean() > 1.0  # and the frames do move: the comparison means something


def test_a_batch_longer_than_the_clocks_usual_history_reads_its_own_rows(demo_show, track_wav):
    """At 4 fps a batch of 16 spans 4 s: the music stream runs that far ahead of the batch's first
    frame, beyond the 1.5 s a live clock keeps. Render's clocks keep the span, so the frames stay
    the live path's (before, they read the oldest row kept: values off by up to 246)."""
    audio, _ = load_audio(track_wav, SR)
    rt = ShowRuntime.load(demo_show, CPU)
    _, exact = run(audio, rt, EngineOptions(fps=4), batch=1)
    _, batched = run(audio, rt, EngineOptions(fps=4), batch=16)
    diff = np.abs(stack(exact).astype(int) - stack(batched))
    assert diff.max() <= 1 and (diff > 0).mean() < 1e-3


def test_several_decoders_give_the_frames_of_one_in_order(stereo, runtime):
    """Batches decoded at once on their own threads (and their own buffers) reach the sinks in
    frame order, each the frame one decoder gives; a last, short batch included."""
    _, one = run(stereo, runtime, EngineOptions(fps=20), batch=4)
    result, three = run(stereo, runtime, EngineOptions(fps=20), batch=4, decoders=3)
    assert result.frames == 25  # six batches of 4 and one of 1
    np.testing.assert_array_equal(stack(three), stack(one))


def test_an_error_while_preparing_frames_reaches_the_caller(stereo, features_show, monkeypatch):
    """The audio side runs on its own thread: what it raises comes back from render, which stops."""
    rt = ShowRuntime.load(features_show, CPU)

    def broken(mono):
        raise ValueError("encoder broke")

    monkeypatch.setattr(rt, "encode_hop", broken)
    sink = MemorySink()
    with pytest.raises(ValueError, match="encoder broke"):
        render(stereo, rt, Control(rt.latent_dim), [sink], EngineOptions(fps=20))
    assert len(sink.frames) == 0


def test_an_error_while_decoding_reaches_the_caller(stereo, features_show, monkeypatch):
    rt = ShowRuntime.load(features_show, CPU)

    def broken(windows, outs):
        raise RuntimeError("decoder broke")

    monkeypatch.setattr(rt.decoder, "decode_batch", broken)
    with pytest.raises(RuntimeError, match="decoder broke"):
        run(stereo, rt, EngineOptions(fps=20))
