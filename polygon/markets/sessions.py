"""Trading calendar of US equities: trading days and session bounds.

The calendar is exchange-calendars' ``XNYS`` (a core dependency): holidays and early closes are known.
Regular hours are 09:30-16:00 America/New_York (earlier closes on the days the calendar knows); extended
hours are 04:00-20:00 (four hours after an early close).

Speed: building the XNYS calendar costs about 300 ms, so its sessions for 1990-2040 are computed once per
machine and persisted as a small table (``xnys-sessions.npz``, about 300 KB) in ``$POLYGON_CALENDAR_DIR``,
else ``<cache dir>/.calendar`` (``$POLYGON_CACHE_DIR`` or the per-user cache directory). The table is keyed
by the installed exchange-calendars (its path and modification time), so an upgrade rebuilds it; a table
that cannot be read or written is simply rebuilt in memory. Years outside 1990-2040 get their own
calendar object on first use.

The weekday fallback (every Monday-Friday, no holidays) is used only for a year exchange-calendars cannot
answer; such a year is logged once and listed by :func:`fallback_years`, and :func:`calendar_source` then
says ``'weekdays'`` for ranges that touch it. Results are cached per year; range queries slice numpy arrays.
"""

import datetime as _dt
import functools
import importlib.util
import logging
import os
import threading
import warnings
from typing import Any, Dict, List, Optional, Set, Tuple, Union

import numpy as np

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

logger = logging.getLogger(__name__)

DateLike = Union[_dt.date, _dt.datetime, str, np.datetime64]

_TZ_NAME = "America/New_York"
_MINUTE_MS = 60_000
_HOUR_MS = 3_600_000
_REGULAR_OPEN = (9, 30)
_REGULAR_CLOSE = (16, 0)
_EXTENDED_BEFORE_MS = 5 * _HOUR_MS + 30 * _MINUTE_MS  # 04:00 is 5h30 before 09:30
_EXTENDED_AFTER_MS = 4 * _HOUR_MS  # 20:00 is 4h after 16:00 (17:00 after a 13:00 close)
#: Years of the persisted session table; other years get their own (slower) calendar object.
TABLE_YEARS = (1990, 2040)
_TABLE_FORMAT = 1
_TABLE_NAME = "xnys-sessions.npz"

_lock = threading.Lock()
# "source" is None (the real calendar) or "weekdays" (forced, for tests of the fallback path)
_state: Dict[str, Any] = {"source": None, "table": None}
_fallback: Set[int] = set()


def _xcals():
    try:
        import exchange_calendars  # noqa: F401
    except Exception as exc:  # ImportError, or a broken install
        from polygon.exceptions import PolygonConfigError

        raise PolygonConfigError("exchange-calendars could not be imported (%s): it is a required dependency of "
                                 "polygon-kit; pip install exchange-calendars" % exc) from None
    return exchange_calendars


def calendar_source(start: Optional[DateLike] = None, end: Optional[DateLike] = None) -> str:
    """Return ``'exchange_calendars'``, or ``'weekdays'`` when the range (default: any year used so far)
    touches a year that exchange-calendars could not answer (see :func:`fallback_years`)."""
    if _state["source"] == "weekdays":
        return "weekdays"
    if start is None or end is None:
        return "weekdays" if _fallback else "exchange_calendars"
    first, last = as_date(start), as_date(end)
    for year in range(first.year, last.year + 1):
        _year(year)
    return "weekdays" if any(first.year <= y <= last.year for y in _fallback) else "exchange_calendars"


def fallback_years() -> List[int]:
    """Years answered by the weekday fallback because exchange-calendars could not (sorted)."""
    return sorted(_fallback)


def table_path() -> str:
    """Where the persisted session table lives (see the module docstring)."""
    directory = os.environ.get("POLYGON_CALENDAR_DIR")
    if not directory:
        from polygon.config import default_cache_dir

        directory = os.path.join(os.environ.get("POLYGON_CACHE_DIR") or default_cache_dir(), ".calendar")
    return os.path.join(directory, _TABLE_NAME)


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


def _weekdays(year: int) -> np.ndarray:
    all_days = np.arange(np.datetime64("%04d-01-01" % year), np.datetime64("%04d-01-01" % (year + 1)))
    weekday = (all_days.astype(np.int64) + 3) % 7  # 1970-01-01 was a Thursday (3)
    return all_days[weekday < 5]


def _weekday_year(year: int) -> _Year:
    days = _weekdays(year)
    offsets = _utc_offsets_ms(days)
    return _Year(days, _local_ms(days, *_REGULAR_OPEN, offsets), _local_ms(days, *_REGULAR_CLOSE, offsets), [])


def _get_calendar(start: str, end: str):
    with warnings.catch_warnings():
        # exchange-calendars itself trips pandas deprecation warnings; they are not ours to act on
        warnings.simplefilter("ignore")
        return _xcals().get_calendar("XNYS", start=start, end=end)


