"""Date, datetime and millisecond coercion for request parameters.

Pure functions, no I/O. Naive datetimes are read in the *configured* timezone
(``PolygonConfig.timezone``), never the machine's local time. Accepted inputs:

- :class:`datetime.date` and ``'YYYY-MM-DD'`` strings: a whole calendar day;
- :class:`datetime.datetime` (also ``pandas.Timestamp``), ISO-8601 datetime strings and
  ``numpy.datetime64``: an instant (naive = configured timezone);
- ``'YYYYMMDD'`` strings and 8-digit integers (``20230103``): a whole calendar day, like ``'2023-01-03'``;
- any other ``int`` (also numpy integers) and all-digit string: epoch milliseconds.

The rule that tells epoch milliseconds from compact dates: **exactly 8 digits is a date**. An 8-digit
millisecond value (10,000,000 to 99,999,999) would name an instant on 1970-01-01 or 1970-01-02, which no
market-data request means, while every epoch-millisecond instant since 1973-03-03 has 12 or more digits. An
8-digit value that is not a real calendar date (``20231399``) is an error, never milliseconds.

Every rejected value is echoed back in the error as the caller gave it (``repr`` of the value, shortened
past 60 characters), with what is allowed.
"""

import datetime as _dt
import functools
import re
from typing import Any, Tuple, Union

from polygon.exceptions import InvalidDateRangeError

__all__ = [
    "DateLike",
    "check_date_range",
    "is_calendar_day",
    "format_agg_bound",
    "format_date",
    "get_zone",
    "to_epoch_ms",
]

DateLike = Union[_dt.date, _dt.datetime, int, str]

_EPOCH = _dt.datetime(1970, 1, 1, tzinfo=_dt.timezone.utc)
_NAIVE_EPOCH = _dt.datetime(1970, 1, 1)
_ONE_MS = _dt.timedelta(milliseconds=1)
_DATE_RE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_DIGITS_RE = re.compile(r"^\d{1,16}$")
_COMPACT_RE = re.compile(r"^\d{8}$")
_COMPACT_MIN, _COMPACT_MAX = 10_000_000, 99_999_999
_MAX_MS = 9_214_646_400_000  # 2262-01-01Z: pandas (ns) ends in April 2262; room for fetch margins
_ALLOWED = (
    "use a date, a datetime (naive = the configured timezone), a 'YYYY-MM-DD' / ISO-8601 string, "
    "a 'YYYYMMDD' string or 8-digit int date (20230103), or epoch milliseconds (int)"
)


@functools.lru_cache(maxsize=32)
def get_zone(name: str) -> _dt.tzinfo:
    """Return the :class:`zoneinfo.ZoneInfo` for an IANA name (cached).

    :raises InvalidDateRangeError: for an unknown zone.
    """
    import zoneinfo

    try:
        return zoneinfo.ZoneInfo(name)
    except Exception as exc:  # ZoneInfoNotFoundError, ValueError
        raise InvalidDateRangeError("unknown timezone %r: %s" % (name, exc)) from None


def _echo(value: Any) -> str:
    """The value as the caller gave it, for error messages (shortened past 60 characters)."""
    if type(value).__module__ == "numpy":
        text = str(value)
    else:
        text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def _compact_date(digits: str, value: Any, name: str) -> _dt.date:
    """``'YYYYMMDD'`` -> date; anything else with 8 digits is an error naming the caller's value."""
    try:
        return _dt.date(int(digits[:4]), int(digits[4:6]), int(digits[6:]))
    except ValueError:
        raise InvalidDateRangeError(
            "invalid %s %s: 8 digits are read as a date YYYYMMDD and this is not a real calendar date; %s"
            % (name, _echo(value), _ALLOWED)) from None


def is_calendar_day(value: Any) -> bool:
    """``True`` when ``value`` names a whole calendar day rather than an instant: a :class:`datetime.date`
    (not a datetime), a ``'YYYY-MM-DD'`` or ``'YYYYMMDD'`` string, or an 8-digit integer."""
    if isinstance(value, bool):
        return False
    if isinstance(value, str):
        text = value.strip()
        return bool(_DATE_RE.match(text) or _COMPACT_RE.match(text))
    if isinstance(value, int) or (type(value).__module__ == "numpy" and hasattr(value, "dtype")
                                  and getattr(value.dtype, "kind", "") in "iu"):
        return _COMPACT_MIN <= int(value) <= _COMPACT_MAX
    return isinstance(value, _dt.date) and not isinstance(value, _dt.datetime)


