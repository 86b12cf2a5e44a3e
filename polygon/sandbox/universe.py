"""The sandbox's symbol universe: a few hundred tickers with reference data and split history.

Well-known tickers carry their real names and listing exchanges; the rest are synthetic (``Z...``)
companies so the universe is large enough for list pagination and multi-symbol workloads. Which
symbols are illiquid is decided by a stable hash against ``illiquid_fraction``; the well-known
tickers are always liquid. Every ticker has a listing date (no bars before it); a few synthetic
ones were delisted (no bars after ``delisted``).

Beside the US stocks (``securities``) the universe has crypto pairs (``X:BTCUSD``...), currency
pairs (``C:EURUSD``...) and indices (``I:SPX``...) in :attr:`Universe.others`; options contracts
(``O:SPY241220C00500000``) are made on demand from their OCC ticker by :mod:`polygon.sandbox.options`
and answered by :meth:`Universe.get` when the contract is listed; futures contracts (``ESZ6``: product code,
month code, year digit) likewise from :data:`FUTURES_PRODUCTS` (see :class:`FuturesContract`).
"""

import calendar
import datetime as _dt
import functools
import hashlib
import itertools
import re
import string
from typing import Callable, Dict, List, NamedTuple, Optional, Tuple

from polygon.markets import futures_calendar

__all__ = ["FUTURES_PRODUCTS", "FuturesContract", "FuturesProduct", "Security", "Universe", "futures_contract",
           "futures_contracts", "register_contracts", "stable_fraction", "stable_seed"]


def stable_seed(*parts: object) -> int:
    """A 64-bit seed from ``parts`` that is the same in every process (unlike ``hash()``)."""
    text = "|".join(str(p) for p in parts).encode("utf-8")
    return int.from_bytes(hashlib.blake2b(text, digest_size=8).digest(), "little")


def stable_fraction(*parts: object) -> float:
    """A stable number in ``[0, 1)`` derived from ``parts``."""
    return (stable_seed(*parts) >> 11) / float(1 << 53)


class Security(NamedTuple):
    """One ticker of the universe."""

    ticker: str
    name: str
    type: str  # 'CS' or 'ETF'
    primary_exchange: str  # 'XNAS', 'XNYS', 'ARCX'
    base_price: float
    base_volume: int  # typical regular-session shares per day
    list_date: str
    splits: Tuple[Tuple[str, float], ...] = ()  # (first ex-date 'YYYY-MM-DD', ratio)
    market: str = "stocks"  # 'stocks', 'crypto', 'fx', 'indices', 'options', 'futures'
    delisted: Optional[str] = None  # last trading day 'YYYY-MM-DD' of a delisted ticker


