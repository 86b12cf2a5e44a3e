"""Trades and quotes from the sandbox's tape: ``/v3/trades``, ``/v3/quotes``, last trade/quote, currencies.

Every answer is read from :mod:`polygon.sandbox.tape`, the trades the bars aggregate, so a
trade listed here is one of the trades of the minute bar that covers it, and the last trade is
the close of the last complete minute's tape. Nothing after the sandbox clock's "now" is served.
"""

import datetime as _dt
from typing import Any, Dict, Iterator, List, Optional, Tuple

import numpy as np

from polygon.sandbox.endpoints import Call
from polygon.sandbox.market import MarketModel
from polygon.sandbox.query import effective, next_url, ns_bounds, order_limit, serves, ticker_of
from polygon.sandbox.tape import DayQuotes, DayTrades, day_quotes, day_trades
from polygon.sandbox.wire import WireError

__all__ = ["conversion", "last_crypto_trade", "last_forex_quote", "last_quote", "last_trade", "list_quotes",
           "list_trades", "tick_days"]

MAX_LIMIT = 50_000
DEFAULT_LIMIT = 1000
_CRYPTO_CONDITIONS = [1]


def unknown_ticker() -> WireError:
    return WireError(404, "Ticker not found.", "NOT_FOUND", "message")


def _model(call: Call) -> MarketModel:
    return call.state.model


