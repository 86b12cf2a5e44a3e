"""Futures market data from the sandbox's tape: ``/futures/v1/aggs``, ``/trades``, ``/quotes`` and ``/snapshot``.

Everything is read from the market model and :mod:`polygon.sandbox.tape` like the other markets, so a
contract's bars are the aggregation of its trades, its snapshot's session is its session bar so far, and its
last trade is the last trade listed. A futures bar carries ``session_end_date`` (the trading date: the session
runs from 18:00 New York the evening before to 17:00); session bars start at the session's open and carry
the ``settlement_price``: the sandbox settles at the last trade before the product's settlement time.
Nothing after the sandbox clock's "now" is served.
"""

import datetime as _dt
import re
from typing import Any, Dict, List, Optional, Tuple

import numpy as np

from polygon.sandbox import calendars
from polygon.sandbox.bars import MINUTE_MS, Bars
from polygon.sandbox.endpoints import Call, handles
from polygon.sandbox.listing import effective_query, filter_rows, list_body
from polygon.sandbox.market import MarketModel
from polygon.sandbox.query import effective, next_url, ns_bounds
from polygon.sandbox.tape import day_quotes, day_trades
from polygon.sandbox.universe import (
    FUTURES_PRODUCTS,
    FuturesContract,
    front_contract,
    futures_contract,
    futures_contracts,
    stable_fraction,
)
from polygon.sandbox.wire import WireError

__all__ = ["futures_aggregates", "futures_quotes", "futures_snapshot", "futures_trades", "settlement_price"]

_RESOLUTION = re.compile(r"^([1-9][0-9]*)(sec|min|hour|session|week|month|quarter|year)$")
#: unit -> (the market model's timespan, the largest multiplier: 59min as the provider documents; the others
#: are the sandbox's own bounds)
_UNITS = {"sec": ("second", 59), "min": ("minute", 59), "hour": ("hour", 23), "session": ("day", 1),
          "week": ("week", 1), "month": ("month", 1), "quarter": ("quarter", 1), "year": ("year", 1)}
_DAY_NS = 86_400 * 10**9


def _contract(ticker: str) -> FuturesContract:
    contract = futures_contract(ticker)
    if contract is None:
        raise WireError(404, "Ticker not found.", "NOT_FOUND", "message")
    return contract


def _sort(params: Dict[str, Any], field: str, default: str) -> bool:
    """``True`` for ascending; ``field.asc`` / ``field.desc`` checked."""
    value = str(params.get("sort") or default)
    if value not in ("%s.asc" % field, "%s.desc" % field):
        raise WireError(400, "Invalid value for 'sort': must be one of %s.asc, %s.desc." % (field, field))
    return value.endswith(".asc")


def _limit(params: Dict[str, Any], default: int, maximum: int) -> int:
    try:
        limit = int(params.get("limit") or default)
    except (TypeError, ValueError):
        raise WireError(400, "Invalid value for 'limit': must be an integer.") from None
    if limit < 1:
        raise WireError(400, "Invalid value for 'limit': must be greater than 0.")
    return min(limit, maximum)


def _page(call: Call, path: str, rows: List[Dict[str, Any]], limit: int, params: Dict[str, Any], field: str,
          key: str, asc: bool, lo: Optional[int], hi: int) -> Dict[str, Any]:
    """The body of one page: the first ``limit`` rows, and a cursor after the last one when more follow."""
    body: Dict[str, Any] = {"status": "OK", "request_id": call.rid, "results": rows[:limit]}
    if len(rows) > limit:
        last = rows[limit - 1][key]
        cursor = {"limit": limit, "sort": "%s.%s" % (field, "asc" if asc else "desc"), field + ".lte": hi}
        if lo is not None:
            cursor[field + ".gte"] = lo
        cursor["%s.%s" % (field, "gt" if asc else "lt")] = last
        for name, value in params.items():  # the filters that are not the paged range travel in the cursor
            if name == "resolution" or name == "session_end_date" or name.startswith("session_end_date."):
                cursor[name] = value
        body["next_url"] = next_url(call.base_url, path, cursor)
    return body