# ticker, name, type, exchange, price, daily volume (millions), list date, splits
_KNOWN = [
    ("AAPL", "Apple Inc.", "CS", "XNAS", 150.0, 60, "1980-12-12", (("2020-08-31", 4.0),)),
    ("MSFT", "Microsoft Corp", "CS", "XNAS", 300.0, 25, "1986-03-13", ()),
    ("GOOGL", "Alphabet Inc. Class A", "CS", "XNAS", 120.0, 30, "2004-08-19", (("2022-07-18", 20.0),)),
    ("GOOG", "Alphabet Inc. Class C", "CS", "XNAS", 121.0, 20, "2014-03-27", (("2022-07-18", 20.0),)),
    ("AMZN", "Amazon.com, Inc.", "CS", "XNAS", 130.0, 45, "1997-05-15", (("2022-06-06", 20.0),)),
    ("TSLA", "Tesla, Inc.", "CS", "XNAS", 220.0, 100, "2010-06-29", (("2020-08-31", 5.0), ("2022-08-25", 3.0))),
    ("META", "Meta Platforms, Inc. Class A", "CS", "XNAS", 300.0, 18, "2012-05-18", ()),
    ("NVDA", "Nvidia Corp", "CS", "XNAS", 45.0, 400, "1999-01-22", (("2021-07-20", 4.0), ("2024-06-10", 10.0))),
    ("NFLX", "Netflix Inc", "CS", "XNAS", 400.0, 5, "2002-05-23", ()),
    ("AMD", "Advanced Micro Devices", "CS", "XNAS", 110.0, 55, "1972-09-27", ()),
    ("INTC", "Intel Corp", "CS", "XNAS", 35.0, 40, "1971-10-13", ()),
    ("CSCO", "Cisco Systems, Inc.", "CS", "XNAS", 50.0, 18, "1990-02-16", ()),
    ("ADBE", "Adobe Inc.", "CS", "XNAS", 500.0, 3, "1986-08-13", ()),
    ("PEP", "PepsiCo, Inc.", "CS", "XNAS", 175.0, 5, "1972-06-01", ()),
    ("COST", "Costco Wholesale Corp", "CS", "XNAS", 550.0, 2, "1985-12-05", ()),
    ("AVGO", "Broadcom Inc.", "CS", "XNAS", 80.0, 25, "2009-08-06", (("2024-07-15", 10.0),)),
    ("QCOM", "Qualcomm Inc", "CS", "XNAS", 130.0, 8, "1991-12-13", ()),
    ("PYPL", "PayPal Holdings, Inc.", "CS", "XNAS", 70.0, 12, "2015-07-06", ()),
    ("SBUX", "Starbucks Corp", "CS", "XNAS", 95.0, 8, "1992-06-26", ()),
    ("JPM", "JPMorgan Chase & Co.", "CS", "XNYS", 150.0, 10, "1969-03-05", ()),
    ("BAC", "Bank of America Corp", "CS", "XNYS", 32.0, 40, "1973-01-02", ()),
    ("WFC", "Wells Fargo & Company", "CS", "XNYS", 45.0, 18, "1972-06-01", ()),
    ("GS", "Goldman Sachs Group, Inc.", "CS", "XNYS", 350.0, 2, "1999-05-04", ()),
    ("V", "Visa Inc.", "CS", "XNYS", 240.0, 6, "2008-03-19", ()),
    ("MA", "Mastercard Incorporated", "CS", "XNYS", 390.0, 3, "2006-05-25", ()),
    ("JNJ", "Johnson & Johnson", "CS", "XNYS", 160.0, 7, "1944-09-25", ()),
    ("PFE", "Pfizer Inc.", "CS", "XNYS", 35.0, 30, "1942-01-02", ()),
    ("UNH", "UnitedHealth Group Inc", "CS", "XNYS", 500.0, 3, "1984-10-17", ()),
    ("XOM", "Exxon Mobil Corp", "CS", "XNYS", 105.0, 16, "1920-01-01", ()),
    ("CVX", "Chevron Corp", "CS", "XNYS", 160.0, 8, "1921-06-24", ()),
    ("KO", "Coca-Cola Company", "CS", "XNYS", 60.0, 12, "1919-09-05", ()),
    ("WMT", "Walmart Inc.", "CS", "XNYS", 155.0, 6, "1972-08-25", (("2024-02-26", 3.0),)),
    ("DIS", "Walt Disney Company", "CS", "XNYS", 90.0, 10, "1957-11-12", ()),
    ("HD", "Home Depot, Inc.", "CS", "XNYS", 310.0, 3, "1981-09-22", ()),
    ("BA", "Boeing Company", "CS", "XNYS", 210.0, 6, "1962-01-02", ()),
    ("CAT", "Caterpillar Inc.", "CS", "XNYS", 250.0, 3, "1929-12-02", ()),
    ("IBM", "International Business Machines", "CS", "XNYS", 140.0, 4, "1915-11-11", ()),
    ("NKE", "Nike, Inc.", "CS", "XNYS", 105.0, 7, "1980-12-02", ()),
    ("MCD", "McDonald's Corp", "CS", "XNYS", 280.0, 3, "1966-07-05", ()),
    ("T", "AT&T Inc.", "CS", "XNYS", 16.0, 35, "1983-11-21", ()),
    ("VZ", "Verizon Communications", "CS", "XNYS", 36.0, 20, "1983-11-21", ()),
    ("F", "Ford Motor Company", "CS", "XNYS", 12.0, 50, "1956-03-07", ()),
    ("GE", "General Electric Company", "CS", "XNYS", 110.0, 6, "1892-06-01", ()),
    ("BRK.B", "Berkshire Hathaway Inc. Class B", "CS", "XNYS", 350.0, 4, "1996-05-09", ()),
    ("SPY", "SPDR S&P 500 ETF Trust", "ETF", "ARCX", 440.0, 80, "1993-01-29", ()),
    ("QQQ", "Invesco QQQ Trust, Series 1", "ETF", "XNAS", 370.0, 45, "1999-03-10", ()),
    ("IWM", "iShares Russell 2000 ETF", "ETF", "ARCX", 190.0, 30, "2000-05-26", ()),
    ("DIA", "SPDR Dow Jones Industrial Average ETF Trust", "ETF", "ARCX", 345.0, 3, "1998-01-20", ()),
    ("VOO", "Vanguard S&P 500 ETF", "ETF", "ARCX", 405.0, 5, "2010-09-09", ()),
    ("VTI", "Vanguard Total Stock Market ETF", "ETF", "ARCX", 220.0, 4, "2001-06-15", ()),
    ("GLD", "SPDR Gold Shares", "ETF", "ARCX", 180.0, 8, "2004-11-18", ()),
    ("TLT", "iShares 20+ Year Treasury Bond ETF", "ETF", "XNAS", 95.0, 25, "2002-07-26", ()),
    ("XLF", "Financial Select Sector SPDR Fund", "ETF", "ARCX", 35.0, 40, "1998-12-22", ()),
    ("XLE", "Energy Select Sector SPDR Fund", "ETF", "ARCX", 85.0, 18, "1998-12-22", ()),
    ("EEM", "iShares MSCI Emerging Markets ETF", "ETF", "ARCX", 40.0, 30, "2003-04-14", ()),
]

