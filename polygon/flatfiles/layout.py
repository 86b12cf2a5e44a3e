"""Where the provider's flat files live and what their columns are (pure, no I/O).

One gzipped CSV per trading day and dataset::

    us_stocks_sip/minute_aggs_v1/2024/01/2024-01-02.csv.gz

Datasets are named by a market (``stocks``, ``options``, ``crypto``, ``forex``, ``indices``) and a kind
(``minute_aggs``, ``day_aggs``, ``trades``, ``quotes``). Aggregate files hold one row per symbol and bar
(``window_start`` in epoch nanoseconds); trade and quote files one row per tick.

Futures are published per CME Group venue: the markets ``futures_cme``, ``futures_cbot``, ``futures_nymex`` and
``futures_comex`` (``futures`` names all four where a caller syncs or reads), with the kinds ``minute_aggs``,
``session_aggs`` (one bar per Globex session, with its ``settlement_price``), ``trades`` and ``quotes``, one
file per venue and trading date (``session_end_date``). A futures day is the Globex session: from 18:00 New York
the evening before the trading date to 18:00 on it (the session closes at 17:00; the hour after is the
maintenance break). The aggregate columns are the provider's documented ones
(https://massive.com/docs/flat-files/futures/minute-aggregates/cbot.md, ``.../session-aggregates/cbot.md``,
likewise for cme, nymex and comex); the trade and quote columns are the fields of the provider's
``/futures/v1/trades`` and ``/futures/v1/quotes`` rows (the flat-file pages of those were not at hand: a column
the files add is kept all the same, the tick store stores every column of the file). **The object keys are an
assumption**: the provider does not document them; :data:`FUTURES_KEY_FORM` (the one place they are defined)
follows the other markets' form, ``us_futures_cme/minute_aggs_v1/2025/12/2025-12-03.csv.gz``.
"""

import datetime as _dt
import re
import zoneinfo
from typing import Dict, Optional, Tuple

from polygon.exceptions import InvalidParameterError
from polygon.markets.futures import SESSION_SHIFT_MS

__all__ = [
    "AGG_COLUMNS",
    "BAR_KINDS",
    "FUTURES_KEY_FORM",
    "FUTURES_MARKETS",
    "FUTURES_MINUTE_COLUMNS",
    "FUTURES_QUOTE_COLUMNS",
    "FUTURES_SESSION_COLUMNS",
    "FUTURES_TRADE_COLUMNS",
    "FUTURES_VENUES",
    "KINDS",
    "MARKETS",
    "MARKET_PREFIXES",
    "QUOTE_COLUMNS",
    "TICK_KINDS",
    "TRADE_COLUMNS",
    "check_dataset",
    "columns_of",
    "day_bounds_ms",
    "day_zone",
    "day_of_key",
    "is_futures",
    "markets_of",
    "object_key",
    "prefix",
    "timeframe_of",
]

#: futures venue (the provider's flat-file folder name) -> the exchange's MIC
FUTURES_VENUES: Dict[str, str] = {"cme": "XCME", "cbot": "XCBT", "nymex": "XNYM", "comex": "XCEC"}
#: ASSUMPTION (the provider does not document its futures object keys): the top-level folder of a venue's files,
#: in the form of the other markets' folders. Every futures key is built from this one string.
FUTURES_KEY_FORM = "us_futures_%s"
#: the futures markets, one per venue: ``futures_cme``, ``futures_cbot``, ``futures_nymex``, ``futures_comex``
FUTURES_MARKETS: Tuple[str, ...] = tuple("futures_" + venue for venue in FUTURES_VENUES)

#: market -> the provider's top-level folder
MARKET_PREFIXES: Dict[str, str] = {
    "stocks": "us_stocks_sip",
    "options": "us_options_opra",
    "indices": "us_indices",
    "crypto": "global_crypto",
    "forex": "global_forex",
}
MARKET_PREFIXES.update({"futures_" + venue: FUTURES_KEY_FORM % venue for venue in FUTURES_VENUES})
#: every market name a caller may pass: one per folder, and ``futures`` for the four futures venues
MARKETS: Tuple[str, ...] = tuple(MARKET_PREFIXES) + ("futures",)
#: kind -> folder name under the market
KINDS: Dict[str, str] = {
    "minute_aggs": "minute_aggs_v1",
    "day_aggs": "day_aggs_v1",
    "trades": "trades_v1",
    "quotes": "quotes_v1",
    "session_aggs": "session_aggs_v1",
}
BAR_KINDS = ("minute_aggs", "day_aggs", "session_aggs")
TICK_KINDS = ("trades", "quotes")
#: the kinds each market publishes (indices have values, no trades or quotes; crypto no quotes file)
_MARKET_KINDS = {
    "stocks": ("minute_aggs", "day_aggs", "trades", "quotes"),
    "options": ("minute_aggs", "day_aggs", "trades", "quotes"),
    "indices": ("minute_aggs", "day_aggs"),
    "crypto": ("minute_aggs", "day_aggs", "trades"),
    "forex": ("minute_aggs", "day_aggs", "quotes"),
}
_FUTURES_KINDS = ("minute_aggs", "session_aggs", "trades", "quotes")
_MARKET_KINDS.update({market: _FUTURES_KINDS for market in FUTURES_MARKETS + ("futures",)})