def tick_days(model: MarketModel, ticker: str, lo_ns: Optional[int], hi_ns: int, asc: bool) -> Iterator[_dt.date]:
    """Session days of ``ticker`` overlapping ``[lo_ns, hi_ns]``, in the requested order (bounded)."""
    last = model.day_of(ticker, hi_ns // 1_000_000)
    sec = model.universe.get(ticker)
    listed = _dt.date.fromisoformat(sec.list_date)
    first = model.day_of(ticker, lo_ns // 1_000_000) if lo_ns is not None else listed
    first = max(first, listed)
    if asc:
        cursor = first
        while cursor <= last:
            chunk_end = min(last, cursor + _dt.timedelta(days=31))
            yield from model.session_days(ticker, cursor, chunk_end)
            cursor = chunk_end + _dt.timedelta(days=1)
    else:
        cursor = last
        while cursor >= first:
            chunk_start = max(first, cursor - _dt.timedelta(days=31))
            yield from reversed(model.session_days(ticker, chunk_start, cursor))
            cursor = chunk_start - _dt.timedelta(days=1)


def _select(model: MarketModel, ticker: str, loader, lo: Optional[int], hi: int, asc: bool, want: int):
    """Up to ``want`` rows (columns per day) of ``loader`` inside ``[lo, hi]`` in order."""
    parts, total = [], 0
    for day in tick_days(model, ticker, lo, hi, asc):
        cols = loader(model, ticker, day)
        ts = cols.sip_timestamp
        keep = ts <= hi
        if lo is not None:
            keep &= ts >= lo
        sel = np.flatnonzero(keep)
        if not asc:
            sel = sel[::-1]
        if len(sel):
            parts.append(cols.take(sel[: want - total]))
            total += min(len(sel), want - total)
        if total >= want:
            break
    return parts


def _tick_page(call: Call, loader, row) -> Dict[str, Any]:
    params = effective(call)
    ticker = ticker_of(params)
    model = _model(call)
    if ticker not in model.universe:
        raise unknown_ticker()
    order, limit, _sort = order_limit(params, "desc", DEFAULT_LIMIT, MAX_LIMIT, ("timestamp",))
    lo, hi = ns_bounds(params)
    now_ns = call.now_ms * 1_000_000
    hi = now_ns if hi is None else min(hi, now_ns)
    asc = order == "asc"
    parts = _select(model, ticker, loader, lo, hi, asc, limit + 1) if lo is None or lo <= hi else []
    rows: List[Dict[str, Any]] = []
    market = model.market(ticker)
    for cols in parts:
        rows.extend(row(cols, i, market) for i in range(len(cols)))
    body: Dict[str, Any] = {"status": "OK", "request_id": call.rid}
    if len(rows) > limit:
        rows = rows[:limit]
        sips = np.concatenate([cols.sip_timestamp for cols in parts])
        last = int(sips[limit - 1])
        cursor = {k: v for k, v in params.items() if "." not in k and k in ("order", "limit", "sort")}
        cursor.update(order=order, limit=limit)
        if lo is not None:
            cursor["timestamp.gte"] = lo
        cursor["timestamp.lte"] = hi
        cursor["timestamp.gt" if asc else "timestamp.lt"] = last
        body["next_url"] = next_url(call.base_url, _path(call, ticker), cursor)
    body["results"] = rows
    return body


def _path(call: Call, ticker: str) -> str:
    kind = "trades" if "trade" in call.name else "quotes"
    return "/v3/%s/%s" % (kind, ticker)


def _trade_row(cols: DayTrades, i: int, market: str) -> Dict[str, Any]:
    if market == "crypto":
        return {"conditions": _CRYPTO_CONDITIONS, "exchange": 1 + int(cols.exchange[i]) % 4, "id": str(int(cols.id[i])),
                "participant_timestamp": int(cols.participant_timestamp[i]), "price": float(cols.price[i]),
                "size": float(cols.size[i])}
    out = {"exchange": int(cols.exchange[i]), "id": str(int(cols.id[i])),
           "participant_timestamp": int(cols.participant_timestamp[i]), "price": float(cols.price[i]),
           "sequence_number": int(cols.sequence_number[i]), "sip_timestamp": int(cols.sip_timestamp[i]),
           "size": int(cols.size[i])}
    if market == "stocks":
        out["conditions"] = [] if i % 7 else [12]
        out["tape"] = int(cols.tape[i])
    return out


def _quote_row(cols: DayQuotes, i: int, market: str) -> Dict[str, Any]:
    if market == "fx":
        return {"ask_exchange": 48, "ask_price": float(cols.ask_price[i]), "bid_exchange": 48,
                "bid_price": float(cols.bid_price[i]), "participant_timestamp": int(cols.participant_timestamp[i])}
    out = {"ask_exchange": int(cols.ask_exchange[i]), "ask_price": float(cols.ask_price[i]),
           "ask_size": int(cols.ask_size[i]), "bid_exchange": int(cols.bid_exchange[i]),
           "bid_price": float(cols.bid_price[i]), "bid_size": int(cols.bid_size[i]),
           "participant_timestamp": int(cols.participant_timestamp[i]),
           "sequence_number": int(cols.sequence_number[i]), "sip_timestamp": int(cols.sip_timestamp[i])}
    if market == "stocks":
        out["tape"] = int(cols.tape[i])
    return out


@serves("/v3/trades/*")
def list_trades(call: Call) -> Dict[str, Any]:
    """``/v3/trades/{ticker}``: the tape's trades, newest first by default, paged with ``next_url``."""
    return _tick_page(call, day_trades, _trade_row)


@serves("/v3/quotes/*")
def list_quotes(call: Call) -> Dict[str, Any]:
    """``/v3/quotes/{ticker}``: one quote 1 ms before each trade, bracketing its price."""
    return _tick_page(call, day_quotes, _quote_row)


# -- last trade / quote ------------------------------------------------------------------------------
def latest(model: MarketModel, ticker: str, now_ms: int, loader=day_trades) -> Tuple[Any, int]:
    """``(columns of the day, index)`` of the last trade (or quote) at or before ``now_ms``.

    :raises WireError: 404 for an unknown ticker or when nothing traded in the last few weeks.
    """
    if ticker not in model.universe:
        raise unknown_ticker()
    now_ns = now_ms * 1_000_000
    for n, day in enumerate(tick_days(model, ticker, None, now_ns, asc=False)):
        cols = loader(model, ticker, day)
        i = int(np.searchsorted(cols.sip_timestamp, now_ns, "right")) - 1
        if i >= 0:
            return cols, i
        if n > 30:
            break
    raise WireError(404, "Data not found.", "NOT_FOUND", "message")


@serves("/v2/last/trade/*")
def last_trade(call: Call) -> Dict[str, Any]:
    """``/v2/last/trade/{ticker}`` (stocks and options): the tape's latest trade."""
    ticker = ticker_of(effective(call))
    cols, i = latest(_model(call), ticker, call.now_ms)
    results = {"T": ticker, "c": [], "i": str(int(cols.id[i])), "p": float(cols.price[i]),
               "q": int(cols.sequence_number[i]), "s": int(cols.size[i]), "t": int(cols.sip_timestamp[i]),
               "x": int(cols.exchange[i]), "y": int(cols.participant_timestamp[i])}
    if _model(call).market(ticker) == "stocks":
        results["z"] = int(cols.tape[i])
    return {"request_id": call.rid, "results": results, "status": "OK"}


@serves("/v2/last/nbbo/*")
def last_quote(call: Call) -> Dict[str, Any]:
    """``/v2/last/nbbo/{ticker}``: the tape's latest quote."""
    ticker = ticker_of(effective(call))
    cols, i = latest(_model(call), ticker, call.now_ms, day_quotes)
    results = {"P": float(cols.ask_price[i]), "S": int(cols.ask_size[i]), "T": ticker,
               "X": int(cols.ask_exchange[i]), "p": float(cols.bid_price[i]), "q": int(cols.sequence_number[i]),
               "s": int(cols.bid_size[i]), "t": int(cols.sip_timestamp[i]), "x": int(cols.bid_exchange[i]),
               "y": int(cols.participant_timestamp[i]), "z": int(cols.tape[i])}
    return {"request_id": call.rid, "results": results, "status": "OK"}


# -- currencies -----------------------------------------------------------------------------------------
def _pair(params: Dict[str, Any]) -> Tuple[str, str]:
    base = str(params.get("from") or params.get("from_") or "").upper()
    quote_ = str(params.get("to") or "").upper()
    if not (base.isalpha() and quote_.isalpha() and 2 <= len(base) <= 6 and 2 <= len(quote_) <= 6):
        raise WireError(400, "Invalid currency pair '%s/%s': use currency codes such as EUR and USD." % (base, quote_))
    return base, quote_


def _fx_rate(model: MarketModel, base: str, quote_: str, now_ms: int, prefix: str = "C:") -> Tuple[float, float, int]:
    """``(bid, ask, timestamp ms)`` of ``base/quote`` from the tape (inverse or via USD when needed)."""
    if base == quote_:
        return 1.0, 1.0, now_ms
    direct = prefix + base + quote_
    if direct in model.universe:
        cols, i = latest(model, direct, now_ms, day_quotes)
        return float(cols.bid_price[i]), float(cols.ask_price[i]), int(cols.sip_timestamp[i]) // 1_000_000
    inverse = prefix + quote_ + base
    if inverse in model.universe:
        bid, ask, t = _fx_rate(model, quote_, base, now_ms, prefix)
        return 1.0 / ask, 1.0 / bid, t
    if "USD" not in (base, quote_):
        b1, a1, t1 = _fx_rate(model, base, "USD", now_ms, prefix)
        b2, a2, t2 = _fx_rate(model, "USD", quote_, now_ms, prefix)
        return b1 * b2, a1 * a2, max(t1, t2)
    raise WireError(404, "No rate for %s/%s in the sandbox." % (base, quote_), "NOT_FOUND", "message")


@serves("/v1/last_quote/currencies/*/*")
def last_forex_quote(call: Call) -> Dict[str, Any]:
    """``/v1/last_quote/currencies/{from}/{to}``: the latest quote of a currency pair."""
    base, quote_ = _pair(effective(call))
    bid, ask, t = _fx_rate(_model(call), base, quote_, call.now_ms)
    return {"last": {"ask": round(ask, 6), "bid": round(bid, 6), "exchange": 48, "timestamp": t},
            "request_id": call.rid, "status": "success", "symbol": "%s/%s" % (base, quote_)}


@serves("/v1/last/crypto/*/*")
def last_crypto_trade(call: Call) -> Dict[str, Any]:
    """``/v1/last/crypto/{from}/{to}``: the latest trade of a crypto pair."""
    base, quote_ = _pair(effective(call))
    ticker = "X:%s%s" % (base, quote_)
    model = _model(call)
    if ticker not in model.universe:
        raise unknown_ticker()
    cols, i = latest(model, ticker, call.now_ms)
    return {"last": {"conditions": _CRYPTO_CONDITIONS, "exchange": 1 + int(cols.exchange[i]) % 4,
                     "price": float(cols.price[i]), "size": float(cols.size[i]),
                     "timestamp": int(cols.sip_timestamp[i]) // 1_000_000},
            "request_id": call.rid, "status": "success", "symbol": "%s-%s" % (base, quote_)}


@serves("/v1/conversion/*/*")
def conversion(call: Call) -> Dict[str, Any]:
    """``/v1/conversion/{from}/{to}``: ``amount`` converted at the mid of the latest quote."""
    params = effective(call)
    base, quote_ = _pair(params)
    try:
        amount = float(params.get("amount", 1))
        precision = int(params.get("precision", 2))
    except (TypeError, ValueError):
        raise WireError(400, "Invalid value for 'amount' or 'precision': must be numbers.") from None
    if precision not in range(5):
        raise WireError(400, "Invalid value for 'precision': must be one of 0, 1, 2, 3, 4.")
    bid, ask, t = _fx_rate(_model(call), base, quote_, call.now_ms)
    return {"converted": round(amount * (bid + ask) / 2.0, precision), "from": base, "initialAmount": amount,
            "last": {"ask": round(ask, 6), "bid": round(bid, 6), "exchange": 48, "timestamp": t},
            "request_id": call.rid, "status": "success", "symbol": "%s/%s" % (base, quote_), "to": quote_}