#: Tickers that are always liquid, whatever ``illiquid_fraction`` says.
ALWAYS_LIQUID = frozenset(row[0] for row in _KNOWN)
SYNTHETIC_COUNT = 250


def _synthetic() -> List[Security]:
    out = []
    combos = itertools.product(string.ascii_uppercase, repeat=2)
    for i, (a, b) in enumerate(itertools.islice(combos, SYNTHETIC_COUNT)):
        ticker = "Z%s%s" % (a, b) + ("X" if i % 3 == 0 else "")
        u = stable_fraction("price", ticker)
        price = round(2.0 + 300.0 * u * u, 2)
        volume = int(50_000 + 5_000_000 * stable_fraction("volume", ticker) ** 2)
        exchange = ("XNAS", "XNYS", "XNYS", "ARCX")[stable_seed("exchange", ticker) % 4]
        kind = "ETF" if exchange == "ARCX" else "CS"
        year = 1995 + stable_seed("listed", ticker) % 25
        delisted = "%d-09-14" % (year + 3 + i % 5) if i % 50 == 7 else None  # a few delisted companies
        out.append(Security(ticker, "Sandbox %s %s" % (ticker, "Fund" if kind == "ETF" else "Corp."), kind,
                            exchange, price, volume, "%d-03-15" % year, delisted=delisted))
    return out


# ticker, name, price, daily volume (units), first day
_CRYPTO = [
    ("X:BTCUSD", "Bitcoin - United States Dollar", 30000.0, 20_000, "2013-04-01"),
    ("X:ETHUSD", "Ethereum - United States Dollar", 2000.0, 250_000, "2016-05-01"),
    ("X:SOLUSD", "Solana - United States Dollar", 60.0, 2_000_000, "2020-04-10"),
    ("X:LTCUSD", "Litecoin - United States Dollar", 80.0, 500_000, "2013-10-01"),
    ("X:DOGEUSD", "Dogecoin - United States Dollar", 0.08, 900_000_000, "2017-01-01"),
]
# ticker, name, price; ticks per day stand in for volume
_FX = [
    ("C:EURUSD", "Euro - United States Dollar", 1.10),
    ("C:GBPUSD", "British Pound - United States Dollar", 1.27),
    ("C:USDJPY", "United States Dollar - Japanese Yen", 140.0),
    ("C:AUDUSD", "Australian Dollar - United States Dollar", 0.67),
    ("C:USDCAD", "United States Dollar - Canadian Dollar", 1.35),
    ("C:USDCHF", "United States Dollar - Swiss Franc", 0.90),
    ("C:EURGBP", "Euro - British Pound", 0.86),
]
_INDICES = [
    ("I:SPX", "S&P 500", 4400.0, "1957-03-04"),
    ("I:NDX", "Nasdaq-100", 15000.0, "1985-02-01"),
    ("I:DJI", "Dow Jones Industrial Average", 34500.0, "1896-05-26"),
    ("I:RUT", "Russell 2000", 1900.0, "1987-01-02"),
    ("I:VIX", "CBOE Volatility Index", 18.0, "1993-01-19"),
]


