"""The tape: trades and quotes from which the bars aggregate, and their REST handlers."""

import datetime as dt

import numpy as np
import pytest

from polygon.sandbox import tape
from polygon.sandbox.endpoints import market_ticks as mt
from polygon.sandbox.wire import WireError
from tests.sandbox.market_calls import NOW_MS, call, follow, make_state

DAY = dt.date(2024, 6, 3)


@pytest.fixture(scope="module")
def state():
    return make_state()


@pytest.mark.parametrize("ticker, day", [("AAPL", DAY), ("ZAB", DAY), ("X:BTCUSD", dt.date(2024, 6, 2)),
                                         ("C:EURUSD", DAY)])
def test_minute_bars_are_the_aggregation_of_the_trades(state, ticker, day):
    model = state.model
    trades = tape.day_trades(model, ticker, day)
    bars = model.day_minutes(ticker, day, adjusted=False)
    assert len(trades) and len(bars)
    minute = trades.sip_timestamp // 1_000_000 // 60_000 * 60_000
    starts = np.flatnonzero(np.r_[True, np.diff(minute) != 0])
    ends = np.r_[starts[1:], len(minute)] - 1
    assert np.array_equal(minute[starts], bars.t)
    assert np.array_equal(trades.price[starts], bars.o) and np.array_equal(trades.price[ends], bars.c)
    assert np.array_equal(np.maximum.reduceat(trades.price, starts), bars.h)
    assert np.array_equal(np.minimum.reduceat(trades.price, starts), bars.l)
    assert np.array_equal(np.add.reduceat(trades.size, starts), bars.v)
    assert np.array_equal(ends - starts + 1, bars.n)


def test_timestamps_are_nanoseconds_increasing_and_quotes_bracket_trades(state):
    trades = tape.day_trades(state.model, "MSFT", DAY)
    quotes = tape.day_quotes(state.model, "MSFT", DAY)
    assert trades.sip_timestamp.dtype == np.int64 and np.all(np.diff(trades.sip_timestamp) > 0)
    assert np.all(trades.participant_timestamp < trades.sip_timestamp)
    assert np.any(trades.sip_timestamp % 1_000_000 != 0)  # sub-millisecond parts exist
    assert len(quotes) == len(trades) and np.all(quotes.sip_timestamp < trades.sip_timestamp)
    assert np.all(quotes.bid_price <= trades.price) and np.all(trades.price <= quotes.ask_price)
    again = tape.day_trades(state.model.__class__(state.model.universe), "MSFT", DAY)
    assert all(np.array_equal(a, b) for a, b in zip(trades, again))  # deterministic across models


def test_second_bars_aggregate_to_the_minute_bars(state):
    model = state.model
    seconds = tape.second_bars(model, "SPY", DAY, DAY)
    minutes = model.day_minutes("SPY", DAY)
    assert len(seconds) > len(minutes)
    agg = model.aggregates("SPY", 60, "second", int(minutes.t[0]), int(minutes.t[-1]) + 59_999)
    assert np.array_equal(agg.t, minutes.t) and np.array_equal(agg.v, minutes.v)
    assert np.array_equal(agg.o, minutes.o) and np.array_equal(agg.h, minutes.h) and np.array_equal(agg.c, minutes.c)


@pytest.mark.parametrize("order", ["asc", "desc"])
def test_list_trades_pages_cover_a_window_exactly(state, order):
    trades = tape.day_trades(state.model, "AAPL", DAY)
    lo, hi = int(trades.sip_timestamp[100]), int(trades.sip_timestamp[340])
    rows, pages = follow(mt.list_trades, state, "list_trades", {
        "stocksTicker": "AAPL", "timestamp.gte": lo, "timestamp.lte": hi, "order": order, "limit": 50})
    got = [r["sip_timestamp"] for r in rows]
    want = trades.sip_timestamp[100:341].tolist()
    assert got == (want if order == "asc" else want[::-1]) and pages == 5
    assert rows[0]["price"] == float(trades.price[100 if order == "asc" else 340])


def test_list_trades_default_is_newest_first_and_never_after_now(state):
    body = mt.list_trades(call(state, "list_trades", stocksTicker="AAPL", limit=5))
    ts = [r["sip_timestamp"] for r in body["results"]]
    assert len(ts) == 5 and ts == sorted(ts, reverse=True) and ts[0] <= NOW_MS * 1_000_000
    assert ts[0] > (NOW_MS - 60_000) * 1_000_000 and "next_url" in body


