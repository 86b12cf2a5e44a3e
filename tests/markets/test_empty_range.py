"""empty_range_reason: why a range has no bars, known before any request (issue 21 item 7)."""

import datetime as dt

import pytest

from polygon.markets.dates import get_zone
from polygon.markets.empty_range import empty_range_reason


def ms(text, tz="America/New_York"):
    return int(dt.datetime.fromisoformat(text).replace(tzinfo=get_zone(tz)).timestamp() * 1000)


NOW = ms("2025-12-05T12:00")


@pytest.mark.parametrize("symbol, timeframe, start, end, tz, expected", [
    ("AAPL", "1day", "2030-01-01", "2030-02-01", "America/New_York",
     "no bars yet: the range 2030-01-01 .. 2030-01-31 starts after today (2025-12-05)"),
    ("AAPL", "1week", "2030-01-01", "2030-02-01", "America/New_York",
     "no bars yet: the range 2030-01-01 .. 2030-01-31 starts after today (2025-12-05)"),
    ("AAPL", "1day", "2024-12-25", "2024-12-26", "America/New_York",
     "no bars: AAPL has no trading session from 2024-12-25 to 2024-12-25 (exchange holiday 2024-12-25)"),
    ("AAPL", "1day", "2024-03-29", "2024-04-01", "America/New_York",
     "no bars: AAPL has no trading session from 2024-03-29 to 2024-03-31 (exchange holiday 2024-03-29 and a "
     "weekend)"),
    ("SPY", "5min", "2024-12-28", "2024-12-30", "America/New_York",
     "no bars: SPY has no trading session from 2024-12-28 to 2024-12-29 (a weekend)"),
    ("SPY", "1min", "2024-12-23T21:00", "2024-12-23T23:00", "America/New_York",
     "no bars: SPY has no trading session from 2024-12-23 to 2024-12-23 (outside the exchange's hours, "
     "04:00-20:00 New York)"),
    ("C:EURUSD", "1day", "2024-12-28", "2024-12-29", "UTC",
     "no bars: the forex market is closed from 2024-12-28 to 2024-12-28 (it trades Sunday 17:00 to Friday 17:00 "
     "New York)"),
    ("O:AAPL240119C00190000", "1day", "2024-02-01", "2024-02-03", "America/New_York",
     "no bars: the option O:AAPL240119C00190000 expired on 2024-01-19, before the range 2024-02-01 .. "
     "2024-02-02"),
])
def test_known_empty_ranges_say_why(symbol, timeframe, start, end, tz, expected):
    assert empty_range_reason(symbol, timeframe, ms(start, tz), ms(end, tz), NOW) == expected


@pytest.mark.parametrize("symbol, timeframe, start, end, tz", [
    ("AAPL", "1day", "2024-12-24", "2024-12-26", "America/New_York"),  # Christmas Eve trades (half day)
    ("AAPL", "1day", "2025-12-01", "2030-01-01", "America/New_York"),  # partly in the future: bars until now
    ("X:BTCUSD", "1day", "2024-12-28", "2024-12-29", "UTC"),  # crypto trades every day
    ("AAPL", "1week", "2024-12-28", "2024-12-30", "America/New_York"),  # week bars start before the range
    ("SPY", "1min", "2024-12-23T19:00", "2024-12-23T21:00", "America/New_York"),  # after hours until 20:00
])
def test_ranges_that_may_have_bars_have_no_reason(symbol, timeframe, start, end, tz):
    assert empty_range_reason(symbol, timeframe, ms(start, tz), ms(end, tz), NOW) is None
