"""Snapshot pieces of the sandbox: a ticker's day so far, last minute, last trade and quote, options greeks.

Everything comes from the market model and the tape as of the sandbox clock's "now": the day is
the aggregation of the minutes closed by then, the last trade is the last trade of the last such
minute's tape (so it equals that minute bar's close), the last quote the quote just before it.
"""

import datetime as _dt
from typing import Any, Dict, Optional

import numpy as np

from polygon.sandbox import calendars
from polygon.sandbox.market import MINUTE_MS, Bars, MarketModel
from polygon.sandbox.options import bs_greeks, contract_of, implied_vol, years_to_expiry
from polygon.sandbox.tape import MinuteTape, tape_source, trade_ns

__all__ = ["Snap", "market_status", "option_extras", "snap"]


class Snap:
    """A ticker's state at ``now``: ``day`` (minutes so far), ``prev`` (previous day bar), last minute tape."""

    def __init__(self, model: MarketModel, ticker: str, day: _dt.date, minutes: Bars, prev: Optional[Bars],
                 tape: Optional[MinuteTape]) -> None:
        self.model, self.ticker, self.day, self.minutes, self.prev, self.tape = model, ticker, day, minutes, prev, tape
        self.market = model.market(ticker)

    # -- numbers ---------------------------------------------------------------------------------
    @property
    def price(self) -> float:
        return float(self.minutes.c[-1])

    @property
    def prev_close(self) -> Optional[float]:
        return float(self.prev.c[0]) if self.prev is not None and len(self.prev) else None

    def change(self):
        prev = self.prev_close
        if prev is None:
            return 0.0, 0.0
        return round(self.price - prev, 6), round(100.0 * (self.price - prev) / prev, 6)

    def last_trade_ns(self) -> int:
        if self.tape is None:
            return (int(self.minutes.t[-1]) + MINUTE_MS - 1) * 1_000_000
        return trade_ns(self.ticker, self.tape, len(self.tape.t) - 1)[0]

    # -- provider-shaped pieces ---------------------------------------------------------------------
    def day_agg(self, short: bool = True) -> Dict[str, Any]:
        m = self.minutes
        v = int(m.v.sum())
        vw = round(float(m.pv.sum() / v), 4) if v else 0.0
        if short:
            out = {"o": float(m.o[0]), "h": float(m.h.max()), "l": float(m.l.min()), "c": float(m.c[-1])}
            if self.market != "indices":
                out.update(v=v, vw=vw)
            return out
        change, pct = self.change()
        out = {"open": float(m.o[0]), "high": float(m.h.max()), "low": float(m.l.min()), "close": float(m.c[-1]),
               "change": change, "change_percent": pct}
        if self.prev_close is not None:
            out["previous_close"] = self.prev_close
        if self.market != "indices":
            out["volume"] = v
        return out

    def prev_agg(self) -> Dict[str, Any]:
        if self.prev is None or not len(self.prev):
            return {}
        p = self.prev
        out = {"o": float(p.o[0]), "h": float(p.h[0]), "l": float(p.l[0]), "c": float(p.c[0])}
        if self.market != "indices":
            out.update(v=int(p.v[0]), vw=float(p.vw[0]))
        return out

    def minute_agg(self) -> Dict[str, Any]:
        m, i = self.minutes, len(self.minutes) - 1
        out = {"o": float(m.o[i]), "h": float(m.h[i]), "l": float(m.l[i]), "c": float(m.c[i]), "t": int(m.t[i])}
        if self.market != "indices":
            out.update(v=int(m.v[i]), vw=float(m.vw[i]), n=int(m.n[i]), av=int(m.v.sum()))
        return out

    def quote(self) -> Dict[str, float]:
        """``bid``, ``ask``, sizes, exchanges of the last quote."""
        tp, price = self.tape, self.price
        if tp is None:
            return {"bid": price, "ask": price, "bid_size": 1, "ask_size": 1, "bid_exchange": 12, "ask_exchange": 12}
        j = len(tp.t) - 1
        return {"bid": float(tp.bid[j]), "ask": float(tp.ask[j]), "bid_size": int(tp.bid_size[j]),
                "ask_size": int(tp.ask_size[j]), "bid_exchange": int(tp.x[j]),
                "ask_exchange": int(tp.x[(j + 1) % len(tp.x)])}

    def last_trade(self) -> Dict[str, Any]:
        tp = self.tape
        j = len(tp.t) - 1 if tp is not None else 0
        return {"i": str(tp.seq0 + j) if tp is not None else "0", "p": self.price,
                "s": int(tp.s[j]) if tp is not None else 1, "t": self.last_trade_ns(),
                "x": int(tp.x[j]) if tp is not None else 12}

    def v2(self) -> Dict[str, Any]:
        """The ``/v2/snapshot`` ticker object of this market."""
        change, pct = self.change()
        t_ns = self.last_trade_ns()
        out: Dict[str, Any] = {"day": self.day_agg(), "min": self.minute_agg(), "prevDay": self.prev_agg(),
                               "ticker": self.ticker, "todaysChange": change, "todaysChangePerc": pct}
        q = self.quote()
        if self.market == "fx":
            out["lastQuote"] = {"a": q["ask"], "b": q["bid"], "t": t_ns // 1_000_000, "x": 48}
            out["updated"] = t_ns // 1_000_000
            return out
        trade = self.last_trade()
        if self.market == "crypto":
            out["lastTrade"] = dict(trade, c=[1], t=t_ns // 1_000_000, x=1 + trade["x"] % 4)
            out["updated"] = t_ns // 1_000_000
            return out
        out["lastTrade"] = dict(trade, c=[])
        out["lastQuote"] = {"P": q["ask"], "S": q["ask_size"], "p": q["bid"], "s": q["bid_size"],
                            "t": t_ns - 1_000_000}
        out["updated"] = t_ns
        return out

    def v3_quote(self) -> Dict[str, Any]:
        q = self.quote()
        out = {"ask": q["ask"], "bid": q["bid"], "last_updated": self.last_trade_ns() - 1_000_000,
               "midpoint": round((q["ask"] + q["bid"]) / 2.0, 6), "timeframe": "REAL-TIME"}
        if self.market != "fx":
            out.update(ask_size=q["ask_size"], bid_size=q["bid_size"], ask_exchange=q["ask_exchange"],
                       bid_exchange=q["bid_exchange"])
        return out

    def v3_trade(self) -> Dict[str, Any]:
        trade = self.last_trade()
        return {"conditions": [], "exchange": trade["x"], "price": trade["p"], "sip_timestamp": trade["t"],
                "size": trade["s"], "timeframe": "REAL-TIME"}


def snap(model: MarketModel, ticker: str, now_ms: int, as_of: Optional[_dt.date] = None) -> Optional[Snap]:
    """The snapshot of ``ticker`` at ``now_ms`` (its last session with a closed minute), or ``None``."""
    if ticker not in model.universe:
        return None
    today = model.day_of(ticker, now_ms)
    days = model.session_days(ticker, today - _dt.timedelta(days=12), today)
    for k in range(len(days) - 1, -1, -1):
        minutes = model.day_minutes(ticker, days[k], True, as_of)
        done = minutes.t + MINUTE_MS <= now_ms
        if done.any():
            minutes = minutes.take(done)
            prev = model.day_bar(ticker, days[k - 1], True, as_of=as_of) if k > 0 else None
            tape = None
            if model.market(ticker) != "indices":
                tape = tape_source(model).minute(ticker, int(minutes.t[-1]))
            return Snap(model, ticker, days[k], minutes, prev, tape)
    return None


def market_status(market: str, now_ms: int) -> str:
    """``open``, ``closed``, ``early_trading`` or ``late_trading`` of ``market`` at ``now_ms``."""
    day = calendars.day_of(market, now_ms)
    if not calendars.market_days(market, day, day):
        return "closed"
    opens, closes = calendars.bounds(market, [day])
    if int(opens[0]) <= now_ms < int(closes[0]):
        return "open"
    if market in calendars.UTC_MARKETS:
        return "closed"
    x_open, x_close = calendars.bounds(market, [day], extended=True)
    if int(x_open[0]) <= now_ms < int(opens[0]):
        return "early_trading"
    if int(closes[0]) <= now_ms < int(x_close[0]):
        return "late_trading"
    return "closed"


def option_extras(model: MarketModel, ticker: str, now_ms: int, as_of: Optional[_dt.date] = None) -> Dict[str, Any]:
    """``details``, ``greeks``, ``implied_volatility``, ``open_interest``, ``underlying_asset`` and
    ``break_even_price`` of an options contract at ``now_ms`` (priced from its underlying's snapshot)."""
    c = contract_of(model.universe, ticker)
    under = snap(model, c.underlying, now_ms, as_of)
    spot = under.price if under is not None else c.strike
    years = float(years_to_expiry(c.expiration, np.array([now_ms]))[0])
    sigma = float(implied_vol(c.underlying, np.array([np.log(c.strike / spot)]), np.array([years]))[0])
    out: Dict[str, Any] = {
        "details": {"contract_type": c.contract_type, "exercise_style": "american",
                    "expiration_date": c.expiration.isoformat(), "shares_per_contract": 100,
                    "strike_price": c.strike, "ticker": ticker},
        "implied_volatility": round(sigma, 6),
        "open_interest": 100 + int(5000 * np.exp(-abs(np.log(c.strike / spot)) * 8)),
        "underlying_asset": {"last_updated": under.last_trade_ns() if under is not None else now_ms * 1_000_000,
                             "price": spot, "ticker": c.underlying, "timeframe": "REAL-TIME"},
    }
    if years > 0:
        out["greeks"] = {k: round(v, 8) for k, v in bs_greeks(c.contract_type, spot, c.strike, years, sigma).items()}
    return out
