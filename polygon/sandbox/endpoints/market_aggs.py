"""Bars of every market: aggregates, previous close, grouped daily, daily open/close.

One handler per URL shape serves every per-market variant (the ticker's prefix decides the
market). "Now" is the sandbox clock's (``call.now_ms``): no bar that has not closed by then, and
adjusted bars apply only the splits whose ex-date has passed by the clock's day
(:func:`clock_day`), so moving the clock across a split changes the adjusted history.
"""

import datetime as _dt
from typing import Any, Dict, List, Mapping, Optional

import numpy as np

from polygon.sandbox import aggs, calendars
from polygon.sandbox.endpoints import Call
from polygon.sandbox.market import Bars, MarketModel
from polygon.sandbox.query import effective, parse_day, serves, ticker_of, to_bool
from polygon.sandbox.tape import day_trades
from polygon.sandbox.wire import WireError

__all__ = ["clock_day", "daily_open_close", "get_aggs", "grouped_daily", "grouped_daily_crypto", "grouped_daily_fx",
           "grouped_daily_stocks", "open_close_crypto", "previous_close"]


def clock_day(call: Call, market: str = "stocks") -> _dt.date:
    """The sandbox clock's today (New York, or UTC for crypto and forex)."""
    return calendars.day_of(market, call.now_ms)


def as_text(params: Mapping[str, Any]) -> Dict[str, str]:
    """Parameters as the provider's query text (``true``/``false`` for booleans)."""
    return {k: ("true" if v is True else "false" if v is False else str(v)) for k, v in params.items()
            if v is not None}


def _bar_row(bars: Bars, i: int, ticker: Optional[str], market: str, t: Optional[int] = None) -> Dict[str, Any]:
    row: Dict[str, Any] = {}
    if ticker is not None:
        row["T"] = ticker
    row.update(o=float(bars.o[i]), h=float(bars.h[i]), l=float(bars.l[i]), c=float(bars.c[i]),
               t=int(bars.t[i]) if t is None else t)
    if market != "indices":
        row.update(v=int(bars.v[i]), vw=float(bars.vw[i]), n=int(bars.n[i]))
    return row


@serves("/v2/aggs/ticker/*/range/*/*/*/*")
def get_aggs(call: Call) -> bytes:
    """``/v2/aggs/ticker/{ticker}/range/{multiplier}/{timespan}/{from}/{to}`` for every market."""
    params = effective(call)
    ticker = ticker_of(params)
    model: MarketModel = call.state.model
    body, _count = aggs.aggs_body(model, ticker, str(params["multiplier"]), str(params["timespan"]),
                                  str(params.get("from", params.get("from_"))), str(params["to"]), as_text(params),
                                  call.base_url, call.rid, until_ms=call.now_ms,
                                  as_of=clock_day(call, model.market(ticker)))
    return body


def _complete_days(model: MarketModel, ticker: str, now_ms: int, count: int) -> List[_dt.date]:
    """The last ``count`` session days of ``ticker`` that closed by ``now_ms``."""
    today = model.day_of(ticker, now_ms)
    days = model.session_days(ticker, today - _dt.timedelta(days=14 + 2 * count), today)
    market = model.market(ticker)
    if days:
        _, closes = calendars.bounds(market, days[-1:])
        if int(closes[0]) > now_ms:
            days = days[:-1]
    return days[-count:]


@serves("/v2/aggs/ticker/*/prev")
def previous_close(call: Call) -> Dict[str, Any]:
    """``/v2/aggs/ticker/{ticker}/prev``: the last complete session's bar."""
    params = effective(call)
    ticker = ticker_of(params)
    adjusted = to_bool(params.get("adjusted"), "adjusted", True)
    model: MarketModel = call.state.model
    body: Dict[str, Any] = {"ticker": ticker, "queryCount": 0, "resultsCount": 0, "adjusted": adjusted}
    days = _complete_days(model, ticker, call.now_ms, 1) if ticker in model.universe else []
    if days:
        market = model.market(ticker)
        bar = model.day_bar(ticker, days[0], adjusted, as_of=clock_day(call, market))
        _, closes = calendars.bounds(market, days)
        body.update(queryCount=1, resultsCount=1, results=[_bar_row(bar, 0, ticker, market, int(closes[0]))])
    body.update(status="OK", request_id=call.rid)
    return body


