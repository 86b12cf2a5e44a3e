"""SEC filings of the sandbox's companies for the provider's filings datasets (``/stocks/filings/...``):
the index, 10-K sections and risk factors, 8-K texts and their categorised disclosures, Forms 3 and 4 of
three insiders per company, and 13-F holdings of three institutional managers.

Everything follows the statements of :mod:`polygon.sandbox.fundamentals`: each quarter a company
releases its results in an 8-K (Item 2.02) five days before its 10-Q (or, for the fourth quarter, its
10-K) is filed, and the 8-K quotes that quarter's revenue and diluted EPS. Insiders file a Form 3 when
the sandbox's filings begin and sell a small part of their holding three days after each results
release (a Form 4 two days later), so ``shares_owned_following_transaction`` falls from the Form 3
``shares_owned``. 13-F reports are filed 45 days after each quarter and list the managers' positions.
"""

import datetime as _dt
import functools
from typing import Any, List, NamedTuple, Tuple

from polygon.sandbox.fundamentals import Period, companies, periods
from polygon.sandbox.refdata import sector_of
from polygon.sandbox.reference import shares_outstanding, ticker_row
from polygon.sandbox.universe import Security, Universe, stable_fraction, stable_seed

__all__ = ["DISCLOSURE_TAXONOMY", "MANAGERS", "RISK_TAXONOMY", "TAXONOMY_VERSION", "Filing", "Insider", "all_filings",
           "accession", "company_filings", "filing_url", "holdings", "insiders", "manager_filings", "sector_words"]

TAXONOMY_VERSION = "1.0"
RESULTS_LEAD = _dt.timedelta(days=5)  # the 8-K precedes the 10-Q/10-K by this much
SALE_AFTER = _dt.timedelta(days=3)
FORM4_LAG = _dt.timedelta(days=2)
THIRTEEN_F_LAG = _dt.timedelta(days=45)

# primary, secondary, tertiary, description
DISCLOSURE_TAXONOMY = (
    ("Financial Results", "Earnings", "Quarterly earnings release", "Results of operations for a completed quarter."),
    ("Financial Results", "Earnings", "Annual earnings release", "Results of operations for a completed fiscal year."),
    ("Financial Results", "Guidance", "Outlook update", "Forward-looking financial outlook or guidance."),
    ("Corporate Governance", "Leadership", "Executive appointment", "Appointment of a principal officer."),
    ("Corporate Governance", "Leadership", "Executive departure", "Departure of a director or principal officer."),
    ("Corporate Governance", "Shareholder Matters", "Annual meeting results", "Voting results of a meeting."),
    ("Capital Markets", "Debt", "Notes offering", "Issuance of senior notes or other debt."),
    ("Capital Markets", "Equity", "Share repurchase program", "Authorisation of a share repurchase program."),
    ("Capital Markets", "Dividends", "Dividend declaration", "Declaration of a cash dividend."),
    ("Material Agreements", "Contracts", "Material definitive agreement", "Entry into a material agreement."),
)
RISK_TAXONOMY = (
    ("Market Risk", "Demand", "Customer demand volatility", "Demand for the company's products may fluctuate."),
    ("Market Risk", "Competition", "Competitive pressure", "Competitors may reduce prices or win share."),
    ("Market Risk", "Macroeconomic", "Interest rate changes", "Rate changes affect financing costs and demand."),
    ("Operational Risk", "Supply Chain", "Supplier concentration", "Reliance on a limited number of suppliers."),
    ("Operational Risk", "Technology", "Cybersecurity incidents", "Breaches could disrupt operations."),
    ("Operational Risk", "People", "Key personnel retention", "Loss of key employees could harm the business."),
    ("Financial Risk", "Liquidity", "Access to capital", "Financing may not be available on acceptable terms."),
    ("Financial Risk", "Currency", "Foreign exchange exposure", "Currency movements affect reported results."),
    ("Legal and Regulatory Risk", "Compliance", "Changing regulation", "New rules may raise compliance costs."),
    ("Legal and Regulatory Risk", "Litigation", "Legal proceedings", "Litigation outcomes are uncertain."),
    ("Strategic Risk", "Growth", "Acquisition integration", "Acquisitions may not deliver expected benefits."),
    ("Strategic Risk", "Innovation", "Product transitions", "New products may not be accepted by customers."),
)
MANAGERS = (("0001900001", "Sandbox Capital Management LLC"), ("0001900002", "Harbor Index Advisors LP"),
            ("0001900003", "Meridian Growth Partners LLC"))
_INSIDER_ROLES = (("Chief Executive Officer", False), ("Chief Financial Officer", False), (None, True))
_FIRST_FILINGS = _dt.date(2018, 1, 2)


class Filing(NamedTuple):
    """One filing of a company (``form_type`` 10-K, 10-Q, 8-K, 3 or 4)."""

    form_type: str
    ticker: str
    cik: str
    issuer_name: str
    filing_date: _dt.date
    accession_number: str
    period: Period  # the quarter it reports on (8-K, 10-Q, 10-K) or follows (3, 4)
    extra: Tuple[Any, ...] = ()  # Form 3/4: (insider, shares, shares owned after)


class Insider(NamedTuple):
    """An officer or director of a company."""

    cik: str
    name: str
    title: str  # officer title, '' for a director
    is_director: bool
    initial_shares: int


