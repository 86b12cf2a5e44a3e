"""Trading calendar of US equities: trading days and session bounds.

The calendar is exchange-calendars' ``XNYS`` (a core dependency): holidays and early closes are known.
Regular hours are 09:30-16:00 America/New_York (earlier closes on the days the calendar knows); extended
hours are 04:00-20:00 (four hours after an early close).

Speed: building the XNYS calendar costs about 300 ms, so its sessions for 1990-2040 are computed once per
machine and persisted as a small table (``xnys-sessions.npz``, about 300 KB) in ``$POLYGON_CALENDAR_DIR``,
else ``<cache dir>/.calendar`` (``$POLYGON_CACHE_DIR`` or the per-user cache directory). The table is keyed
by the installed exchange-calendars (its path and modification time), so an upgrade rebuilds it; a table
that cannot be read or written is simply rebuilt in memory. Years outside 1990-2040 get their own
calendar object on first use. (The machinery is :mod:`polygon.markets.calendar_years`, shared with the CME
calendar of :mod:`polygon.markets.futures_calendar`.)

The weekday fallback (every Monday-Friday, no holidays) is used only for a year exchange-calendars cannot
answer; such a year is logged once and listed by :func:`fallback_years`, and :func:`calendar_source` then
says ``'weekdays'`` for ranges that touch it. Results are cached per year; range queries slice numpy arrays.
"""

import datetime as _dt
import functools
import os
from typing import Any, Dict, List, Optional, Set, Tuple, Union

import numpy as np

from polygon.markets import calendar_years as cy
from polygon.markets.calendar_years import TABLE_YEARS

__all__ = [
    "TABLE_YEARS",
    "as_date",
    "calendar_source",
    "expected_minutes",
    "fallback_years",
    "holidays",
    "is_trading_day",
    "session_bounds",
    "table_path",
    "trading_days",
]

DateLike = Union[_dt.date, _dt.datetime, str, np.datetime64]

_MINUTE_MS = 60_000
_HOUR_MS = 3_600_000
_REGULAR_OPEN = (9, 30)
_REGULAR_CLOSE = (16, 0)
_EXTENDED_BEFORE_MS = 5 * _HOUR_MS + 30 * _MINUTE_MS  # 04:00 is 5h30 before 09:30
_EXTENDED_AFTER_MS = 4 * _HOUR_MS  # 20:00 is 4h after 16:00 (17:00 after a 13:00 close)
_TABLE_NAME = "xnys-sessions.npz"

# "source" is None (the real calendar) or "weekdays" (forced, for tests of the fallback path)
_state: Dict[str, Any] = {"source": None}
_fallback: Set[int] = set()


def calendar_source(start: Optional[DateLike] = None, end: Optional[DateLike] = None) -> str:
    """Return ``'exchange_calendars'``, or ``'weekdays'`` when the range (default: any year used so far)
    touches a year that exchange-calendars could not answer (see :func:`fallback_years`)."""
    first = None if start is None or end is None else as_date(start)
    last = None if first is None else as_date(end)
    return cy.source_of(_year, _fallback, _state["source"] == "weekdays", first, last)


def fallback_years() -> List[int]:
    """Years answered by the weekday fallback because exchange-calendars could not (sorted)."""
    return sorted(_fallback)


def table_path() -> str:
    """Where the persisted session table lives (see the module docstring)."""
    return os.path.join(cy.table_dir(), _TABLE_NAME)


def as_date(value: DateLike) -> _dt.date:
    """A date from a date, datetime, ``numpy.datetime64``, ``pandas.Timestamp`` or ``'YYYY-MM-DD'``."""
    if isinstance(value, _dt.datetime):
        return value.date()
    if isinstance(value, _dt.date):
        return value
    if isinstance(value, np.datetime64):
        return value.astype("datetime64[D]").item()
    if isinstance(value, str):
        return _dt.date.fromisoformat(value.strip()[:10])
    if hasattr(value, "date") and callable(value.date):  # pandas.Timestamp
        return value.date()
    raise TypeError("expected a date, datetime or 'YYYY-MM-DD' string, got %r" % (value,))


