"""Futures in the sandbox, over real HTTP: CME Globex sessions (18:00 New York the evening before to 17:00, the
daily maintenance break, no weekend), contract months with expiry and roll, bars that are the aggregation of the
trades, a snapshot that agrees with the session bar and the settlement, prices on each product's tick grid; and
the official client (massive.RESTClient, unchanged) calling every futures method."""

import datetime as dt
import itertools
import zoneinfo

import numpy as np
import pytest
import requests

from polygon.core import PolygonClient
from polygon.sandbox.universe import futures_contract

NY = zoneinfo.ZoneInfo("America/New_York")
#: a settled week of the front contracts: ES/NQ December 2025, crude January 2026 (before their roll dates)
WEEK = (dt.date(2025, 12, 1), dt.date(2025, 12, 5))


def _get(sb, path, **query):
    resp = requests.get(sb.base_url + path, params=query, headers={"Authorization": "Bearer " + sb.api_key},
                        timeout=60)
    assert resp.status_code == 200, resp.text[:300]
    return resp.json()


def _ny(ns):
    return dt.datetime.fromtimestamp(ns / 1e9, NY)


@pytest.fixture(scope="module")
def client(sandbox):
    return PolygonClient(config=sandbox.config())


@pytest.mark.parametrize("ticker", ["ESZ5", "CLF6"])
def test_minute_bars_follow_the_globex_session_and_its_maintenance_break(client, ticker):
    bars = list(client.list_futures_aggregates(ticker, resolution="1min", window_start_gte="2025-12-02",
                                               window_start_lt="2025-12-04"))
    starts = [_ny(b.window_start) for b in bars]
    assert starts and all(not (17 <= t.hour < 18) for t in starts)  # nothing in 17:00-18:00 New York
    # each bar's trading date is the date its session ends on: 18:00 starts the next one
    for bar, t in zip(bars, starts):
        expected = (t + dt.timedelta(hours=6)).date()
        assert bar.session_end_date == expected.isoformat()
    sessions = sorted({b.session_end_date for b in bars})
    assert sessions == ["2025-12-02", "2025-12-03", "2025-12-04"]  # the UTC days touch three sessions
    first = [t for b, t in zip(bars, starts) if b.session_end_date == "2025-12-03"]
    assert (first[0].hour, first[0].minute) >= (18, 0) and first[0].date() == dt.date(2025, 12, 2)
    assert (first[-1].hour, first[-1].minute) <= (16, 59) and first[-1].date() == dt.date(2025, 12, 3)


def test_the_week_opens_sunday_evening_and_nothing_trades_saturday(client):
    bars = list(client.list_futures_aggregates("ESZ5", resolution="1hour", window_start_gte="2025-12-05",
                                               window_start_lt="2025-12-09"))
    days = {_ny(b.window_start).strftime("%a") for b in bars}
    assert "Sat" not in days
    sunday = [_ny(b.window_start) for b in bars if _ny(b.window_start).strftime("%a") == "Sun"]
    assert sunday and min(sunday).hour == 18
    assert {b.session_end_date for b in bars if _ny(b.window_start).strftime("%a") == "Sun"} == {"2025-12-08"}


@pytest.mark.parametrize("ticker", ["ESZ5", "CLF6"])
def test_minute_bars_are_the_aggregation_of_the_trades(client, ticker):
    t0 = int(dt.datetime(2025, 12, 3, 10, 0, tzinfo=NY).timestamp()) * 10**9
    t1 = t0 + 10 * 60 * 10**9
    bars = list(client.list_futures_aggregates(ticker, resolution="1min", window_start_gte=t0, window_start_lt=t1))
    trades = list(client.list_futures_trades(ticker, timestamp_gte=t0, timestamp_lt=t1, sort="timestamp.asc"))
    assert len(bars) == 10 and trades
    for bar in bars:
        inside = [t for t in trades if bar.window_start <= t.timestamp < bar.window_start + 60 * 10**9]
        assert bar.open == inside[0].price and bar.close == inside[-1].price
        assert bar.high == max(t.price for t in inside) and bar.low == min(t.price for t in inside)
        assert bar.volume == sum(t.size for t in inside) and bar.transactions == len(inside)
        assert bar.session_end_date == "2025-12-03"
    quotes = list(client.list_futures_quotes(ticker, timestamp_gte=t0, timestamp_lt=t1, sort="timestamp.asc"))
    assert len(quotes) == len(trades)
    for quote, trade in zip(quotes, trades):
        assert quote.bid_price <= trade.price <= quote.ask_price and quote.timestamp < trade.timestamp


