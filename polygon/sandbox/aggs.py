"""The aggregates endpoint's logic: parameter parsing, window selection, sorting and pagination.

Pure functions over a :class:`~polygon.sandbox.market.MarketModel`; the HTTP layer only passes
the path values and query in and writes the returned bytes out.
"""

import datetime as _dt
import math
import re
from typing import Dict, Mapping, Optional, Tuple
from urllib.parse import quote

from polygon.sandbox import calendars
from polygon.sandbox.market import Bars, MarketModel, empty_bars, midnight_ms
from polygon.sandbox.wire import RESULTS, WireError, bars_json, decode_cursor, dumps_with_results, encode_cursor

__all__ = ["MAX_LIMIT", "DEFAULT_LIMIT", "MAX_MULTIPLIER", "FIRST_DAY", "LAST_DAY", "parse_bool", "parse_time",
           "aggs_body"]

MAX_LIMIT = 50_000
DEFAULT_LIMIT = 5_000
TIMESPANS = ("second", "minute", "hour", "day", "week", "month", "quarter", "year")
_DAY_MS = 86_400_000
_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
MAX_MULTIPLIER = 1_000_000
FIRST_DAY = _dt.date(1970, 1, 1)  # the synthetic market's first and last days
LAST_DAY = _dt.date(2199, 12, 31)
_FIRST_MS = midnight_ms(FIRST_DAY)
_LAST_MS = midnight_ms(LAST_DAY + _dt.timedelta(days=1)) - 1
_BUCKET_MINUTES = {"second": 1 / 60.0, "minute": 1, "hour": 60, "day": 390, "week": 1950, "month": 8200,
                   "quarter": 24600, "year": 98300}
MAX_SECOND_DAYS = 5  # second bars are aggregated from the tape: at most this many days per request


def parse_time(value: str, name: str, end: bool, market: str = "stocks") -> int:
    """``YYYY-MM-DD`` (start of the market's day, or its last ms when ``end``) or epoch ms, as epoch ms.

    Values are clamped to the sandbox's market, :data:`FIRST_DAY` to :data:`LAST_DAY` (so far-off
    dates such as ``9999-12-31`` mean "everything" instead of overflowing date arithmetic).
    """
    if value.isdigit():
        return max(_FIRST_MS, min(int(value), _LAST_MS))
    if _DATE.match(value):
        try:
            day = _dt.date.fromisoformat(value)
        except ValueError:
            day = None
        if day is not None:
            day = max(FIRST_DAY, min(day, LAST_DAY))
            if end:
                return calendars.day_start_ms(market, day + _dt.timedelta(days=1)) - 1
            return calendars.day_start_ms(market, day)
    raise WireError(400, "Could not parse the time parameter: '%s'. Use YYYY-MM-DD or Unix MS Timestamps" % name)


def parse_bool(value: Optional[str], name: str, default: bool) -> bool:
    """Provider booleans: ``true``/``false`` (any case)."""
    if value is None or value == "":
        return default
    low = value.lower()
    if low in ("true", "1"):
        return True
    if low in ("false", "0"):
        return False
    raise WireError(400, "Invalid value for '%s': must be true or false." % name)


def parse_limit(value: Optional[str], default: int, maximum: int) -> int:
    """A positive integer limit, clamped to ``maximum`` like the provider."""
    if value is None or value == "":
        return default
    try:
        limit = int(value)
    except ValueError:
        raise WireError(400, "Invalid value for 'limit': must be an integer.") from None
    if limit < 1:
        raise WireError(400, "Invalid value for 'limit': must be greater than 0.")
    return min(limit, maximum)


def _effective_query(query: Mapping[str, str]) -> Dict[str, str]:
    params = {k: v for k, v in query.items() if k not in ("apiKey", "cursor")}
    cursor = query.get("cursor")
    if cursor:
        params.update(decode_cursor(cursor))
    return params


def _fetch(model: MarketModel, ticker: str, multiplier: int, timespan: str, lo: int, hi: int,
           adjusted: bool, asc: bool, limit: int, until_ms: Optional[int], as_of: Optional[_dt.date] = None):
    """Bars in [lo, hi], computing only a window large enough for ``limit + 1`` bars."""
    if timespan == "day" and multiplier > 1:  # groups count from the first day: use the whole range
        return model.aggregates(ticker, multiplier, timespan, lo, hi, adjusted, until_ms, as_of)
    per_day = 960.0 if model.extended_hours else 390.0
    if model.market(ticker) in calendars.UTC_MARKETS:
        per_day = 1440.0
    span = int(math.ceil((limit + 2) * _BUCKET_MINUTES[timespan] * multiplier / per_day * 1.5)) + 5
    if timespan == "second":
        span = min(span, MAX_SECOND_DAYS + 3)
    while True:
        if asc:
            a, b = lo, min(hi, lo + span * _DAY_MS - 1)
        else:
            a, b = max(lo, hi - span * _DAY_MS + 1), hi
        bars = model.aggregates(ticker, multiplier, timespan, a, b, adjusted, until_ms, as_of)
        if (a == lo and b == hi) or len(bars) > limit or timespan == "second":
            return bars
        span *= 2


