"""Options contracts of the sandbox: OCC tickers, listings, a volatility surface, Black-Scholes prices.

A few underlyings (:data:`UNDERLYINGS`) have contracts: monthly expiries (the third Friday, or the
trading day before it when that is a holiday) listed a year ahead, and weekly Friday expiries
listed six weeks ahead; strikes on a grid around the underlying's as-traded price on the listing
day (within 30%). A contract's minute bars are Black-Scholes values of the underlying's
minute bars (:func:`bs_price` on :func:`implied_vol`, rate :data:`RATE`), traded in a random
(seeded) share of the minutes; no bars before its listing or after its expiry.
"""

import datetime as _dt
import functools
import math
import re
from typing import Dict, List, NamedTuple, Optional, Tuple

import numpy as np

from polygon.markets import sessions
from polygon.sandbox.bars import _Day, anchor_price, fit_to_trades, trade_count
from polygon.sandbox.universe import Security, Universe, register_contracts, stable_seed

__all__ = ["RATE", "UNDERLYINGS", "Contract", "bs_greeks", "bs_price", "contract_security", "contracts",
           "expirations", "implied_vol", "occ_ticker", "option_days", "parse_occ"]

RATE = 0.04
#: underlying -> (base implied volatility, weekly expiries)
UNDERLYINGS: Dict[str, Tuple[float, bool]] = {
    "AAPL": (0.26, True), "MSFT": (0.24, False), "NVDA": (0.45, True), "TSLA": (0.55, True), "AMZN": (0.30, False),
    "SPY": (0.16, True), "QQQ": (0.20, True), "IWM": (0.22, False),
}
_OCC = re.compile(r"^O:([A-Z]{1,6})(\d{2})(\d{2})(\d{2})([CP])(\d{8})$")
_YEAR_DAYS = 365.0
_MONTHLY_LEAD = 365
_WEEKLY_LEAD = 42
_MINUTE_MS = 60_000


class Contract(NamedTuple):
    """One options contract."""

    ticker: str
    underlying: str
    expiration: _dt.date
    contract_type: str  # 'call' or 'put'
    strike: float
    list_date: _dt.date


def occ_ticker(underlying: str, expiration: _dt.date, contract_type: str, strike: float) -> str:
    """``O:SPY241220C00500000`` (strike in thousandths, 8 digits)."""
    return "O:%s%s%s%08d" % (underlying, expiration.strftime("%y%m%d"), "C" if contract_type == "call" else "P",
                             int(round(strike * 1000)))


def parse_occ(ticker: str) -> Optional[Tuple[str, _dt.date, str, float]]:
    """``(underlying, expiration, 'call'|'put', strike)`` of an OCC ticker, ``None`` when malformed."""
    m = _OCC.match(ticker) if isinstance(ticker, str) else None
    if m is None:
        return None
    try:
        expiration = _dt.date(2000 + int(m.group(2)), int(m.group(3)), int(m.group(4)))
    except ValueError:
        return None
    return m.group(1), expiration, "call" if m.group(5) == "C" else "put", int(m.group(6)) / 1000.0


def _third_friday(year: int, month: int) -> _dt.date:
    first = _dt.date(year, month, 1)
    return first + _dt.timedelta(days=(4 - first.weekday()) % 7 + 14)


def _trading_on_or_before(day: _dt.date) -> _dt.date:
    days = sessions.trading_days(day - _dt.timedelta(days=7), day)
    return days[-1] if days else day


@functools.lru_cache(maxsize=4096)
def _expiry_kind(underlying: str, day: _dt.date) -> Optional[str]:
    """``'monthly'``, ``'weekly'`` or ``None`` for an expiration day of ``underlying``."""
    if underlying not in UNDERLYINGS:
        return None
    monthly = _trading_on_or_before(_third_friday(day.year, day.month))
    if day == monthly:
        return "monthly"
    if UNDERLYINGS[underlying][1]:
        friday = day + _dt.timedelta(days=(4 - day.weekday()) % 7)
        if _trading_on_or_before(friday) == day and friday != _third_friday(day.year, day.month):
            return "weekly"
    return None


def _lead(kind: str) -> int:
    return _MONTHLY_LEAD if kind == "monthly" else _WEEKLY_LEAD