class _Year:
    """Cached sessions of one calendar year (numpy arrays, one entry per trading day)."""

    __slots__ = ("days", "open_ms", "close_ms", "holidays")

    def __init__(self, days: np.ndarray, open_ms: np.ndarray, close_ms: np.ndarray, holidays: List[_dt.date]):
        self.days = days  # datetime64[D]
        self.open_ms = open_ms
        self.close_ms = close_ms
        self.holidays = holidays


def _weekday_year(year: int) -> _Year:
    days = cy.weekdays(year)
    offsets = cy.ny_offsets_ms(days)
    return _Year(days, cy.local_ms(days, *_REGULAR_OPEN, offsets), cy.local_ms(days, *_REGULAR_CLOSE, offsets), [])


def _xnys_year(year: int) -> _Year:
    if TABLE_YEARS[0] <= year <= TABLE_YEARS[1]:
        days, open_ms, close_ms = cy.year_of_schedule(cy.persisted_schedule("XNYS", _TABLE_NAME), year)
    else:
        days, open_ms, close_ms = cy.calendar_schedule("XNYS", year, year)
    holiday_days = np.setdiff1d(cy.weekdays(year), days)
    return _Year(days, open_ms, close_ms, holiday_days.tolist())


@functools.lru_cache(maxsize=512)
def _year(year: int) -> _Year:
    if _state["source"] == "weekdays":
        return _weekday_year(year)
    return cy.answer_year(year, _xnys_year, _weekday_year, _fallback, "XNYS", "weekdays (no holidays)")


def _range(start: DateLike, end: DateLike) -> Tuple[np.ndarray, ...]:
    return cy.slice_years(_year, as_date(start), as_date(end), ("days", "open_ms", "close_ms"))


def trading_days(start: DateLike, end: DateLike) -> List[_dt.date]:
    """Return the trading days from ``start`` to ``end`` inclusive.

    :param start: first day (date, datetime or ``'YYYY-MM-DD'``).
    :param end: last day, inclusive.
    :returns: sorted list of :class:`datetime.date`.
    """
    return _range(start, end)[0].tolist()


def session_bounds(start: DateLike, end: DateLike, extended: bool = False) -> Tuple[np.ndarray, np.ndarray]:
    """Return the open and close (UTC epoch ms, int64 arrays) of each trading day in the range.

    :param start: first day, inclusive.
    :param end: last day, inclusive.
    :param extended: ``True`` for 04:00-20:00 (close + 4h on early-close days), else 09:30-16:00.
    :returns: ``(open_ms, close_ms)``, one entry per trading day.
    """
    _days, open_ms, close_ms = _range(start, end)
    if extended:
        return open_ms - _EXTENDED_BEFORE_MS, close_ms + _EXTENDED_AFTER_MS
    return open_ms.copy(), close_ms.copy()


def expected_minutes(start: DateLike, end: DateLike, extended: bool = False) -> np.ndarray:
    """Return the start (UTC epoch ms) of every session minute in the range, ascending.

    :param start: first day, inclusive.
    :param end: last day, inclusive.
    :param extended: include pre- and post-market minutes.
    :returns: int64 numpy array.
    """
    open_ms, close_ms = session_bounds(start, end, extended)
    counts = (close_ms - open_ms) // _MINUTE_MS
    total = int(counts.sum())
    if total == 0:
        return np.empty(0, dtype=np.int64)
    firsts = np.cumsum(counts) - counts
    step = np.arange(total, dtype=np.int64) - np.repeat(firsts, counts)
    return np.repeat(open_ms, counts) + step * _MINUTE_MS


def holidays(start: DateLike, end: DateLike) -> List[_dt.date]:
    """Return the weekdays in the range on which the exchange is closed (empty under the fallback).

    :param start: first day, inclusive.
    :param end: last day, inclusive.
    """
    first, last = as_date(start), as_date(end)
    out: List[_dt.date] = []
    for year in range(first.year, last.year + 1):
        out.extend(d for d in _year(year).holidays if first <= d <= last)
    return out


def is_trading_day(day: DateLike) -> bool:
    """``True`` when the exchange has a session on ``day``."""
    return len(_range(day, day)[0]) == 1
