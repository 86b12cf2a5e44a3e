"""fetch_trades / fetch_quotes of futures contracts against the sandbox (REST and S3 on 127.0.0.1): a day is the
trading date (the Globex session ending on it), the REST rows come back whole, a finished day is stored, a synced
flat-file day is read first, and a day without a session costs no request."""

import datetime as dt

import numpy as np
import pandas as pd
import pytest

import polygon
from polygon.flatfiles import sync_flatfiles
from polygon.markets.futures import session_days
from polygon.ticks import fetch_quotes, fetch_trades

#: the day whose futures trades and quotes the sandbox's S3 publishes
DAY = dt.date(2025, 12, 3)
#: two products on two venues: the E-mini S&P 500 (CME) and crude oil (NYMEX)
CONTRACTS = ("ESZ5", "CLF6")
PATHS = {"trades": "/futures/v1/trades/{ticker}", "quotes": "/futures/v1/quotes/{ticker}"}
CASES = [(kind, ticker) for kind in ("trades", "quotes") for ticker in CONTRACTS]


@pytest.fixture(scope="module")
def fut_sandbox():
    from polygon.sandbox import Sandbox

    with Sandbox(port=0, flatfiles={"bucket": "ticks-futures"}) as sb:
        sb.flatfiles.publish(DAY, DAY, kinds=("trades", "quotes"), market="futures")
        yield sb


@pytest.fixture
def config(fut_sandbox, tmp_path):
    return fut_sandbox.config(cache_dir=str(tmp_path / "cache"))


def _fetch(kind):
    return fetch_trades if kind == "trades" else fetch_quotes


def _rest_rows(config, kind, ticker, day):
    """The provider's rows of the trading date, asked by ``session_end_date`` (not by the time range fetch uses)."""
    with polygon.PolygonClient(config=config) as client:
        method = getattr(client, "list_futures_%s" % kind)
        return [r.to_dict() for r in method(ticker, session_end_date=day.isoformat(), sort="timestamp.asc",
                                            limit=50000)]


def _ns(series):
    return series.dt.tz_convert("UTC").dt.tz_localize(None).to_numpy("datetime64[ns]").view(np.int64)


def _requests(sandbox):
    return sandbox.stats()["requests"]


@pytest.mark.parametrize("kind, ticker", CASES)
def test_a_trading_date_equals_the_rest_rows_then_is_read_without_requests(fut_sandbox, config, kind, ticker):
    rows = _rest_rows(config, kind, ticker, DAY)
    fut_sandbox.reset_stats()
    frame = _fetch(kind)(ticker, DAY, config=config)
    asked = _requests(fut_sandbox)
    assert asked == {PATHS[kind]: 1}  # the whole day in one page
    assert frame.attrs["source"] == {DAY.isoformat(): "api"}
    assert len(rows) > 100 and len(frame) == len(rows)
    assert list(frame.columns)[0] == "ticker" and (frame["ticker"] == ticker).all()
    assert frame["timestamp"].is_monotonic_increasing and str(frame["timestamp"].dt.tz) == config.timezone
    assert (frame["session_end_date"] == DAY.isoformat()).all()
    assert set(rows[0]) <= set(frame.columns)  # no field of the provider's rows dropped
    for field in rows[0]:
        want = [r[field] for r in rows]
        if str(frame[field].dtype).startswith("datetime64"):
            np.testing.assert_array_equal(_ns(frame[field]), np.array(want, dtype=np.int64), err_msg=field)
        else:
            assert frame[field].tolist() == want, field

    fut_sandbox.reset_stats()
    again = _fetch(kind)(ticker, DAY, config=config, use_cache=True)
    assert fut_sandbox.stats()["requests_total"] == 0, _requests(fut_sandbox)
    assert again.attrs["source"] == {DAY.isoformat(): "cache"}
    pd.testing.assert_frame_equal(again, frame)


