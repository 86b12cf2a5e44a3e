"""When each market trades: sessions per market, for coverage, missing ranges and the validators.

========  =========================================================================================
market    sessions
========  =========================================================================================
stocks    the NYSE calendar (:mod:`polygon.markets.sessions`): 09:30-16:00 New York, 04:00-20:00 extended
options   the same exchange sessions (regular hours), and a contract has no bars after its expiry day
indices   the same exchange sessions (regular hours); index values carry no volume
crypto    around the clock, every day
fx        from Sunday 17:00 to Friday 17:00 New York time
futures   CME Globex: 18:00 New York the evening before the trading date to 17:00 (the daily 17:00-18:00
          maintenance break), Sunday evening to Friday; CME holidays and early closes from exchange-calendars'
          CMES (:mod:`polygon.markets.futures_calendar`)
========  =========================================================================================

Daily bars: stocks, options and indices have one bar per trading day starting at New York midnight; for the
24-hour markets (crypto, fx) the provider's daily bar starts at UTC midnight, so their calendar days are UTC
days (:func:`day_zone`). A forex Saturday has no session and is never "missing".

Sessions are returned per day as numpy int64 arrays of UTC epoch milliseconds, like
:func:`polygon.markets.sessions.session_bounds`. Pure functions, no I/O.

This package is the room of the base vocabulary every other room speaks: :mod:`~polygon.markets.symbols`,
:mod:`~polygon.markets.timeframes`, :mod:`~polygon.markets.dates`, :mod:`~polygon.markets.sessions` (the
exchange calendar), :mod:`~polygon.markets.frames` (the bar vocabulary) and :mod:`~polygon.markets.coverage`
(interval arithmetic).
"""

import datetime as _dt
import functools
from typing import Any, List, Optional, Tuple

import numpy as np

from polygon.exceptions import InvalidSymbolError
from polygon.markets import coverage as cov
from polygon.markets import futures, sessions
from polygon.markets.dates import get_zone
from polygon.markets.symbols import market_of
from polygon.options import parse_option_ticker

__all__ = [
    "EXCHANGE_TZ",
    "SESSION_MARKETS",
    "contract_end_ms",
    "day_zone",
    "expected_minutes",
    "has_volume",
    "session_bounds",
    "trading_days",
    "trading_intervals",
]

EXCHANGE_TZ = "America/New_York"
#: Markets that follow the exchange calendar.
SESSION_MARKETS = ("stocks", "options", "indices")
_DAY_MS = 86_400_000
_MINUTE_MS = 60_000
_FX_EDGE = (17, 0)  # New York wall clock of the weekly open (Sunday) and close (Friday)


def day_zone(market: str) -> str:
    """The zone whose midnight starts a daily bar: UTC for crypto and fx, New York otherwise."""
    return "UTC" if market in ("crypto", "fx") else EXCHANGE_TZ


def has_volume(market: str) -> bool:
    """``False`` for indices, whose values carry no volume."""
    return market != "indices"


def _market(symbol: str) -> str:
    """The market of ``symbol``; a symbol that does not validate (a report about any frame) counts as stocks."""
    try:
        return market_of(symbol)
    except InvalidSymbolError:
        return "stocks"


def _day(value: Any) -> _dt.date:
    return sessions.as_date(value)


def contract_end_ms(symbol: str) -> Optional[int]:
    """For an option, the end (UTC ms) of its expiry day in New York; ``None`` for other symbols or a ticker
    that does not parse as an OCC symbol."""
    if _market(symbol) != "options":
        return None
    try:
        expiry = parse_option_ticker(symbol).expiry
    except InvalidSymbolError:
        return None
    return _ny_ms(expiry + _dt.timedelta(days=1), 0, 0)


def _ny_ms(day: _dt.date, hour: int, minute: int) -> int:
    stamp = _dt.datetime(day.year, day.month, day.day, hour, minute, tzinfo=get_zone(EXCHANGE_TZ))
    return int(stamp.timestamp() * 1000)


def _utc_days(first: _dt.date, last: _dt.date) -> np.ndarray:
    if last < first:
        return np.empty(0, dtype="datetime64[D]")
    return np.arange(np.datetime64(first, "D"), np.datetime64(last, "D") + 1)


def _fx_bounds(first: _dt.date, last: _dt.date) -> Tuple[np.ndarray, np.ndarray, np.ndarray]:
    days = _utc_days(first, last)
    weekday = (days.astype(np.int64) + 3) % 7  # Monday = 0
    days = days[weekday != 5]  # no Saturday
    weekday = (days.astype(np.int64) + 3) % 7
    opens = days.astype("datetime64[ms]").astype(np.int64)
    closes = opens + _DAY_MS
    for i in np.flatnonzero(weekday == 6).tolist():  # Sunday: from 17:00 New York
        opens[i] = _ny_ms(days[i].item(), *_FX_EDGE)
    for i in np.flatnonzero(weekday == 4).tolist():  # Friday: until 17:00 New York
        closes[i] = _ny_ms(days[i].item(), *_FX_EDGE)
    return days, opens, closes


