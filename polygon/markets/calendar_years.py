"""Session tables of exchange-calendars' calendars, answered per year: the machinery shared by
:mod:`polygon.markets.sessions` (``XNYS``, US equities) and :mod:`polygon.markets.futures_calendar` (``CMES``, CME
Globex).

- :func:`persisted_schedule`: a calendar's sessions for :data:`TABLE_YEARS`, built once per machine and persisted
  as a small table (``<name>.npz``) in :func:`table_dir` (``$POLYGON_CALENDAR_DIR``, else
  ``<cache dir>/.calendar``), keyed by the installed exchange-calendars (its path and modification time) so an
  upgrade rebuilds it; a table that cannot be read or written is simply rebuilt in memory. A process that finds a
  current table never imports exchange-calendars.
- :func:`answer_year`: a year's answer from the calendar, or from the caller's fallback rule when
  exchange-calendars cannot answer that year (logged once per year by the caller's cache, listed in the caller's
  fallback set); a missing exchange-calendars is an install problem (:class:`~polygon.exceptions.PolygonConfigError`),
  never a silent fallback.
- :func:`source_of` and :func:`slice_years`: what a range was answered by, and the per-year arrays of a range.
"""

import datetime as _dt
import importlib.util
import logging
import os
import threading
import warnings
from typing import Any, Callable, Dict, Set, Tuple, TypeVar

import numpy as np

__all__ = ["TABLE_YEARS", "answer_year", "calendar_schedule", "local_ms", "ny_offsets_ms", "persisted_schedule",
           "slice_years", "source_of", "table_dir", "weekdays", "xcals", "year_of_schedule"]

logger = logging.getLogger(__name__)

#: Years of the persisted session tables; other years get their own (slower) calendar object.
TABLE_YEARS = (1990, 2040)
_TABLE_FORMAT = 1
_TZ_NAME = "America/New_York"
_MINUTE_MS = 60_000

Schedule = Tuple[np.ndarray, np.ndarray, np.ndarray]  # (datetime64[D] days, open ms, close ms)
Year = TypeVar("Year")

_lock = threading.Lock()
_tables: Dict[str, Schedule] = {}


def xcals() -> Any:
    """The ``exchange_calendars`` module.

    :raises PolygonConfigError: it cannot be imported (it is a required dependency).
    """
    try:
        import exchange_calendars
    except Exception as exc:  # ImportError, or a broken install
        from polygon.exceptions import PolygonConfigError

        raise PolygonConfigError("exchange-calendars could not be imported (%s): it is a required dependency of "
                                 "polygon-kit; pip install exchange-calendars" % exc) from None
    return exchange_calendars


def calendar_schedule(name: str, first_year: int, last_year: int) -> Schedule:
    """``(days, open_ms, close_ms)`` of exchange-calendars' calendar ``name`` from ``first_year`` to
    ``last_year``."""
    module = xcals()
    with warnings.catch_warnings():
        # exchange-calendars itself trips pandas deprecation warnings; they are not ours to act on
        warnings.simplefilter("ignore")
        sched = module.get_calendar(name, start="%d-01-01" % first_year, end="%d-12-31" % last_year).schedule

    def to_ms(column: str) -> np.ndarray:
        # tz-aware UTC -> naive UTC -> ms; works with pandas 1.5..3 (ns or us units)
        naive = sched[column].dt.tz_convert("UTC").dt.tz_localize(None)
        return np.asarray(naive.values.astype("datetime64[ms]").astype(np.int64))

    # exchange-calendars >= 4 names the columns open/close; 3.x used market_open/market_close
    open_col = "open" if "open" in sched.columns else "market_open"
    close_col = "close" if "close" in sched.columns else "market_close"
    days = np.asarray(sched.index.values).astype("datetime64[D]")
    return days, to_ms(open_col), to_ms(close_col)


def table_dir() -> str:
    """Where the persisted session tables live (see the module docstring)."""
    directory = os.environ.get("POLYGON_CALENDAR_DIR")
    if directory:
        return directory
    from polygon.config import default_cache_dir

    return os.path.join(os.environ.get("POLYGON_CACHE_DIR") or default_cache_dir(), ".calendar")


def _table_key() -> str:
    try:
        spec = importlib.util.find_spec("exchange_calendars")
    except (ImportError, ValueError):  # blocked in sys.modules, or a broken install
        spec = None
    if spec is None or not spec.origin:
        xcals()  # raises the install hint
        raise AssertionError("unreachable")  # pragma: no cover
    stat = os.stat(spec.origin)  # type: ignore[union-attr]
    return "%d|%s|%d|%d-%d" % (_TABLE_FORMAT, spec.origin, stat.st_mtime_ns, TABLE_YEARS[0], TABLE_YEARS[1])


def _load_table(path: str, key: str) -> Any:
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


def _save_table(path: str, key: str, table: Schedule) -> None:
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