@pytest.mark.parametrize("kind", ["trades", "quotes"])
def test_synced_flat_files_are_read_first_and_equal_rest(fut_sandbox, config, kind):
    rest = {ticker: _fetch(kind)(ticker, DAY, config=config, use_cache=False) for ticker in CONTRACTS}
    sync_flatfiles("futures", kind, DAY, DAY, config=config, progress=False)
    fut_sandbox.reset_stats()
    for ticker in CONTRACTS:
        stored = _fetch(kind)(ticker, DAY, config=config)
        assert stored.attrs["source"] == {DAY.isoformat(): "flatfiles"}
        assert len(stored) > 100
        assert list(stored.columns[:len(rest[ticker].columns)]) == list(rest[ticker].columns)
        pd.testing.assert_frame_equal(stored[list(rest[ticker].columns)], rest[ticker])
    assert fut_sandbox.stats()["requests_total"] == 0, _requests(fut_sandbox)


def _holiday():
    """The first weekday of December 2025 .. January 2026 on which no CME Globex session ends."""
    first, last = dt.date(2025, 12, 1), dt.date(2026, 1, 31)
    open_days = {dt.date.fromisoformat(str(d)) for d in session_days(first, last)}
    weekdays = [first + dt.timedelta(days=i) for i in range((last - first).days + 1)]
    return next(d for d in weekdays if d.weekday() < 5 and d not in open_days)


@pytest.mark.parametrize("kind", ["trades", "quotes"])
def test_days_without_a_session_make_no_request(fut_sandbox, config, kind):
    holiday = _holiday()
    saturday = DAY + dt.timedelta(days=5 - DAY.weekday())
    expected = _fetch(kind)("ESZ5", DAY, config=config, use_cache=False).columns
    fut_sandbox.reset_stats()
    for day, end in ((holiday, None), (saturday, saturday + dt.timedelta(days=1))):
        frame = _fetch(kind)("ESZ5", day, end, config=config)
        assert frame.empty and frame.attrs["source"] == {}
        assert list(frame.columns) == list(expected)
    assert fut_sandbox.stats()["requests_total"] == 0, _requests(fut_sandbox)


def test_a_range_over_a_weekend_asks_for_the_trading_dates_only(fut_sandbox, config):
    friday = DAY + dt.timedelta(days=4 - DAY.weekday())
    monday = friday + dt.timedelta(days=3)
    fut_sandbox.reset_stats()
    frame = fetch_trades("CLF6", friday, monday, config=config, use_cache=False)
    assert sorted(frame.attrs["source"]) == [friday.isoformat(), monday.isoformat()]
    assert frame["timestamp"].is_monotonic_increasing
    assert sorted(frame["session_end_date"].unique()) == [friday.isoformat(), monday.isoformat()]
    # the Monday session opened on Sunday evening: its first trades are dated the day before
    sunday = monday - dt.timedelta(days=1)
    assert (frame["timestamp"].dt.tz_convert("America/New_York").dt.date == sunday).any()
    assert _requests(fut_sandbox) == {"/futures/v1/trades/{ticker}": 2}  # one page a day


def test_a_column_a_venue_file_adds_is_kept(fut_sandbox, config):
    from polygon.flatfiles import TickStore

    sync_flatfiles("futures", "trades", DAY, DAY, config=config, progress=False)
    store = TickStore(config.cache_dir)
    raw = store.read("futures_cme", "trades", DAY)
    raw["venue_note"] = ["n%d" % i for i in range(len(raw))]  # a field the REST rows do not have
    writer = store.writer("futures_cme", "trades", DAY)
    writer.append(raw)
    writer.commit()
    frame = fetch_trades("ESZ5", DAY, config=config)
    assert frame.attrs["source"] == {DAY.isoformat(): "flatfiles"}
    assert list(frame.columns)[-1] == "venue_note"
    want = raw[raw["ticker"] == "ESZ5"].sort_values("timestamp", kind="stable")["venue_note"].tolist()
    assert frame["venue_note"].tolist() == want and len(want) > 100
