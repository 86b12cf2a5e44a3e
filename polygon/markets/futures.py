"""Futures: the exchanges' contract tickers and the CME Globex sessions (pure functions but the calendar).

A futures ticker is the exchange's own: a product code, a month code and the year's last digit, ``ESZ5`` (the
E-mini S&P 500 of December 2025); ``ESZ25`` names the same contract. Month codes: F G H J K M N Q U V X Z for
January to December.

A Globex session belongs to the trading date it ends on (the provider's ``session_end_date``): it opens at 18:00
New York on the evening before and closes at 17:00, so the week trades from Sunday 18:00 to Friday 17:00, with a
daily maintenance break from 17:00 to 18:00 New York. Which dates have a session and which sessions close early
(12:00 Chicago on Thanksgiving, Christmas Eve, July 4th...) is exchange-calendars' ``CMES`` calendar
(:mod:`polygon.markets.futures_calendar`): no session ends on a CME holiday (New Year's Day, Good Friday,
Christmas...), and the minutes after an early close are not expected. A session (daily) bar starts at its open,
18:00 the evening before its trading date.
"""

import datetime as _dt
from typing import Any, Optional, Tuple

import numpy as np

from polygon.markets import futures_calendar
from polygon.markets.symbols import FUTURES_PATTERN

__all__ = ["BREAK_HOURS", "MONTH_CODES", "SESSION_SHIFT_MS", "after_early_close", "in_maintenance_break",
           "is_futures_symbol", "parse_futures_ticker", "resolution", "session_bounds", "session_days"]

MONTH_CODES = "FGHJKMNQUVXZ"
#: the daily maintenance break, New York wall clock hours [start, end)
BREAK_HOURS = (17, 18)
#: a session opens this long before the New York midnight that starts its trading date
SESSION_SHIFT_MS = (24 - BREAK_HOURS[1]) * 3_600_000
#: our timespans -> the provider's futures resolution units
_UNITS = {"second": "sec", "minute": "min", "hour": "hour", "day": "session", "week": "week", "month": "month",
          "quarter": "quarter", "year": "year"}


def is_futures_symbol(symbol: Any) -> bool:
    """``True`` for a futures contract ticker (``ESZ5``, ``CLF26``): letters, a month code, year digits."""
    return isinstance(symbol, str) and FUTURES_PATTERN.match(symbol) is not None


def parse_futures_ticker(symbol: str) -> Tuple[str, int, str]:
    """``(product_code, month 1-12, year digits)`` of a futures ticker.

    :raises ValueError: when ``symbol`` is not one.
    """
    if not is_futures_symbol(symbol):
        raise ValueError("%r is not a futures ticker (product code, month code, year digit: ESZ5)" % (symbol,))
    body = symbol.rstrip("0123456789")
    return body[:-1], MONTH_CODES.index(body[-1]) + 1, symbol[len(body):]


def session_days(first: _dt.date, last: _dt.date) -> np.ndarray:
    """Trading dates (``datetime64[D]``) from ``first`` to ``last``: the dates a CME Globex session ends on."""
    return futures_calendar.session_bounds(first, last)[0]


def session_bounds(first: _dt.date, last: _dt.date) -> Tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``(days, opens, closes)`` of the sessions ending on ``first`` .. ``last`` (epoch ms): each opens at 18:00
    New York the evening before and closes at 17:00, or at the exchange's early close."""
    return futures_calendar.session_bounds(first, last)


def in_maintenance_break(t_ms: np.ndarray, tz: Any) -> np.ndarray:
    """Mask of the instants (epoch ms) inside the daily 17:00-18:00 New York break.

    :param tz: the New York zone (``zoneinfo``).
    """
    import pandas as pd

    hours = pd.to_datetime(np.asarray(t_ms, dtype=np.int64), unit="ms", utc=True).tz_convert(tz).hour
    return np.asarray((hours >= BREAK_HOURS[0]) & (hours < BREAK_HOURS[1]))


def after_early_close(t_ms: np.ndarray, tz: Any) -> np.ndarray:
    """Mask of the instants (epoch ms) between a session's early close and 17:00 New York, when a CME holiday
    ends the session early (:func:`polygon.markets.futures_calendar.early_closes`).

    :param tz: the New York zone (``zoneinfo``).
    """
    t = np.asarray(t_ms, dtype=np.int64)
    out = np.zeros(len(t), dtype=bool)
    if not len(t):
        return out
    first = _dt.datetime.fromtimestamp(int(t.min()) / 1000, tz).date() - _dt.timedelta(days=1)
    last = _dt.datetime.fromtimestamp(int(t.max()) / 1000, tz).date() + _dt.timedelta(days=1)
    for _day, close, regular in futures_calendar.early_closes(first, last):
        out |= (t >= close) & (t < regular)
    return out


def resolution(multiplier: int, timespan: str) -> Optional[str]:
    """The provider's futures ``resolution`` for ``multiplier`` x ``timespan`` (``1min``, ``1session``...)."""
    unit = _UNITS.get(timespan)
    return None if unit is None else "%d%s" % (multiplier, unit)
