import logging
import threading

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from polygon.config import PolygonConfig
from polygon.core.rate_limit import RateLimiter, get_rate_limit_status, get_shared_limiter, reset_shared_limiters
from polygon.exceptions import PolygonRateLimitError


def make(clock, **kw):
    return RateLimiter(clock=clock, sleep=clock.sleep, **kw), clock


def take(limiter):
    """One request answered at once."""
    limiter.release(limiter.acquire())


def test_free_tier_five_per_minute_never_six_in_a_window(fake_clock):
    limiter, clock = make(fake_clock, per_minute=5)
    times = []
    for _ in range(12):
        limiter.release(limiter.acquire())
        times.append(clock())
    # any 6 consecutive requests span at least a full minute
    for i in range(len(times) - 5):
        assert times[i + 5] - times[i] >= 60.0
    assert times[4] == times[0]  # the first five go at once
    assert clock.now - 1000.0 == pytest.approx(120.0)


def test_slot_counts_from_release_time(fake_clock):
    limiter, clock = make(fake_clock, per_minute=1)
    token = limiter.acquire()
    clock.advance(10)  # slow response: the provider may have counted it late
    limiter.release(token)
    take(limiter)
    assert clock.now == pytest.approx(1000.0 + 10 + 60)


def test_timeout_raises_without_counting(fake_clock):
    limiter, clock = make(fake_clock, per_minute=2)
    take(limiter)
    take(limiter)
    with pytest.raises(PolygonRateLimitError) as info:
        limiter.acquire(timeout=5)
    assert info.value.retry_after == pytest.approx(60.0)
    assert limiter.status()["minute"]["used"] == 2
    assert clock.sleeps == []


def test_status_shape_and_values(fake_clock):
    limiter, clock = make(fake_clock, per_minute=5, per_day=100)
    for _ in range(3):
        take(limiter)
    clock.advance(20)
    status = limiter.status()
    assert set(status) == {"minute", "daily", "families"}
    assert status.pop("families") == {}  # no family was named
    for part in status.values():
        assert set(part) == {"used", "limit", "remaining", "reset_in"}
    assert status["minute"] == {"used": 3, "limit": 5, "remaining": 2, "reset_in": 40.0}
    assert status["daily"]["used"] == 3 and status["daily"]["limit"] == 100 and status["daily"]["remaining"] == 97
    clock.advance(41)
    assert limiter.status()["minute"]["used"] == 0
    assert limiter.status()["daily"]["used"] == 3


def test_unlimited_reports_none_but_counts(fake_clock):
    limiter, _ = make(fake_clock)
    for _ in range(4):
        take(limiter)
    status = limiter.status()
    assert status["minute"]["limit"] is None and status["minute"]["remaining"] is None
    assert status["minute"]["used"] == 4 and status["daily"]["used"] == 4


def test_daily_window_blocks_until_a_day_has_passed(fake_clock):
    limiter, clock = make(fake_clock, per_day=3)
    for _ in range(3):
        take(limiter)
    take(limiter)
    assert 86400 <= clock.now - 1000.0 <= 86400 + 61


def test_per_second_cap(fake_clock):
    limiter, clock = make(fake_clock, per_second=2)
    for _ in range(6):
        take(limiter)
    assert clock.now - 1000.0 == pytest.approx(2.0)
    start = clock.now
    slow, _ = make(fake_clock, per_second=0.5)
    take(slow)
    take(slow)
    assert clock.now - start == pytest.approx(2.0)


def test_block_for_holds_everyone(fake_clock):
    limiter, clock = make(fake_clock)
    limiter.block_for(7)
    take(limiter)
    assert clock.now - 1000.0 == pytest.approx(7.0)


def test_logs_at_info_when_waiting_over_a_second(fake_clock, caplog):
    limiter, _ = make(fake_clock, per_minute=1)
    take(limiter)
    with caplog.at_level(logging.INFO, logger="polygon.core.rate_limit"):
        take(limiter)
    assert any("per-minute" in r.getMessage() for r in caplog.records)


def test_reconfigure_keeps_usage(fake_clock):
    limiter, _ = make(fake_clock, per_minute=5)
    take(limiter)
    take(limiter)
    limiter.configure(per_minute=10)
    assert limiter.status()["minute"] == {"used": 2, "limit": 10, "remaining": 8, "reset_in": 60.0}


