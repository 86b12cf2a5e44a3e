"""Futures in the market vocabulary (pure): contract tickers, CME Globex sessions with the maintenance break,
trading dates whose sessions open the evening before."""

import datetime as dt
import zoneinfo

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from polygon import markets
from polygon.markets.futures import (
    in_maintenance_break,
    is_futures_symbol,
    parse_futures_ticker,
    resolution,
    session_days,
)
from polygon.markets.futures_calendar import early_closes, is_trading_day
from polygon.markets.symbols import market_of

NY = zoneinfo.ZoneInfo("America/New_York")


def _ms(*args):
    return int(dt.datetime(*args, tzinfo=NY).timestamp() * 1000)


@pytest.mark.parametrize("ticker,parts", [("ESZ5", ("ES", 12, "5")), ("CLF26", ("CL", 1, "26")),
                                          ("ZNH6", ("ZN", 3, "6")), ("6EM5", ("6E", 6, "5"))])
def test_futures_tickers_parse_and_belong_to_the_futures_market(ticker, parts):
    assert is_futures_symbol(ticker) and parse_futures_ticker(ticker) == parts and market_of(ticker) == "futures"


@pytest.mark.parametrize("ticker", ["AAPL", "BRK.B", "X:BTCUSD", "I:SPX", "ESZ", "ESA5", "ES5"])
def test_other_tickers_are_not_futures(ticker):
    assert not is_futures_symbol(ticker)
    assert market_of(ticker) != "futures"


def test_a_session_opens_the_evening_before_its_trading_date_and_skips_weekends_and_christmas():
    # Christmas Eve closes early (tests/markets/test_futures_calendar.py); its neighbours run 18:00 to 17:00
    days = session_days(dt.date(2025, 12, 19), dt.date(2025, 12, 29)).tolist()
    assert days == [dt.date(2025, 12, d) for d in (19, 22, 23, 24, 26, 29)]
    opens, closes = markets.session_bounds("ESZ5", "2025-12-22", "2025-12-23")
    assert opens.tolist() == [_ms(2025, 12, 21, 18), _ms(2025, 12, 22, 18)]  # Sunday evening, Monday evening
    assert closes.tolist() == [_ms(2025, 12, 22, 17), _ms(2025, 12, 23, 17)]
    assert markets.trading_days("CLF6", "2025-12-22", "2025-12-23") == [dt.date(2025, 12, 22), dt.date(2025, 12, 23)]


def test_sessions_keep_their_wall_clock_across_daylight_saving():
    opens, closes = markets.session_bounds("ESZ5", "2025-11-03", "2025-11-03")  # DST ended Sunday 2 Nov
    assert opens.tolist() == [_ms(2025, 11, 2, 18)] and closes.tolist() == [_ms(2025, 11, 3, 17)]


def test_trading_intervals_leave_out_the_break_and_the_weekend():
    lo, hi = _ms(2025, 12, 5, 12), _ms(2025, 12, 8, 20)
    assert markets.trading_intervals("ESZ5", lo, hi, True) == [
        (lo, _ms(2025, 12, 5, 17)), (_ms(2025, 12, 7, 18), _ms(2025, 12, 8, 17)), (_ms(2025, 12, 8, 18), hi)]


@settings(deadline=None)  # the first example may load the calendar
@given(st.integers(min_value=_ms(2024, 1, 1), max_value=_ms(2027, 1, 1)))
def test_an_instant_is_in_the_break_exactly_when_no_full_session_holds_it(ms):
    local = dt.datetime.fromtimestamp(ms / 1000, NY)
    in_break = bool(in_maintenance_break(np.array([ms]), NY)[0])
    assert in_break == (local.hour == 17)
    trading_date = (local + dt.timedelta(hours=6)).date()  # 18:00 starts the next trading date
    # a CME trading date whose session does not close early (futures_calendar: CME holidays and early closes)
    if is_trading_day(trading_date) and trading_date not in [d for d, _c, _r in early_closes(trading_date,
                                                                                             trading_date)]:
        opens, closes = markets.session_bounds("ESZ5", local.date() - dt.timedelta(days=1),
                                               local.date() + dt.timedelta(days=1))
        inside = bool(((opens <= ms) & (ms < closes)).any())
        assert inside != in_break


@pytest.mark.parametrize("mult,span,res", [(1, "minute", "1min"), (5, "minute", "5min"), (1, "hour", "1hour"),
                                           (1, "day", "1session"), (1, "week", "1week"), (1, "second", "1sec")])
def test_timeframes_map_to_the_futures_resolution(mult, span, res):
    assert resolution(mult, span) == res