def test_quotes_of_each_market_have_the_providers_fields(state):
    stock = mt.list_quotes(call(state, "list_quotes", stocksTicker="AAPL", limit=1))["results"][0]
    assert {"bid_price", "ask_price", "bid_size", "ask_size", "sip_timestamp", "sequence_number", "tape"} <= set(stock)
    fx = mt.list_quotes(call(state, "list_quotes", fxTicker="C:EURUSD", limit=1))["results"][0]
    assert set(fx) == {"ask_exchange", "ask_price", "bid_exchange", "bid_price", "participant_timestamp"}
    assert 0 < fx["ask_price"] - fx["bid_price"] < 0.001  # tight forex spread
    crypto = mt.list_trades(call(state, "list_trades", cryptoTicker="X:BTCUSD", limit=1))["results"][0]
    assert set(crypto) == {"conditions", "exchange", "id", "participant_timestamp", "price", "size"}


def test_last_trade_and_quote_come_from_the_tape(state):
    trade = mt.last_trade(call(state, "get_last_trade", stocksTicker="AAPL"))["results"]
    quote = mt.last_quote(call(state, "get_last_quote", stocksTicker="AAPL"))["results"]
    newest = mt.list_trades(call(state, "list_trades", stocksTicker="AAPL", limit=1))["results"][0]
    assert trade["t"] == newest["sip_timestamp"] and trade["p"] == newest["price"]
    assert quote["p"] <= trade["p"] <= quote["P"] and quote["t"] < trade["t"]


def test_currencies_conversion_inverse_and_cross(state):
    eur = mt.last_forex_quote(call(state, "get_last_forex_quote", **{"from": "EUR", "to": "USD"}))["last"]
    usd = mt.last_forex_quote(call(state, "get_last_forex_quote", **{"from": "USD", "to": "EUR"}))["last"]
    assert eur["bid"] < eur["ask"] and usd["bid"] == pytest.approx(1 / eur["ask"], rel=1e-5)
    conv = mt.conversion(call(state, "get_real_time_currency_conversion", **{"from": "EUR", "to": "USD"},
                              amount=100, precision=2))
    assert conv["converted"] == round(100 * (eur["bid"] + eur["ask"]) / 2, 2) and conv["to"] == "USD"
    cross = mt.conversion(call(state, "x", **{"from": "GBP", "to": "JPY"}))
    assert cross["converted"] > 100
    btc = mt.last_crypto_trade(call(state, "get_last_crypto_trade", **{"from": "BTC", "to": "USD"}))
    assert btc["symbol"] == "BTC-USD" and btc["last"]["price"] > 1000


def test_bad_requests_are_wire_errors(state):
    with pytest.raises(WireError) as err:
        mt.list_trades(call(state, "list_trades", stocksTicker="AAPL", order="sideways"))
    assert err.value.status == 400 and "asc, desc" in err.value.message
    with pytest.raises(WireError) as err:
        mt.list_trades(call(state, "list_trades", stocksTicker="NOPE"))
    assert err.value.status == 404
    with pytest.raises(WireError) as err:
        mt.conversion(call(state, "x", **{"from": "EU1", "to": "USD"}))
    assert err.value.status == 400


def test_older_tick_endpoints_read_the_same_tape(state):
    from polygon.sandbox.endpoints import market_historic as mh

    trades = tape.day_trades(state.model, "AAPL", DAY)
    seen, offset = [], 0
    for _ in range(5):  # pages by the last timestamp, as the v2 API did
        body = mh.v2_trades(call(state, "x", ticker="AAPL", date=DAY.isoformat(), limit=40, timestamp=offset))
        seen.extend(r["t"] for r in body["results"])
        offset = body["results"][-1]["t"]
    assert seen == trades.sip_timestamp[:200].tolist()
    quotes = tape.day_quotes(state.model, "C:EURUSD", DAY)
    fx = mh.historic_forex(call(state, "x", date=DAY.isoformat(), limit=3, **{"from": "EUR", "to": "USD"}))
    assert [t["bp"] for t in fx["ticks"]] == quotes.bid_price[:3].tolist() and fx["pair"] == "EUR/USD"
    btc = mh.historic_crypto(call(state, "x", date=DAY.isoformat(), limit=2, **{"from": "BTC", "to": "USD"}))
    assert [t["p"] for t in btc["ticks"]] == tape.day_trades(state.model, "X:BTCUSD", DAY).price[:2].tolist()
