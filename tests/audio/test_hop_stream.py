"""HopStream: blocks of any size from a source -> whole hops of mono audio at the show's rate."""
import numpy as np
import pytest

from latentvj.daemon.audio.hop_stream import HopStream, mixdown

HOP = 512


def stereo_noise(n, seed=0):
    rng = np.random.default_rng(seed)
    return (rng.standard_normal((n, 2)) * 0.3).astype(np.float32)


def drain(stream):
    hops = []
    while (h := stream.next_hop()) is not None:
        assert h.shape == (stream.hop,) and h.dtype == np.float32
        hops.append(h.copy())  # a view, valid only until the next call
    return hops


def push_blocks(stream, signal, sizes):
    """Push `signal` in blocks of the given sizes (cycled), draining after each; returns the hops."""
    hops, start, k = [], 0, 0
    while start < len(signal):
        n = sizes[k % len(sizes)]
        stream.push(signal[start : start + n])
        start += n
        k += 1
        hops += drain(stream)
    return hops


@pytest.mark.parametrize("capacity", [1 << 16, 1000], ids=["roomy", "smaller-than-a-block"])
def test_odd_blocks_come_out_as_the_same_signal_in_hops(capacity):
    signal = stereo_noise(30000)
    s = HopStream(44100, None, capacity=capacity)
    s.reset(44100, HOP)
    hops = push_blocks(s, signal, [1, 100, 777, 5000, 3])
    mono = signal.mean(axis=1)
    whole = len(signal) // HOP
    assert len(hops) == whole
    np.testing.assert_array_equal(np.concatenate(hops), mono[: whole * HOP])
    # the remainder waits for more audio, and comes out first
    rest = len(signal) - whole * HOP
    more = stereo_noise(HOP, seed=1)
    s.push(more)
    (hop,) = drain(s)
    np.testing.assert_array_equal(hop, np.concatenate([mono[whole * HOP :], more.mean(axis=1)])[:HOP])
    assert rest > 0  # (the signal length was chosen so there is one)


def test_less_than_a_hop_waits_and_pushes_without_draining_add_up():
    signal = stereo_noise(3 * HOP + 100, seed=2)
    s = HopStream(44100, None)
    s.reset(44100, HOP)
    s.push(signal[:100])
    assert s.next_hop() is None
    s.push(signal[100 : HOP + 50])
    s.push(signal[HOP + 50 :])  # two pushes before the next read
    hops = drain(s)
    assert len(hops) == 3
    np.testing.assert_array_equal(np.concatenate(hops), signal.mean(axis=1)[: 3 * HOP])


def test_channel_picks_one_channel():
    signal = stereo_noise(4 * HOP, seed=3)
    for ch in (0, 1):
        s = HopStream(44100, ch)
        s.reset(44100, HOP)
        hops = push_blocks(s, signal, [333, 1000])
        np.testing.assert_array_equal(np.concatenate(hops), signal[:, ch])
    assert not np.array_equal(signal[:, 0], signal[:, 1])


def test_mixdown():
    block = np.array([[1.0, 2.0, 6.0], [-1.0, 0.5, 0.0]], np.float32)
    np.testing.assert_array_equal(mixdown(block, 0), [1.0, -1.0])
    np.testing.assert_array_equal(mixdown(block, 2), [6.0, 0.0])
    np.testing.assert_allclose(mixdown(block, None), [3.0, -0.5 / 3])
    assert mixdown(block, None).shape == (2,) and mixdown(block, None).dtype == np.float32


@pytest.mark.parametrize("channel", [None, 1])
def test_another_source_rate_is_resampled_to_the_show_rate(channel):
    src, show, seconds, freq = 48000, 44100, 2.0, 441.0
    t = np.arange(int(src * seconds)) / src
    tone = 0.5 * np.sin(2 * np.pi * freq * t)
    signal = np.stack([0.1 * np.sin(2 * np.pi * 97.0 * t), tone], axis=1).astype(np.float32)
    if channel is None:
        signal[:, 0] = signal[:, 1]  # the mean of two equal channels is the tone
    s = HopStream(src, channel)
    s.reset(show, HOP)
    hops = push_blocks(s, signal, [1, 100, 777, 5000])
    out = np.concatenate(hops)
    assert out.dtype == np.float32 and np.all(np.isfinite(out))
    assert abs(len(out) - seconds * show) <= 3 * HOP  # the resampler holds a little back
    # a 441 Hz tone at 44.1 kHz: the spectrum's peak over one second sits on 441 Hz
    # (without resampling it would read as 441 * 44100 / 48000 = 405 Hz)
    window = out[len(out) // 2 - show // 2 : len(out) // 2 + show // 2]
    peak = np.argmax(np.abs(np.fft.rfft(window * np.hanning(len(window)))))
    assert abs(peak * show / len(window) - freq) <= 2.0


def test_reset_drops_what_was_buffered():
    s = HopStream(44100, None)
    s.reset(44100, HOP)
    s.push(np.ones((HOP - 10, 2), np.float32))
    assert s.next_hop() is None
    s.reset(44100, 256)  # a new show: another hop
    assert s.hop == 256
    fresh = stereo_noise(256, seed=4)
    s.push(fresh)
    (hop,) = drain(s)
    np.testing.assert_array_equal(hop, fresh.mean(axis=1))


def test_reset_to_the_source_rate_stops_resampling():
    s = HopStream(48000, 0)
    s.reset(44100, HOP)
    s.push(stereo_noise(4800))
    s.reset(48000, HOP)
    signal = stereo_noise(2 * HOP, seed=5)
    hops = push_blocks(s, signal, [700])
    np.testing.assert_array_equal(np.concatenate(hops), signal[:, 0])


def test_nan_and_infinite_samples_reach_no_encoder():
    from latentvj.daemon.audio.hop_stream import HopStream

    hs = HopStream(44100, None)
    hs.reset(44100, 256)
    block = np.full((512, 2), 0.25, np.float32)
    block[10:20, 0] = np.nan
    block[30, 1] = np.inf
    hs.push(block)
    hops = [hs.next_hop().copy(), hs.next_hop().copy()]
    assert all(np.isfinite(h).all() for h in hops) and hops[0][10] == 0.0 and hops[1][0] == 0.25
