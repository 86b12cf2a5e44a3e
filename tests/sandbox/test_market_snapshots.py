"""Snapshots and options: consistent with the bars and the tape, greeks from Black-Scholes."""

import datetime as dt
import json
import math

import numpy as np
import pytest

from polygon.sandbox import options
from polygon.sandbox.endpoints import market_aggs as ma
from polygon.sandbox.endpoints import market_snapshots as ms
from polygon.sandbox.endpoints import market_ticks as mt
from polygon.sandbox.wire import WireError
from tests.sandbox.market_calls import NOW_MS, call, follow, make_state

CONTRACT = "O:SPY240628C00500000"


@pytest.fixture(scope="module")
def state():
    return make_state()


def test_stock_snapshot_agrees_with_bars_and_tape(state):
    snap = ms.snapshot_ticker(call(state, "get_snapshot_ticker", stocksTicker="AAPL"))["ticker"]
    minutes = json.loads(ma.get_aggs(call(state, "get_aggs", stocksTicker="AAPL", multiplier=1, timespan="minute",
                                          limit=50000, **{"from": "2024-06-04", "to": "2024-06-04"})))["results"]
    assert snap["min"]["t"] == minutes[-1]["t"] and snap["day"]["v"] == sum(m["v"] for m in minutes)
    assert snap["day"]["o"] == minutes[0]["o"] and snap["day"]["h"] == max(m["h"] for m in minutes)
    last = mt.last_trade(call(state, "get_last_trade", stocksTicker="AAPL"))["results"]
    assert snap["lastTrade"]["t"] == last["t"] and snap["lastTrade"]["p"] == last["p"] == minutes[-1]["c"]
    assert snap["lastQuote"]["p"] <= snap["lastTrade"]["p"] <= snap["lastQuote"]["P"]
    prev = ma.previous_close(call(state, "get_previous_close", stocksTicker="AAPL"))["results"][0]
    assert snap["prevDay"]["c"] == prev["c"]
    assert snap["todaysChange"] == pytest.approx(last["p"] - prev["c"])


def test_all_and_direction_snapshots(state):
    every = ms.snapshot_all(call(state, "get_snapshot_all"))
    assert every["count"] == len(state.model.universe.securities) - sum(
        1 for s in state.model.universe.securities if s.delisted)
    some = ms.snapshot_all(call(state, "get_snapshot_all", tickers="AAPL,MSFT"))
    assert [t["ticker"] for t in some["tickers"]] == ["AAPL", "MSFT"]
    gainers = ms.snapshot_direction(call(state, "get_snapshot_direction", direction="gainers"))["tickers"]
    losers = ms.snapshot_direction(call(state, "get_snapshot_direction", direction="losers"))["tickers"]
    assert len(gainers) == 20 and gainers[0]["todaysChangePerc"] >= gainers[-1]["todaysChangePerc"]
    assert losers[0]["todaysChangePerc"] <= losers[-1]["todaysChangePerc"] < gainers[-1]["todaysChangePerc"]
    fx = ms.snapshot_forex_direction(call(state, "x", direction="losers"))["tickers"]
    assert fx and all(t["ticker"].startswith("C:") for t in fx)
    with pytest.raises(WireError):
        ms.snapshot_direction(call(state, "x", direction="sideways"))


def test_universal_snapshot_every_market_and_unknown(state):
    body = ms.universal_snapshot(call(state, "list_universal_snapshots",
                                      **{"ticker.any_of": "AAPL,X:BTCUSD,C:EURUSD,I:SPX,%s,NOPE" % CONTRACT}))
    items = {r["ticker"]: r for r in body["results"]}
    assert [items[t].get("type") for t in ("AAPL", "X:BTCUSD", "C:EURUSD", "I:SPX", CONTRACT)] == [
        "stocks", "crypto", "fx", "indices", "options"]
    assert items["NOPE"]["error"] == "NOT_FOUND"
    assert "value" in items["I:SPX"] and "volume" not in items["I:SPX"]["session"]
    assert "last_trade" not in items["C:EURUSD"] and items["C:EURUSD"]["last_quote"]["bid"] < 2
    assert set(items[CONTRACT]["greeks"]) == {"delta", "gamma", "theta", "vega"}
    rows, pages = follow(ms.universal_snapshot, state, "list_universal_snapshots", {"type": "crypto", "limit": 2})
    assert [r["ticker"] for r in rows] == sorted(s.ticker for s in state.model.universe.of_market("crypto"))
    assert pages == 3


def test_occ_tickers_and_listings():
    assert options.parse_occ("O:SPY240628C00500000") == ("SPY", dt.date(2024, 6, 28), "call", 500.0)
    assert options.parse_occ("O:SPY241332C00500000") is None and options.parse_occ("SPY") is None
    assert options.occ_ticker("AAPL", dt.date(2024, 7, 19), "put", 182.5) == "O:AAPL240719P00182500"
    expiries = options.expirations("SPY", dt.date(2024, 6, 4))
    assert expiries[0] == dt.date(2024, 6, 7) and dt.date(2024, 6, 21) in expiries
    assert dt.date(2024, 3, 28) in options.expirations("SPY", dt.date(2024, 3, 1))  # Good Friday: Thursday


