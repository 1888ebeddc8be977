import numpy as np

from latentvj.daemon.audio.ring_buffer import RingBuffer


def test_wraps_and_reads_in_order():
    r = RingBuffer(8, 2)
    out = np.zeros((8, 2), np.float32)
    data = np.arange(24, dtype=np.float32).reshape(12, 2)
    r.write(data[:6])
    assert r.read(out[:4]) == 4
    r.write(data[6:12])  # wraps around the end
    n = r.read(out)
    assert n == 8
    np.testing.assert_array_equal(out[:8], data[4:12])
    assert r.lost == 0


def test_a_lapped_reader_counts_what_it_lost():
    r = RingBuffer(8, 1)
    r.write(np.arange(20, dtype=np.float32)[:, None])
    out = np.zeros((16, 1), np.float32)
    assert r.read(out) == 8
    assert r.lost == 12
    np.testing.assert_array_equal(out[:8, 0], np.arange(12, 20))


def test_advance_writes_silence_and_keeps_count():
    r = RingBuffer(8, 1)
    r.write(np.ones((6, 1), np.float32))
    r.advance(5)
    out = np.zeros((16, 1), np.float32)
    assert r.read(out) == 8 and r.lost == 3
    np.testing.assert_array_equal(out[:8, 0], [1, 1, 1, 0, 0, 0, 0, 0])