@pytest.mark.parametrize("ticker,tick", [("ESZ5", 0.25), ("NQZ5", 0.25), ("ZNH6", 1 / 64), ("GCG6", 0.1)])
def test_prices_sit_on_the_product_tick_grid(client, ticker, tick):
    trades = list(client.list_futures_trades(ticker, session_end_date="2025-12-03", limit=2000))
    prices = np.array([t.price for t in trades])
    assert len(prices) == 2000
    assert np.allclose(np.round(prices / tick) * tick, prices, atol=1e-9)


@pytest.mark.parametrize("ticker", ["ESZ5", "CLF6"])
def test_session_bars_settle_and_the_snapshot_agrees(sandbox, client, ticker):
    sessions = list(client.list_futures_aggregates(ticker, resolution="1session", window_start_gte="2025-11-25",
                                                   window_start_lte="2025-12-05"))
    by_day = {b.session_end_date: b for b in sessions}
    # the window counts session opens: the one ending 11-25 opened on the 24th, before the window
    assert sorted(by_day) == ["2025-11-26", "2025-11-27", "2025-11-28", "2025-12-01", "2025-12-02", "2025-12-03",
                              "2025-12-04", "2025-12-05"]
    for bar in sessions:  # a session bar starts at its open: 18:00 the evening before its trading date
        start = _ny(bar.window_start)
        assert (start.hour, start.minute) == (18, 0) and (start + dt.timedelta(hours=6)).date().isoformat() == \
            bar.session_end_date
        assert bar.low <= bar.settlement_price <= bar.high
    minutes = list(client.list_futures_aggregates(ticker, resolution="1min", window_start_gte="2025-12-02",
                                                  window_start_lte="2025-12-04"))
    day = [m for m in minutes if m.session_end_date == "2025-12-03"]
    bar = by_day["2025-12-03"]
    assert (bar.open, bar.close, bar.volume) == (day[0].open, day[-1].close, sum(m.volume for m in day))
    assert bar.high == max(m.high for m in day) and bar.low == min(m.low for m in day)


def test_live_snapshot_matches_the_session_so_far_and_the_last_trade(sandbox, client):
    snap = [s for s in client.get_futures_snapshot(product_code="ES").results if s.ticker == _front(client, "ES")][0]
    day = snap.last_trade and _ny(snap.last_trade.last_updated)
    assert day is not None
    session_day = (day + dt.timedelta(hours=6)).date()
    sessions = list(client.list_futures_aggregates(snap.ticker, resolution="1session",
                                                   window_start_gte=(session_day - dt.timedelta(days=8)).isoformat()))
    bar = [b for b in sessions if b.session_end_date == session_day.isoformat()][-1]
    assert (snap.session.open, snap.session.high, snap.session.low) == (bar.open, bar.high, bar.low)
    previous = [b for b in sessions if b.session_end_date < session_day.isoformat()][-1]
    assert snap.session.previous_settlement == previous.settlement_price
    last = next(iter(client.list_futures_trades(snap.ticker, limit=1)))
    assert (snap.last_trade.price, snap.last_trade.last_updated) == (last.price, last.timestamp)
    assert snap.last_quote.bid <= snap.last_trade.price <= snap.last_quote.ask


def _front(client, code):
    contracts = list(client.list_futures_contracts(product_code=code, active=True, sort="last_trade_date.asc"))
    return contracts[0].ticker


def test_contracts_expire_on_their_rule_and_volume_rolls_to_the_next_month(client):
    es = {c.ticker: c for c in client.list_futures_contracts(product_code="ES", date="2025-12-05")}
    assert es["ESZ5"].last_trade_date == "2025-12-19" and es["ESZ5"].active  # the third Friday of December
    assert es["ESH6"].last_trade_date == "2026-03-20" and es["ESZ5"].days_to_maturity == 14
    futures = futures_contract("ESZ5")
    assert futures.roll_date == dt.date(2025, 12, 11)

    def volume(ticker, day):
        bars = list(client.list_futures_aggregates(ticker, resolution="1session", window_start_gte=day,
                                                   window_start_lte=day))
        return bars[0].volume

    assert volume("ESZ5", "2025-12-08") > 5 * volume("ESH6", "2025-12-08")  # before the roll: December leads
    assert volume("ESH6", "2025-12-15") > 5 * volume("ESZ5", "2025-12-15")  # after it: March leads
    after_expiry = list(client.list_futures_aggregates("ESZ5", resolution="1session", window_start_gte="2025-12-20",
                                                       window_start_lte="2026-01-10"))
    assert after_expiry == []
    expired = list(client.list_futures_contracts(product_code="ES", date="2026-01-05", active=False))
    assert "ESZ5" in [c.ticker for c in expired]