# -- settlement ------------------------------------------------------------------------------------------------
def settlement_price(model: MarketModel, contract: FuturesContract, day: _dt.date) -> Optional[float]:
    """The sandbox's settlement of ``contract`` for the session ending on ``day``: the last trade before the
    product's settlement time, or before the session's close when it closes early (``None`` without trades)."""
    cutoff = _settle_cutoff(contract, day)
    minutes = model.day_minutes(contract.ticker, day)
    before = np.flatnonzero(minutes.t + MINUTE_MS <= cutoff)
    if len(before):
        return float(minutes.c[before[-1]])
    return float(minutes.c[-1]) if len(minutes) else None


def _settle_cutoff(contract: FuturesContract, day: _dt.date) -> int:
    """When ``contract`` settles for the session ending on ``day``: the product's settlement time, or the session's
    close when that comes first (a CME holiday early close)."""
    cutoff = calendars.day_start_ms("stocks", day) + contract.product.settle_et * 60_000
    if calendars.market_days("futures", day, day):
        cutoff = min(cutoff, int(calendars.bounds("futures", [day])[1][0]))
    return cutoff


def _settled(model: MarketModel, contract: FuturesContract, day: _dt.date, now_ms: int) -> Optional[float]:
    return settlement_price(model, contract, day) if now_ms >= _settle_cutoff(contract, day) else None


# -- aggregates ------------------------------------------------------------------------------------------------
def _resolution(text: str) -> Tuple[int, str]:
    m = _RESOLUTION.match(text or "1min")
    if m is None:
        raise WireError(400, "Invalid resolution %r: a number and one of sec, min, hour, session, week, month, "
                             "quarter, year (e.g. 1min, 5min, 1hour, 1session)." % (text,))
    multiplier, unit = int(m.group(1)), m.group(2)
    timespan, biggest = _UNITS[unit]
    if multiplier > biggest:
        raise WireError(400, "Invalid resolution %r: at most %d%s." % (text, biggest, unit))
    return multiplier, timespan


def _agg_rows(model: MarketModel, contract: FuturesContract, bars: Bars, timespan: str,
              now_ms: int) -> List[Dict[str, Any]]:
    rows = []
    ticker = contract.ticker
    for i in range(len(bars)):
        t = int(bars.t[i])
        end_day = model.day_of(ticker, t) if timespan not in ("week", "month", "quarter", "year") else None
        row = {"ticker": ticker, "open": float(bars.o[i]), "high": float(bars.h[i]), "low": float(bars.l[i]),
               "close": float(bars.c[i]), "volume": float(bars.v[i]), "dollar_volume": round(float(bars.pv[i]), 2),
               "transactions": int(bars.n[i]), "window_start": t * 1_000_000}
        if end_day is not None:
            row["session_end_date"] = end_day.isoformat()
        if timespan == "day":
            settle = _settled(model, contract, end_day, now_ms)
            if settle is not None:
                row["settlement_price"] = settle
        rows.append(row)
    return rows


