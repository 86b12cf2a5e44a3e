"""CME Globex sessions: trading dates, opens and closes (early closes included), from exchange-calendars' ``CMES``.

A Globex session belongs to the trading date it ends on (the provider's ``session_end_date``). It opens at 18:00
New York on the evening before, also after a weekend or a holiday, and closes at 17:00 New York (the daily
17:00-18:00 maintenance break follows), or earlier when the exchange says so: ``CMES`` (CME equity futures, a
calendar of exchange-calendars, a core dependency) knows the days with no session (New Year's Day, Good Friday,
Christmas, days of national mourning...) and the early closes (12:00 Chicago, 13:00 New York, on Thanksgiving,
the day after, Christmas Eve, July 4th, Martin Luther King, Presidents', Memorial and Labor days...). ``CMES``
models no maintenance break (its sessions run 17:00 to 17:00 Chicago), so a session's close here is the earlier
of its close and 17:00 New York.

Speed: the ``CMES`` sessions of :data:`~polygon.markets.calendar_years.TABLE_YEARS` are built once (about 60 ms
after importing exchange-calendars) and persisted beside the XNYS table (``cmes-sessions.npz``, see
:mod:`polygon.markets.calendar_years`), keyed like it, so a later process does not even import
exchange-calendars. Other years get their own calendar object on first use. Results are cached per year.

For a year exchange-calendars cannot answer, the rule this package used before is the fallback: every weekday
but New Year's Day and Christmas, closing at 17:00. Such a year is logged once (a warning) and listed by
:func:`fallback_years`; :func:`calendar_source` then says ``'weekdays'`` for ranges that touch it.
"""

import datetime as _dt
import functools
import os
from typing import Any, Dict, FrozenSet, List, NamedTuple, Optional, Set, Tuple

import numpy as np

from polygon.markets import calendar_years as cy
from polygon.markets.sessions import DateLike, as_date

__all__ = [
    "EARLY_CLOSE_NOTE",
    "calendar_source",
    "early_closes",
    "fallback_years",
    "holidays",
    "is_trading_day",
    "session_bounds",
    "table_path",
    "trading_days",
]

#: how the early closes are described to users (empty-range reasons, validator details)
EARLY_CLOSE_NOTE = "a CME holiday early close"
_CALENDAR = "CMES"
_TABLE_NAME = "cmes-sessions.npz"
_HOUR_MS = 3_600_000
_OPEN_BEFORE_MS = 6 * _HOUR_MS  # 18:00 the evening before is six hours before the trading date's midnight
_CLOSE_AFTER_MS = 17 * _HOUR_MS  # 17:00 New York, when the maintenance break starts
_FALLBACK_CLOSED = ((1, 1), (12, 25))  # (month, day) without a session under the fallback rule
_FIELDS = ("days", "open_ms", "close_ms", "regular_ms")

# "source" is None (the CMES calendar) or "weekdays" (forced, for tests of the fallback path)
_state: Dict[str, Any] = {"source": None}
_fallback: Set[int] = set()


class _Year(NamedTuple):
    """Sessions of one calendar year (one entry per trading date) and the weekdays without one."""

    days: np.ndarray  # datetime64[D], the trading dates
    open_ms: np.ndarray  # int64 epoch ms: 18:00 New York the evening before
    close_ms: np.ndarray  # int64 epoch ms: 17:00 New York, or the early close
    regular_ms: np.ndarray  # int64 epoch ms: 17:00 New York
    day_set: FrozenSet[_dt.date]
    closed: List[_dt.date]  # weekdays without a session


def table_path() -> str:
    """Where the persisted ``CMES`` session table lives: beside the XNYS one."""
    return os.path.join(cy.table_dir(), _TABLE_NAME)