def _schedule_arrays(cal) -> Tuple[np.ndarray, np.ndarray, np.ndarray]:
    sched = cal.schedule

    def to_ms(column: str) -> np.ndarray:
        # tz-aware UTC -> naive UTC -> ms; works with pandas 1.5..3 (ns or us units)
        naive = sched[column].dt.tz_convert("UTC").dt.tz_localize(None)
        return np.asarray(naive.values.astype("datetime64[ms]").astype(np.int64))

    # exchange-calendars >= 4 names the columns open/close; 3.x used market_open/market_close
    open_col = "open" if "open" in sched.columns else "market_open"
    close_col = "close" if "close" in sched.columns else "market_close"
    days = np.asarray(sched.index.values).astype("datetime64[D]")
    return days, to_ms(open_col), to_ms(close_col)


def _table_key() -> str:
    try:
        spec = importlib.util.find_spec("exchange_calendars")
    except (ImportError, ValueError):  # blocked in sys.modules, or a broken install
        spec = None
    if spec is None or not spec.origin:
        _xcals()  # raises the install hint
        raise AssertionError("unreachable")  # pragma: no cover
    stat = os.stat(spec.origin)  # type: ignore[union-attr]
    return "%d|%s|%d|%d-%d" % (_TABLE_FORMAT, spec.origin, stat.st_mtime_ns, TABLE_YEARS[0], TABLE_YEARS[1])


def _load_table(path: str, key: str) -> Optional[Tuple[np.ndarray, np.ndarray, np.ndarray]]:
    try:
        with np.load(path, allow_pickle=False) as data:
            if str(data["key"]) != key:
                return None
            return data["days"].astype("datetime64[D]"), data["open_ms"], data["close_ms"]
    except FileNotFoundError:
        return None
    except Exception as exc:  # unreadable or foreign: rebuild
        logger.debug("session table %s unusable (%r); rebuilding", path, exc)
        return None


def _save_table(path: str, key: str, table: Tuple[np.ndarray, np.ndarray, np.ndarray]) -> None:
    tmp = "%s.%d.%d.tmp" % (path, os.getpid(), threading.get_ident())
    try:
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(tmp, "wb") as handle:
            np.savez(handle, key=np.array(key), days=table[0].astype(np.int64), open_ms=table[1],
                     close_ms=table[2])
        os.replace(tmp, path)
    except OSError as exc:  # a read-only or full disk only costs the next process the build
        logger.debug("session table not persisted to %s: %r", path, exc)
        try:
            os.unlink(tmp)
        except OSError:
            pass


def _table() -> Tuple[np.ndarray, np.ndarray, np.ndarray]:
    """XNYS sessions of :data:`TABLE_YEARS`: persisted table when current, else built (and persisted)."""
    with _lock:
        if _state["table"] is None:
            key, path = _table_key(), table_path()
            table = _load_table(path, key)
            if table is None:
                table = _schedule_arrays(_get_calendar("%d-01-01" % TABLE_YEARS[0], "%d-12-31" % TABLE_YEARS[1]))
                _save_table(path, key, table)
            _state["table"] = table
        return _state["table"]


def _xnys_year(year: int) -> _Year:
    if TABLE_YEARS[0] <= year <= TABLE_YEARS[1]:
        all_days, all_open, all_close = _table()
        lo = np.searchsorted(all_days, np.datetime64("%04d-01-01" % year), "left")
        hi = np.searchsorted(all_days, np.datetime64("%04d-01-01" % (year + 1)), "left")
        days, open_ms, close_ms = all_days[lo:hi], all_open[lo:hi], all_close[lo:hi]
    else:
        days, open_ms, close_ms = _schedule_arrays(_get_calendar("%d-01-01" % year, "%d-12-31" % year))
    holiday_days = np.setdiff1d(_weekdays(year), days)
    return _Year(days, open_ms, close_ms, holiday_days.tolist())


@functools.lru_cache(maxsize=512)
def _year(year: int) -> _Year:
    if _state["source"] == "weekdays":
        return _weekday_year(year)
    try:
        return _xnys_year(year)
    except Exception as exc:
        from polygon.exceptions import PolygonConfigError

        if isinstance(exc, PolygonConfigError):
            raise  # a missing dependency is an install problem, never a silent fallback
        logger.warning("exchange-calendars has no XNYS sessions for %d (%s); using weekdays (no holidays) for it",
                       year, exc)
        _fallback.add(year)
    return _weekday_year(year)


def _range(start: DateLike, end: DateLike) -> Tuple[np.ndarray, np.ndarray, np.ndarray]:
    first, last = as_date(start), as_date(end)
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
    first, last = as_date(start), as_date(end)
    out: List[_dt.date] = []
    for year in range(first.year, last.year + 1):
        out.extend(d for d in _year(year).holidays if first <= d <= last)
    return out


def is_trading_day(day: DateLike) -> bool:
    """``True`` when the exchange has a session on ``day``."""
    return len(_range(day, day)[0]) == 1
