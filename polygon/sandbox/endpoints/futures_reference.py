"""Futures reference data: ``/futures/v1/products``, ``/contracts``, ``/schedules``, ``/market-status`` and
``/exchanges``, from the sandbox's products (:data:`polygon.sandbox.universe.FUTURES_PRODUCTS`) and the CME Globex
calendar (:mod:`polygon.sandbox.calendars`): a contract is active from its first to its last trade date, a
schedule is the session's open (18:00 New York the evening before) and close (17:00, or the early close of a CME
holiday: exchange-calendars' ``CMES``), and the market status says whether the session is running now, in its
daily 17:00-18:00 break, or closed (the weekend, a CME holiday, the hours after an early close).
"""

import bisect
import datetime as _dt
from typing import Any, Callable, Dict, List, Mapping

from polygon.sandbox import calendars
from polygon.sandbox.endpoints import Call, handles
from polygon.sandbox.listing import effective_query, filter_rows, list_body
from polygon.sandbox.universe import FUTURES_PRODUCTS, FuturesContract, FuturesProduct, futures_contracts
from polygon.sandbox.wire import WireError

__all__ = ["EXCHANGES", "contract_row", "product_row"]

#: the four CME Group exchanges (ids are the sandbox's own)
EXCHANGES = [
    {"id": "1", "acronym": "CME", "mic": "XCME", "operating_mic": "XCME", "name": "Chicago Mercantile Exchange",
     "locale": "us", "type": "exchange", "url": "https://www.cmegroup.com"},
    {"id": "2", "acronym": "CBOT", "mic": "XCBT", "operating_mic": "XCME", "name": "Chicago Board of Trade",
     "locale": "us", "type": "exchange", "url": "https://www.cmegroup.com"},
    {"id": "3", "acronym": "NYMEX", "mic": "XNYM", "operating_mic": "XCME", "name": "New York Mercantile Exchange",
     "locale": "us", "type": "exchange", "url": "https://www.cmegroup.com"},
    {"id": "4", "acronym": "COMEX", "mic": "XCEC", "operating_mic": "XCME", "name": "Commodity Exchange",
     "locale": "us", "type": "exchange", "url": "https://www.cmegroup.com"},
]
_MS_NS = 1_000_000