AGG_COLUMNS = ("ticker", "volume", "open", "close", "high", "low", "window_start", "transactions")
TRADE_COLUMNS = ("ticker", "conditions", "correction", "exchange", "id", "participant_timestamp", "price",
                 "sequence_number", "sip_timestamp", "size", "tape", "trf_id", "trf_timestamp")
QUOTE_COLUMNS = ("ticker", "ask_exchange", "ask_price", "ask_size", "bid_exchange", "bid_price", "bid_size",
                 "conditions", "indicators", "participant_timestamp", "sequence_number", "sip_timestamp", "tape",
                 "trf_timestamp")
#: futures columns: aggregates as the provider documents them, trades and quotes as its REST rows (module docstring)
FUTURES_MINUTE_COLUMNS = ("ticker", "session_end_date", "window_start", "open", "high", "low", "close", "volume",
                          "dollar_volume", "transactions", "exchange")
FUTURES_SESSION_COLUMNS = ("ticker", "session_end_date", "window_start", "open", "high", "low", "close", "volume",
                           "dollar_volume", "transactions", "settlement_price")
FUTURES_TRADE_COLUMNS = ("ticker", "timestamp", "session_end_date", "price", "size", "channel", "report_sequence",
                         "sequence_number")
FUTURES_QUOTE_COLUMNS = ("ticker", "timestamp", "session_end_date", "bid_price", "bid_size", "bid_timestamp",
                         "ask_price", "ask_size", "ask_timestamp", "channel", "report_sequence", "sequence_number")
_KEY_DAY = re.compile(r"/(\d{4})-(\d{2})-(\d{2})\.csv\.gz$")


def is_futures(market: str) -> bool:
    """``True`` for ``futures`` and the four ``futures_<venue>`` markets."""
    return market == "futures" or market in FUTURES_MARKETS


def check_dataset(market: str, kind: str) -> Tuple[str, str]:
    """Validate ``market`` and ``kind``; returns them.

    :raises InvalidParameterError: naming the allowed values.
    """
    if market not in MARKETS:
        raise InvalidParameterError("unknown flat-file market %r; allowed: %s" % (market, ", ".join(MARKETS)))
    if kind not in KINDS:
        raise InvalidParameterError("unknown flat-file kind %r; allowed: %s" % (kind, ", ".join(KINDS)))
    if kind not in _MARKET_KINDS[market]:
        raise InvalidParameterError("the %s market publishes no %s files; it has: %s"
                                    % (market, kind, ", ".join(_MARKET_KINDS[market])))
    return market, kind


def markets_of(market: str) -> Tuple[str, ...]:
    """The markets with a folder of their own that ``market`` names: ``futures`` -> the four venues; any other
    market -> itself.

    :raises InvalidParameterError: for an unknown market.
    """
    if market == "futures":
        return FUTURES_MARKETS
    if market not in MARKET_PREFIXES:
        raise InvalidParameterError("unknown flat-file market %r; allowed: %s" % (market, ", ".join(MARKETS)))
    return (market,)


def columns_of(market: str, kind: str) -> Tuple[str, ...]:
    """The columns of a dataset's files, in file order (futures: the provider's documented futures columns)."""
    check_dataset(market, kind)
    if is_futures(market):
        return {"minute_aggs": FUTURES_MINUTE_COLUMNS, "session_aggs": FUTURES_SESSION_COLUMNS,
                "trades": FUTURES_TRADE_COLUMNS, "quotes": FUTURES_QUOTE_COLUMNS}[kind]
    return {"trades": TRADE_COLUMNS, "quotes": QUOTE_COLUMNS}.get(kind, AGG_COLUMNS)


def prefix(market: str, kind: str) -> str:
    """``'us_stocks_sip/minute_aggs_v1/'``.

    :raises InvalidParameterError: for ``futures`` (four folders: name a venue, see :func:`markets_of`).
    """
    check_dataset(market, kind)
    if market not in MARKET_PREFIXES:
        raise InvalidParameterError("%r spans %s: name one of them" % (market, ", ".join(markets_of(market))))
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
    if kind in ("day_aggs", "session_aggs"):
        return "1day"
    raise InvalidParameterError("%r files hold ticks, not bars" % (kind,))


_NY = zoneinfo.ZoneInfo("America/New_York")


def day_zone(market: str) -> _dt.tzinfo:
    """The zone of a market's day boundary: UTC for crypto and forex, New York for the rest."""
    return _dt.timezone.utc if market in ("crypto", "forex") else _NY


def day_bounds_ms(day: _dt.date, market: str = "stocks") -> Tuple[int, int]:
    """``[start, end)`` of ``day`` in epoch ms at the market's day boundary (:func:`day_zone`); for futures the
    Globex trading date: from 18:00 New York the evening before ``day`` to 18:00 on ``day``."""
    zone = day_zone(market)
    nxt = day + _dt.timedelta(days=1)
    shift = SESSION_SHIFT_MS if is_futures(market) else 0
    return (int(_dt.datetime(day.year, day.month, day.day, tzinfo=zone).timestamp() * 1000) - shift,
            int(_dt.datetime(nxt.year, nxt.month, nxt.day, tzinfo=zone).timestamp() * 1000) - shift)
