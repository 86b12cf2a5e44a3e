"""Where the provider's flat files live and what their columns are (pure, no I/O).

One gzipped CSV per trading day and dataset::

    us_stocks_sip/minute_aggs_v1/2024/01/2024-01-02.csv.gz

Datasets are named by a market (``stocks``, ``options``, ``crypto``, ``forex``, ``indices``) and a kind
(``minute_aggs``, ``day_aggs``, ``trades``, ``quotes``). Aggregate files hold one row per symbol and bar
(``window_start`` in epoch nanoseconds); trade and quote files one row per tick.
"""

import datetime as _dt
import re
import zoneinfo
from typing import Dict, Optional, Tuple

from polygon.exceptions import InvalidParameterError

__all__ = [
    "AGG_COLUMNS",
    "BAR_KINDS",
    "KINDS",
    "MARKET_PREFIXES",
    "QUOTE_COLUMNS",
    "TICK_KINDS",
    "TRADE_COLUMNS",
    "check_dataset",
    "day_bounds_ms",
    "day_zone",
    "day_of_key",
    "object_key",
    "prefix",
    "timeframe_of",
]

#: market -> the provider's top-level folder
MARKET_PREFIXES: Dict[str, str] = {
    "stocks": "us_stocks_sip",
    "options": "us_options_opra",
    "indices": "us_indices",
    "crypto": "global_crypto",
    "forex": "global_forex",
}
#: kind -> folder name under the market
KINDS: Dict[str, str] = {
    "minute_aggs": "minute_aggs_v1",
    "day_aggs": "day_aggs_v1",
    "trades": "trades_v1",
    "quotes": "quotes_v1",
}
BAR_KINDS = ("minute_aggs", "day_aggs")
TICK_KINDS = ("trades", "quotes")
#: the kinds each market publishes (indices have values, no trades or quotes; crypto no quotes file)
_MARKET_KINDS = {
    "stocks": ("minute_aggs", "day_aggs", "trades", "quotes"),
    "options": ("minute_aggs", "day_aggs", "trades", "quotes"),
    "indices": ("minute_aggs", "day_aggs"),
    "crypto": ("minute_aggs", "day_aggs", "trades"),
    "forex": ("minute_aggs", "day_aggs", "quotes"),
}

AGG_COLUMNS = ("ticker", "volume", "open", "close", "high", "low", "window_start", "transactions")
TRADE_COLUMNS = ("ticker", "conditions", "correction", "exchange", "id", "participant_timestamp", "price",
                 "sequence_number", "sip_timestamp", "size", "tape", "trf_id", "trf_timestamp")
QUOTE_COLUMNS = ("ticker", "ask_exchange", "ask_price", "ask_size", "bid_exchange", "bid_price", "bid_size",
                 "conditions", "indicators", "participant_timestamp", "sequence_number", "sip_timestamp", "tape",
                 "trf_timestamp")
_KEY_DAY = re.compile(r"/(\d{4})-(\d{2})-(\d{2})\.csv\.gz$")


def check_dataset(market: str, kind: str) -> Tuple[str, str]:
    """Validate ``market`` and ``kind``; returns them.

    :raises InvalidParameterError: naming the allowed values.
    """
    if market not in MARKET_PREFIXES:
        raise InvalidParameterError("unknown flat-file market %r; allowed: %s" % (market, ", ".join(MARKET_PREFIXES)))
    if kind not in KINDS:
        raise InvalidParameterError("unknown flat-file kind %r; allowed: %s" % (kind, ", ".join(KINDS)))
    if kind not in _MARKET_KINDS[market]:
        raise InvalidParameterError("the %s market publishes no %s files; it has: %s"
                                    % (market, kind, ", ".join(_MARKET_KINDS[market])))
    return market, kind


def prefix(market: str, kind: str) -> str:
    """``'us_stocks_sip/minute_aggs_v1/'``."""
    check_dataset(market, kind)
    return "%s/%s/" % (MARKET_PREFIXES[market], KINDS[kind])


def object_key(market: str, kind: str, day: _dt.date) -> str:
    """The object key of one day's file: ``us_stocks_sip/minute_aggs_v1/2024/01/2024-01-02.csv.gz``."""
    return "%s%04d/%02d/%s.csv.gz" % (prefix(market, kind), day.year, day.month, day.isoformat())


def day_of_key(key: str) -> Optional[_dt.date]:
    """The day a key names, or ``None`` for a key that is not a day file."""
    match = _KEY_DAY.search(key)
    if match is None:
        return None
    try:
        return _dt.date(int(match.group(1)), int(match.group(2)), int(match.group(3)))
    except ValueError:
        return None


def timeframe_of(kind: str) -> str:
    """The cache timeframe an aggregate kind fills (``'1min'`` or ``'1day'``)."""
    if kind == "minute_aggs":
        return "1min"
    if kind == "day_aggs":
        return "1day"
    raise InvalidParameterError("%r files hold ticks, not bars" % (kind,))


_NY = zoneinfo.ZoneInfo("America/New_York")


def day_zone(market: str) -> _dt.tzinfo:
    """The zone of a market's day boundary: UTC for crypto and forex, New York for the rest."""
    return _dt.timezone.utc if market in ("crypto", "forex") else _NY


def day_bounds_ms(day: _dt.date, market: str = "stocks") -> Tuple[int, int]:
    """``[start, end)`` of ``day`` in epoch ms at the market's day boundary (:func:`day_zone`)."""
    zone = day_zone(market)
    nxt = day + _dt.timedelta(days=1)
    return (int(_dt.datetime(day.year, day.month, day.day, tzinfo=zone).timestamp() * 1000),
            int(_dt.datetime(nxt.year, nxt.month, nxt.day, tzinfo=zone).timestamp() * 1000))
