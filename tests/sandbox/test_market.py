"""Market model options: extended hours, illiquid symbols, replay clock, weekday calendar fallback."""

import datetime as dt

import numpy as np
import pytest
import requests

from polygon.markets import sessions
from polygon.sandbox.market import MarketModel, generate_day, generate_days
from polygon.sandbox.universe import Universe, stable_seed


def get(sb, path, **params):
    return requests.get(sb.base_url + path, headers={"Authorization": "Bearer " + sb.api_key}, params=params,
                        timeout=30)


def test_stable_seed_is_not_pythons_hash():
    assert stable_seed("day", "AAPL", "2023-01-03") == stable_seed("day", "AAPL", "2023-01-03")
    assert stable_seed("day", "AAPL", "2023-01-03") != stable_seed("day", "AAPL", "2023-01-04")


def test_batch_generation_equals_single_days():
    sec = Universe().get("TSLA")
    days = sessions.trading_days("2023-11-20", "2023-11-28")  # includes an early close
    opens, closes = sessions.session_bounds("2023-11-20", "2023-11-28")
    batch = generate_days(sec, days, opens, closes, False)
    for day, o, c, got in zip(days, opens.tolist(), closes.tolist(), batch):
        single = generate_day(sec, day, o, c, False)
        assert all(np.array_equal(a, b) for a, b in zip(single, got))


def test_extended_hours_add_pre_and_post_market_minutes(make_sandbox):
    sb = make_sandbox(extended_hours=True)
    bars = get(sb, "/v2/aggs/ticker/AAPL/range/1/minute/2023-03-01/2023-03-01").json()["results"]
    open_ms, close_ms = sessions.session_bounds("2023-03-01", "2023-03-01")
    assert bars[0]["t"] < open_ms[0] and bars[-1]["t"] >= close_ms[0]
    assert 390 < len(bars) <= 960
    day = get(sb, "/v2/aggs/ticker/AAPL/range/1/day/2023-03-01/2023-03-01").json()["results"][0]
    assert day["v"] == sum(b["v"] for b in bars)


def test_illiquid_symbols_skip_minutes():
    model = MarketModel(Universe(illiquid_fraction=1.0))
    liquid = model.day_minutes("AAPL", dt.date(2023, 3, 1))
    assert len(liquid) == 390  # well-known tickers stay liquid
    synthetic = [t for t in model.universe.tickers if t.startswith("Z")]
    sparse = model.day_minutes(synthetic[0], dt.date(2023, 3, 1))
    assert 0 < len(sparse) < 200
    assert not any(Universe(illiquid_fraction=0.0).is_illiquid(t) for t in synthetic)
    assert 0 < sum(Universe(illiquid_fraction=0.1).is_illiquid(t) for t in synthetic) < len(synthetic) / 4


def test_replay_clock_drives_market_status_and_last_trade(make_sandbox):
    sb = make_sandbox(clock="2023-03-01", speed=60)
    status = get(sb, "/v1/marketstatus/now").json()
    assert status["market"] == "open" and status["serverTime"].startswith("2023-03-01T09:3")
    trade = get(sb, "/v2/last/trade/AAPL").json()["results"]
    open_ms = int(sessions.session_bounds("2023-03-01", "2023-03-01")[0][0])
    # the last complete minute: just after the open of the replayed day, or the day before's close
    assert open_ms - 86_400_000 < trade["t"] // 1_000_000 < open_ms + 10 * 60_000
    prev = get(sb, "/v2/aggs/ticker/AAPL/prev").json()["results"][0]
    assert prev["t"] == bounds_close("2023-02-28")  # the session before the replayed day
    assert sb.stats()["clock"] == "replay 2023-03-01 x60"
    sb.configure(clock="realtime")
    assert sb.stats()["clock"] == "realtime"


def bounds_close(day):
    return int(sessions.session_bounds(day, day)[1][0])


@pytest.fixture
def weekday_calendar():
    saved = sessions._state["source"]
    sessions._state["source"] = "weekdays"
    sessions._year.cache_clear()
    yield
    sessions._state["source"] = saved
    sessions._year.cache_clear()


def test_weekday_fallback_is_announced_and_trades_on_holidays(weekday_calendar, make_sandbox):
    sb = make_sandbox()
    resp = get(sb, "/v2/aggs/ticker/AAPL/range/1/day/2023-07-03/2023-07-05")
    assert resp.headers["X-Sandbox-Calendar"] == "weekdays" and sb.stats()["calendar"] == "weekdays"
    assert len(resp.json()["results"]) == 3  # no holiday without exchange-calendars
    assert sessions.holidays("2023-01-01", "2023-12-31") == []