def test_reference_lists_schedules_and_status(sandbox, client):
    products = {p.product_code: p for p in client.list_futures_products()}
    assert {"ES", "NQ", "CL", "GC", "ZN"} <= set(products) and products["CL"].trading_venue == "XNYM"
    assert [e.mic for e in client.list_futures_exchanges()] == ["XCME", "XCBT", "XNYM", "XCEC"]
    schedule = list(client.list_futures_schedules(product_code="ES", session_end_date="2025-12-08"))
    assert [(s.event, s.timestamp) for s in schedule] == [("open", "2025-12-07T23:00:00Z"),
                                                          ("close", "2025-12-08T22:00:00Z")]
    assert list(client.list_futures_schedules(session_end_date="2025-12-25")) == []  # Christmas
    statuses = list(client.list_futures_market_statuses())
    assert len(statuses) == 5 and {s.market_event for s in statuses} <= {"open", "pause", "closed"}


def test_unknown_contracts_and_bad_resolutions_get_the_provider_errors(sandbox):
    headers = {"Authorization": "Bearer " + sandbox.api_key}
    assert requests.get(sandbox.base_url + "/futures/v1/aggs/ESF6", headers=headers, timeout=30).status_code == 404
    resp = requests.get(sandbox.base_url + "/futures/v1/aggs/ESZ5", params={"resolution": "90min"}, headers=headers,
                        timeout=30)
    assert resp.status_code == 400 and "59min" in resp.json()["error"]


def test_pages_follow_next_url_without_gaps_or_repeats(sandbox, client):
    t0 = int(dt.datetime(2025, 12, 3, 9, 30, tzinfo=NY).timestamp()) * 10**9
    t1 = t0 + 3 * 60 * 10**9
    whole = _get(sandbox, "/futures/v1/trades/NQZ5", **{"timestamp.gte": t0, "timestamp.lt": t1, "limit": 50000})
    paged = list(client.list_futures_trades("NQZ5", timestamp_gte=t0, timestamp_lt=t1))
    body = _get(sandbox, "/futures/v1/trades/NQZ5", **{"timestamp.gte": t0, "timestamp.lt": t1, "limit": 7})
    assert "next_url" in body and len(body["results"]) == 7
    assert [t.timestamp for t in paged] == [r["timestamp"] for r in whole["results"]]
    pages, url, seen = 0, body["next_url"], [r["timestamp"] for r in body["results"]]
    while url and pages < 100:
        nxt = requests.get(url, headers={"Authorization": "Bearer " + sandbox.api_key}, timeout=30).json()
        seen += [r["timestamp"] for r in nxt["results"]]
        url, pages = nxt.get("next_url"), pages + 1
    assert seen == [r["timestamp"] for r in whole["results"]]


#: the official client's futures methods, each called below (for tests/sandbox/test_official_client_matrix.py)
METHODS = ("list_futures_aggregates", "list_futures_contracts", "list_futures_products", "list_futures_schedules",
           "list_futures_exchanges", "list_futures_market_statuses", "get_futures_snapshot", "list_futures_trades",
           "list_futures_quotes")


def test_the_official_client_calls_every_futures_method_unchanged(sandbox):
    massive = pytest.importorskip("massive")
    official = massive.RESTClient(api_key=sandbox.api_key, base=sandbox.base_url, retries=0)
    assert {n for n in dir(official) if "futures" in n} == set(METHODS)
    calls = {
        "list_futures_aggregates": dict(ticker="ESZ5", resolution="1session", window_start_gte="2025-12-01",
                                        window_start_lte="2025-12-05"),
        "list_futures_contracts": dict(product_code="NQ"),
        "list_futures_products": {},
        "list_futures_schedules": dict(product_code="CL", session_end_date="2025-12-08"),
        "list_futures_exchanges": {},
        "list_futures_market_statuses": dict(product_code="GC"),
        "get_futures_snapshot": dict(product_code="ES"),
        "list_futures_trades": dict(ticker="CLF6", session_end_date="2025-12-03", limit=1000),
        "list_futures_quotes": dict(ticker="CLF6", session_end_date="2025-12-03", limit=1000),
    }
    assert tuple(calls) == METHODS
    got = {}
    for name, kwargs in calls.items():
        got[name] = list(itertools.islice(getattr(official, name)(**kwargs), 2500))
        assert got[name], name
    assert [a.session_end_date for a in got["list_futures_aggregates"]] == [  # opened in the window
        "2025-12-02", "2025-12-03", "2025-12-04", "2025-12-05"]
    assert len(got["list_futures_trades"]) == 2500  # followed next_url past the first page of 1000
    assert all(q.bid_price <= q.ask_price for q in got["list_futures_quotes"])
    assert got["get_futures_snapshot"][0].details.product_code == "ES"
    assert got["list_futures_market_statuses"][0].product_code == "GC"


def test_a_parameter_called_name_reaches_the_provider(client):
    # regression: build_request(name, **params) took the products' name filter for the endpoint name (TypeError)
    assert [p.product_code for p in client.list_futures_products(name="Gold")] == ["GC"]
    assert [p.product_code for p in client.list_futures_products(name_any_of="Gold,E-mini S&P 500")] == ["ES", "GC"]