def expirations(underlying: str, as_of: _dt.date) -> List[_dt.date]:
    """Expirations of ``underlying`` listed on ``as_of`` and not yet expired, ascending."""
    out = []
    for i in range(_MONTHLY_LEAD + 7):
        day = as_of + _dt.timedelta(days=i)
        kind = _expiry_kind(underlying, day)
        if kind is not None and (day - as_of).days <= _lead(kind):
            out.append(day)
    return out


def _strike_step(price: float) -> float:
    return 0.5 if price < 25 else 1.0 if price < 60 else 2.5 if price < 150 else 5.0 if price < 600 else 10.0


def _listing_price(universe: Universe, underlying: str, list_date: _dt.date) -> float:
    sec = universe.get(underlying)
    return anchor_price(sec, list_date) * universe.split_factor(underlying, list_date.isoformat())


def strikes(universe: Universe, underlying: str, list_date: _dt.date) -> List[float]:
    """Listed strikes of an expiration listed on ``list_date`` (30% either side of the price then)."""
    price = _listing_price(universe, underlying, list_date)
    step = _strike_step(price)
    lo, hi = math.ceil(price * 0.7 / step), math.floor(price * 1.3 / step)
    return [round(k * step, 2) for k in range(lo, hi + 1)]


def _list_date(underlying: str, expiration: _dt.date) -> Optional[_dt.date]:
    kind = _expiry_kind(underlying, expiration)
    if kind is None:
        return None
    days = sessions.trading_days(expiration - _dt.timedelta(days=_lead(kind)), expiration)
    return days[0] if days else None


def contracts(universe: Universe, underlying: str, expiration: _dt.date) -> List[Contract]:
    """Every contract (calls then puts by strike) of one expiration of ``underlying``."""
    listed = _list_date(underlying, expiration)
    if listed is None or universe.get(underlying) is None:
        return []
    out = []
    for kind in ("call", "put"):
        for strike in strikes(universe, underlying, listed):
            out.append(Contract(occ_ticker(underlying, expiration, kind, strike), underlying, expiration, kind,
                                strike, listed))
    return out


def contract_of(universe: Universe, ticker: str) -> Optional[Contract]:
    """The listed contract named by ``ticker``, or ``None``."""
    parsed = parse_occ(ticker)
    if parsed is None:
        return None
    underlying, expiration, kind, strike = parsed
    listed = _list_date(underlying, expiration)
    if listed is None or universe.get(underlying) is None or strike not in strikes(universe, underlying, listed):
        return None
    return Contract(ticker, underlying, expiration, kind, strike, listed)


@functools.lru_cache(maxsize=16384)
def contract_security(universe: Universe, ticker: str) -> Optional[Security]:
    """A :class:`Security` for a listed contract (``market='options'``), or ``None``."""
    c = contract_of(universe, ticker)
    if c is None:
        return None
    name = "%s $%g %s" % (c.underlying, c.strike, "Call" if c.contract_type == "call" else "Put")
    return Security(ticker, name, "OPTION", "BATO", max(c.strike * 0.05, 0.5), 200, c.list_date.isoformat(),
                    market="options", delisted=c.expiration.isoformat())


register_contracts(contract_security)


# -- pricing ----------------------------------------------------------------------------------------
def implied_vol(underlying: str, moneyness_log: np.ndarray, years: np.ndarray) -> np.ndarray:
    """The surface: a smile in log-moneyness ``ln(K/S)`` with a put skew, higher for short expiries."""
    base = UNDERLYINGS.get(underlying, (0.3, False))[0]
    k = np.asarray(moneyness_log, dtype=np.float64)
    term = 1.0 + 0.25 * np.exp(-np.asarray(years, dtype=np.float64) * 6.0)
    return np.clip(base * term * (1.0 - 0.35 * k + 1.5 * k * k), 0.05, 3.0)


def _norm_cdf(x: np.ndarray) -> np.ndarray:
    from math import erf

    return 0.5 * (1.0 + np.vectorize(erf)(np.asarray(x, dtype=np.float64) / math.sqrt(2.0)))


def _d1d2(s, k, t, sigma):
    t = np.maximum(np.asarray(t, dtype=np.float64), 1e-9)
    vol = sigma * np.sqrt(t)
    d1 = (np.log(s / k) + (RATE + 0.5 * sigma * sigma) * t) / vol
    return d1, d1 - vol, t


