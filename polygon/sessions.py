"""Trading calendar of US equities: trading days and session bounds.

The calendar is exchange-calendars' ``XNYS`` when that package is importable; otherwise every
Monday-Friday is a trading day with no holidays and no early closes (:func:`calendar_source` says
which is in use). Regular hours are 09:30-16:00 America/New_York (earlier closes on the days the
calendar knows); extended hours are 04:00-20:00 (four hours after an early close).

Results are computed once per calendar year and cached; range queries slice the cached numpy
arrays, so any span of years is cheap.
"""

import datetime as _dt
import functools
import logging
import threading
import warnings
from typing import List, Tuple, Union

import numpy as np

__all__ = [
    "calendar_source",
    "expected_minutes",
    "holidays",
    "is_trading_day",
    "session_bounds",
    "trading_days",
]

logger = logging.getLogger(__name__)

DateLike = Union[_dt.date, _dt.datetime, str, np.datetime64]

_TZ_NAME = "America/New_York"
_MINUTE_MS = 60_000
_HOUR_MS = 3_600_000
_REGULAR_OPEN = (9, 30)
_REGULAR_CLOSE = (16, 0)
_EXTENDED_BEFORE_MS = 5 * _HOUR_MS + 30 * _MINUTE_MS  # 04:00 is 5h30 before 09:30
_EXTENDED_AFTER_MS = 4 * _HOUR_MS  # 20:00 is 4h after 16:00 (17:00 after a 13:00 close)
# One exchange-calendars object covers these years; other years get their own (slower) object.
_BULK_YEARS = (1990, 2040)

_lock = threading.Lock()
_state = {"source": None, "bulk": None}


def _xcals():
    try:
        import exchange_calendars  # noqa: F401
    except Exception:  # ImportError, or a broken install
        return None
    return exchange_calendars


def calendar_source() -> str:
    """Return ``'exchange_calendars'`` when the XNYS calendar is used, else ``'weekdays'``."""
    if _state["source"] is None:
        _state["source"] = "exchange_calendars" if _xcals() is not None else "weekdays"
    return _state["source"]


def _to_date(value: DateLike) -> _dt.date:
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


def _utc_offsets_ms(days: np.ndarray) -> np.ndarray:
    """UTC offset (ms, negative west) of America/New_York at noon of each day."""
    import zoneinfo

    tz = zoneinfo.ZoneInfo(_TZ_NAME)
    out = np.empty(len(days), dtype=np.int64)
    for i, day in enumerate(days.tolist()):
        noon = _dt.datetime(day.year, day.month, day.day, 12, tzinfo=tz)
        out[i] = int(noon.utcoffset().total_seconds() * 1000)
    return out


def _local_ms(days: np.ndarray, hour: int, minute: int, offsets: np.ndarray) -> np.ndarray:
    midnight_utc = days.astype("datetime64[ms]").astype(np.int64)
    return midnight_utc + (hour * 60 + minute) * _MINUTE_MS - offsets


class _Year:
    """Cached sessions of one calendar year (numpy arrays, one entry per trading day)."""

    __slots__ = ("days", "open_ms", "close_ms", "holidays")

    def __init__(self, days: np.ndarray, open_ms: np.ndarray, close_ms: np.ndarray, holidays: List[_dt.date]):
        self.days = days  # datetime64[D]
        self.open_ms = open_ms
        self.close_ms = close_ms
        self.holidays = holidays


def _weekday_year(year: int) -> _Year:
    all_days = np.arange(np.datetime64("%04d-01-01" % year), np.datetime64("%04d-01-01" % (year + 1)))
    weekday = (all_days.astype(np.int64) + 3) % 7  # 1970-01-01 was a Thursday (3)
    days = all_days[weekday < 5]
    offsets = _utc_offsets_ms(days)
    return _Year(days, _local_ms(days, *_REGULAR_OPEN, offsets), _local_ms(days, *_REGULAR_CLOSE, offsets), [])


def _bulk_calendar():
    with _lock:
        if _state["bulk"] is None:
            _state["bulk"] = _get_calendar("%d-01-01" % _BULK_YEARS[0], "%d-12-31" % _BULK_YEARS[1])
        return _state["bulk"]


def _get_calendar(start: str, end: str):
    with warnings.catch_warnings():
        # exchange-calendars itself trips pandas deprecation warnings; they are not ours to act on
        warnings.simplefilter("ignore")
        return _xcals().get_calendar("XNYS", start=start, end=end)


def _xnys_year(year: int) -> _Year:
    if _BULK_YEARS[0] <= year <= _BULK_YEARS[1]:
        cal = _bulk_calendar()
    else:
        cal = _get_calendar("%d-01-01" % year, "%d-12-31" % year)
    schedule = cal.schedule
    index = schedule.index
    mask = (index >= "%04d-01-01" % year) & (index < "%04d-01-01" % (year + 1))
    sched = schedule[mask]
    days = np.asarray(sched.index.values).astype("datetime64[D]")

    def to_ms(column) -> np.ndarray:
        values = sched[column]
        # tz-aware UTC -> naive UTC ns -> ms; works with pandas 1.5..3 (ns or us units)
        naive = values.dt.tz_convert("UTC").dt.tz_localize(None)
        return np.asarray(naive.values.astype("datetime64[ms]").astype(np.int64))

    # exchange-calendars >= 4 names the columns open/close; 3.x used market_open/market_close
    open_col = "open" if "open" in sched.columns else "market_open"
    close_col = "close" if "close" in sched.columns else "market_close"
    open_ms, close_ms = to_ms(open_col), to_ms(close_col)
    weekdays = _weekday_year(year).days
    holiday_days = np.setdiff1d(weekdays, days)
    return _Year(days, open_ms, close_ms, [d for d in holiday_days.tolist()])


@functools.lru_cache(maxsize=512)
def _year(year: int) -> _Year:
    if calendar_source() == "exchange_calendars":
        try:
            return _xnys_year(year)
        except Exception as exc:  # out of the calendar's range, or a broken install
            logger.warning("exchange-calendars has no XNYS sessions for %d (%s); using weekdays", year, exc)
    return _weekday_year(year)


def _range(start: DateLike, end: DateLike) -> Tuple[np.ndarray, np.ndarray, np.ndarray]:
    first, last = _to_date(start), _to_date(end)
    if last < first:
        empty = np.empty(0, dtype=np.int64)
        return np.empty(0, dtype="datetime64[D]"), empty, empty
    lo, hi = np.datetime64(first, "D"), np.datetime64(last, "D")
    parts = []
    for year in range(first.year, last.year + 1):
        table = _year(year)
        a, b = np.searchsorted(table.days, lo, "left"), np.searchsorted(table.days, hi, "right")
        parts.append((table.days[a:b], table.open_ms[a:b], table.close_ms[a:b]))
    if len(parts) == 1:
        return parts[0]
    return tuple(np.concatenate([p[i] for p in parts]) for i in range(3))  # type: ignore[return-value]


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
    first, last = _to_date(start), _to_date(end)
    out: List[_dt.date] = []
    for year in range(first.year, last.year + 1):
        out.extend(d for d in _year(year).holidays if first <= d <= last)
    return out


def is_trading_day(day: DateLike) -> bool:
    """``True`` when the exchange has a session on ``day``."""
    return len(_range(day, day)[0]) == 1
