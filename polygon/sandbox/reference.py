"""Body builders for the sandbox's market status and holidays, ticker rows and details.

Pure functions of the market model, the request parameters and "now"; the shapes and field names
are the provider's.
"""

import datetime as _dt
from typing import Dict, List, Tuple

from polygon.markets import sessions
from polygon.sandbox.market import MINUTE_MS, MarketModel, et_date
from polygon.sandbox.universe import ALWAYS_LIQUID, Security, stable_fraction, stable_seed
from polygon.sandbox.wire import WireError, dumps

__all__ = ["KNOWN_TICKERS", "market_holidays", "market_status", "shares_outstanding", "ticker_details_dict",
           "ticker_row"]

#: the well-known (real-named) tickers of the universe
KNOWN_TICKERS = ALWAYS_LIQUID
_HOLIDAY_NAMES = {1: "New Years Day", 2: "Washingtons Birthday", 5: "Memorial Day", 6: "Juneteenth",
                  7: "Independence Day", 9: "Labor Day", 11: "Thanksgiving", 12: "Christmas"}


def _unknown_ticker() -> WireError:
    return WireError(404, "Ticker not found.", "NOT_FOUND", "message")


def _sessions_until(now_ms: int, count: int) -> List[_dt.date]:
    """The last ``count`` trading days whose regular session opened at or before ``now_ms``."""
    today = et_date(now_ms)
    days = sessions.trading_days(today - _dt.timedelta(days=10 + 2 * count), today)
    if days and days[-1] == today:
        open_ms, _ = sessions.session_bounds(today, today)
        if now_ms < int(open_ms[0]):
            days = days[:-1]
    return days[-count:]


# -- market status --------------------------------------------------------------------------------
def _status_at(now_ms: int) -> Tuple[str, bool, bool]:
    day = et_date(now_ms)
    if not sessions.is_trading_day(day):
        return "closed", False, False
    open_ms, close_ms = (int(a[0]) for a in sessions.session_bounds(day, day))
    ext_open, ext_close = (int(a[0]) for a in sessions.session_bounds(day, day, extended=True))
    if open_ms <= now_ms < close_ms:
        return "open", False, False
    if ext_open <= now_ms < open_ms:
        return "extended-hours", True, False
    if close_ms <= now_ms < ext_close:
        return "extended-hours", False, True
    return "closed", False, False


def market_status(now_ms: int) -> bytes:
    """``/v1/marketstatus/now`` from the calendar and the sandbox clock."""
    import zoneinfo

    market, early, after = _status_at(now_ms)
    local = _dt.datetime.fromtimestamp(now_ms / 1000.0, zoneinfo.ZoneInfo("America/New_York"))
    exchange = market
    return dumps({
        "afterHours": after,
        "currencies": {"crypto": "open", "fx": "open" if local.weekday() < 5 else "closed"},
        "earlyHours": early,
        "exchanges": {"nasdaq": exchange, "nyse": exchange, "otc": "closed" if market != "open" else "open"},
        "market": market,
        "serverTime": local.replace(microsecond=0).isoformat(),
    })


def _holiday_name(day: _dt.date) -> str:
    if day.month in (3, 4):
        return "Good Friday"
    if day.month == 1 and day.day > 7:
        return "Martin Luther King, Jr. Day"
    return _HOLIDAY_NAMES.get(day.month, "Market Holiday")


def market_holidays(now_ms: int) -> bytes:
    """``/v1/marketstatus/upcoming``: closures and early closes of the next twelve months."""
    start = et_date(now_ms)
    end = start + _dt.timedelta(days=365)
    out = []
    events = [(d, "closed", None) for d in sessions.holidays(start, end)]
    days = sessions.trading_days(start, end)
    open_ms, close_ms = sessions.session_bounds(start, end)
    for day, o, c in zip(days, open_ms.tolist(), close_ms.tolist()):
        if c - o < 390 * MINUTE_MS:
            events.append((day, "early-close", (o, c)))
    for day, status, bounds in sorted(events, key=lambda e: e[0]):
        for exchange in ("NYSE", "NASDAQ"):
            item = {"date": day.isoformat(), "exchange": exchange, "name": _holiday_name(day), "status": status}
            if bounds is not None:
                item["open"] = _iso_utc(bounds[0])
                item["close"] = _iso_utc(bounds[1])
            out.append(item)
    return dumps(out)


def _iso_utc(ms: int) -> str:
    return _dt.datetime.fromtimestamp(ms / 1000.0, _dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.000Z")


# -- tickers ----------------------------------------------------------------------------------------
def _cik(sec: Security) -> str:
    return "%010d" % (stable_seed("cik", sec.ticker) % 2_000_000)


def _figi(kind: str, sec: Security) -> str:
    alphabet = "BCDFGHJKLMNPQRSTVWXYZ0123456789"
    seed = stable_seed(kind, sec.ticker)
    return "BBG" + "".join(alphabet[(seed >> (5 * i)) % len(alphabet)] for i in range(9))


def ticker_row(sec: Security) -> Dict[str, object]:
    return {"ticker": sec.ticker, "name": sec.name, "market": "stocks", "locale": "us",
            "primary_exchange": sec.primary_exchange, "type": sec.type, "active": True, "currency_name": "usd",
            "cik": _cik(sec), "composite_figi": _figi("composite", sec), "share_class_figi": _figi("share", sec),
            "last_updated_utc": "2024-01-02T00:00:00Z"}


def shares_outstanding(sec: Security) -> int:
    """Shares outstanding of a stock (ticker details, financials and IPOs agree)."""
    return int(sec.base_volume * (80 + 400 * stable_fraction("float", sec.ticker)))


def ticker_details_dict(model: MarketModel, ticker: str, now_ms: int) -> Dict[str, object]:
    """The ``results`` of ``/v3/reference/tickers/{ticker}`` for a US stock of the universe."""
    sec = model.universe.get(ticker)
    if sec is None:
        raise _unknown_ticker()
    shares = shares_outstanding(sec)
    days = _sessions_until(now_ms, 1)
    price = float(model.day_bar(ticker, days[-1]).c[0]) if days else sec.base_price
    row = ticker_row(sec)
    del row["last_updated_utc"]
    row.update({
        "description": "%s is a security of the polygon-kit offline sandbox; its prices are synthetic." % sec.name,
        "homepage_url": "https://example.com/%s" % ticker.lower().replace(".", "-"),
        "list_date": sec.list_date,
        "market_cap": round(price * shares, 2),
        "round_lot": 100,
        "share_class_shares_outstanding": shares,
        "weighted_shares_outstanding": shares,
        "ticker_root": ticker.split(".")[0],
        "total_employees": int(1000 + 150_000 * stable_fraction("employees", ticker)),
    })
    return row


