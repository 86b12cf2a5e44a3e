"""Bars of every market through the aggregates handlers: sessions, listing dates, grouped, open/close."""

import datetime as dt
import json
import zoneinfo

import pytest

from polygon.sandbox.endpoints import market_aggs as ma
from polygon.sandbox.wire import WireError
from tests.sandbox.market_calls import NOW_MS, call, make_state

NY = zoneinfo.ZoneInfo("America/New_York")


@pytest.fixture(scope="module")
def state():
    return make_state()


def bars(state, ticker, timespan, start, end, multiplier=1, now_ms=NOW_MS, **query):
    key = {"X": "cryptoTicker", "C": "fxTicker", "I": "indicesTicker", "O": "optionsTicker"}.get(
        ticker.split(":")[0] if ":" in ticker else "", "stocksTicker")
    body = json.loads(ma.get_aggs(call(state, "get_aggs", now_ms=now_ms, multiplier=multiplier, timespan=timespan,
                                       **{key: ticker, "from": start, "to": end}, **query)))
    assert body["status"] == "OK"
    return body.get("results", [])


def ny(ms):
    return dt.datetime.fromtimestamp(ms / 1000, NY)


def test_crypto_trades_every_minute_of_a_weekend(state):
    minutes = bars(state, "X:BTCUSD", "minute", "2024-06-01", "2024-06-02", limit=50000)
    assert len(minutes) == 2 * 1440
    days = bars(state, "X:BTCUSD", "day", "2024-06-01", "2024-06-02")
    assert [d["t"] for d in days] == [1717200000000, 1717286400000]  # UTC midnights
    closes = [m["c"] for m in minutes]
    assert max(closes) / min(closes) > 1.01  # volatile


def test_forex_week_runs_sunday_17h_to_friday_17h_new_york(state):
    assert bars(state, "C:EURUSD", "minute", "2024-06-01", "2024-06-01") == []  # Saturday
    sunday = bars(state, "C:EURUSD", "minute", "2024-06-02", "2024-06-02", limit=50000)
    assert ny(sunday[0]["t"]).hour == 17 and ny(sunday[0]["t"]).minute == 0
    friday = bars(state, "C:EURUSD", "minute", "2024-05-31", "2024-05-31", limit=50000)
    assert ny(friday[-1]["t"] + 60_000).hour == 17
    spread = [m["h"] - m["l"] for m in friday]
    assert max(spread) < 0.01 and len(str(friday[0]["c"]).split(".")[1]) <= 5


def test_indices_have_values_without_volume(state):
    day = bars(state, "I:SPX", "day", "2024-06-03", "2024-06-03")
    assert len(day) == 1 and set(day[0]) == {"o", "h", "l", "c", "t"} and 1000 < day[0]["c"] < 20000


def test_no_stock_bars_on_holidays_or_before_listing_or_after_delisting(state):
    days = bars(state, "AAPL", "day", "2024-03-27", "2024-04-02")
    assert [ny(d["t"]).date().isoformat() for d in days] == ["2024-03-27", "2024-03-28", "2024-04-01", "2024-04-02"]
    first = bars(state, "AAPL", "day", "1980-01-01", "1980-12-31")
    assert ny(first[0]["t"]).date() == dt.date(1980, 12, 12)
    sec = next(s for s in state.model.universe.securities if s.delisted)
    after = dt.date.fromisoformat(sec.delisted) + dt.timedelta(days=1)
    assert bars(state, sec.ticker, "day", after.isoformat(), (after + dt.timedelta(days=30)).isoformat()) == []
    assert bars(state, sec.ticker, "day", "2000-01-01", sec.delisted, limit=50000)[-1]["t"] <= NOW_MS


def test_nothing_after_the_clock(state):
    minutes = bars(state, "AAPL", "minute", "2024-06-04", "2024-06-04", limit=50000)
    assert minutes and minutes[-1]["t"] + 60_000 <= NOW_MS


def test_second_bars_add_up_to_minutes(state):
    seconds = bars(state, "MSFT", "second", "2024-06-03", "2024-06-03", limit=50000)
    minutes = bars(state, "MSFT", "minute", "2024-06-03", "2024-06-03", limit=50000)
    assert sum(s["v"] for s in seconds) == sum(m["v"] for m in minutes)
    assert max(s["h"] for s in seconds) == max(m["h"] for m in minutes)
    with pytest.raises(WireError) as err:
        bars(state, "MSFT", "second", "2024-01-01", "2024-06-03")
    assert err.value.status == 400


def test_grouped_daily_per_market(state):
    fx = ma.grouped_daily_fx(call(state, "x", date="2024-06-03"))
    assert fx["resultsCount"] == len(state.model.universe.of_market("fx")) and fx["results"][0]["T"].startswith("C:")
    assert ma.grouped_daily_fx(call(state, "x", date="2024-06-01"))["resultsCount"] == 0  # Saturday
    crypto = ma.grouped_daily_crypto(call(state, "x", date="2024-06-01"))
    assert crypto["resultsCount"] == len(state.model.universe.of_market("crypto"))
    stocks = ma.grouped_daily_stocks(call(state, "x", date="2024-03-29"))  # Good Friday
    assert stocks["resultsCount"] == 0
    stocks = ma.grouped_daily_stocks(call(state, "x", date="2024-06-03"))
    aapl = next(r for r in stocks["results"] if r["T"] == "AAPL")
    day = bars(state, "AAPL", "day", "2024-06-03", "2024-06-03")[0]
    assert (aapl["o"], aapl["c"], aapl["v"]) == (day["o"], day["c"], day["v"])


def test_previous_close_and_open_close(state):
    prev = ma.previous_close(call(state, "x", stocksTicker="AAPL"))["results"][0]
    day = bars(state, "AAPL", "day", "2024-06-03", "2024-06-03")[0]
    assert (prev["o"], prev["c"], prev["T"]) == (day["o"], day["c"], "AAPL")
    oc = ma.daily_open_close(call(state, "x", stocksTicker="AAPL", date="2024-06-03"))
    assert (oc["open"], oc["close"], oc["volume"]) == (day["o"], day["c"], day["v"]) and "preMarket" in oc
    idx = ma.daily_open_close(call(state, "x", indicesTicker="I:SPX", date="2024-06-03"))
    assert "volume" not in idx and idx["symbol"] == "I:SPX"
    crypto = ma.open_close_crypto(call(state, "x", date="2024-06-02", **{"from": "BTC", "to": "USD"}))
    assert crypto["isUTC"] and crypto["open"] == crypto["openTrades"][0]["p"]
    with pytest.raises(WireError):
        ma.daily_open_close(call(state, "x", stocksTicker="AAPL", date="2024-03-29"))
