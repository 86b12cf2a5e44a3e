"""Ticker reference data over the sandbox's universe: the ticker list (every market, cursor pages),
ticker details, ticker types, ticker events, related companies and taxonomy classifications."""

import datetime as _dt
from typing import Any, Dict, List

from polygon.sandbox import reference
from polygon.sandbox.endpoints import Call
from polygon.sandbox.listing import effective_query, filter_rows, list_body, path_value
from polygon.sandbox.query import serves
from polygon.sandbox.refdata import TICKER_TYPES, sector_of
from polygon.sandbox.universe import stable_seed
from polygon.sandbox.wire import WireError

_LOCALES = {"stocks": "us", "indices": "us", "crypto": "global", "fx": "global", "options": "us"}
#: renamed tickers: ticker -> ((first ticker, its first day), ...) in order
_RENAMES = {"META": (("FB", "2012-05-18"), ("META", "2022-06-09"))}


def securities(universe) -> List[Any]:
    """Every listed security of every market (US stocks first)."""
    return list(universe.securities) + list(getattr(universe, "others", ()))


def market_of(sec) -> str:
    return getattr(sec, "market", "stocks")


def is_active(sec, day: str) -> bool:
    """Listed on ``day`` (``YYYY-MM-DD``) and not delisted before it."""
    delisted = getattr(sec, "delisted", None)
    return sec.list_date <= day and (delisted is None or day <= delisted)


def ticker_row(sec) -> Dict[str, Any]:
    """The ``/v3/reference/tickers`` row of ``sec``."""
    market = market_of(sec)
    if market == "stocks":
        row = reference.ticker_row(sec)
    else:
        row = {"ticker": sec.ticker, "name": sec.name, "market": market, "locale": _LOCALES[market],
               "active": True, "currency_name": "usd" if market != "fx" else sec.ticker[-3:].lower(),
               "last_updated_utc": "2024-01-02T00:00:00Z"}
        if market == "indices":
            row["type"] = "INDEX"
    delisted = getattr(sec, "delisted", None)
    if delisted is not None:
        row["active"] = False
        row["delisted_utc"] = delisted + "T00:00:00Z"
    return row


def _unknown() -> WireError:
    return WireError(404, "Ticker not found.", "NOT_FOUND", "message")


@serves("/v3/reference/tickers")
def list_tickers(call: Call) -> Dict[str, Any]:
    """``/v3/reference/tickers``: filters ``ticker`` (and ranges), ``type``, ``market``, ``exchange``, ``cik``,
    ``cusip``, ``date``, ``search``, ``active`` (default true); ``sort``/``order``/``limit`` (max 1000)."""
    query = effective_query(call)
    day = query.get("date") or _dt.date.fromtimestamp(call.now_ms / 1000.0).isoformat()
    active = (query.get("active") or "true").lower() in ("true", "1")
    day = day[:10]
    rows = [ticker_row(s) for s in securities(call.state.model.universe)
            if s.list_date <= day and is_active(s, day) == active]  # active on the query's day
    rows = filter_rows(rows, query, {"ticker": lambda r: r["ticker"], "type": lambda r: r.get("type"),
                                     "market": lambda r: r["market"], "exchange": lambda r: r.get("primary_exchange"),
                                     "cik": lambda r: r.get("cik"), "cusip": lambda r: r.get("cusip")})
    if query.get("search"):
        needle = query["search"].lower()
        rows = [r for r in rows if needle in r["ticker"].lower() or needle in r["name"].lower()]
    keys = {"name": lambda r: (r["name"], r["ticker"])}
    return list_body(call, rows, query, "ticker", limit=100, keys=keys)


