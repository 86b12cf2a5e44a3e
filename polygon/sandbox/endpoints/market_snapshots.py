"""Snapshots: ``/v2/snapshot`` (stocks, crypto, forex: one, all, gainers/losers, crypto book) and
``/v3/snapshot`` (universal, indices, options chain and contract), as of the sandbox clock."""

import datetime as _dt
from typing import Any, Callable, Dict, List, Optional

from polygon.sandbox import options
from polygon.sandbox.endpoints import Call
from polygon.sandbox.endpoints.market_aggs import clock_day
from polygon.sandbox.market import MarketModel
from polygon.sandbox.query import effective, next_url, order_limit, parse_day, serves, ticker_of
from polygon.sandbox.snapshots import Snap, market_status, option_extras, snap
from polygon.sandbox.wire import WireError

__all__ = ["crypto_book", "options_chain", "options_contract", "snapshot_all", "snapshot_direction",
           "snapshot_indices", "snapshot_ticker", "summaries", "universal_snapshot"]

_MARKET_OF_PATH = {"stocks": "stocks", "crypto": "crypto", "forex": "fx"}


def _model(call: Call) -> MarketModel:
    return call.state.model


def _not_found() -> WireError:
    return WireError(404, "Ticker not found.", "NOT_FOUND", "message")


def _snap(call: Call, ticker: str) -> Optional[Snap]:
    model = _model(call)
    return snap(model, ticker, call.now_ms, clock_day(call, model.market(ticker)))


# -- /v2 ----------------------------------------------------------------------------------------------
def _one(call: Call, market: str) -> Dict[str, Any]:
    ticker = ticker_of(effective(call))
    model = _model(call)
    if ticker not in model.universe or model.market(ticker) != market:
        raise _not_found()
    found = _snap(call, ticker)
    if found is None:
        raise WireError(404, "Data not found.", "NOT_FOUND", "message")
    return {"request_id": call.rid, "status": "OK", "ticker": found.v2()}


def _all(call: Call, market: str) -> Dict[str, Any]:
    params = effective(call)
    wanted = params.get("tickers")
    if isinstance(wanted, str):
        wanted = [t for t in wanted.split(",") if t]
    tickers = list(wanted) if wanted else [s.ticker for s in _model(call).universe.of_market(market)]
    rows = []
    for ticker in tickers:
        if ticker in _model(call).universe and _model(call).market(ticker) == market:
            found = _snap(call, ticker)
            if found is not None:
                rows.append(found.v2())
    return {"count": len(rows), "request_id": call.rid, "status": "OK", "tickers": rows}


def _direction(call: Call, market: str) -> Dict[str, Any]:
    direction = str(effective(call).get("direction", ""))
    if direction not in ("gainers", "losers"):
        raise WireError(400, "Invalid value for 'direction': must be one of gainers, losers.")
    rows = [r for r in _all(call, market)["tickers"] if r.get("prevDay")]
    rows.sort(key=lambda r: r["todaysChangePerc"], reverse=direction == "gainers")
    return {"request_id": call.rid, "status": "OK", "tickers": rows[:20]}


def _per_market(shape: str, fn: Callable[[Call, str], Dict[str, Any]], market_path: str):
    market = _MARKET_OF_PATH[market_path]

    @serves(shape)
    def handler(call: Call) -> Dict[str, Any]:
        return fn(call, market)

    handler.__name__ = "%s_%s" % (fn.__name__.strip("_"), market)
    handler.__doc__ = "``%s``." % shape.replace("*", "{...}")
    return handler