def _build_year(year: int, days: np.ndarray, cmes_close: Optional[np.ndarray]) -> _Year:
    """Opens and closes of ``days`` (of ``year``) on the New York wall clock; ``cmes_close`` cuts early closes."""
    midnights = cy.local_ms(days, 0, 0, cy.ny_offsets_ms(days))
    regular_close = midnights + _CLOSE_AFTER_MS
    close = regular_close if cmes_close is None else np.minimum(regular_close, cmes_close)
    closed = np.setdiff1d(cy.weekdays(year), days).tolist()
    return _Year(days, midnights - _OPEN_BEFORE_MS, close, regular_close, frozenset(days.tolist()), closed)


def _fallback_year(year: int) -> _Year:
    days = cy.weekdays(year)
    keep = np.array([(d.month, d.day) not in _FALLBACK_CLOSED for d in days.tolist()], dtype=bool)
    return _build_year(year, days[keep], None)


def _cmes_year(year: int) -> _Year:
    if cy.TABLE_YEARS[0] <= year <= cy.TABLE_YEARS[1]:
        days, _opens, close = cy.year_of_schedule(cy.persisted_schedule(_CALENDAR, _TABLE_NAME), year)
    else:
        days, _opens, close = cy.calendar_schedule(_CALENDAR, year, year)
    return _build_year(year, days, close)


@functools.lru_cache(maxsize=512)
def _year(year: int) -> _Year:
    if _state["source"] == "weekdays":
        return _fallback_year(year)
    return cy.answer_year(year, _cmes_year, _fallback_year, _fallback, _CALENDAR,
                          "weekdays without New Year's Day and Christmas (no early closes)")


def calendar_source(start: Optional[DateLike] = None, end: Optional[DateLike] = None) -> str:
    """Return ``'exchange_calendars'``, or ``'weekdays'`` when the range (default: any year used so far)
    touches a year that exchange-calendars could not answer (see :func:`fallback_years`)."""
    first = None if start is None or end is None else as_date(start)
    last = None if first is None else as_date(end)
    return cy.source_of(_year, _fallback, _state["source"] == "weekdays", first, last)


def fallback_years() -> List[int]:
    """Years answered by the fallback rule because exchange-calendars could not (sorted)."""
    return sorted(_fallback)


def _range(start: DateLike, end: DateLike) -> Tuple[np.ndarray, ...]:
    return cy.slice_years(_year, as_date(start), as_date(end), _FIELDS)


def session_bounds(start: DateLike, end: DateLike) -> Tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Return ``(days, open_ms, close_ms)`` of the sessions ending on ``start`` .. ``end`` (inclusive).

    :param start: first trading date (date, datetime or ``'YYYY-MM-DD'``).
    :param end: last trading date, inclusive.
    :returns: ``datetime64[D]`` trading dates and int64 UTC epoch ms: each open is 18:00 New York the evening
        before, each close 17:00 New York or the exchange's early close.
    """
    days, opens, closes, _regular = _range(start, end)
    return days, opens.copy(), closes.copy()


def trading_days(start: DateLike, end: DateLike) -> List[_dt.date]:
    """The trading dates (days a session ends on) from ``start`` to ``end`` inclusive."""
    return _range(start, end)[0].tolist()


def is_trading_day(day: DateLike) -> bool:
    """``True`` when a Globex session ends on ``day``."""
    day = as_date(day)
    return day in _year(day.year).day_set


def holidays(start: DateLike, end: DateLike) -> List[_dt.date]:
    """The weekdays from ``start`` to ``end`` on which no session ends (CME holidays)."""
    first, last = as_date(start), as_date(end)
    return [d for year in range(first.year, last.year + 1) for d in _year(year).closed if first <= d <= last]


def early_closes(start: DateLike, end: DateLike) -> List[Tuple[_dt.date, int, int]]:
    """The sessions from ``start`` to ``end`` that close before 17:00 New York (CME holiday early closes; none
    under the fallback rule).

    :returns: ``(trading date, early close, 17:00 New York)`` per session (epoch ms): no bars are expected
        between the two instants.
    """
    days, _opens, closes, regular = _range(start, end)
    early = closes < regular
    return list(zip(days[early].tolist(), closes[early].tolist(), regular[early].tolist()))