def _iso(ms: int) -> str:
    return _dt.datetime.fromtimestamp(ms / 1000.0, _dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def _day(call: Call, query: Mapping[str, str]) -> _dt.date:
    text = query.get("date")
    if text:
        try:
            return _dt.date.fromisoformat(text[:10])
        except ValueError:
            raise WireError(400, "Invalid value for 'date': %r is not a date (YYYY-MM-DD)." % text) from None
    return calendars.day_of("futures", call.now_ms)


def _sorted_page(call: Call, rows: List[Dict[str, Any]], query: Mapping[str, str], default: str,
                 fields: Mapping[str, Callable]) -> Dict[str, Any]:
    """Filter ``rows`` by ``fields`` and answer one page sorted by ``sort`` (``field.asc`` / ``field.desc``)."""
    rows = filter_rows(rows, query, fields)
    sort = query.get("sort") or default
    field, _, order = sort.partition(".")
    order = order or query.get("order") or "asc"
    if order not in ("asc", "desc") or (rows and field not in rows[0]):
        raise WireError(400, "Invalid value for 'sort': %r (use a field with .asc or .desc)." % sort)
    return list_body(call, rows, dict(query, sort=field, order=order), field, limit=100, max_limit=1000,
                     with_count=False)


def product_row(p: FuturesProduct, day: _dt.date) -> Dict[str, Any]:
    """The ``/futures/v1/products`` row of ``p`` as of ``day``."""
    return {"product_code": p.code, "name": p.name, "date": day.isoformat(), "trading_venue": p.venue,
            "asset_class": p.asset_class, "asset_sub_class": p.asset_sub_class, "sector": p.sector,
            "sub_sector": p.sub_sector, "type": "single", "last_updated": "2024-01-02T00:00:00Z",
            "price_quotation": "usd_per_%s" % p.unit.rstrip("s"), "settlement_currency_code": "USD",
            "settlement_method": p.settlement_method, "settlement_type": "final", "trade_currency_code": "USD",
            "unit_of_measure": p.unit, "unit_of_measure_qty": p.unit_qty}


def contract_row(c: FuturesContract, day: _dt.date) -> Dict[str, Any]:
    """The ``/futures/v1/contracts`` row of ``c`` as of ``day``."""
    row = {"ticker": c.ticker, "product_code": c.product.code, "trading_venue": c.product.venue,
           "name": c.security.name, "type": "single", "date": day.isoformat(),
           "active": c.first_trade_date <= day <= c.last_trade_date,
           "first_trade_date": c.first_trade_date.isoformat(), "last_trade_date": c.last_trade_date.isoformat(),
           "min_order_quantity": 1, "max_order_quantity": 3000, "settlement_date": c.last_trade_date.isoformat(),
           "settlement_tick_size": c.product.tick, "spread_tick_size": c.product.tick,
           "trade_tick_size": c.product.tick, "group_code": c.product.code}
    if c.last_trade_date > day:
        row["days_to_maturity"] = (c.last_trade_date - day).days
    return row


@handles("list_futures_products")
def list_products(call: Call) -> Dict[str, Any]:
    """``/futures/v1/products``: filters on every column, ``sort`` (``product_code.asc`` default)."""
    query = effective_query(call)
    day = _day(call, query)
    rows = [product_row(p, day) for p in FUTURES_PRODUCTS]
    names = ("name", "product_code", "trading_venue", "sector", "sub_sector", "asset_class", "asset_sub_class", "type")
    fields = {n: (lambda r, n=n: r[n]) for n in names}
    return _sorted_page(call, rows, dict(query, date=day.isoformat()), "product_code.asc", fields)


@handles("list_futures_contracts")
def list_contracts(call: Call) -> Dict[str, Any]:
    """``/futures/v1/contracts``: the contracts trading on ``date`` (default today) and those expired in the
    year before it; filters ``product_code``, ``ticker``, ``active``, ``type``, trade-date ranges."""
    query = effective_query(call)
    day = _day(call, query)
    rows = [contract_row(c, day) for p in FUTURES_PRODUCTS
            for c in futures_contracts(p, day - _dt.timedelta(days=365), day) if c.first_trade_date <= day]
    names = ("product_code", "ticker", "active", "type", "first_trade_date", "last_trade_date")
    fields = {n: (lambda r, n=n: r[n]) for n in names}
    return _sorted_page(call, rows, dict(query, date=day.isoformat()), "product_code.asc", fields)


def _schedule_rows(day: _dt.date) -> List[Dict[str, Any]]:
    if day not in calendars.market_days("futures", day, day):
        return []
    opens, closes = calendars.bounds("futures", [day])
    rows = []
    for p in FUTURES_PRODUCTS:
        for event, ms in (("open", int(opens[0])), ("close", int(closes[0]))):
            rows.append({"event": event, "timestamp": _iso(ms), "session_end_date": day.isoformat(),
                         "product_code": p.code, "trading_venue": p.venue, "product_name": p.name})
    return rows


@handles("list_futures_schedules")
def list_schedules(call: Call) -> Dict[str, Any]:
    """``/futures/v1/schedules``: each product's session open and close (UTC) for ``session_end_date``
    (default: today's trading date; ranges up to 31 days)."""
    query = effective_query(call)
    today = _dt.date.fromisoformat(market_event(call.now_ms)["session_end_date"])  # the current or next session
    try:
        exact = query.get("session_end_date")
        first = _dt.date.fromisoformat((exact or query.get("session_end_date.gte") or query.get("session_end_date.gt")
                                        or today.isoformat())[:10])
        last = _dt.date.fromisoformat((exact or query.get("session_end_date.lte") or query.get("session_end_date.lt")
                                       or first.isoformat())[:10])
    except ValueError:
        raise WireError(400, "Invalid value for 'session_end_date': use YYYY-MM-DD.") from None
    if (last - first).days > 31:
        raise WireError(400, "The session_end_date range is limited to 31 days.")
    rows = [r for n in range((last - first).days + 1) for r in _schedule_rows(first + _dt.timedelta(days=n))]
    names = ("product_code", "trading_venue", "session_end_date")
    fields = {n: (lambda r, n=n: r[n]) for n in names}
    return _sorted_page(call, rows, query, "product_code.asc", fields)  # stable: each day's open, then close


def market_event(now_ms: int) -> Dict[str, Any]:
    """``{'market_event', 'session_end_date'}`` of CME Globex at ``now_ms``: ``open`` inside a session,
    ``pause`` in the daily 17:00-18:00 break before another session, ``closed`` otherwise."""
    day = calendars.day_of("futures", now_ms)
    upcoming = calendars.market_days("futures", day, day + _dt.timedelta(days=10))
    opens, closes = calendars.bounds("futures", upcoming)
    i = bisect.bisect_right(closes.tolist(), now_ms)  # the first session not closed yet (in the break or after
    nxt = upcoming[i]  # an early close: the next one)
    if int(opens[i]) <= now_ms < int(closes[i]):
        return {"market_event": "open", "session_end_date": nxt.isoformat()}
    previous = calendars.market_days("futures", day - _dt.timedelta(days=10), nxt - _dt.timedelta(days=1))
    gap = int(opens[i]) - now_ms
    if previous and 0 < gap <= 3_600_000:
        return {"market_event": "pause", "session_end_date": nxt.isoformat()}
    return {"market_event": "closed", "session_end_date": nxt.isoformat()}


@handles("list_futures_market_statuses")
def list_market_statuses(call: Call) -> Dict[str, Any]:
    """``/futures/v1/market-status``: each product's state now (filters ``product_code``)."""
    query = effective_query(call)
    state = market_event(call.now_ms)
    rows = [dict(state, name=p.name, product_code=p.code, trading_venue=p.venue, timestamp=_iso(call.now_ms))
            for p in FUTURES_PRODUCTS]
    return _sorted_page(call, rows, query, "product_code.asc", {"product_code": lambda r: r["product_code"]})


@handles("list_futures_exchanges")
def list_exchanges(call: Call) -> Dict[str, Any]:
    """``/futures/v1/exchanges``: CME, CBOT, NYMEX and COMEX."""
    return _sorted_page(call, [dict(r) for r in EXCHANGES], effective_query(call), "id.asc", {})