snapshot_ticker = _per_market("/v2/snapshot/locale/us/markets/stocks/tickers/*", _one, "stocks")
snapshot_all = _per_market("/v2/snapshot/locale/us/markets/stocks/tickers", _all, "stocks")
snapshot_direction = _per_market("/v2/snapshot/locale/us/markets/stocks/*", _direction, "stocks")
snapshot_crypto_ticker = _per_market("/v2/snapshot/locale/global/markets/crypto/tickers/*", _one, "crypto")
snapshot_crypto_all = _per_market("/v2/snapshot/locale/global/markets/crypto/tickers", _all, "crypto")
snapshot_crypto_direction = _per_market("/v2/snapshot/locale/global/markets/crypto/*", _direction, "crypto")
snapshot_forex_ticker = _per_market("/v2/snapshot/locale/global/markets/forex/tickers/*", _one, "forex")
snapshot_forex_all = _per_market("/v2/snapshot/locale/global/markets/forex/tickers", _all, "forex")
snapshot_forex_direction = _per_market("/v2/snapshot/locale/global/markets/forex/*", _direction, "forex")


@serves("/v2/snapshot/locale/global/markets/crypto/tickers/*/book")
def crypto_book(call: Call) -> Dict[str, Any]:
    """``.../crypto/tickers/{ticker}/book``: a level-2 book around the last quote."""
    ticker = ticker_of(effective(call))
    if ticker not in _model(call).universe or _model(call).market(ticker) != "crypto":
        raise _not_found()
    found = _snap(call, ticker)
    if found is None:
        raise WireError(404, "Data not found.", "NOT_FOUND", "message")
    q = found.quote()
    tick = max(round(q["ask"] - q["bid"], 8), 0.01)
    bids = [{"p": round(q["bid"] - i * tick, 8), "x": {str((1, 2, 6, 23)[i % 4]): round(0.1 + 0.37 * i, 4)}}
            for i in range(10)]
    asks = [{"p": round(q["ask"] + i * tick, 8), "x": {str((1, 2, 6, 23)[(i + 1) % 4]): round(0.2 + 0.29 * i, 4)}}
            for i in range(10)]
    return {"data": {"askCount": round(sum(next(iter(a["x"].values())) for a in asks), 4), "asks": asks,
                     "bidCount": round(sum(next(iter(b["x"].values())) for b in bids), 4), "bids": bids,
                     "spread": round(q["ask"] - q["bid"], 8), "ticker": ticker,
                     "updated": found.last_trade_ns() // 1_000_000},
            "status": "OK", "request_id": call.rid}


# -- /v3 ----------------------------------------------------------------------------------------------
_TYPES = ("stocks", "options", "crypto", "fx", "indices")


def _v3_item(call: Call, ticker: str) -> Dict[str, Any]:
    model = _model(call)
    sec = model.universe.get(ticker)
    if sec is None:
        return {"error": "NOT_FOUND", "message": "Ticker not found.", "ticker": ticker}
    market = sec.market
    item: Dict[str, Any] = {"market_status": market_status(market, call.now_ms), "name": sec.name,
                            "ticker": ticker, "type": market}
    found = _snap(call, ticker)
    if market == "options":
        item.update(option_extras(model, ticker, call.now_ms, clock_day(call)))
        if found is not None:
            item["break_even_price"] = round(item["details"]["strike_price"] + found.price
                                             * (1 if item["details"]["contract_type"] == "call" else -1), 4)
            under = item["underlying_asset"]
            under["change_to_break_even"] = round(item["break_even_price"] - under["price"], 4)
        item["details"].pop("ticker", None)
    if found is None:
        return item
    item["session"] = found.day_agg(short=False)
    if market == "indices":
        item.update(value=found.price, last_updated=int(found.minutes.t[-1]) * 1_000_000, timeframe="REAL-TIME")
        return item
    item["last_quote"] = found.v3_quote()
    if market != "fx":
        item["last_trade"] = found.v3_trade()
    item["fmv"] = found.price
    return item


def _v3_list(call: Call, default_tickers: Callable[[], List[str]], max_limit: int = 250) -> Dict[str, Any]:
    params = effective(call)
    order, limit, _sort = order_limit(params, "asc", 10, max_limit, ("ticker",))
    any_of = params.get("ticker.any_of") or params.get("ticker_any_of")
    if isinstance(any_of, str):
        any_of = [t for t in any_of.split(",") if t]
    if params.get("ticker"):
        tickers = [str(params["ticker"])]
    elif any_of:
        tickers = list(any_of)
    else:
        tickers = sorted(default_tickers())
        for op, keep in (("gte", lambda t, v: t >= v), ("gt", lambda t, v: t > v), ("lte", lambda t, v: t <= v),
                         ("lt", lambda t, v: t < v)):
            value = params.get("ticker.%s" % op, params.get("ticker_%s" % op))
            if value:
                tickers = [t for t in tickers if keep(t, str(value))]
        if order == "desc":
            tickers.reverse()
    page, more = tickers[:limit], len(tickers) > limit
    body: Dict[str, Any] = {"request_id": call.rid, "results": [_v3_item(call, t) for t in page], "status": "OK"}
    if more and not any_of:
        cursor = {k: v for k, v in params.items() if k in ("type", "order", "limit", "sort")}
        cursor.update(order=order, limit=limit)
        cursor["ticker.gt" if order == "asc" else "ticker.lt"] = page[-1]
        body["next_url"] = next_url(call.base_url, _v3_path(call), cursor)
    return body


def _v3_path(call: Call) -> str:
    return "/v3/snapshot/indices" if "indices" in call.name else "/v3/snapshot"


@serves("/v3/snapshot")
def universal_snapshot(call: Call) -> Dict[str, Any]:
    """``/v3/snapshot``: any tickers of any market (``ticker.any_of``), or a market's (``type``) list."""
    params = effective(call)
    kind = params.get("type")
    if kind is not None and kind not in _TYPES:
        raise WireError(400, "Invalid value for 'type': must be one of %s." % ", ".join(_TYPES))
    model = _model(call)

    def tickers() -> List[str]:
        kinds = [kind] if kind else ["stocks", "crypto", "fx", "indices"]
        return [s.ticker for k in kinds if k != "options" for s in model.universe.of_market(k)]

    return _v3_list(call, tickers)


@serves("/v3/snapshot/indices")
def snapshot_indices(call: Call) -> Dict[str, Any]:
    """``/v3/snapshot/indices``: index values and sessions."""
    body = _v3_list(call, lambda: [s.ticker for s in _model(call).universe.of_market("indices")])
    for item in body["results"]:
        if item.get("type") not in (None, "indices") and "error" not in item:
            item.clear()
            item.update(error="NOT_FOUND", message="Not an index.", ticker=item.get("ticker", ""))
    return body


# -- options chain -----------------------------------------------------------------------------------------
def _chain_item(call: Call, ticker: str) -> Dict[str, Any]:
    item = _v3_item(call, ticker)
    out = {k: item[k] for k in ("break_even_price", "details", "greeks", "implied_volatility", "open_interest",
                                "underlying_asset", "fmv") if k in item}
    out["details"] = dict(out["details"], ticker=ticker)
    if "session" in item:
        s = item["session"]
        out["day"] = {"change": s["change"], "change_percent": s["change_percent"], "close": s["close"],
                      "high": s["high"], "low": s["low"], "open": s["open"], "volume": s.get("volume", 0),
                      "previous_close": s.get("previous_close", s["open"]),
                      "last_updated": item["last_trade"]["sip_timestamp"]}
        out["last_quote"] = {k: v for k, v in item["last_quote"].items() if k not in ("ask_exchange", "bid_exchange")}
        out["last_trade"] = item["last_trade"]
    else:
        out["day"] = {}
    return out


def _range(params: Dict[str, Any], name: str, convert: Callable[[Any], Any], value: Any) -> bool:
    exact = params.get(name)
    if exact not in (None, "") and convert(exact) != value:
        return False
    for op, test in (("gte", lambda a, b: a >= b), ("gt", lambda a, b: a > b), ("lte", lambda a, b: a <= b),
                     ("lt", lambda a, b: a < b)):
        bound = params.get("%s.%s" % (name, op), params.get("%s_%s" % (name, op)))
        if bound not in (None, "") and not test(value, convert(bound)):
            return False
    return True


def listed_contracts(model: MarketModel, underlying: str, as_of: _dt.date, params: Dict[str, Any]) -> List[Any]:
    """Contracts of ``underlying`` listed and unexpired on ``as_of`` that pass the query's filters."""
    kind = params.get("contract_type")
    if kind not in (None, "", "call", "put"):
        raise WireError(400, "Invalid value for 'contract_type': must be one of call, put.")
    out = []
    for expiration in options.expirations(underlying, as_of):
        if not _range(params, "expiration_date", lambda v: parse_day(v, "expiration_date"), expiration):
            continue
        for c in options.contracts(model.universe, underlying, expiration):
            if c.list_date > as_of or (kind and c.contract_type != kind):
                continue
            if _range(params, "strike_price", float, c.strike):
                out.append(c)
    return out


_CHAIN_SORTS = ("ticker", "expiration_date", "strike_price")


@serves("/v3/snapshot/options/*")
def options_chain(call: Call) -> Dict[str, Any]:
    """``/v3/snapshot/options/{underlying}``: the chain with prices, greeks and IV, filtered and paged."""
    params = effective(call)
    underlying = str(params.get("underlyingAsset") or params.get("underlying_asset") or "")
    if underlying not in options.UNDERLYINGS or underlying not in _model(call).universe:
        return {"request_id": call.rid, "results": [], "status": "OK"}
    order, limit, sort = order_limit(params, "asc", 10, 250, _CHAIN_SORTS)
    found = listed_contracts(_model(call), underlying, clock_day(call), params)
    key = {"ticker": lambda c: c.ticker, "expiration_date": lambda c: (c.expiration, c.ticker),
           "strike_price": lambda c: (c.strike, c.ticker)}[sort]
    found.sort(key=key, reverse=order == "desc")
    offset = int(params.get("offset", 0) or 0)
    page = found[offset:offset + limit]
    body: Dict[str, Any] = {"request_id": call.rid, "results": [_chain_item(call, c.ticker) for c in page],
                            "status": "OK"}
    if offset + limit < len(found):
        cursor = {k: v for k, v in params.items() if k not in ("underlyingAsset", "underlying_asset", "offset")}
        cursor.update(order=order, limit=limit, sort=sort, offset=offset + limit)
        body["next_url"] = next_url(call.base_url, "/v3/snapshot/options/%s" % underlying, cursor)
    return body


@serves("/v3/snapshot/options/*/*")
def options_contract(call: Call) -> Dict[str, Any]:
    """``/v3/snapshot/options/{underlying}/{contract}``: one contract's snapshot."""
    params = effective(call)
    underlying = str(params.get("underlyingAsset") or params.get("underlying_asset") or "")
    ticker = str(params.get("optionContract") or params.get("option_contract") or "")
    if not ticker.startswith("O:"):
        ticker = "O:" + ticker
    contract = options.contract_of(_model(call).universe, ticker)
    if contract is None or contract.underlying != underlying:
        raise _not_found()
    return {"request_id": call.rid, "results": _chain_item(call, ticker), "status": "OK"}


@serves("/v1/summaries")
def summaries(call: Call) -> Dict[str, Any]:
    """``/v1/summaries``: name, price and session of each ``ticker.any_of`` (any market)."""
    params = effective(call)
    wanted = params.get("ticker.any_of") or params.get("ticker_any_of") or []
    if isinstance(wanted, str):
        wanted = [t for t in wanted.split(",") if t]
    results = []
    for ticker in list(wanted)[:250]:
        item = _v3_item(call, ticker)
        if "error" in item or "session" not in item:
            results.append(item if "error" in item else dict(item, price=None))
            continue
        out = {k: item[k] for k in ("market_status", "name", "session", "ticker", "type")}
        out["price"] = item["session"]["close"]
        out["last_updated"] = item.get("last_trade", {}).get("sip_timestamp") or item.get("last_updated") or \
            item.get("last_quote", {}).get("last_updated")
        if item["type"] == "options":
            out["options"] = dict(item["details"], underlying_ticker=item["underlying_asset"]["ticker"])
        results.append(out)
    return {"request_id": call.rid, "results": results, "status": "OK"}