@handles("list_futures_aggregates")
def futures_aggregates(call: Call) -> Dict[str, Any]:
    """``/futures/v1/aggs/{ticker}``: bars of ``resolution`` whose window starts in the ``window_start`` range
    (default: the last week), ``sort`` by window start, ``limit`` bars a page."""
    params = effective(call)
    contract = _contract(str(params.get("ticker")))
    model: MarketModel = call.state.model
    multiplier, timespan = _resolution(str(params.get("resolution") or "1min"))
    asc = _sort(params, "window_start", "window_start.asc")
    limit = _limit(params, 1000, 50_000)
    lo, hi = ns_bounds(params, "window_start")
    now_ns = call.now_ms * 1_000_000
    hi = now_ns if hi is None else min(hi, now_ns)
    if lo is None:
        lo = hi - 7 * _DAY_NS if timespan in ("second", "minute", "hour") else \
            calendars.day_start_ms("futures", contract.first_trade_date) * 1_000_000
    rows: List[Dict[str, Any]] = []
    if lo <= hi:
        bars = model.aggregates(contract.ticker, multiplier, timespan, -(-lo // 1_000_000), hi // 1_000_000,
                                until_ms=call.now_ms)
        rows = _agg_rows(model, contract, bars, timespan, call.now_ms)
        rows = [r for r in rows if lo <= r["window_start"] <= hi]
    if not asc:
        rows.reverse()
    return _page(call, "/futures/v1/aggs/%s" % contract.ticker, rows[:limit + 1], limit, params, "window_start",
                 "window_start", asc, lo, hi)


# -- trades and quotes ----------------------------------------------------------------------------------------
def _tick_days(model: MarketModel, contract: FuturesContract, lo: Optional[int], hi: int,
               params: Dict[str, Any]) -> List[_dt.date]:
    first = model.day_of(contract.ticker, lo // 1_000_000) if lo is not None else contract.first_trade_date
    last = model.day_of(contract.ticker, hi // 1_000_000)
    days = model.session_days(contract.ticker, max(first, contract.first_trade_date), last)
    if any(str(k).startswith("session_end_date") for k in params):
        query = {k.replace("session_end_date_", "session_end_date."): str(v) for k, v in params.items()
                 if str(k).startswith("session_end_date")}
        days = [d for d in days if filter_rows([{"d": d.isoformat()}], query, {"session_end_date": lambda r: r["d"]})]
    return days


def _ticks(call: Call, kind: str) -> Dict[str, Any]:
    params = effective(call)
    contract = _contract(str(params.get("ticker")))
    model: MarketModel = call.state.model
    asc = _sort(params, "timestamp", "timestamp.desc")
    limit = _limit(params, 1000, 50_000)
    lo, hi = ns_bounds(params, "timestamp")
    now_ns = call.now_ms * 1_000_000
    hi = now_ns if hi is None else min(hi, now_ns)
    if lo is None and not any(str(k).startswith("session_end_date") for k in params):
        lo = hi - 7 * _DAY_NS  # without bounds: the last week, as far as paging goes
    days = _tick_days(model, contract, lo, hi, params) if lo is None or lo <= hi else []
    rows: List[Dict[str, Any]] = []
    for day in (days if asc else reversed(days)):
        cols = (day_trades if kind == "trades" else day_quotes)(model, contract.ticker, day)
        keep = cols.sip_timestamp <= hi
        if lo is not None:
            keep &= cols.sip_timestamp >= lo
        index = np.flatnonzero(keep)
        for i in (index if asc else index[::-1]).tolist():
            rows.append(_trade_row(contract, cols, i, day) if kind == "trades" else _quote_row(contract, cols, i, day))
            if len(rows) > limit:
                break
        if len(rows) > limit:
            break
    return _page(call, "/futures/v1/%s/%s" % (kind, contract.ticker), rows, limit, params, "timestamp", "timestamp",
                 asc, lo, hi)


def _trade_row(contract: FuturesContract, cols, i: int, day: _dt.date) -> Dict[str, Any]:
    return {"ticker": contract.ticker, "timestamp": int(cols.sip_timestamp[i]), "session_end_date": day.isoformat(),
            "channel": 1, "price": float(cols.price[i]), "size": float(cols.size[i]),
            "report_sequence": int(cols.id[i]), "sequence_number": int(cols.sequence_number[i])}


def _quote_row(contract: FuturesContract, cols, i: int, day: _dt.date) -> Dict[str, Any]:
    ts = int(cols.sip_timestamp[i])
    return {"ticker": contract.ticker, "timestamp": ts, "session_end_date": day.isoformat(),
            "ask_price": float(cols.ask_price[i]), "ask_size": float(cols.ask_size[i]), "ask_timestamp": ts,
            "bid_price": float(cols.bid_price[i]), "bid_size": float(cols.bid_size[i]), "bid_timestamp": ts,
            "channel": 1, "report_sequence": int(cols.sequence_number[i]),
            "sequence_number": int(cols.sequence_number[i])}


@handles("list_futures_trades")
def futures_trades(call: Call) -> Dict[str, Any]:
    """``/futures/v1/trades/{ticker}``: the tape's trades in the ``timestamp`` / ``session_end_date`` range."""
    return _ticks(call, "trades")


@handles("list_futures_quotes")
def futures_quotes(call: Call) -> Dict[str, Any]:
    """``/futures/v1/quotes/{ticker}``: the quote before each trade (bid <= price <= ask)."""
    return _ticks(call, "quotes")


# -- snapshot -------------------------------------------------------------------------------------------------
def _current_day(model: MarketModel, ticker: str, now_ms: int) -> Optional[_dt.date]:
    """The trading date of the session now running, or of the last one that ran."""
    today = model.day_of(ticker, now_ms)
    days = model.session_days(ticker, today - _dt.timedelta(days=10), today)
    days = [d for d in days if calendars.day_start_ms("futures", d) <= now_ms]
    return days[-1] if days else None


def _snapshot(model: MarketModel, contract: FuturesContract, now_ms: int) -> Optional[Dict[str, Any]]:
    ticker = contract.ticker
    day = _current_day(model, ticker, now_ms)
    if day is None:
        return None
    minutes = model.day_minutes(ticker, day)
    done = np.flatnonzero(minutes.t + MINUTE_MS <= now_ms)
    row: Dict[str, Any] = {"ticker": ticker, "product_code": contract.product.code}
    open_interest = int(contract.product.volume * (0.4 + stable_fraction("oi", ticker)) *
                        (1.0 if front_contract(contract.product, day).ticker == ticker else 0.08))
    row["details"] = {"open_interest": open_interest, "ticker": ticker, "product_code": contract.product.code,
                      "settlement_date": calendars.day_start_ms("stocks", contract.last_trade_date) * 1_000_000}
    previous = model.session_days(ticker, day - _dt.timedelta(days=10), day - _dt.timedelta(days=1))
    prev_settle = settlement_price(model, contract, previous[-1]) if previous else None
    if len(done):
        part = minutes.take(done)
        last = int(done[-1])
        close = float(part.c[-1])
        session: Dict[str, Any] = {"open": float(part.o[0]), "high": float(part.h.max()), "low": float(part.l.min()),
                                   "close": close, "volume": float(part.v.sum())}
        if prev_settle is not None:
            session["previous_settlement"] = prev_settle
            session["change"] = round(close - prev_settle, 6)
            session["change_percent"] = round((close - prev_settle) / prev_settle * 100.0, 4)
        settle = _settled(model, contract, day, now_ms)
        if settle is not None:
            session["settlement_price"] = settle
        row["session"] = session
        end_ns = (int(minutes.t[last]) + MINUTE_MS) * 1_000_000
        row["last_minute"] = {"open": float(minutes.o[last]), "high": float(minutes.h[last]),
                              "low": float(minutes.l[last]), "close": float(minutes.c[last]),
                              "volume": float(minutes.v[last]), "last_updated": end_ns, "timeframe": "REAL-TIME"}
    now_ns = now_ms * 1_000_000
    trades = day_trades(model, ticker, day)
    i = int(np.searchsorted(trades.sip_timestamp, now_ns, "right")) - 1
    if i >= 0:
        ts = int(trades.sip_timestamp[i])
        row["last_trade"] = {"price": float(trades.price[i]), "size": int(trades.size[i]), "last_updated": ts,
                             "timeframe": "REAL-TIME"}
        quotes = day_quotes(model, ticker, day)
        q = int(np.searchsorted(quotes.sip_timestamp, now_ns, "right")) - 1
        qs = int(quotes.sip_timestamp[q])
        row["last_quote"] = {"ask": float(quotes.ask_price[q]), "ask_size": int(quotes.ask_size[q]),
                             "ask_timestamp": qs, "bid": float(quotes.bid_price[q]),
                             "bid_size": int(quotes.bid_size[q]), "bid_timestamp": qs, "last_updated": qs,
                             "timeframe": "REAL-TIME"}
    return row


@handles("get_futures_snapshot")
def futures_snapshot(call: Call) -> Dict[str, Any]:
    """``/futures/v1/snapshot``: every contract trading today (filters ``ticker``, ``product_code`` and their
    ranges / ``any_of``), sorted (``ticker.asc`` default), ``limit`` a page."""
    query = effective_query(call)
    now_ms = call.now_ms
    model: MarketModel = call.state.model
    today = calendars.day_of("futures", now_ms)
    stubs = [{"ticker": c.ticker, "product_code": p.code, "contract": c} for p in FUTURES_PRODUCTS
             for c in futures_contracts(p, today, today)]
    stubs = filter_rows(stubs, query, {"ticker": lambda r: r["ticker"], "product_code": lambda r: r["product_code"]})
    sort = query.get("sort") or "ticker.asc"
    field, _, order = sort.partition(".")
    order = order or query.get("order") or "asc"  # a cursor carries them apart
    if field not in ("ticker", "product_code") or order not in ("asc", "desc"):
        raise WireError(400, "Invalid value for 'sort': use ticker or product_code with .asc or .desc.")
    plain = dict(query, sort=field, order=order)
    body = list_body(call, stubs, plain, field, limit=100, max_limit=50_000, with_count=False,
                     render=lambda r: _snapshot(model, r["contract"], now_ms) or {"ticker": r["ticker"]})
    return body
