"""LatestSlot: a one-item hand-over between threads where the newest item wins."""
import sys
import threading
import time

from latentvj.daemon.engine.latest_slot import LatestSlot


def test_take_on_an_empty_slot_gives_none():
    slot = LatestSlot()
    assert slot.take() is None
    assert slot.take() is None


def test_put_returns_what_it_replaced_and_take_empties():
    slot = LatestSlot()
    assert slot.put("a") is None
    assert slot.put("b") == "a"
    assert slot.put("c") == "b"
    assert slot.take() == "c"
    assert slot.take() is None
    assert slot.put("d") is None  # "c" was taken, so nothing is replaced
    assert slot.take() == "d"


def test_falsy_items_are_handed_over():
    slot = LatestSlot()
    slot.put(0)
    assert slot.take() == 0
    slot.put("")
    assert slot.take() == ""


def test_concurrent_producer_and_consumer_never_lose_or_repeat_an_item():
    """Every item is either taken, replaced (returned by put) or left in the slot at the end,
    exactly once; what the consumer sees is in order, and the newest item is never lost."""
    n = 20000
    slot = LatestSlot()
    seen, replaced = [], []
    producer_done = threading.Event()

    def produce():
        for i in range(n):
            old = slot.put(i)
            if old is not None:
                replaced.append(old)
            if i % 8 == 0:
                time.sleep(0)  # hand the interpreter over: the consumer gets to take often
        producer_done.set()

    def consume():
        while not producer_done.is_set():
            item = slot.take()
            if item is not None:
                seen.append(item)

    old_interval = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)  # switch threads as often as possible: interleave puts and takes
    try:
        threads = [threading.Thread(target=consume), threading.Thread(target=produce)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=60)
        assert not any(t.is_alive() for t in threads)
    finally:
        sys.setswitchinterval(old_interval)

    final = slot.take()
    assert len(seen) > 100, "the consumer hardly got items: the test did not exercise the hand-over"
    assert all(a < b for a, b in zip(seen, seen[1:]))
    if seen[-1] == n - 1:
        assert final is None
    else:
        assert final == n - 1
    left = [] if final is None else [final]
    assert sorted(seen + replaced + left) == list(range(n))