def _bounds(symbol: str, first: _dt.date, last: _dt.date, extended: bool) -> Tuple[np.ndarray, np.ndarray,
                                                                                     np.ndarray]:
    market = _market(symbol)
    if market == "crypto":
        days = _utc_days(first, last)
        opens = days.astype("datetime64[ms]").astype(np.int64)
        return days, opens, opens + _DAY_MS
    if market == "fx":
        return _fx_bounds(first, last)
    if market == "futures":  # a session per trading date, opening the evening before
        return futures.session_bounds(first, last)
    days = np.array(sessions.trading_days(first, last), dtype="datetime64[D]")
    opens, closes = sessions.session_bounds(first, last, extended=extended and market == "stocks")
    end = contract_end_ms(symbol)
    if end is not None:
        keep = opens < end
        days, opens, closes = days[keep], opens[keep], closes[keep]
    return days, opens, closes


def session_bounds(symbol: str, start: Any, end: Any, extended: bool = False) -> Tuple[np.ndarray, np.ndarray]:
    """Open and close (UTC epoch ms) of each session of ``symbol``'s market from day ``start`` to ``end``.

    Crypto: one 24-hour session per UTC day; fx: UTC days Sunday (from 17:00 New York) to Friday (until 17:00
    New York); stocks, options and indices: the exchange's sessions (extended hours for stocks only), an
    option's ending with its expiry day; futures: the CME Globex sessions of the trading dates (18:00 New York
    the evening before to 17:00, or to an early close).
    """
    _days, opens, closes = _bounds(symbol, _day(start), _day(end), extended)
    return opens, closes


def trading_days(symbol: str, start: Any, end: Any) -> List[_dt.date]:
    """The days (in :func:`day_zone` of the market) with a session for ``symbol``, inclusive."""
    return _bounds(symbol, _day(start), _day(end), False)[0].tolist()


def expected_minutes(symbol: str, start: Any, end: Any, extended: bool = False) -> np.ndarray:
    """Start (UTC ms) of every session minute of ``symbol`` in the range, ascending."""
    opens, closes = session_bounds(symbol, start, end, extended)
    counts = (closes - opens) // _MINUTE_MS
    total = int(counts.sum())
    if total == 0:
        return np.empty(0, dtype=np.int64)
    firsts = np.cumsum(counts) - counts
    return np.repeat(opens, counts) + (np.arange(total, dtype=np.int64) - np.repeat(firsts, counts)) * _MINUTE_MS


@functools.lru_cache(maxsize=512)
def _intervals(kind: str, intraday: bool, start_ms: int, end_ms: int, stop_ms: Optional[int]
               ) -> Tuple[Tuple[int, int], ...]:
    tz = get_zone("UTC" if kind == "fx" else EXCHANGE_TZ)
    first = _dt.datetime.fromtimestamp((start_ms - _DAY_MS) / 1000, tz).date()
    last = _dt.datetime.fromtimestamp((end_ms + _DAY_MS) / 1000, tz).date()
    if kind == "futures":  # the sessions; a daily bar starts at its session's open
        _days, opens, closes = futures.session_bounds(first, last + _dt.timedelta(days=1))
        pairs: Any = zip(opens.tolist(), closes.tolist())
    elif kind == "fx":
        days, opens, closes = _fx_bounds(first, last)
        if not intraday:  # whole UTC days that have a session
            opens = days.astype("datetime64[ms]").astype(np.int64)
            closes = opens + _DAY_MS
        pairs = zip(opens.tolist(), closes.tolist())
    else:
        opens, closes = sessions.session_bounds(first, last, extended=True)
        if intraday:
            pairs = zip(opens.tolist(), closes.tolist())
        else:  # whole New York days: the extended session opens at 04:00, four hours after local midnight
            pairs = [(o - 4 * 3_600_000, o - 4 * 3_600_000 + _DAY_MS) for o in opens.tolist()]
    hi = end_ms if stop_ms is None else min(end_ms, stop_ms)
    if hi <= start_ms:
        return ()
    return tuple(cov.intersect(cov.normalize(pairs), [(start_ms, hi)]))


def trading_intervals(symbol: str, start_ms: int, end_ms: int, intraday: bool) -> List[Tuple[int, int]]:
    """Parts of ``[start_ms, end_ms)`` in which bars of ``symbol`` can exist: extended sessions (whole session
    days for daily and coarser bars), the fx week, all of it for crypto; nothing after an option's expiry day.
    Cached: the symbols of a batch share their range."""
    market = market_of(symbol)
    if market == "crypto":
        return [(start_ms, end_ms)] if start_ms < end_ms else []
    if market == "futures":
        return list(_intervals("futures", intraday, start_ms, end_ms, None))
    kind = "fx" if market == "fx" else "exchange"
    return list(_intervals(kind, intraday, start_ms, end_ms, contract_end_ms(symbol)))