def persisted_schedule(name: str, file_name: str) -> Schedule:
    """Calendar ``name``'s sessions of :data:`TABLE_YEARS`: the table ``file_name`` in :func:`table_dir` when
    current, else built (and persisted); kept in memory after the first call."""
    with _lock:
        if name not in _tables:
            key, path = _table_key(), os.path.join(table_dir(), file_name)
            table = _load_table(path, key)
            if table is None:
                table = calendar_schedule(name, *TABLE_YEARS)
                _save_table(path, key, table)
            _tables[name] = table
        return _tables[name]


def year_of_schedule(table: Schedule, year: int) -> Schedule:
    """The part of ``table`` in calendar year ``year``."""
    days = table[0]
    lo = np.searchsorted(days, np.datetime64("%04d-01-01" % year), "left")
    hi = np.searchsorted(days, np.datetime64("%04d-01-01" % (year + 1)), "left")
    return days[lo:hi], table[1][lo:hi], table[2][lo:hi]


def weekdays(year: int) -> np.ndarray:
    """Every Monday-Friday of ``year`` (``datetime64[D]``)."""
    all_days = np.arange(np.datetime64("%04d-01-01" % year), np.datetime64("%04d-01-01" % (year + 1)))
    weekday = (all_days.astype(np.int64) + 3) % 7  # 1970-01-01 was a Thursday (3)
    return all_days[weekday < 5]


def ny_offsets_ms(days: np.ndarray) -> np.ndarray:
    """UTC offset (ms, negative west) of America/New_York at noon of each day."""
    import zoneinfo

    tz = zoneinfo.ZoneInfo(_TZ_NAME)
    out = np.empty(len(days), dtype=np.int64)
    for i, day in enumerate(days.tolist()):
        noon = _dt.datetime(day.year, day.month, day.day, 12, tzinfo=tz)
        out[i] = int(noon.utcoffset().total_seconds() * 1000)
    return out


def local_ms(days: np.ndarray, hour: int, minute: int, offsets: np.ndarray) -> np.ndarray:
    """Epoch ms of ``hour:minute`` on each day at the given UTC offsets (:func:`ny_offsets_ms`)."""
    midnight_utc = days.astype("datetime64[ms]").astype(np.int64)
    return midnight_utc + (hour * 60 + minute) * _MINUTE_MS - offsets


def answer_year(year: int, build: Callable[[int], Year], fallback: Callable[[int], Year], fallback_years: Set[int],
                calendar: str, rule: str) -> Year:
    """``build(year)``; when exchange-calendars cannot answer ``year``, ``fallback(year)`` with a warning and
    ``year`` added to ``fallback_years`` (call it from a per-year cache: the warning then comes once).

    :param calendar: the calendar's name for the warning (``'XNYS'``).
    :param rule: the fallback rule in words, for the warning.
    :raises PolygonConfigError: exchange-calendars is missing (an install problem, never a silent fallback).
    """
    try:
        return build(year)
    except Exception as exc:
        from polygon.exceptions import PolygonConfigError

        if isinstance(exc, PolygonConfigError):
            raise
        logger.warning("exchange-calendars has no %s sessions for %d (%s); using %s for it", calendar, year, exc,
                       rule)
        fallback_years.add(year)
    return fallback(year)


def source_of(year_of: Callable[[int], Any], fallback_years: Set[int], forced: bool, first: Any, last: Any) -> str:
    """``'exchange_calendars'``, or ``'weekdays'`` when forced or when the years of ``first`` .. ``last`` (dates;
    ``None``: any year answered so far) touch one the calendar could not answer."""
    if forced:
        return "weekdays"
    if first is None or last is None:
        return "weekdays" if fallback_years else "exchange_calendars"
    for year in range(first.year, last.year + 1):
        year_of(year)
    return "weekdays" if any(first.year <= y <= last.year for y in fallback_years) else "exchange_calendars"


def slice_years(year_of: Callable[[int], Any], first: _dt.date, last: _dt.date, fields: Tuple[str, ...]
                ) -> Tuple[np.ndarray, ...]:
    """The arrays ``fields`` (``days`` first: ``datetime64[D]``, the others int64) of the per-year answers
    ``year_of(year)`` for the days ``first`` .. ``last``, concatenated."""
    if last < first:
        return (np.empty(0, dtype="datetime64[D]"),) + tuple(np.empty(0, dtype=np.int64) for _ in fields[1:])
    lo, hi = np.datetime64(first, "D"), np.datetime64(last, "D")
    parts = []
    for year in range(first.year, last.year + 1):
        table = year_of(year)
        days = getattr(table, fields[0])
        a, b = np.searchsorted(days, lo, "left"), np.searchsorted(days, hi, "right")
        parts.append(tuple(getattr(table, f)[a:b] for f in fields))
    if len(parts) == 1:
        return parts[0]
    return tuple(np.concatenate([p[i] for p in parts]) for i in range(len(fields)))