def grouped_daily(call: Call, market: str) -> Dict[str, Any]:
    """``/v2/aggs/grouped/locale/.../market/{stocks,crypto,fx}/{date}``: every ticker's day bar."""
    params = effective(call)
    day = parse_day(params.get("date"), "date")
    adjusted = to_bool(params.get("adjusted"), "adjusted", True)
    model: MarketModel = call.state.model
    body: Dict[str, Any] = {"adjusted": adjusted, "queryCount": 0, "resultsCount": 0}
    if calendars.market_days(market, day, day):
        _, closes = calendars.bounds(market, [day])
        rows = []
        if int(closes[0]) <= call.now_ms:
            as_of = clock_day(call, market)
            for sec in model.universe.of_market(market):
                if not model.session_days(sec.ticker, day, day):
                    continue
                bar = model.day_bar(sec.ticker, day, adjusted, as_of=as_of)
                if len(bar):
                    rows.append(_bar_row(bar, 0, sec.ticker, market, int(closes[0])))
        if rows:
            body.update(queryCount=len(rows), resultsCount=len(rows), results=rows)
    body.update(status="OK", request_id=call.rid)
    return body


@serves("/v2/aggs/grouped/locale/us/market/stocks/*")
def grouped_daily_stocks(call: Call) -> Dict[str, Any]:
    """``/v2/aggs/grouped/locale/us/market/stocks/{date}``."""
    return grouped_daily(call, "stocks")


@serves("/v2/aggs/grouped/locale/global/market/crypto/*")
def grouped_daily_crypto(call: Call) -> Dict[str, Any]:
    """``/v2/aggs/grouped/locale/global/market/crypto/{date}``."""
    return grouped_daily(call, "crypto")


@serves("/v2/aggs/grouped/locale/global/market/fx/*")
def grouped_daily_fx(call: Call) -> Dict[str, Any]:
    """``/v2/aggs/grouped/locale/global/market/fx/{date}``."""
    return grouped_daily(call, "fx")


def _not_found() -> WireError:
    return WireError(404, "Data not found.", "NOT_FOUND", "message")


@serves("/v1/open-close/*/*")
def daily_open_close(call: Call) -> Dict[str, Any]:
    """``/v1/open-close/{ticker}/{date}`` (stocks, options, indices): open, close, pre/after-hours."""
    params = effective(call)
    ticker = ticker_of(params)
    day = parse_day(params.get("date"), "date")
    adjusted = to_bool(params.get("adjusted"), "adjusted", True)
    model: MarketModel = call.state.model
    if ticker not in model.universe or not model.session_days(ticker, day, day):
        raise _not_found()
    market = model.market(ticker)
    _, closes = calendars.bounds(market, [day])
    if int(closes[0]) > call.now_ms:
        raise _not_found()
    as_of = clock_day(call, market)
    bar = model.day_bar(ticker, day, adjusted, as_of=as_of)
    raw = model.raw_day(ticker, day)
    factor = model.factor(ticker, day, adjusted, as_of)
    body: Dict[str, Any] = {"status": "OK", "from": day.isoformat(), "symbol": ticker, "open": float(bar.o[0]),
                            "high": float(bar.h[0]), "low": float(bar.l[0]), "close": float(bar.c[0])}
    if market != "indices":
        body["volume"] = int(bar.v[0])
    if market == "stocks":
        first_regular = int(np.argmax(raw.regular))
        pre = raw.present & ~raw.regular & (np.arange(len(raw.t)) < first_regular)
        post = raw.present & ~raw.regular & ~pre
        if post.any():
            body["afterHours"] = round(float(raw.c[post][-1]) * factor, 4)
        if pre.any():
            body["preMarket"] = round(float(raw.o[pre][0]) * factor, 4)
    else:
        body["preMarket"], body["afterHours"] = body["open"], body["close"]
    return body


@serves("/v1/open-close/crypto/*/*/*")
def open_close_crypto(call: Call) -> Dict[str, Any]:
    """``/v1/open-close/crypto/{from}/{to}/{date}``: the UTC day's open and close with their trades."""
    params = effective(call)
    base = str(params.get("from", params.get("from_", ""))).upper()
    quote = str(params.get("to", "")).upper()
    day = parse_day(params.get("date"), "date")
    ticker = "X:%s%s" % (base, quote)
    model: MarketModel = call.state.model
    if ticker not in model.universe or not model.session_days(ticker, day, day):
        raise _not_found()
    if calendars.day_start_ms("crypto", day + _dt.timedelta(days=1)) > call.now_ms:
        raise _not_found()
    trades = day_trades(model, ticker, day)

    def rows(index) -> List[Dict[str, Any]]:
        return [{"c": [1], "i": str(int(trades.id[i])), "p": float(trades.price[i]), "s": float(trades.size[i]),
                 "t": int(trades.sip_timestamp[i]) // 1_000_000, "x": 1 + int(trades.exchange[i]) % 4}
                for i in index]

    n = len(trades)
    return {"close": float(trades.price[-1]), "closingTrades": rows(range(max(0, n - 2), n)[::-1]),
            "day": day.isoformat() + "T00:00:00.000Z", "isUTC": True, "open": float(trades.price[0]),
            "openTrades": rows(range(min(2, n))), "symbol": "%s-%s" % (base, quote)}