def _normalise(value: Any, name: str) -> Union[_dt.date, _dt.datetime, int]:
    """Turn any accepted input into a date, a datetime or an int (ms)."""
    if isinstance(value, bool):
        raise InvalidDateRangeError("invalid %s %s: %s" % (name, _echo(value), _ALLOWED))
    if isinstance(value, (_dt.datetime, _dt.date)):
        return value
    if isinstance(value, int):
        ms = value
    elif type(value).__module__ == "numpy":
        import numpy as np

        if isinstance(value, np.integer):
            ms = int(value)
        elif isinstance(value, np.datetime64):
            if np.isnat(value):
                raise InvalidDateRangeError("invalid %s: NaT; %s" % (name, _ALLOWED))
            # numpy datetimes carry no zone: a naive wall-clock time, read in the configured tz
            us = int(value.astype("datetime64[us]").astype("int64"))
            try:
                return _NAIVE_EPOCH + _dt.timedelta(microseconds=us)
            except OverflowError:
                raise InvalidDateRangeError("invalid %s %s: out of range" % (name, _echo(value))) from None
        else:
            raise InvalidDateRangeError("invalid %s %s: %s" % (name, _echo(value), _ALLOWED))
    elif isinstance(value, str):
        text = value.strip()
        if _DATE_RE.match(text):
            try:
                return _dt.date.fromisoformat(text)
            except ValueError:
                raise InvalidDateRangeError(
                    "invalid %s %s: not a real calendar date; %s" % (name, _echo(value), _ALLOWED)) from None
        if _COMPACT_RE.match(text):
            return _compact_date(text, value, name)
        if _DIGITS_RE.match(text):
            ms = int(text)
        else:
            try:
                # 3.9/3.10 fromisoformat does not take a trailing 'Z'
                return _dt.datetime.fromisoformat(text[:-1] + "+00:00" if text.endswith("Z") else text)
            except ValueError:
                raise InvalidDateRangeError("invalid %s %s: %s" % (name, _echo(value), _ALLOWED)) from None
    else:
        raise InvalidDateRangeError("invalid %s %s (%s): %s" % (name, _echo(value), type(value).__name__, _ALLOWED))
    if _COMPACT_MIN <= ms <= _COMPACT_MAX:
        return _compact_date(str(ms), value, name)
    if ms < 0 or ms > _MAX_MS:
        raise InvalidDateRangeError("invalid %s %s: epoch milliseconds must be from 0 to %d (2261-12-31); %s"
                                    % (name, _echo(value), _MAX_MS, _ALLOWED))
    return ms


def _datetime_to_ms(value: _dt.datetime, tz: str) -> int:
    if value.tzinfo is None or value.tzinfo.utcoffset(value) is None:
        value = value.replace(tzinfo=get_zone(tz))
    return (value - _EPOCH) // _ONE_MS


def _date_to_ms(value: _dt.date, tz: str, end: bool) -> int:
    day = value + _dt.timedelta(days=1) if end else value
    start = _dt.datetime(day.year, day.month, day.day, tzinfo=get_zone(tz))
    ms = (start - _EPOCH) // _ONE_MS
    return ms - 1 if end else ms


def to_epoch_ms(value: Any, tz: str, end: bool = False, name: str = "date") -> int:
    """Convert a date-like value to epoch milliseconds.

    :param value: see the module docstring for accepted forms.
    :param tz: IANA timezone used for naive datetimes and for calendar days.
    :param end: for a calendar day, return its last millisecond instead of its first.
    :param name: parameter name used in error messages.
    :returns: epoch milliseconds (UTC).
    :raises InvalidDateRangeError: when the value is not understood.
    """
    norm = _normalise(value, name)
    if isinstance(norm, int):
        return norm
    try:
        ms = _datetime_to_ms(norm, tz) if isinstance(norm, _dt.datetime) else _date_to_ms(norm, tz, end)
    except OverflowError:  # e.g. the day after 9999-12-31
        ms = -1
    if ms < 0 or ms > _MAX_MS:
        raise InvalidDateRangeError("invalid %s %s: dates from 1970-01-01 to 2261-12-31 are supported"
                                    % (name, _echo(value)))
    return ms


def format_agg_bound(value: Any, tz: str, name: str = "date") -> str:
    """Format an aggregates ``from``/``to`` path value: ``'YYYY-MM-DD'`` for days, else epoch ms.

    A whole day is passed as a date so the provider applies its own day boundaries;
    an instant is passed as milliseconds (naive datetimes in ``tz``).
    """
    norm = _normalise(value, name)
    if isinstance(norm, int):
        return str(norm)
    if isinstance(norm, _dt.datetime):
        return str(_datetime_to_ms(norm, tz))
    return norm.isoformat()


def format_date(value: Any, name: str = "date") -> str:
    """Format a calendar-day parameter (grouped daily, open/close) as ``'YYYY-MM-DD'``.

    Datetimes are reduced to their own (wall-clock) date; epoch values are not accepted here.
    """
    norm = _normalise(value, name)
    if isinstance(norm, int):
        raise InvalidDateRangeError("invalid %s %s: expected a calendar day 'YYYY-MM-DD' or 'YYYYMMDD'"
                                    % (name, _echo(value)))
    if isinstance(norm, _dt.datetime):
        norm = norm.date()
    return norm.isoformat()


def check_date_range(start: Any, end: Any, tz: str) -> Tuple[int, int]:
    """Validate that ``start`` is not after ``end``.

    Calendar days cover the whole day, so ``start == end`` for a date is one full day.

    :returns: ``(start_ms, end_ms)`` inclusive bounds in epoch milliseconds.
    :raises InvalidDateRangeError: when a bound is invalid or start is after end.
    """
    start_ms = to_epoch_ms(start, tz, end=False, name="start")
    end_ms = to_epoch_ms(end, tz, end=True, name="end")
    if start_ms > end_ms:
        raise InvalidDateRangeError(
            "invalid date range: start %s is after end %s; pass start <= end" % (_echo(start), _echo(end))
        )
    return start_ms, end_ms