def test_threads_never_exceed_the_window(fake_clock):
    limiter, clock = make(fake_clock, per_minute=5)
    times = []
    lock = threading.Lock()

    def worker():
        for _ in range(3):
            limiter.release(limiter.acquire())
            with lock:
                times.append(clock())

    threads = [threading.Thread(target=worker) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(10)
        assert not t.is_alive()
    times.sort()
    assert len(times) == 24
    for i in range(len(times) - 5):
        assert times[i + 5] - times[i] >= 60.0 - 1e-9


def test_shared_registry_survives_across_clients():
    reset_shared_limiters()
    cfg = PolygonConfig(api_key="k1", base_url="http://127.0.0.1:9", rate_limit_per_minute=5)
    a = get_shared_limiter(cfg)
    take(a)
    assert get_shared_limiter(cfg.replace()) is a
    assert get_shared_limiter(cfg.replace(api_key="k2")) is not a
    assert get_rate_limit_status(cfg)["minute"]["used"] == 1
    reset_shared_limiters()


def test_module_status_for_default_config(monkeypatch):
    reset_shared_limiters()
    monkeypatch.setenv("POLYGON_RATE_LIMIT_PER_MINUTE", "5")
    status = get_rate_limit_status()
    assert status["minute"] == {"used": 0, "limit": 5, "remaining": 5, "reset_in": 0.0}
    assert status["daily"]["limit"] is None
    reset_shared_limiters()


@given(
    limit=st.integers(1, 6),
    steps=st.lists(st.tuples(st.floats(0, 90), st.floats(0, 5)), min_size=1, max_size=40),
)
@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
def test_property_never_more_than_limit_in_any_window(fake_clock, limit, steps):
    clock = type(fake_clock)()  # a fresh clock per example
    limiter = RateLimiter(per_minute=limit, clock=clock, sleep=clock.sleep)
    sent = []  # (acquired, released)
    for gap, duration in steps:
        clock.advance(gap)
        token = limiter.acquire()
        start = clock()
        clock.advance(duration)
        limiter.release(token)
        sent.append((start, clock()))
    # the provider counts a request somewhere in [acquired, released]: even in the worst case
    # (earliest arrival for the later request, latest for the earlier) no window holds limit + 1
    for i in range(len(sent) - limit):
        assert sent[i + limit][0] - sent[i][1] >= 60.0 - 1e-9


def test_in_flight_request_keeps_its_slot(fake_clock):
    limiter, clock = make(fake_clock, per_minute=1)
    token = limiter.acquire()  # in flight: the provider may count it at any moment
    clock.advance(100)  # time passes, still no answer
    got = threading.Event()

    def second():
        limiter.release(limiter.acquire())
        got.set()

    worker = threading.Thread(target=second)
    worker.start()
    assert not got.wait(0.2)  # blocked although a (fake) minute has passed
    limiter.release(token)  # answered at t=1100: the slot runs to 1160
    assert got.wait(5)
    worker.join(5)
    assert clock.now == pytest.approx(1160.0)


def test_lost_token_does_not_block_forever(fake_clock):
    limiter, clock = make(fake_clock, per_minute=1, max_in_flight=30)
    limiter.acquire()  # never released
    clock.advance(30)  # past max_in_flight: taken as answered at t=1030, so free at 1090
    take(limiter)
    assert clock.now == pytest.approx(1000.0 + 30 + 60)


def test_in_flight_wait_honours_timeout(fake_clock):
    limiter, _ = make(fake_clock, per_minute=1)
    limiter.acquire()
    with pytest.raises(PolygonRateLimitError, match="in flight"):
        limiter.acquire(timeout=0.05)


def test_unlimited_to_limited_carries_usage_as_answered_requests(fake_clock):
    # regression: past requests became "in flight" slots that held the window ~6 minutes
    limiter, clock = make(fake_clock)
    for _ in range(5):
        take(limiter)
    clock.advance(1)
    limiter.configure(per_minute=5)
    status = limiter.status()["minute"]
    assert status["used"] == 5 and status["remaining"] == 0
    assert 0 < status["reset_in"] <= 60.0
    start = clock.now
    take(limiter)  # waits for the past requests to leave the window, never longer than it
    assert 0 < clock.now - start <= 60.0
    assert limiter.status()["minute"]["used"] == 1  # the old requests have left the window


def test_limited_to_unlimited_and_back_keeps_request_times(fake_clock):
    limiter, clock = make(fake_clock, per_minute=3, per_second=2)
    take(limiter)
    clock.advance(30)
    take(limiter)
    limiter.configure()
    assert limiter.status()["minute"]["used"] == 2
    limiter.configure(per_minute=2)
    start = clock.now
    take(limiter)  # the first request leaves the window 30 s from now
    assert clock.now - start == pytest.approx(30.0, abs=1.0)


def test_status_lookup_does_not_change_a_shared_limit():
    # regression: get_rate_limit_status() reconfigured the shared limiter to its own config
    reset_shared_limiters()
    try:
        limited = PolygonConfig(api_key="k1", base_url="http://127.0.0.1:9", rate_limit_per_minute=5)
        limiter = get_shared_limiter(limited)
        take(limiter)
        status = get_rate_limit_status(limited.replace(rate_limit_per_minute=None))
        assert status["minute"]["limit"] == 5 and status["minute"]["used"] == 1
        assert limiter.per_minute == 5
        # a status for a key nobody used is zero usage, and registers nothing
        assert get_rate_limit_status(limited.replace(api_key="k9"))["minute"]["used"] == 0
        assert get_shared_limiter(limited.replace(api_key="k9")).status()["minute"]["used"] == 0
    finally:
        reset_shared_limiters()


def test_shared_limiter_keeps_the_strictest_limits():
    reset_shared_limiters()
    try:
        cfg = PolygonConfig(api_key="k1", base_url="http://127.0.0.1:9", rate_limit_per_minute=5)
        limiter = get_shared_limiter(cfg)
        take(limiter)
        # a client without limits, or with looser ones, shares the usage and the limit
        assert get_shared_limiter(cfg.replace(rate_limit_per_minute=None)) is limiter
        assert get_shared_limiter(cfg.replace(rate_limit_per_minute=100, rate_limit_per_day=50)) is limiter
        assert (limiter.per_minute, limiter.per_day, limiter.per_second) == (5, 50, None)
        # a stricter one tightens it, keeping the usage
        get_shared_limiter(cfg.replace(rate_limit_per_minute=3, rate_limit_per_second=1))
        assert (limiter.per_minute, limiter.per_day, limiter.per_second) == (3, 50, 1)
        assert limiter.status()["minute"]["used"] == 1
    finally:
        reset_shared_limiters()
