from latentvj.daemon.control.token_bucket import TokenBucket


class Clock:
    def __init__(self) -> None:
        self.t = 100.0

    def __call__(self) -> float:
        return self.t


def test_a_burst_then_the_rate_and_never_more_than_the_burst():
    clock = Clock()
    b = TokenBucket(per_s=10, burst=5, clock=clock)
    assert [b.take(1) for _ in range(6)] == [True] * 5 + [False]
    clock.t += 0.25  # earns 2.5
    assert b.take(2) and not b.take(1)
    clock.t += 1000.0
    b.refill()
    assert b.tokens == 5.0  # capped at the burst


def test_charging_after_the_fact_goes_into_debt_and_time_pays_it_back():
    clock = Clock()
    b = TokenBucket(per_s=100, burst=10, clock=clock)
    b.charge(30)  # a bundle of 30 handled at once
    assert b.tokens == -20.0 and not b.take(1)
    clock.t += 0.21
    b.refill()
    assert b.tokens > 0
