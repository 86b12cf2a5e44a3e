"""The sandbox clock: realtime, replay (looping) and auto (replay while the market is closed)."""

import datetime as dt

import pytest

from polygon.markets import sessions
from polygon.sandbox.clock import SandboxClock

# 2023-03-01 (a Wednesday, EST): 11:00 New York, and 20:00 New York (market closed)
WED_1100 = dt.datetime(2023, 3, 1, 16, 0, tzinfo=dt.timezone.utc).timestamp()
WED_2000 = dt.datetime(2023, 3, 2, 1, 0, tzinfo=dt.timezone.utc).timestamp()
SAT_NOON = dt.datetime(2023, 3, 4, 17, 0, tzinfo=dt.timezone.utc).timestamp()


def bounds(day):
    o, c = sessions.session_bounds(day, day)
    return int(o[0]), int(c[0])


def test_realtime_is_the_wall_clock():
    clock = SandboxClock("realtime", wall=lambda: SAT_NOON)
    assert clock.now_ms() == clock.rest_now_ms() == int(SAT_NOON * 1000)
    assert clock.mode == "realtime" and not clock.is_replay


def test_auto_is_real_time_during_the_session():
    clock = SandboxClock("auto", wall=lambda: WED_1100)
    assert clock.now_ms() == int(WED_1100 * 1000)


@pytest.mark.parametrize("wall,day", [(WED_2000, dt.date(2023, 3, 1)), (SAT_NOON, dt.date(2023, 3, 3))])
def test_auto_replays_the_latest_session_while_closed(wall, day):
    clock = SandboxClock("auto", speed=1000, wall=lambda: wall)
    start, end = bounds(day)
    assert start <= clock.now_ms() < end
    assert clock.rest_now_ms() == int(wall * 1000)  # REST still answers with the real time


def test_replay_starts_at_the_open_and_skips_to_a_trading_day():
    clock = SandboxClock("2023-07-04", speed=60)  # a holiday: the next session is replayed
    assert clock.replay_day == dt.date(2023, 7, 5)
    start, end = bounds(dt.date(2023, 7, 5))
    assert start <= clock.now_ms() < start + 60_000 * 5
    assert clock.mode == "replay 2023-07-05 x60" and clock.is_replay
    assert clock.rest_now_ms() >= start


def test_bad_clock_values_raise():
    with pytest.raises(ValueError):
        SandboxClock("not-a-date")
    with pytest.raises(ValueError):
        SandboxClock("auto", speed=0)


def test_an_instant_sets_a_virtual_wall_clock_for_rest_and_stream():
    clock = SandboxClock("2024-06-12T20:00:00Z", speed=1)
    start = int(dt.datetime(2024, 6, 12, 20, 0, tzinfo=dt.timezone.utc).timestamp() * 1000)
    assert start <= clock.now_ms() < start + 60_000 and start <= clock.rest_now_ms() < start + 60_000
    assert clock.mode == "at 2024-06-12T20:00:00+00:00 x1" and not clock.is_replay
    shifted = SandboxClock("2024-06-12T16:00-04:00")
    assert start <= shifted.rest_now_ms() < start + 60_000
    with pytest.raises(ValueError):
        SandboxClock("2024-06-12T25:00")
