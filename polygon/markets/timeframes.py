"""Timeframes: ``'1min'``, ``'5min'``, ``'1hour'``, ``'1day'``... <-> ``(multiplier, timespan)``.

The general form is ``<n><unit>`` where unit is one of ``sec``, ``min``, ``hour``, ``day``,
``week``, ``month``, ``quarter``, ``year`` (common aliases such as ``m``, ``h``, ``d``,
``minute``, ``hours`` are accepted and normalised). ``timespan`` is the provider's word
(``second``, ``minute``, ``hour``, ``day``, ``week``, ``month``, ``quarter``, ``year``).
"""

import datetime as _dt
import functools
import re
from typing import NamedTuple, Optional, Tuple, Union

from polygon.exceptions import InvalidTimeframeError

__all__ = ["COMMON_TIMEFRAMES", "TIMESPANS", "Timeframe", "parse_timeframe", "to_multiplier_timespan"]

#: The provider's timespans, finest first.
TIMESPANS = ("second", "minute", "hour", "day", "week", "month", "quarter", "year")
#: The timeframes every part of the library is tested with.
COMMON_TIMEFRAMES = ("1min", "5min", "15min", "30min", "1hour", "4hour", "1day", "1week", "1month")

_UNIT_ALIASES = {
    "s": "second", "sec": "second", "secs": "second", "second": "second", "seconds": "second",
    "m": "minute", "min": "minute", "mins": "minute", "minute": "minute", "minutes": "minute", "t": "minute",
    "h": "hour", "hr": "hour", "hrs": "hour", "hour": "hour", "hours": "hour",
    "d": "day", "day": "day", "days": "day",
    "w": "week", "wk": "week", "week": "week", "weeks": "week",
    "mo": "month", "mon": "month", "month": "month", "months": "month",
    "q": "quarter", "quarter": "quarter", "quarters": "quarter",
    "y": "year", "yr": "year", "year": "year", "years": "year",
}
_SHORT = {
    "second": "sec", "minute": "min", "hour": "hour", "day": "day",
    "week": "week", "month": "month", "quarter": "quarter", "year": "year",
}
_FIXED_SECONDS = {"second": 1, "minute": 60, "hour": 3600, "day": 86400, "week": 7 * 86400}
_PATTERN = re.compile(r"^\s*(\d{1,6})?\s*([A-Za-z]+)\s*$")
_ALLOWED_TEXT = (
    "use <n><unit> with unit in sec, min, hour, day, week, month, quarter, year "
    "(e.g. %s)" % ", ".join(COMMON_TIMEFRAMES)
)


class Timeframe(NamedTuple):
    """A bar size: ``multiplier`` units of the provider ``timespan``."""

    multiplier: int
    timespan: str

    @property
    def name(self) -> str:
        """Canonical text form, e.g. ``'5min'``, ``'1day'``."""
        return "%d%s" % (self.multiplier, _SHORT[self.timespan])

    def __str__(self) -> str:
        return self.name

    @property
    def is_intraday(self) -> bool:
        """``True`` for second, minute and hour bars."""
        return self.timespan in ("second", "minute", "hour")

    @property
    def seconds(self) -> Optional[int]:
        """Length in seconds for fixed-length units; ``None`` for month, quarter and year."""
        unit = _FIXED_SECONDS.get(self.timespan)
        return None if unit is None else unit * self.multiplier

    def to_timedelta(self) -> Optional[_dt.timedelta]:
        """Fixed length as a :class:`datetime.timedelta`, or ``None`` for calendar units."""
        secs = self.seconds
        return None if secs is None else _dt.timedelta(seconds=secs)

    @property
    def offset(self):  # -> pandas.DateOffset
        """The pandas offset of one bar (calendar-aware for week/month/quarter/year)."""
        import pandas as pd

        n = self.multiplier
        return {
            "second": lambda: pd.offsets.Second(n),
            "minute": lambda: pd.offsets.Minute(n),
            "hour": lambda: pd.offsets.Hour(n),
            "day": lambda: pd.offsets.Day(n),
            "week": lambda: pd.offsets.Week(n, weekday=6),
            "month": lambda: pd.offsets.MonthBegin(n),
            "quarter": lambda: pd.offsets.QuarterBegin(n, startingMonth=1),
            "year": lambda: pd.offsets.YearBegin(n),
        }[self.timespan]()


@functools.lru_cache(maxsize=256)
def _parse_text(text: str) -> Timeframe:
    match = _PATTERN.match(text)
    if not match:
        raise InvalidTimeframeError("invalid timeframe %r: %s" % (text, _ALLOWED_TEXT))
    count, unit = match.groups()
    timespan = _UNIT_ALIASES.get(unit.lower())
    if timespan is None:
        raise InvalidTimeframeError("invalid timeframe %r: unknown unit %r; %s" % (text, unit, _ALLOWED_TEXT))
    multiplier = int(count) if count else 1
    if multiplier < 1:
        raise InvalidTimeframeError("invalid timeframe %r: the multiplier must be >= 1" % (text,))
    return Timeframe(multiplier, timespan)


def parse_timeframe(value: Union[str, Timeframe, Tuple[int, str]]) -> Timeframe:
    """Parse a timeframe given as text, a :class:`Timeframe` or ``(multiplier, timespan)``.

    :param value: e.g. ``'5min'``, ``'1hour'``, ``'1day'``, ``(5, 'minute')``.
    :returns: the normalised :class:`Timeframe`.
    :raises InvalidTimeframeError: when the value is not understood; the message lists valid forms.
    """
    if isinstance(value, Timeframe):
        return value
    if isinstance(value, tuple) and len(value) == 2:
        multiplier, timespan = value
        if not isinstance(multiplier, int) or isinstance(multiplier, bool) or multiplier < 1:
            raise InvalidTimeframeError("invalid multiplier %r: must be an int >= 1" % (multiplier,))
        if timespan not in TIMESPANS:
            raise InvalidTimeframeError(
                "invalid timespan %r: allowed %s" % (timespan, ", ".join(TIMESPANS))
            )
        return Timeframe(multiplier, timespan)
    if not isinstance(value, str):
        raise InvalidTimeframeError("invalid timeframe %r: %s" % (value, _ALLOWED_TEXT))
    return _parse_text(value)


def to_multiplier_timespan(value: Union[str, Timeframe, Tuple[int, str]]) -> Tuple[int, str]:
    """Return ``(multiplier, timespan)`` for the provider's aggregates path."""
    tf = parse_timeframe(value)
    return tf.multiplier, tf.timespan