@serves("/v3/reference/tickers/*")
def ticker_details(call: Call):
    """``/v3/reference/tickers/{ticker}``; unknown tickers get the provider's 404."""
    ticker = path_value(call, "ticker")
    sec = call.state.model.universe.get(ticker)
    if sec is None or market_of(sec) == "options":
        raise _unknown()
    if market_of(sec) != "stocks":
        row = ticker_row(sec)
        del row["last_updated_utc"]
        row["list_date"] = sec.list_date
        return {"request_id": call.rid, "results": row, "status": "OK"}
    body = reference.ticker_details_dict(call.state.model, ticker, call.wall_ms)
    delisted = getattr(sec, "delisted", None)
    if delisted is not None:
        body["active"] = False
        body["delisted_utc"] = delisted + "T00:00:00Z"
    return {"request_id": call.rid, "results": body, "status": "OK"}


@serves("/v3/reference/tickers/types")
def ticker_types(call: Call) -> Dict[str, Any]:
    """``/v3/reference/tickers/types``: filters ``asset_class``, ``locale``."""
    rows = filter_rows(list(TICKER_TYPES), call.args, {"asset_class": lambda r: r["asset_class"],
                                                        "locale": lambda r: r["locale"]})
    return {"results": rows, "status": "OK", "request_id": call.rid, "count": len(rows)}


def _resolve(universe, ident: str):
    """A stock by ticker, CIK or composite FIGI (the events endpoint takes any of them)."""
    sec = universe.get(ident)
    if sec is not None:
        return sec
    for sec in universe.securities:
        row = reference.ticker_row(sec)
        if ident in (row["cik"], row["composite_figi"]):
            return sec
    return None


@serves("/vX/reference/tickers/*/events")
def ticker_events(call: Call) -> Dict[str, Any]:
    """``/vX/reference/tickers/{id}/events``: the ticker changes since listing (``types`` filter)."""
    ident = path_value(call, "id")
    sec = _resolve(call.state.model.universe, str(ident))
    if sec is None or market_of(sec) != "stocks":
        raise _unknown()
    today = _dt.date.fromtimestamp(call.now_ms / 1000.0).isoformat()
    changes = _RENAMES.get(sec.ticker, ((sec.ticker, sec.list_date),))
    events = [{"event_type": "ticker_change", "date": day, "ticker_change": {"ticker": name}}
              for name, day in reversed(changes) if day <= today]
    wanted = call.args.get("types")
    if wanted:
        events = [e for e in events if e["event_type"] in wanted.split(",")]
    return {"request_id": call.rid, "results": {"name": sec.name, "events": events}, "status": "OK"}


@serves("/v1/related-companies/*")
def related_companies(call: Call) -> Dict[str, Any]:
    """``/v1/related-companies/{ticker}``: five tickers of the same market (stocks: the same sector)."""
    ticker = path_value(call, "ticker")
    universe = call.state.model.universe
    sec = universe.get(ticker)
    if sec is None or market_of(sec) == "options":
        raise _unknown()
    if market_of(sec) == "stocks":
        sector = sector_of(ticker)[0]
        peers = [s.ticker for s in universe.securities if s.ticker != ticker and sector_of(s.ticker)[0] == sector]
    else:
        peers = [s.ticker for s in securities(universe) if s.ticker != ticker and market_of(s) == market_of(sec)]
    peers.sort(key=lambda other: (other not in reference.KNOWN_TICKERS, stable_seed("related", ticker, other)))
    return {"request_id": call.rid, "results": [{"ticker": t} for t in peers[:5]], "status": "OK", "ticker": ticker}


_REASONS = "Classified by the sandbox from the company's synthetic description (sector: %s)."


@serves("/vX/reference/tickers/taxonomies")
def ticker_taxonomies(call: Call) -> Dict[str, Any]:
    """``/vX/reference/tickers/taxonomies``: one ``sector`` classification per US stock."""
    query = effective_query(call)
    rows = []
    for sec in call.state.model.universe.securities:
        tag = sector_of(sec.ticker)[0]
        rows.append({"ticker": sec.ticker, "category": "sector", "tag": tag, "reason": _REASONS % tag})
    rows = filter_rows(rows, query, {"ticker": lambda r: r["ticker"], "category": lambda r: r["category"],
                                     "tag": lambda r: r["tag"]})
    return list_body(call, rows, query, "ticker", max_limit=250, with_count=False)