def _others() -> List[Security]:
    out = [Security(t, n, "CRYPTO", "", p, v, d, market="crypto") for t, n, p, v, d in _CRYPTO]
    out += [Security(t, n, "FX", "", p, 20_000, "2004-01-02", market="fx") for t, n, p in _FX]
    out += [Security(t, n, "INDEX", "", p, 0, d, market="indices") for t, n, p, d in _INDICES]
    return out


class Universe:
    """All sandbox securities, sorted by ticker, with the liquidity split.

    :param illiquid_fraction: share of the synthetic symbols whose minutes are mostly empty.
    """

    def __init__(self, illiquid_fraction: float = 0.1) -> None:
        known = [Security(t, n, k, x, p, v * 1_000_000, d, s) for t, n, k, x, p, v, d, s in _KNOWN]
        self.securities: List[Security] = sorted(known + _synthetic(), key=lambda s: s.ticker)
        self._by_ticker: Dict[str, Security] = {s.ticker: s for s in self.securities}
        self.tickers: List[str] = [s.ticker for s in self.securities]
        #: crypto, forex and index tickers (not in ``securities``, the US stocks)
        self.others: List[Security] = _others()
        self._by_ticker.update((s.ticker, s) for s in self.others)
        self.illiquid_fraction = float(illiquid_fraction)

    def get(self, ticker: str) -> Optional[Security]:
        """The security for ``ticker`` (exact, case-sensitive like the provider), or ``None``.

        Options contracts are answered when their OCC ticker names a listed contract.
        """
        sec = self._by_ticker.get(ticker)
        if sec is None and isinstance(ticker, str) and ticker.startswith("O:"):
            sec = _CONTRACTS[0](self, ticker) if _CONTRACTS else None
        if sec is None and isinstance(ticker, str):
            contract = futures_contract(ticker)
            sec = contract.security if contract is not None else None
        return sec

    def of_market(self, market: str, day: Optional[_dt.date] = None) -> List[Security]:
        """The securities of ``market`` (``'stocks'``, ``'crypto'``, ``'fx'``, ``'indices'``; ``'futures'``:
        the front contract of every product on ``day``, default today)."""
        if market == "stocks":
            return list(self.securities)
        if market == "futures":
            day = day or _dt.date.today()
            return [front_contract(p, day).security for p in FUTURES_PRODUCTS]
        return [s for s in self.others if s.market == market]

    def __contains__(self, ticker: object) -> bool:
        return isinstance(ticker, str) and self.get(ticker) is not None

    def __len__(self) -> int:
        return len(self.securities)

    def is_illiquid(self, ticker: str) -> bool:
        """``True`` when most minutes of ``ticker`` have no trades."""
        if ticker in ALWAYS_LIQUID or ":" in ticker or futures_contract(ticker) is not None:  # own liquidity
            return False
        return stable_fraction("illiquid", ticker) < self.illiquid_fraction

    def split_factor(self, ticker: str, day_iso: str) -> float:
        """Multiplier from adjusted to as-traded prices on ``day_iso``: the product of the ratios of the
        splits of ``ticker`` whose ex-date is after ``day_iso`` (1.0 when none)."""
        sec = self._by_ticker.get(ticker)
        factor = 1.0
        if sec is not None:
            for ex_date, ratio in sec.splits:
                if day_iso < ex_date:
                    factor *= ratio
        return factor


#: how an OCC ticker becomes a :class:`Security`: installed by :mod:`polygon.sandbox.options` when it is imported
#: (the market model imports it), so this module needs no import of the options module above it
_CONTRACTS: List[Callable[["Universe", str], Optional[Security]]] = []


def register_contracts(resolve: Callable[["Universe", str], Optional[Security]]) -> None:
    """Install the resolver of options tickers used by :meth:`Universe.get`."""
    _CONTRACTS[:] = [resolve]


