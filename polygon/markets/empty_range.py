"""Why a range has no bars, when that is known before asking the provider: :func:`empty_range_reason`.

A range that starts after now has no bars yet; a range with no session of the symbol's market (weekends and
exchange holidays for stocks, options and indices; the weekend for fx; for futures the weekend, CME holidays,
the daily maintenance break and the hours after a CME holiday early close; crypto trades every day) has none,
nor has an option after its expiry day. Pure: no I/O, the caller gives the clock. Reasons that need the provider
(before the ticker's listing, after its delisting, a halt) are the manager's (``explain_empty``).
"""

import datetime as _dt
from typing import Any, Optional

from polygon.markets import EXCHANGE_TZ, contract_end_ms, day_zone, futures_calendar, trading_intervals
from polygon.markets.dates import get_zone
from polygon.markets.futures import SESSION_SHIFT_MS
from polygon.markets.sessions import holidays
from polygon.markets.symbols import market_of
from polygon.markets.timeframes import parse_timeframe

__all__ = ["empty_range_reason"]


def _day(ms: int, zone: str) -> _dt.date:
    return _dt.datetime.fromtimestamp(ms / 1000, get_zone(zone)).date()


def empty_range_reason(symbol: str, timeframe: Any, start_ms: int, end_ms: int, now_ms: int) -> Optional[str]:
    """Why ``[start_ms, end_ms)`` of ``symbol``'s ``timeframe`` bars has no bars, when that is known without
    asking the provider.

    >>> empty_range_reason('AAPL', '1day', 1_893_474_000_000, 1_896_152_400_000, 1_764_954_000_000)  # January 2030
    'no bars yet: the range 2030-01-01 .. 2030-01-31 starts after today (2025-12-05)'

    :param symbol: a valid ticker (its prefix gives the market).
    :param timeframe: ``'1min'``, ``'1day'``... or a :class:`~polygon.markets.timeframes.Timeframe`: intraday
        bars need a session, daily bars a session day; weekly and monthly bars start before the range, so only
        the future counts for them.
    :param start_ms: first millisecond of the range (UTC epoch).
    :param end_ms: end of the range, exclusive.
    :param now_ms: the clock's now (UTC epoch ms): nothing at or after it has bars yet.
    :returns: one sentence saying why, or ``None`` when the range may have bars.
    """
    tf = parse_timeframe(timeframe)
    intraday = tf.is_intraday
    market = market_of(symbol)
    zone = day_zone(market) if not intraday else EXCHANGE_TZ
    first, last = _day(start_ms, zone), _day(end_ms - 1, zone)
    if start_ms >= now_ms:
        return "no bars yet: the range %s .. %s starts after today (%s)" % (first, last, _day(now_ms, zone))
    expiry_end = contract_end_ms(symbol)
    if expiry_end is not None and start_ms >= expiry_end:
        return "no bars: the option %s expired on %s, before the range %s .. %s" % (
            symbol, _day(expiry_end - 1, EXCHANGE_TZ), first, last)
    upto = min(end_ms, now_ms)
    if market == "crypto" or not (intraday or tf.timespan == "day") or trading_intervals(symbol, start_ms, upto,
                                                                                           intraday):
        return None
    if market == "futures":
        return _futures_reason(symbol, start_ms, upto)
    last = _day(upto - 1, zone)
    if market == "fx":
        return "no bars: the forex market is closed from %s to %s (it trades Sunday 17:00 to Friday 17:00 " \
               "New York)" % (first, last)
    closed = [day.isoformat() for day in holidays(first, last)]
    weekend = (last - first).days >= 6 or any(
        (first + _dt.timedelta(days=i)).weekday() >= 5 for i in range((last - first).days + 1))
    if closed:
        why = "exchange holiday%s %s%s" % ("s" if len(closed) > 1 else "", ", ".join(closed),
                                           " and a weekend" if weekend else "")
    elif weekend:
        why = "a weekend"
    else:
        why = "outside the exchange's hours, 04:00-20:00 New York"
    return "no bars: %s has no trading session from %s to %s (%s)" % (symbol, first, last, why)


def _hhmm(ms: int) -> str:
    return _dt.datetime.fromtimestamp(ms / 1000, get_zone(EXCHANGE_TZ)).strftime("%H:%M")


def _futures_reason(symbol: str, start_ms: int, upto: int) -> str:
    """Why ``[start_ms, upto)`` holds no CME Globex session: CME holidays, an early close, the weekend or the
    daily maintenance break (the range's trading dates: a session opens at 18:00 New York the evening before)."""
    first = _day(start_ms + SESSION_SHIFT_MS, EXCHANGE_TZ)
    last = _day(upto - 1 + SESSION_SHIFT_MS, EXCHANGE_TZ)
    span = "trading dates %s to %s" % (first, last) if first != last else "trading date %s" % first
    closed = [day.isoformat() for day in futures_calendar.holidays(first, last)]
    early = [(day, close) for day, close, regular in futures_calendar.early_closes(first, last)
             if close < upto and start_ms < regular]
    weekend = any((first + _dt.timedelta(days=i)).weekday() >= 5 for i in range((last - first).days + 1))
    parts = []
    if closed:
        parts.append("CME holiday%s %s" % ("s" if len(closed) > 1 else "", ", ".join(closed)))
    parts.extend("the %s session closed early at %s New York, %s" % (day, _hhmm(close),
                                                                     futures_calendar.EARLY_CLOSE_NOTE)
                 for day, close in early)
    if weekend:
        parts.append("a weekend")
    if not parts:
        parts.append("the daily 17:00-18:00 New York maintenance break")
    return "no bars: %s has no CME Globex trading in the range (%s): %s" % (symbol, span, "; ".join(parts))