def index_json(bars: Bars) -> str:
    """Index bars as the provider's ``results`` (values only: no ``v``, ``vw``, ``n``)."""
    cols = [col.tolist() for col in (bars.o, bars.c, bars.h, bars.l, bars.t)]
    return "[" + ",".join('{"o":%r,"c":%r,"h":%r,"l":%r,"t":%d}' % row for row in zip(*cols)) + "]"


def aggs_body(model: MarketModel, ticker: str, multiplier_text: str, timespan: str, from_text: str,
              to_text: str, query: Mapping[str, str], base_url: str, rid: str,
              until_ms: Optional[int], as_of: Optional[_dt.date] = None) -> Tuple[bytes, int]:
    """Return ``(body, resultsCount)`` of ``/v2/aggs/ticker/.../range/...`` (any market).

    :param until_ms: the sandbox's "now": no bar that has not closed by then.
    :param as_of: the day whose known splits adjust the bars (the sandbox clock's today).
    :raises WireError: 400 for bad parameters, as the provider.
    """
    try:
        multiplier = int(multiplier_text)
    except ValueError:
        raise WireError(400, "Invalid value for 'multiplier': must be an integer.") from None
    if multiplier < 1:
        raise WireError(400, "Invalid value for 'multiplier': must be greater than 0.")
    if multiplier > MAX_MULTIPLIER:
        raise WireError(400, "Invalid value for 'multiplier': must be between 1 and %d." % MAX_MULTIPLIER)
    if timespan not in TIMESPANS:
        raise WireError(400, "Invalid value for 'timespan': must be one of %s." % ", ".join(TIMESPANS))
    params = _effective_query(query)
    market = model.market(ticker)
    from_ms = parse_time(from_text, "from", end=False, market=market)
    to_ms = parse_time(to_text, "to", end=True, market=market)
    if timespan == "second" and to_ms - from_ms > MAX_SECOND_DAYS * _DAY_MS:
        raise WireError(400, "Second aggregates span at most %d days per request in the sandbox; "
                             "narrow 'from'/'to'." % MAX_SECOND_DAYS)
    adjusted = parse_bool(params.get("adjusted"), "adjusted", True)
    sort = params.get("sort") or "asc"
    if sort not in ("asc", "desc"):
        raise WireError(400, "Invalid value for 'sort': must be one of asc, desc.")
    limit = parse_limit(params.get("limit"), DEFAULT_LIMIT, MAX_LIMIT)

    hi = to_ms if until_ms is None else min(to_ms, until_ms)
    if ticker in model.universe and from_ms <= hi:
        bars = _fetch(model, ticker, multiplier, timespan, from_ms, hi, adjusted, sort == "asc", limit, until_ms,
                      as_of)
    else:
        bars = empty_bars()
    if sort == "desc":
        bars = bars.take(slice(None, None, -1))
    page, rest = bars.take(slice(0, limit)), len(bars) > limit

    head = {"ticker": ticker, "queryCount": int(page.base.sum()), "resultsCount": len(page), "adjusted": adjusted}
    if not len(page):
        head.update(status="OK", request_id=rid)
        return dumps_with_results(head, ""), 0
    head["results"] = RESULTS
    head.update(status="OK", request_id=rid)
    if rest:
        if sort == "asc":  # the next page starts at the next bar
            new_from, new_to = str(int(bars.t[limit])), to_text
        else:  # the next page ends just before this page's oldest bar (whole buckets)
            new_from, new_to = from_text, str(int(page.t[-1]) - 1)
        cursor = encode_cursor({"adjusted": "true" if adjusted else "false", "limit": str(limit), "sort": sort})
        head["next_url"] = "%s/v2/aggs/ticker/%s/range/%d/%s/%s/%s?cursor=%s" % (
            base_url, quote(ticker, safe=".:-"), multiplier, timespan, new_from, new_to, cursor)
    if market == "indices":
        return dumps_with_results(head, index_json(page)), len(page)
    if timespan == "minute" and multiplier == 1:  # the common big page: reuse rows encoded per day
        lo_t, hi_t = int(page.t.min()), int(page.t.max())
        rows = model.minute_rows(ticker, lo_t, hi_t, adjusted, as_of)
        if len(rows) == len(page):
            if sort == "desc":
                rows.reverse()
            return dumps_with_results(head, "[" + ",".join(rows) + "]"), len(page)
    return dumps_with_results(head, bars_json(page)), len(page)