# -- futures --------------------------------------------------------------------------------------------
MONTH_CODES = "FGHJKMNQUVXZ"  # January .. December


class FuturesProduct(NamedTuple):
    """One futures product (facts from the exchanges' contract specifications, simplified)."""

    code: str
    name: str
    venue: str  # the exchange's MIC: XCME, XCBT, XNYM, XCEC
    asset_class: str
    asset_sub_class: str
    sector: str
    sub_sector: str
    months: str  # listed contract months (month codes)
    tick: float  # minimum price increment
    price: float  # typical price level
    volume: int  # typical contracts per day (all months)
    unit: str
    unit_qty: float  # contract multiplier
    settlement_method: str  # 'cash' or 'physical'
    settle_et: int  # settlement time, minutes after midnight New York
    expiry: str  # the last-trade-day rule: third_friday, energy, metal, treasury
    listed: int  # months listed ahead of the contract month
    roll_days: int  # calendar days before the last trade day when volume moves to the next contract
    carry: float  # yearly carry of the term structure (contango > 0)


#: The sandbox's products: the two equity-index e-minis on CME, crude oil (NYMEX), gold (COMEX), 10-year notes (CBOT)
FUTURES_PRODUCTS: Tuple[FuturesProduct, ...] = (
    FuturesProduct("ES", "E-mini S&P 500", "XCME", "equity", "equity_index", "equities", "us_large_cap", "HMUZ",
                   0.25, 5000.0, 1_500_000, "index_points", 50.0, "cash", 16 * 60 + 15, "third_friday", 15, 8, 0.045),
    FuturesProduct("NQ", "E-mini Nasdaq-100", "XCME", "equity", "equity_index", "equities", "us_tech", "HMUZ",
                   0.25, 17500.0, 600_000, "index_points", 20.0, "cash", 16 * 60 + 15, "third_friday", 15, 8, 0.045),
    FuturesProduct("CL", "Crude Oil (WTI)", "XNYM", "commodity", "energy", "energy", "crude_oil",
                   "FGHJKMNQUVXZ", 0.01, 75.0, 900_000, "barrels", 1000.0, "physical", 14 * 60 + 30, "energy", 12, 5,
                   -0.03),
    FuturesProduct("GC", "Gold", "XCEC", "commodity", "metals", "metals", "precious_metals", "GJMQVZ", 0.1, 2000.0,
                   250_000, "troy_ounces", 100.0, "physical", 13 * 60 + 30, "metal", 24, 30, 0.05),
    FuturesProduct("ZN", "10-Year T-Note", "XCBT", "interest_rate", "treasury", "rates", "us_treasury", "HMUZ",
                   1.0 / 64.0, 110.0, 1_500_000, "usd_face_value", 1000.0, "physical", 15 * 60, "treasury", 9, 25,
                   -0.01),
)
_PRODUCTS = {p.code: p for p in FUTURES_PRODUCTS}
_FUTURES_TICKER = re.compile(r"^([A-Z]{2})([FGHJKMNQUVXZ])([0-9]{1,2})$")
#: single-digit years are read in this decade (``ESZ6`` = December 2026), as the exchanges' own tickers are
_DECADE = 2020


class FuturesContract(NamedTuple):
    """One futures contract: a product's contract month."""

    ticker: str
    product: FuturesProduct
    year: int
    month: int
    first_trade_date: _dt.date
    last_trade_date: _dt.date

    @property
    def roll_date(self) -> _dt.date:
        """The day volume moves to the next contract (the front contract changes)."""
        return self.last_trade_date - _dt.timedelta(days=self.product.roll_days)

    @property
    def security(self) -> Security:
        p = self.product
        name = "%s %s %d" % (p.name, calendar.month_abbr[self.month], self.year)
        return Security(self.ticker, name, "FUTURE", p.venue, p.price, p.volume, self.first_trade_date.isoformat(),
                        market="futures", delisted=self.last_trade_date.isoformat())


def is_futures_session_day(day: _dt.date) -> bool:
    """A CME Globex trading date (the day a session ends on): a weekday that is no CME holiday (exchange-calendars'
    ``CMES``, :mod:`polygon.markets.futures_calendar`); these are the business days of the expiry rules too."""
    return futures_calendar.is_trading_day(day)


