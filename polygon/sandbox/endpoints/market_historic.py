"""The older tick endpoints, from the same tape: ``/v2/ticks/stocks/{trades,nbbo}/{ticker}/{date}``
and ``/v1/historic/{forex,crypto}/{from}/{to}/{date}`` (one day, paged by a timestamp offset)."""

from typing import Any, Dict

import numpy as np

from polygon.sandbox.endpoints import Call
from polygon.sandbox.endpoints.market_ticks import unknown_ticker
from polygon.sandbox.query import effective, parse_day, serves, ticker_of, to_bool
from polygon.sandbox.tape import day_quotes, day_trades
from polygon.sandbox.wire import WireError

__all__ = ["historic_crypto", "historic_forex", "v2_nbbo", "v2_trades"]

_TRADE_MAP = {"c": {"name": "conditions", "type": "int"}, "i": {"name": "id", "type": "string"},
              "p": {"name": "price", "type": "float64"}, "q": {"name": "sequence_number", "type": "int64"},
              "s": {"name": "size", "type": "int"}, "t": {"name": "sip_timestamp", "type": "int64"},
              "x": {"name": "exchange", "type": "int"}, "y": {"name": "participant_timestamp", "type": "int64"},
              "z": {"name": "tape", "type": "int"}}
_QUOTE_MAP = {"P": {"name": "ask_price", "type": "float64"}, "S": {"name": "ask_size", "type": "int"},
              "X": {"name": "ask_exchange", "type": "int"}, "p": {"name": "bid_price", "type": "float64"},
              "q": {"name": "sequence_number", "type": "int"}, "s": {"name": "bid_size", "type": "int"},
              "t": {"name": "sip_timestamp", "type": "int64"}, "x": {"name": "bid_exchange", "type": "int"},
              "y": {"name": "participant_timestamp", "type": "int64"}, "z": {"name": "tape", "type": "int"}}


def _int(params: Dict[str, Any], name: str, default: int, maximum: int) -> int:
    raw = params.get(name)
    try:
        value = default if raw in (None, "") else int(raw)
    except (TypeError, ValueError):
        raise WireError(400, "Invalid value for '%s': must be an integer." % name) from None
    if value < 0:
        raise WireError(400, "Invalid value for '%s': must be >= 0." % name)
    return min(value, maximum)


def _v2(call: Call, loader, row, field_map) -> Dict[str, Any]:
    params = effective(call)
    ticker = ticker_of(params)
    model = call.state.model
    if ticker not in model.universe or model.market(ticker) != "stocks":
        raise unknown_ticker()
    day = parse_day(params.get("date"), "date")
    cols = loader(model, ticker, day) if model.session_days(ticker, day, day) else None
    limit = _int(params, "limit", 5000, 50_000) or 5000
    reverse = to_bool(params.get("reverse"), "reverse", False)
    start = _int(params, "timestamp", 0, 2**62)
    stop = _int(params, "timestampLimit", 0, 2**62)
    rows = []
    if cols is not None:
        ts = cols.sip_timestamp
        keep = ts <= call.now_ms * 1_000_000
        if start:
            keep &= (ts < start) if reverse else (ts > start)
        if stop:
            keep &= (ts >= stop) if reverse else (ts <= stop)
        idx = np.flatnonzero(keep)
        idx = (idx[::-1] if reverse else idx)[:limit]
        rows = [row(cols, i) for i in idx.tolist()]
    return {"db_latency": 1, "map": field_map, "results": rows, "results_count": len(rows), "success": True,
            "ticker": ticker}


@serves("/v2/ticks/stocks/trades/*/*")
def v2_trades(call: Call) -> Dict[str, Any]:
    """``/v2/ticks/stocks/trades/{ticker}/{date}``: a day's trades after ``timestamp`` (ns)."""
    return _v2(call, day_trades, lambda c, i: {
        "c": [], "i": str(int(c.id[i])), "p": float(c.price[i]), "q": int(c.sequence_number[i]),
        "s": int(c.size[i]), "t": int(c.sip_timestamp[i]), "x": int(c.exchange[i]),
        "y": int(c.participant_timestamp[i]), "z": int(c.tape[i])}, _TRADE_MAP)


@serves("/v2/ticks/stocks/nbbo/*/*")
def v2_nbbo(call: Call) -> Dict[str, Any]:
    """``/v2/ticks/stocks/nbbo/{ticker}/{date}``: a day's quotes after ``timestamp`` (ns)."""
    return _v2(call, day_quotes, lambda c, i: {
        "P": float(c.ask_price[i]), "S": int(c.ask_size[i]), "X": int(c.ask_exchange[i]), "p": float(c.bid_price[i]),
        "q": int(c.sequence_number[i]), "s": int(c.bid_size[i]), "t": int(c.sip_timestamp[i]),
        "x": int(c.bid_exchange[i]), "y": int(c.participant_timestamp[i]), "z": int(c.tape[i])}, _QUOTE_MAP)


def _historic(call: Call, prefix: str, loader):
    params = effective(call)
    base = str(params.get("from", params.get("from_", ""))).upper()
    quote = str(params.get("to", "")).upper()
    ticker = prefix + base + quote
    model = call.state.model
    if ticker not in model.universe:
        raise unknown_ticker()
    day = parse_day(params.get("date"), "date")
    limit = _int(params, "limit", 100, 10_000) or 100
    offset = _int(params, "offset", 0, 2**62)  # epoch ms: ticks strictly after it
    cols = loader(model, ticker, day) if model.session_days(ticker, day, day) else None
    idx = np.empty(0, dtype=np.int64)
    if cols is not None:
        ms = cols.sip_timestamp // 1_000_000
        idx = np.flatnonzero((ms > offset) & (ms <= call.now_ms))[:limit]
    return base, quote, day, cols, idx


@serves("/v1/historic/forex/*/*/*")
def historic_forex(call: Call) -> Dict[str, Any]:
    """``/v1/historic/forex/{from}/{to}/{date}``: a day's quotes of a currency pair."""
    base, quote, day, cols, idx = _historic(call, "C:", day_quotes)
    ticks = [{"ap": float(cols.ask_price[i]), "bp": float(cols.bid_price[i]),
              "t": int(cols.sip_timestamp[i]) // 1_000_000, "x": 48} for i in idx.tolist()]
    return {"day": day.isoformat(), "map": {"ap": "ask", "bp": "bid", "t": "timestamp"}, "msLatency": 1,
            "pair": "%s/%s" % (base, quote), "status": "success", "ticks": ticks, "type": "forex"}


@serves("/v1/historic/crypto/*/*/*")
def historic_crypto(call: Call) -> Dict[str, Any]:
    """``/v1/historic/crypto/{from}/{to}/{date}``: a day's trades of a crypto pair."""
    base, quote, day, cols, idx = _historic(call, "X:", day_trades)
    ticks = [{"c": [1], "p": float(cols.price[i]), "s": float(cols.size[i]),
              "t": int(cols.sip_timestamp[i]) // 1_000_000, "x": (1, 2, 6, 23)[int(cols.exchange[i]) % 4]}
             for i in idx.tolist()]
    return {"day": day.isoformat() + "T00:00:00.000Z", "map": {"c": "conditions", "p": "price", "s": "size",
                                                              "t": "timestamp", "x": "exchange"},
            "msLatency": 1, "status": "success", "symbol": "%s-%s" % (base, quote), "ticks": ticks, "type": "crypto"}
