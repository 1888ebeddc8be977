"""Windows read at the rate the model was trained at, whatever the output fps."""
import numpy as np

from latentvj.daemon.engine.row_history import RowHistory, stride_for


def push_frames(history, n):
    for j in range(n):
        history.advance()[:] = j
    return history.read()[:, 0]


def test_stride_one_is_the_last_rows():
    np.testing.assert_array_equal(push_frames(RowHistory(4, 3, 1), 10), [6, 7, 8, 9])


def test_stride_two_takes_every_other_row_newest_last():
    np.testing.assert_array_equal(push_frames(RowHistory(4, 3, 2), 10), [3, 5, 7, 9])


def test_window_of_one_is_the_newest_row():
    h = RowHistory(1, 2, 4)
    h.advance()[:] = 5
    np.testing.assert_array_equal(h.read(), [[5, 5]])
    assert np.shares_memory(h.newest, h.read())


def test_stride_rounds_the_rate_ratio():
    assert [stride_for(f, 30) for f in (15, 25, 30, 50, 60, 120)] == [1, 1, 1, 2, 2, 4]
