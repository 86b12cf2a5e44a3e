"""Splits and dividends known as of the sandbox clock; adjusted bars follow the clock across a split."""

import datetime as dt
import json

import pytest

from polygon.sandbox import corporate
from polygon.sandbox.endpoints import market_aggs as ma
from polygon.sandbox.endpoints import market_reference as mr
from tests.sandbox.market_calls import call, follow, make_state


@pytest.fixture(scope="module")
def state():
    return make_state()


def at(state, instant):
    """Move the sandbox clock (as a test does with ``sandbox.configure(clock=...)``); the new "now"."""
    state.configure(clock=instant)
    return state.clock.rest_now_ms()


def nvda_days(state, now_ms, adjusted=True):
    window = {"from": "2024-05-28", "to": "2024-06-14"}
    body = json.loads(ma.get_aggs(call(state, "get_aggs", now_ms=now_ms, stocksTicker="NVDA", multiplier=1,
                                       timespan="day", adjusted=adjusted, **window)))
    return {dt.datetime.fromtimestamp(r["t"] / 1000, dt.timezone.utc).date(): r for r in body.get("results", [])}


def test_moving_the_clock_past_a_split_readjusts_old_bars(state):
    before = at(state, "2024-06-07T21:00:00Z")  # NVDA 10:1 on 2024-06-10 is announced, not yet effective
    cached = nvda_days(state, before)
    raw_then = nvda_days(state, before, adjusted=False)
    assert max(cached) == dt.date(2024, 6, 7)
    assert all(cached[d]["c"] == raw_then[d]["c"] for d in cached)  # nothing to adjust yet
    assert any(s.ticker == "NVDA" and s.execution_date == dt.date(2024, 6, 10)
               for s in corporate.splits(state.model.universe, dt.date(2024, 6, 7)))

    after = at(state, "2024-06-14T21:00:00Z")
    fresh = nvda_days(state, after)
    raw_now = nvda_days(state, after, adjusted=False)
    for day, bar in cached.items():
        assert fresh[day]["c"] == pytest.approx(bar["c"] / 10, abs=0.006)  # the old bars, re-adjusted
        assert fresh[day]["v"] == pytest.approx(bar["v"] * 10, rel=1e-6)
        assert raw_now[day]["c"] == raw_then[day]["c"]  # as traded never changes
    jump = fresh[dt.date(2024, 6, 10)]["o"] / fresh[dt.date(2024, 6, 7)]["c"]
    raw_jump = raw_now[dt.date(2024, 6, 10)]["o"] / raw_now[dt.date(2024, 6, 7)]["c"]
    assert 0.9 < jump < 1.1 and 0.09 < raw_jump < 0.11  # no cliff adjusted; the split as traded


def test_splits_are_listed_once_announced(state):
    def nvda(clock):
        now = at(state, clock)
        rows = mr.list_splits(call(state, "list_splits", now_ms=now, ticker="NVDA"))["results"]
        return [(r["execution_date"], r["split_from"], r["split_to"]) for r in rows]

    assert nvda("2024-05-01T12:00:00Z") == [("2021-07-20", 1.0, 4.0)]
    assert nvda("2024-05-20T12:00:00Z") == [("2024-06-10", 1.0, 10.0), ("2021-07-20", 1.0, 4.0)]
    now = at(state, "2026-01-05T12:00:00Z")
    recent = mr.list_splits(call(state, "list_splits", now_ms=now, **{"execution_date.gte": "2023-11-30"}))
    assert {"NVDA", "WMT", "AVGO"} <= {r["ticker"] for r in recent["results"]}


def test_quarterly_dividends_declared_by_the_clock(state):
    now = at(state, "2024-06-04T15:00:00Z")
    rows, pages = follow(mr.list_dividends, state, "list_dividends", {"ticker": "KO", "limit": 40}, now_ms=now)
    assert pages >= 2 and all(r["frequency"] == 4 and r["dividend_type"] == "CD" for r in rows)
    assert all(r["declaration_date"] <= "2024-06-04" for r in rows)
    ex = [dt.date.fromisoformat(r["ex_dividend_date"]) for r in rows]
    assert ex == sorted(ex, reverse=True) and ex[0] > dt.date(2024, 3, 1)
    gaps = [(a - b).days for a, b in zip(ex, ex[1:])]
    assert all(80 <= g <= 100 for g in gaps)
    assert all(r["declaration_date"] < r["ex_dividend_date"] < r["record_date"] < r["pay_date"] for r in rows)
    later = at(state, "2024-12-31T15:00:00Z")
    more = mr.list_dividends(call(state, "list_dividends", now_ms=later, ticker="KO", limit=1))["results"][0]
    assert more["ex_dividend_date"] > rows[0]["ex_dividend_date"]