def bs_price(kind: str, s, k: float, t, sigma) -> np.ndarray:
    """Black-Scholes value of a European call/put (no dividends); intrinsic value at expiry."""
    s = np.asarray(s, dtype=np.float64)
    d1, d2, tt = _d1d2(s, k, t, sigma)
    disc = k * np.exp(-RATE * tt)
    if kind == "call":
        value = s * _norm_cdf(d1) - disc * _norm_cdf(d2)
        intrinsic = np.maximum(s - k, 0.0)
    else:
        value = disc * _norm_cdf(-d2) - s * _norm_cdf(-d1)
        intrinsic = np.maximum(k - s, 0.0)
    return np.where(np.asarray(t) <= 0, intrinsic, np.maximum(value, 0.0))


def bs_greeks(kind: str, s: float, k: float, t: float, sigma: float) -> Dict[str, float]:
    """Delta, gamma, theta (per calendar day) and vega (per volatility point) of one contract."""
    d1, d2, tt = (float(x) for x in _d1d2(np.float64(s), k, t, sigma))
    pdf = math.exp(-0.5 * d1 * d1) / math.sqrt(2 * math.pi)
    cdf = float(_norm_cdf(np.array([d1]))[0])
    cdf2 = float(_norm_cdf(np.array([d2 if kind == "call" else -d2]))[0])
    gamma = pdf / (s * sigma * math.sqrt(tt))
    vega = s * pdf * math.sqrt(tt) / 100.0
    decay = -s * pdf * sigma / (2 * math.sqrt(tt))
    if kind == "call":
        delta = cdf
        theta = decay - RATE * k * math.exp(-RATE * tt) * cdf2
    else:
        delta = cdf - 1.0
        theta = decay + RATE * k * math.exp(-RATE * tt) * cdf2
    return {"delta": delta, "gamma": gamma, "theta": theta / _YEAR_DAYS, "vega": vega}


def years_to_expiry(expiration: _dt.date, ms) -> np.ndarray:
    """Years from the instants ``ms`` to the expiration day's 16:00 New York close."""
    close = int(sessions.session_bounds(expiration, expiration)[1][0]) if sessions.is_trading_day(expiration) else \
        int(sessions.session_bounds(_trading_on_or_before(expiration), _trading_on_or_before(expiration))[1][0])
    return np.maximum(close - np.asarray(ms, dtype=np.float64), 0.0) / (_YEAR_DAYS * 86_400_000.0)


def option_days(model, sec: Security, days) -> list:
    """The generated minutes (``market._Day``) of a contract on ``days``, priced from its underlying."""
    c = contract_of(model.universe, sec.ticker)
    out = []
    for day in days:
        raw = model.raw_day(c.underlying, day)
        factor = model.universe.split_factor(c.underlying, day.isoformat())
        reg = raw.regular
        t = raw.t[reg]
        years = years_to_expiry(c.expiration, t + _MINUTE_MS)
        s_open, s_close = raw.o[reg] * factor, raw.c[reg] * factor
        s_high, s_low = raw.h[reg] * factor, raw.l[reg] * factor
        sigma = implied_vol(c.underlying, np.log(c.strike / s_close), years)
        o, c_, h_s, l_s = (np.maximum(np.round(bs_price(c.contract_type, s, c.strike, years, sigma), 2), 0.01)
                           for s in (s_open, s_close, s_high, s_low))
        h, low = np.maximum.reduce([o, c_, h_s, l_s]), np.minimum.reduce([o, c_, h_s, l_s])
        rng = np.random.default_rng(stable_seed("option-day", sec.ticker, day.isoformat()))
        near = np.exp(-np.abs(np.log(c.strike / s_close)) * 12.0)
        present = rng.random(len(t)) < 0.04 + 0.4 * near
        v = rng.geometric(0.3, len(t)).astype(np.int64) * (1 + (near * 4).astype(np.int64))
        n = trade_count(np.maximum(1, v // 5), v)
        vw = np.clip(np.round((o + h + low + c_) / 4.0, 4), low, h)
        o, h, low, c_, vw = fit_to_trades(o, h, low, c_, vw, n)
        out.append(_Day(t, o, h, low, c_, v, vw, n, np.ones(len(t), dtype=bool), present))
    return out
