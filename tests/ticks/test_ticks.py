"""fetch_trades / fetch_quotes against the sandbox: one day per market, stores preferred over REST."""

import datetime as dt
import os
import sys

import numpy as np
import pandas as pd
import pytest

from polygon.exceptions import InvalidDateRangeError, InvalidParameterError
from polygon.markets.symbols import market_of
from polygon.ticks import day_bounds_ms, fetch_quotes, fetch_trades

DAY = dt.date(2024, 1, 4)


@pytest.fixture(scope="module")
def tick_sandbox():
    from polygon.sandbox import Sandbox

    with Sandbox(port=0, flatfiles={"bucket": "ticks-tests"}) as sb:
        yield sb


@pytest.fixture
def config(tick_sandbox, tmp_path):
    return tick_sandbox.config(cache_dir=str(tmp_path / "cache"))


def _atm_option(sb) -> str:
    from polygon.sandbox import options

    expiry = options.expirations("SPY", DAY)[2]
    price = float(sb.model.day_bar("SPY", DAY, adjusted=False).c[0])
    return min(options.contracts(sb.model.universe, "SPY", expiry), key=lambda c: abs(c.strike - price)).ticker


@pytest.mark.parametrize("kind, symbol", [("trades", "MSFT"), ("quotes", "MSFT"), ("trades", "X:BTCUSD"),
                                          ("quotes", "C:EURUSD"), ("trades", "option"), ("quotes", "option")])
def test_one_day_per_market_equals_the_rest_ticks(tick_sandbox, config, kind, symbol):
    from polygon.core import PolygonClient

    symbol = _atm_option(tick_sandbox) if symbol == "option" else symbol
    frame = (fetch_trades if kind == "trades" else fetch_quotes)(symbol, DAY, config=config)
    assert len(frame) > 100 and frame.attrs["source"] == {DAY.isoformat(): "api"}
    stamps = frame["sip_timestamp"]
    assert str(stamps.dt.tz) == config.timezone and stamps.is_monotonic_increasing
    market = {"fx": "forex"}.get(market_of(symbol), market_of(symbol))
    assert (stamps.dt.tz_convert("UTC" if market in ("crypto", "forex") else "America/New_York").dt.date == DAY).all()
    lo, hi = day_bounds_ms(DAY, market)
    raw = getattr(PolygonClient(config=config), "list_%s" % kind)(symbol, timestamp_gte=lo, timestamp_lt=hi,
                                                                  order="asc", sort="timestamp")
    ns = np.array([r.sip_timestamp for r in raw], dtype=np.int64)
    got = stamps.dt.tz_convert("UTC").dt.tz_localize(None).to_numpy("datetime64[ns]").view(np.int64)
    np.testing.assert_array_equal(got, ns)  # nanoseconds exact, nothing lost between pages or days


def test_a_finished_day_is_stored_then_read_without_requests(tick_sandbox, config):
    first = fetch_trades("MSFT", "2024-01-03", "2024-01-05", config=config)
    assert set(first.attrs["source"].values()) == {"api"} and len(first.attrs["source"]) == 3
    assert first["sip_timestamp"].is_monotonic_increasing
    assert sorted(first["sip_timestamp"].dt.date.unique()) == [dt.date(2024, 1, d) for d in (3, 4, 5)]
    tick_sandbox.reset_stats()
    again = fetch_trades("MSFT", "2024-01-03", "2024-01-05", config=config)
    assert tick_sandbox.stats()["requests_total"] == 0
    assert set(again.attrs["source"].values()) == {"cache"}
    pd.testing.assert_frame_equal(first, again)


def test_flat_file_days_are_read_first_and_equal_rest(tick_sandbox, config):
    from polygon.flatfiles import sync_flatfiles

    rest = fetch_trades("AAPL", DAY, config=config, use_cache=False)
    tick_sandbox.flatfiles.publish(DAY, DAY, kinds=("trades",), symbols=["AAPL", "MSFT"])
    sync_flatfiles("stocks", "trades", DAY, DAY, config=config, progress=False)
    tick_sandbox.reset_stats()
    stored = fetch_trades("AAPL", DAY, config=config)
    assert tick_sandbox.stats()["requests_total"] == 0 and stored.attrs["source"] == {DAY.isoformat(): "flatfiles"}
    pd.testing.assert_frame_equal(stored.drop(columns="ticker"), rest.drop(columns="ticker"), check_like=False)


def test_a_day_in_progress_is_never_stored(tick_sandbox, config):
    today = dt.date.today()
    fetch_trades("MSFT", today, config=config)
    path = os.path.join(config.cache_dir, ".ticks", "stocks", "trades", "by_symbol", "MSFT", today.isoformat()
                        + ".parquet")
    assert not os.path.exists(path)
    assert fetch_trades("MSFT", today, config=config).attrs["source"].get(today.isoformat(), "api") == "api"


def test_bad_requests_say_what_is_allowed(config):
    with pytest.raises(InvalidParameterError, match="crypto market has no quotes"):
        fetch_quotes("X:BTCUSD", DAY, config=config)
    with pytest.raises(InvalidParameterError, match="forex market has no trades"):
        fetch_trades("C:EURUSD", DAY, config=config)
    with pytest.raises(InvalidDateRangeError, match="at most 367 days"):
        fetch_trades("MSFT", "2020-01-01", "2024-01-01", config=config)
    with pytest.raises(InvalidDateRangeError, match="before start"):
        fetch_trades("MSFT", "2024-01-05", "2024-01-01", config=config)


def test_without_pyarrow_ticks_still_come_from_rest_and_nothing_is_stored(tick_sandbox, config, monkeypatch):
    monkeypatch.setitem(sys.modules, "pyarrow", None)
    monkeypatch.setitem(sys.modules, "pyarrow.parquet", None)
    frame = fetch_trades("MSFT", DAY, config=config)
    assert len(frame) > 100 and not os.path.exists(os.path.join(config.cache_dir, ".ticks"))


def test_an_exchange_holiday_and_an_expired_option_make_no_request(tick_sandbox, config):
    """Days without a session for the symbol are skipped before any request: an NYSE holiday (from the
    exchange calendar, not typed in) for a stock, the days after an option's expiry, a Saturday for forex."""
    from polygon.markets import sessions
    from polygon.options import parse_option_ticker

    holiday = sessions.holidays("2024-01-01", "2024-12-31")[1]  # a weekday holiday after New Year's Day
    assert holiday.weekday() < 5
    option = _atm_option(tick_sandbox)
    after_expiry = sessions.trading_days(parse_option_ticker(option).expiry + dt.timedelta(days=1),
                                         parse_option_ticker(option).expiry + dt.timedelta(days=10))[0]
    saturday = DAY + dt.timedelta(days=5 - DAY.weekday())
    tick_sandbox.reset_stats()
    for fetch, symbol, day in ((fetch_trades, "MSFT", holiday), (fetch_quotes, "MSFT", holiday),
                               (fetch_trades, option, after_expiry),
                               (fetch_quotes, "C:EURUSD", saturday)):
        frame = fetch(symbol, day, config=config)
        assert frame.empty and frame.attrs["source"] == {}, (symbol, day)
    assert tick_sandbox.stats()["requests_total"] == 0, tick_sandbox.stats()["requests"]