def _business_days_before(day: _dt.date, n: int) -> _dt.date:
    while n > 0:
        day -= _dt.timedelta(days=1)
        n -= is_futures_session_day(day)
    return day


def _last_business_day(year: int, month: int) -> _dt.date:
    day = _dt.date(year, month, calendar.monthrange(year, month)[1])
    while not is_futures_session_day(day):
        day -= _dt.timedelta(days=1)
    return day


def last_trade_date(product: FuturesProduct, year: int, month: int) -> _dt.date:
    """The contract month's last trading day by the product's rule (CME's rules, simplified):
    equity index: the third Friday; crude oil: three business days before the 25th of the prior month;
    gold: the third-last business day of the month; 10-year notes: seven business days before its last one."""
    if product.expiry == "third_friday":
        first = _dt.date(year, month, 1)
        return first + _dt.timedelta(days=(4 - first.weekday()) % 7 + 14)
    if product.expiry == "energy":
        prior = _dt.date(year, month, 1) - _dt.timedelta(days=1)
        anchor = _dt.date(prior.year, prior.month, 25)
        if not is_futures_session_day(anchor):
            anchor = _business_days_before(anchor, 1)
        return _business_days_before(anchor, 3)
    last = _last_business_day(year, month)
    return _business_days_before(last, 2 if product.expiry == "metal" else 7)


@functools.lru_cache(maxsize=4096)
def _contract(code: str, year: int, month: int) -> FuturesContract:
    product = _PRODUCTS[code]
    ticker = "%s%s%d" % (code, MONTH_CODES[month - 1], year % 10)
    start_index = year * 12 + month - 1 - product.listed
    first = _dt.date(start_index // 12, start_index % 12 + 1, 1)
    return FuturesContract(ticker, product, year, month, first, last_trade_date(product, year, month))


def futures_contract(ticker: str) -> Optional[FuturesContract]:
    """The contract of a futures ticker (``ESZ6``, or ``ESZ26`` with a two-digit year), or ``None``."""
    if not isinstance(ticker, str) or len(ticker) > 6:
        return None
    m = _FUTURES_TICKER.match(ticker)
    if m is None or m.group(1) not in _PRODUCTS:
        return None
    product = _PRODUCTS[m.group(1)]
    if m.group(2) not in product.months:
        return None
    digits = m.group(3)
    year = _DECADE + int(digits) if len(digits) == 1 else 2000 + int(digits)
    return _contract(product.code, year, MONTH_CODES.index(m.group(2)) + 1)


def futures_contracts(product: FuturesProduct, first: _dt.date, last: _dt.date) -> List[FuturesContract]:
    """The contracts of ``product`` that trade on some day of ``[first, last]``, by expiry."""
    out = []
    for year in range(first.year, last.year + 4):
        for code in product.months:
            c = _contract(product.code, year, MONTH_CODES.index(code) + 1)
            if c.first_trade_date <= last and c.last_trade_date >= first:
                out.append(c)
    return sorted(out, key=lambda c: c.last_trade_date)


def front_contract(product: FuturesProduct, day: _dt.date) -> FuturesContract:
    """The contract with most of ``product``'s volume on ``day``: the nearest whose roll date is after it."""
    for c in futures_contracts(product, day, day + _dt.timedelta(days=400)):
        if c.roll_date > day:
            return c
    raise ValueError("no front contract for %s on %s" % (product.code, day))  # pragma: no cover - by construction


def futures_weight(contract: FuturesContract, day: _dt.date) -> float:
    """Share of the product's volume ``contract`` trades on ``day``: 1 for the front contract, 0.12 for the
    expiring one after the roll, 0.06 for the next, 0.01 further out."""
    front = front_contract(contract.product, day)
    if contract.ticker == front.ticker and contract.year == front.year:
        return 1.0
    if contract.last_trade_date < front.last_trade_date:
        return 0.12
    following = futures_contracts(contract.product, front.last_trade_date + _dt.timedelta(days=1),
                                  front.last_trade_date + _dt.timedelta(days=1))
    later = [c for c in following if c.last_trade_date > front.last_trade_date]
    return 0.06 if later and later[0].ticker == contract.ticker else 0.01