def accession(filer_cik: str, filed: _dt.date, *parts: object) -> str:
    """An EDGAR-shaped accession number ``0000320193-24-000123``."""
    return "%s-%02d-%06d" % (filer_cik, filed.year % 100, stable_seed("accession", filer_cik, filed, *parts) % 10**6)


def filing_url(cik: str, accession_number: str) -> str:
    """The EDGAR index page URL of a filing (the provider's ``filing_url`` form)."""
    return "https://www.sec.gov/Archives/edgar/data/%d/%s/%s-index.htm" % (
        int(cik), accession_number.replace("-", ""), accession_number)


def insiders(sec: Security) -> List[Insider]:
    """The three insiders of ``sec`` (CEO, CFO, a director) with their holdings when filings begin."""
    out = []
    for i, (title, director) in enumerate(_INSIDER_ROLES):
        seed = stable_seed("insider", sec.ticker, i)
        first = ("Alex", "Jordan", "Morgan", "Taylor", "Casey", "Riley", "Jamie", "Avery")[seed % 8]
        last = ("Hale", "Mercer", "Quinn", "Sutton", "Pryce", "Lowell", "Vance", "Ellison")[(seed >> 8) % 8]
        shares = int(shares_outstanding(sec) * (0.0005 + 0.004 * stable_fraction("insider-share", sec.ticker, i)))
        out.append(Insider("%010d" % (1_500_000 + seed % 400_000), "%s %s" % (last, first), title or "",
                           director, shares))
    return out


@functools.lru_cache(maxsize=512)
def company_filings(universe: Universe, ticker: str, as_of: _dt.date) -> List[Filing]:
    """Every filing of ``ticker`` filed by ``as_of``: per quarter an 8-K, then a 10-Q or 10-K; Form 3 of
    each insider when filings begin; a Form 4 per insider after each results release."""
    sec = universe.get(ticker)
    cik, name = str(ticker_row(sec)["cik"]), sec.name
    quarters = [p for p in periods(universe, ticker, as_of) if p.timeframe == "quarterly"]
    out: List[Filing] = []
    people = insiders(sec)
    owned = [p.initial_shares for p in people]
    if quarters:
        start = max(_FIRST_FILINGS, _dt.date.fromisoformat(sec.list_date))
        for i, person in enumerate(people):
            filed = start + _dt.timedelta(days=7 + i)
            if filed <= as_of:
                out.append(Filing("3", ticker, cik, name, filed, accession(person.cik, filed, ticker, "3"),
                                  quarters[0], (person, person.initial_shares, person.initial_shares)))
    for q in quarters:
        release = q.filing_date - RESULTS_LEAD
        out.append(Filing("8-K", ticker, cik, name, release, accession(cik, release, "8-K"), q))
        form = "10-K" if q.fiscal_quarter == 4 else "10-Q"
        out.append(Filing(form, ticker, cik, name, q.filing_date, accession(cik, q.filing_date, form), q))
        for i, person in enumerate(people):
            sold = int(owned[i] * (0.01 + 0.03 * stable_fraction("sale", ticker, q.period_end, i)))
            filed = release + SALE_AFTER + FORM4_LAG
            if sold <= 0 or filed > as_of:
                continue
            owned[i] -= sold
            out.append(Filing("4", ticker, cik, name, filed, accession(person.cik, filed, ticker, "4"), q,
                              (person, sold, owned[i])))
    return sorted(out, key=lambda f: (f.filing_date, f.form_type))


def all_filings(universe: Universe, as_of: _dt.date, tickers=None) -> List[Filing]:
    """The filings of every company (or of ``tickers``), oldest first."""
    chosen = [s for s in companies(universe) if tickers is None or s.ticker in tickers]
    out: List[Filing] = []
    for sec in chosen:
        out.extend(company_filings(universe, sec.ticker, as_of))
    return out


def manager_filings(universe: Universe, as_of: _dt.date) -> List[Tuple[str, str, _dt.date, _dt.date, str]]:
    """``(manager cik, name, period end, filing date, accession)`` of each 13-F filed by ``as_of``."""
    out = []
    year = _FIRST_FILINGS.year
    while _dt.date(year, 1, 1) <= as_of:
        for month, day in ((3, 31), (6, 30), (9, 30), (12, 31)):
            end = _dt.date(year, month, day)
            filed = end + THIRTEEN_F_LAG
            if filed <= as_of:
                for cik, name in MANAGERS:
                    out.append((cik, name, end, filed, accession(cik, filed, "13F")))
        year += 1
    return out


def holdings(universe: Universe, manager_cik: str) -> List[Tuple[Security, float]]:
    """The companies a manager holds and the share of each company's float it owns (stable over time)."""
    chosen = [s for s in companies(universe) if stable_fraction("13f", manager_cik, s.ticker) < 0.08
              or s.ticker in ("AAPL", "MSFT", "NVDA", "AMZN")]
    return [(s, 0.002 + 0.01 * stable_fraction("13f-share", manager_cik, s.ticker)) for s in chosen]


def sector_words(ticker: str) -> str:
    """The SIC description of a company's industry, in lower case, for generated texts."""
    return sector_of(ticker)[2].lower()