def test_option_bars_follow_black_scholes_and_stop_at_expiry(state):
    model = state.model
    sec = model.universe.get(CONTRACT)
    assert sec.market == "options" and sec.delisted == "2024-06-28"
    days = json.loads(ma.get_aggs(call(state, "get_aggs", optionsTicker=CONTRACT, multiplier=1, timespan="day",
                                       now_ms=NOW_MS + 60 * 86_400_000,
                                       **{"from": "2024-01-01", "to": "2024-12-31"})))["results"]
    first = dt.datetime.fromtimestamp(days[0]["t"] / 1000, dt.timezone.utc).date()
    last = dt.datetime.fromtimestamp(days[-1]["t"] / 1000 + 86_400, dt.timezone.utc).date()
    assert first >= dt.date.fromisoformat(sec.list_date) and last <= dt.date(2024, 6, 29)
    minutes = model.day_minutes(CONTRACT, dt.date(2024, 6, 4))
    under = model.day_minutes("SPY", dt.date(2024, 6, 4), adjusted=False)
    i = int(np.searchsorted(under.t, minutes.t[0]))
    years = options.years_to_expiry(dt.date(2024, 6, 28), np.array([minutes.t[0] + 60_000]))
    sigma = options.implied_vol("SPY", np.log(500 / under.c[i:i + 1]), years)
    want = options.bs_price("call", under.c[i:i + 1], 500.0, years, sigma)
    assert minutes.c[0] == pytest.approx(round(float(want[0]), 2), abs=0.006)


def test_chain_filters_pages_and_greeks(state):
    rows, pages = follow(ms.options_chain, state, "list_snapshot_options_chain", {
        "underlyingAsset": "SPY", "expiration_date": "2024-06-21", "contract_type": "put", "strike_price.gte": 480,
        "strike_price.lte": 520, "limit": 3})
    strikes = [r["details"]["strike_price"] for r in rows]
    assert strikes and all(480 <= k <= 520 for k in strikes) and pages == math.ceil(len(rows) / 3)
    assert all(r["details"]["contract_type"] == "put" and -1 <= r["greeks"]["delta"] <= 0 for r in rows)
    spot = rows[0]["underlying_asset"]["price"]
    row = rows[len(rows) // 2]
    g = options.bs_greeks("put", spot, row["details"]["strike_price"], options.years_to_expiry(
        dt.date(2024, 6, 21), np.array([NOW_MS]))[0], row["implied_volatility"])
    assert row["greeks"]["delta"] == pytest.approx(g["delta"], abs=1e-6) and row["greeks"]["vega"] > 0
    one = ms.options_contract(call(state, "get_snapshot_option", underlyingAsset="SPY",
                                   optionContract=row["details"]["ticker"]))["results"]
    assert one["details"] == row["details"] and one["last_trade"]["price"] == row["last_trade"]["price"]
    with pytest.raises(WireError):
        ms.options_contract(call(state, "x", underlyingAsset="SPY", optionContract="O:SPY240621P00123456"))


def test_options_contracts_reference(state):
    from polygon.sandbox.endpoints import market_reference as mr

    rows, pages = follow(mr.list_options_contracts, state, "list_options_contracts", {
        "underlying_ticker": "SPY", "expiration_date": "2024-06-28", "limit": 25})
    assert pages == -(-len(rows) // 25) and {r["underlying_ticker"] for r in rows} == {"SPY"}
    assert CONTRACT in {r["ticker"] for r in rows} and all(r["expiration_date"] == "2024-06-28" for r in rows)
    one = mr.get_options_contract(call(state, "get_options_contract", options_ticker=CONTRACT))["results"]
    assert one == next(r for r in rows if r["ticker"] == CONTRACT)
    expired = mr.list_options_contracts(call(state, "x", underlying_ticker="SPY", expired=True, limit=1000))
    assert all(r["expiration_date"] < "2024-06-04" for r in expired["results"]) and expired["results"]
    with pytest.raises(WireError):
        mr.get_options_contract(call(state, "x", options_ticker="O:SPY240628C00500001"))


def test_summaries_of_every_market(state):
    body = ms.summaries(call(state, "get_summaries", **{"ticker.any_of": "AAPL,%s,I:SPX,NOPE" % CONTRACT}))
    items = {r["ticker"]: r for r in body["results"]}
    last = ms.snapshot_ticker(call(state, "x", stocksTicker="AAPL"))["ticker"]["lastTrade"]
    assert items["AAPL"]["price"] == last["p"]
    assert items[CONTRACT]["options"]["underlying_ticker"] == "SPY" and items["NOPE"]["error"] == "NOT_FOUND"
