"""Slow control work on its own thread: newest request wins, the last valid one ends up in effect,
a queue that refuses past its depth, replies to whoever asked, and a bug that does not end it."""
import threading
import time

import pytest

from latentvj.daemon.control.slow_work import SlowWorker
from latentvj.daemon.control.state import ControlError


def wait_idle(worker, timeout=10.0):
    end = time.monotonic() + timeout
    while not worker.idle() and time.monotonic() < end:
        time.sleep(0.005)
    assert worker.idle()


class Shows:
    """A show loader that takes a little while and refuses 'corrupt' and 'missing'."""

    def __init__(self):
        self.playing = None
        self.loaded = []
        self.gate = threading.Event()

    def job(self, spec):
        def run():
            self.gate.wait(5)
            if spec in ("corrupt", "missing"):
                raise ControlError(f"show: {spec}")
            self.loaded.append(spec)
            self.playing = spec
            return ("/loaded", spec)
        return run


@pytest.fixture()
def shows():
    s = Shows()
    w = SlowWorker("show", latest_wins=True, error_address="/error")
    yield s, w
    s.gate.set()
    w.stop()


def test_newest_request_wins_and_older_ones_are_dropped(shows):
    s, w = shows
    replies = []
    for spec in ("a", "b", "a", "b"):
        w.submit(spec, s.job(spec), replies.append)
    s.gate.set()
    wait_idle(w)
    # the first may have started before the others came; the newest always runs, and last
    assert s.playing == "b" and s.loaded[-1] == "b" and len(s.loaded) <= 2
    assert replies[-1] == ("/loaded", "b")
    # every request is answered once: loaded, or told that a newer one overtook it
    assert len(replies) == 4
    skipped = [r for r in replies if r[0] == "/error"]
    assert len(skipped) == 4 - len(s.loaded) and all("superseded by" in r[1] for r in skipped)


def test_a_failing_newest_request_falls_back_to_the_last_valid_one(shows):
    s, w = shows
    replies = []
    for spec in ("a", "b", "a", "corrupt", "missing"):
        w.submit(spec, s.job(spec), replies.append)
    s.gate.set()
    wait_idle(w)
    assert s.playing == "a"
    assert ("/error", "show: missing") in replies and ("/error", "show: corrupt") in replies


def test_a_plain_queue_keeps_order_and_refuses_past_its_depth():
    w = SlowWorker("preset", latest_wins=False, error_address="/error", depth=3)
    gate, done = threading.Event(), []
    try:
        w.submit("block", lambda: gate.wait(5) and None, None)
        time.sleep(0.1)  # the first is running; three may wait
        for k in range(3):
            w.submit(f"job {k}", lambda k=k: done.append(k), None)
        with pytest.raises(ControlError, match="already waiting"):
            w.submit("one too many", lambda: None, None)
        gate.set()
        wait_idle(w)
        assert done == [0, 1, 2]
    finally:
        gate.set()
        w.stop()


def test_a_bug_in_a_job_replies_an_error_and_the_worker_goes_on():
    w = SlowWorker("map", latest_wins=True, error_address="/error")
    replies = []
    try:
        w.submit("broken", lambda: 1 / 0, replies.append)
        wait_idle(w)
        w.submit("fine", lambda: ("/ok",), replies.append)
        wait_idle(w)
        assert replies[0][0] == "/error" and "ZeroDivisionError" in replies[0][1]
        assert replies[1] == ("/ok",)
    finally:
        w.stop()


def test_a_request_pushed_out_of_a_full_latest_wins_queue_is_answered(shows):
    s, w = shows
    w.depth = 2
    replies = []
    w.submit("first", s.job("a"), replies.append)  # may start at once and wait on the gate
    for spec in ("b", "a", "b"):
        w.submit(spec, s.job(spec), replies.append)
    s.gate.set()
    wait_idle(w)
    assert len(replies) == 4 and replies[-1] == ("/loaded", "b")
