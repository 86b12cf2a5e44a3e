"""Sessions of the sandbox's six markets: which days trade, when, and where a day bar starts.

- ``stocks``, ``options``, ``indices``: the New York exchange calendar (:mod:`polygon.markets.sessions`,
  holidays and early closes included); day bars start at midnight New York.
- ``crypto``: every day, 00:00-24:00 UTC; day bars start at midnight UTC (the provider's boundary
  for 24-hour markets).
- ``fx``: from Sunday 17:00 to Friday 17:00 New York time, cut into UTC days (Saturday has no
  session, Sunday's starts at 17:00 New York, Friday's ends there); day bars start at midnight UTC.
- ``futures``: CME Globex: a session runs from 18:00 New York on the evening before its trading date (the
  ``session_end_date``) to 17:00 on it, so the week trades from Sunday 18:00 to Friday 17:00 with the daily
  17:00-18:00 maintenance break; the trading dates and early closes are exchange-calendars' ``CMES``
  (:mod:`polygon.markets.futures_calendar`): no session on a CME holiday, none of the minutes after an early
  close, so no bar, trade, quote or snapshot either. A session bar starts at its open, the evening before its
  trading date (as the provider's futures aggregates).
"""

import datetime as _dt
import functools
from typing import List, Tuple

import numpy as np

from polygon.markets import futures_calendar, sessions
from polygon.markets.futures import BREAK_HOURS, SESSION_SHIFT_MS

__all__ = ["FUTURES_BREAK", "MARKETS", "UTC_MARKETS", "bounds", "day_of", "day_start_ms", "market_days"]

MARKETS = ("stocks", "options", "indices", "crypto", "fx", "futures")
UTC_MARKETS = ("crypto", "fx")
_DAY_MS = 86_400_000
#: the CME Globex daily maintenance break, New York wall clock (start, end) in hours
FUTURES_BREAK = BREAK_HOURS
_FUTURES_SHIFT = SESSION_SHIFT_MS  # 18:00 New York becomes the next day's midnight


@functools.lru_cache(maxsize=65536)
def _ny_midnight(day: _dt.date) -> int:
    import zoneinfo

    local = _dt.datetime(day.year, day.month, day.day, tzinfo=zoneinfo.ZoneInfo("America/New_York"))
    return int(local.timestamp() * 1000)


def _utc_midnight(day: _dt.date) -> int:
    return (day - _dt.date(1970, 1, 1)).days * _DAY_MS


def day_start_ms(market: str, day: _dt.date) -> int:
    """Epoch ms where ``market``'s day ``day`` starts (the ``t`` of its day bar)."""
    if market == "futures":
        return _ny_midnight(day) - _FUTURES_SHIFT  # the session's open, 18:00 the evening before
    return _utc_midnight(day) if market in UTC_MARKETS else _ny_midnight(day)


def day_of(market: str, ms: int) -> _dt.date:
    """The ``market`` day that contains the instant ``ms``."""
    if market in UTC_MARKETS:
        return _dt.date(1970, 1, 1) + _dt.timedelta(days=int(ms) // _DAY_MS)
    if market == "futures":  # 18:00 New York starts the next trading date
        ms = int(ms) + _FUTURES_SHIFT
    import zoneinfo

    return _dt.datetime.fromtimestamp(ms / 1000.0, zoneinfo.ZoneInfo("America/New_York")).date()


def market_days(market: str, first: _dt.date, last: _dt.date) -> List[_dt.date]:
    """Days of ``market`` with a session, from ``first`` to ``last`` inclusive."""
    if first > last:
        return []
    if market == "futures":
        return futures_calendar.trading_days(first, last)
    if market not in UTC_MARKETS:
        return sessions.trading_days(first, last)
    n = (last - first).days + 1
    days = [first + _dt.timedelta(days=i) for i in range(n)]
    if market == "fx":
        days = [d for d in days if d.weekday() != 5]  # no Saturday session
    return days


def _ny_17(day: _dt.date) -> int:
    return _ny_midnight(day) + 17 * 3_600_000


def _pick(known: List[_dt.date], opens: np.ndarray, closes: np.ndarray, days: List[_dt.date]
          ) -> Tuple[np.ndarray, np.ndarray]:
    index = {d: i for i, d in enumerate(known)}
    pick = np.array([index[d] for d in days], dtype=np.int64)
    return opens[pick].astype(np.int64), closes[pick].astype(np.int64)


def bounds(market: str, days: List[_dt.date], extended: bool = False) -> Tuple[np.ndarray, np.ndarray]:
    """Session ``(open_ms, close_ms)`` arrays of ``days`` (which must be days of ``market``)."""
    if not days:
        empty = np.empty(0, dtype=np.int64)
        return empty, empty
    if market == "futures":  # 18:00 New York the evening before to 17:00, or the early close
        known, opens, closes = futures_calendar.session_bounds(min(days), max(days))
        return _pick(known.tolist(), opens, closes, days)
    if market not in UTC_MARKETS:
        opens, closes = sessions.session_bounds(min(days), max(days), extended)
        return _pick(sessions.trading_days(min(days), max(days)), opens, closes, days)
    opens = np.array([_utc_midnight(d) for d in days], dtype=np.int64)
    closes = opens + _DAY_MS
    if market == "fx":
        for i, d in enumerate(days):
            if d.weekday() == 6:  # Sunday: opens at 17:00 New York
                opens[i] = _ny_17(d)
            elif d.weekday() == 4:  # Friday: closes at 17:00 New York
                closes[i] = _ny_17(d)
    return opens, closes
