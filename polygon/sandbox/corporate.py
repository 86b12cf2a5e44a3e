"""Corporate actions of the sandbox: splits and cash dividends, known as of the sandbox clock.

Splits come from the universe (:attr:`Security.splits`: AAPL 4:1 on 2020-08-31, NVDA 10:1 on
2024-06-10, WMT 3:1 on 2024-02-26 ...). A split is *announced* :data:`ANNOUNCE_DAYS` before its
execution (ex-) date and *effective* on it; the adjusted bars apply exactly the splits effective
by the sandbox clock's day (:meth:`polygon.sandbox.market.MarketModel.factor`), as the provider's
adjusted bars apply the splits that have happened. Listing endpoints show the splits announced
by the clock's day, so a split can be listed before it changes the adjusted bars.

Dividends: the tickers of :data:`DIVIDEND_YIELDS` pay quarterly cash dividends (type ``CD``,
frequency 4) from 2003 or their listing, declared :data:`DECLARE_DAYS` before the ex-date and
listed from their declaration. Amounts are in as-traded (unadjusted) dollars, constant within a
calendar year. Dividends never change the (split-only) adjusted bars.
"""

import datetime as _dt
import functools
import hashlib
from typing import Dict, List, NamedTuple, Optional

from polygon.markets import sessions
from polygon.sandbox.universe import Universe, stable_seed

__all__ = ["ANNOUNCE_DAYS", "DECLARE_DAYS", "DIVIDEND_YIELDS", "Dividend", "Split", "dividends", "splits"]

ANNOUNCE_DAYS = 30
DECLARE_DAYS = 30
#: ticker -> annual dividend yield
DIVIDEND_YIELDS: Dict[str, float] = {
    "AAPL": 0.006, "MSFT": 0.009, "KO": 0.03, "JNJ": 0.029, "PEP": 0.028, "XOM": 0.034, "JPM": 0.024, "PFE": 0.04,
    "CVX": 0.038, "T": 0.06, "VZ": 0.065, "WMT": 0.014, "HD": 0.026, "MCD": 0.022, "IBM": 0.045, "SPY": 0.014,
}
_FIRST_DIVIDEND_YEAR = 2003


class Split(NamedTuple):
    """One split: ``split_to`` new shares for ``split_from`` old ones, effective on ``execution_date``."""

    ticker: str
    execution_date: _dt.date
    split_from: float
    split_to: float
    id: str

    @property
    def announced(self) -> _dt.date:
        return self.execution_date - _dt.timedelta(days=ANNOUNCE_DAYS)


class Dividend(NamedTuple):
    """One cash dividend."""

    ticker: str
    cash_amount: float
    declaration_date: _dt.date
    ex_dividend_date: _dt.date
    record_date: _dt.date
    pay_date: _dt.date
    id: str


def _id(prefix: str, *parts: object) -> str:
    return prefix + hashlib.sha256("|".join(map(str, parts)).encode()).hexdigest()[:64]


def _ratio(ratio: float):
    for frm in (1, 2, 3, 4, 5, 10):
        to = ratio * frm
        if abs(to - round(to)) < 1e-9:
            return float(frm), float(round(to))
    return 1.0, float(ratio)


def splits(universe: Universe, as_of: Optional[_dt.date] = None) -> List[Split]:
    """Every split announced by ``as_of`` (all when ``None``), by execution date."""
    out = []
    for sec in universe.securities:
        for ex_date, ratio in sec.splits:
            frm, to = _ratio(ratio)
            split = Split(sec.ticker, _dt.date.fromisoformat(ex_date), frm, to, _id("E", sec.ticker, ex_date))
            if as_of is None or split.announced <= as_of:
                out.append(split)
    return sorted(out, key=lambda s: (s.execution_date, s.ticker))


def _business_day(day: _dt.date, forward: bool = True) -> _dt.date:
    span = (day, day + _dt.timedelta(days=10)) if forward else (day - _dt.timedelta(days=10), day)
    days = sessions.trading_days(*span)
    return (days[0] if forward else days[-1]) if days else day


@functools.lru_cache(maxsize=256)
def _all_dividends(universe: Universe, ticker: str, until_year: int) -> List[Dividend]:
    from polygon.sandbox.market import anchor_price

    sec = universe.get(ticker)
    if sec is None or ticker not in DIVIDEND_YIELDS:
        return []
    first_year = max(_FIRST_DIVIDEND_YEAR, int(sec.list_date[:4]) + 1)
    month0 = 1 + stable_seed("dividend-month", ticker) % 3
    out = []
    for year in range(first_year, until_year + 1):
        jan = _dt.date(year, 1, 2)
        price = anchor_price(sec, jan) * universe.split_factor(ticker, jan.isoformat())
        amount = round(DIVIDEND_YIELDS[ticker] / 4 * price, 4 if DIVIDEND_YIELDS[ticker] < 0.01 else 2)
        for q in range(4):
            ex = _business_day(_dt.date(year, month0 + 3 * q, 8 + stable_seed("dividend-day", ticker) % 8))
            out.append(Dividend(ticker, max(amount, 0.01), _business_day(ex - _dt.timedelta(days=DECLARE_DAYS), False),
                                ex, _business_day(ex + _dt.timedelta(days=1)),
                                _business_day(ex + _dt.timedelta(days=14)), _id("E", ticker, ex.isoformat())))
    return out


def dividends(universe: Universe, as_of: _dt.date, ticker: Optional[str] = None) -> List[Dividend]:
    """Dividends declared by ``as_of`` (of ``ticker``, or of every payer), by ex-date."""
    tickers = [ticker] if ticker else sorted(DIVIDEND_YIELDS)
    out = [d for t in tickers for d in _all_dividends(universe, t, as_of.year + 1) if d.declaration_date <= as_of]
    return sorted(out, key=lambda d: (d.ex_dividend_date, d.ticker))
