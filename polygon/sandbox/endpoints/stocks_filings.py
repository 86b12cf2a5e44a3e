"""The provider's filings datasets: ``/stocks/filings/vX/index``, ``/stocks/filings/10-K/vX/sections``,
``/stocks/filings/vX/risk-factors``, ``/stocks/filings/8-K/vX/text``, ``/stocks/filings/8-K/vX/disclosures``,
``/stocks/filings/vX/form-3``, ``/stocks/filings/vX/form-4``, ``/stocks/filings/vX/13-F`` and the two
taxonomies (``/stocks/taxonomies/vX/disclosures``, ``/stocks/taxonomies/vX/risk-factors``).

The filings are those of :mod:`polygon.sandbox.sec_filings`; texts quote the statements of
:mod:`polygon.sandbox.fundamentals`; Form 4 prices and 13-F market values come from the sandbox's own
closes (as traded) on the transaction date or the quarter's last session.
"""

import datetime as _dt
from typing import Any, Callable, Dict, List, Mapping

from polygon.sandbox import sec_filings as sf
from polygon.sandbox.datasets import page, today
from polygon.sandbox.endpoints import Call, handles
from polygon.sandbox.fundamentals import float_row, periods
from polygon.sandbox.listing import effective_query
from polygon.sandbox.universe import stable_fraction, stable_seed

_FILING_FIELDS = {"cik": lambda f: f.cik, "ticker": lambda f: f.ticker, "form_type": lambda f: f.form_type,
                  "filing_date": lambda f: f.filing_date.isoformat()}


def _tickers(query: Mapping[str, str], *names: str):
    wanted = set()
    for name in names:
        for key in (name, name + ".any_of", name + ".all_of"):
            if query.get(key):
                wanted |= set(query[key].split(","))
    return wanted or None


def _filings(call: Call, query: Mapping[str, str], forms: tuple, *ticker_names: str) -> List[sf.Filing]:
    found = sf.all_filings(call.state.model.universe, today(call), _tickers(query, *ticker_names))
    return [f for f in found if f.form_type in forms]


def _close(call: Call, ticker: str, day: _dt.date) -> float:
    """The as-traded close of the last session of ``ticker`` on or before ``day``."""
    model = call.state.model
    days = model.session_days(ticker, day - _dt.timedelta(days=10), day)
    return float(model.day_bar(ticker, days[-1], adjusted=False).c[0]) if days else 0.0


def _millions(value: float) -> str:
    return "{:,.1f}".format(value / 1e6)


# -- index, sections, risk factors, 8-K ----------------------------------------------------------------
@handles("list_stocks_filings_index")
def filings_index(call: Call) -> Dict[str, Any]:
    """Every filing (10-K, 10-Q, 8-K, 3, 4) of the sandbox's companies, newest first."""
    query = effective_query(call)
    rows = _filings(call, query, ("10-K", "10-Q", "8-K", "3", "4"), "ticker")

    def render(f: sf.Filing) -> Dict[str, Any]:
        return {"accession_number": f.accession_number, "cik": f.cik, "ticker": f.ticker,
                "issuer_name": f.issuer_name, "form_type": f.form_type, "filing_date": f.filing_date.isoformat(),
                "filing_url": sf.filing_url(f.cik, f.accession_number)}
    return page(call, rows, "filing_date.desc", _FILING_FIELDS, render=render, limit=1000, query=query)


def _section_text(call: Call, f: sf.Filing, section: str) -> str:
    year = [p for p in periods(call.state.model.universe, f.ticker, today(call))
            if p.timeframe == "annual" and p.period_end == f.period.period_end]
    inc = (year[0] if year else f.period).income
    if section == "business":
        return ("Item 1. Business. %s operates in %s. For fiscal %d the company reported revenue of $%s million "
                "and net income of $%s million." % (f.issuer_name, sf.sector_words(f.ticker), f.period.fiscal_year,
                                                    _millions(inc["revenue"]),
                                                    _millions(inc["consolidated_net_income_loss"])))
    factors = _risk_rows(f)
    return "Item 1A. Risk Factors. " + " ".join("%s: %s" % (r[2], r[3]) for r in factors)


def _risk_rows(f: sf.Filing) -> List[tuple]:
    count = 3 + stable_seed("risk-count", f.ticker, f.period.fiscal_year) % 3
    start = stable_seed("risk-start", f.ticker) % len(sf.RISK_TAXONOMY)
    return [sf.RISK_TAXONOMY[(start + 2 * i) % len(sf.RISK_TAXONOMY)] for i in range(count)]


@handles("list_stocks_filings_10k_sections")
def tenk_sections(call: Call) -> Dict[str, Any]:
    """The ``business`` and ``risk_factors`` sections of each 10-K."""
    query = effective_query(call)
    rows = [{"filing": f, "section": s, "cik": f.cik, "ticker": f.ticker,
             "filing_date": f.filing_date.isoformat(), "period_end": f.period.period_end.isoformat()}
            for f in _filings(call, query, ("10-K",), "ticker") for s in ("business", "risk_factors")]

    def render(r: Dict[str, Any]) -> Dict[str, Any]:
        f = r["filing"]
        return {"cik": r["cik"], "ticker": r["ticker"], "filing_date": r["filing_date"], "period_end": r["period_end"],
                "section": r["section"], "filing_url": sf.filing_url(f.cik, f.accession_number),
                "text": _section_text(call, f, r["section"])}
    fields = {k: (lambda key: lambda r: r[key])(k) for k in ("cik", "ticker", "section", "filing_date", "period_end")}
    return page(call, rows, "period_end.desc", fields, render=render, limit=100, query=query)


@handles("list_stocks_filings_risk_factors")
def filing_risk_factors(call: Call) -> Dict[str, Any]:
    """The risk factors of each 10-K, classified with the risk factor taxonomy."""
    query = effective_query(call)
    rows = []
    for f in _filings(call, query, ("10-K",), "ticker"):
        for primary, secondary, tertiary, text in _risk_rows(f):
            rows.append({"cik": f.cik, "ticker": f.ticker, "filing_date": f.filing_date.isoformat(),
                         "primary_category": primary, "secondary_category": secondary,
                         "tertiary_category": tertiary,
                         "supporting_text": "%s %s" % (f.issuer_name, text[0].lower() + text[1:])})
    fields = {k: (lambda key: lambda r: r[key])(k) for k in ("cik", "ticker", "filing_date")}
    return page(call, rows, "filing_date.desc", fields, limit=100, query=query)


def _eight_k_text(f: sf.Filing) -> str:
    inc = f.period.income
    return ("Item 2.02 Results of Operations and Financial Condition. On %s, %s announced its results for the "
            "quarter ended %s: revenue of $%s million, net income of $%s million and diluted earnings per share of "
            "$%.2f. Item 9.01 Financial Statements and Exhibits. Exhibit 99.1: press release dated %s."
            % (f.filing_date.isoformat(), f.issuer_name, f.period.period_end.isoformat(), _millions(inc["revenue"]),
               _millions(inc["consolidated_net_income_loss"]), inc["diluted_earnings_per_share"],
               f.filing_date.isoformat()))


@handles("list_stocks_filings_8k_text")
def eight_k_text(call: Call) -> Dict[str, Any]:
    """The text of each results 8-K (Items 2.02 and 9.01)."""
    query = effective_query(call)
    rows = _filings(call, query, ("8-K",), "ticker")

    def render(f: sf.Filing) -> Dict[str, Any]:
        return {"accession_number": f.accession_number, "cik": f.cik, "ticker": f.ticker, "form_type": f.form_type,
                "filing_date": f.filing_date.isoformat(), "filing_url": sf.filing_url(f.cik, f.accession_number),
                "items_text": _eight_k_text(f)}
    return page(call, rows, "filing_date.desc", _FILING_FIELDS, render=render, limit=100, query=query)


@handles("list_stocks_filings_8k_disclosures")
def eight_k_disclosures(call: Call) -> Dict[str, Any]:
    """Each results 8-K classified: a quarterly or (fourth quarter) annual earnings release."""
    query = effective_query(call)
    rows = []
    for f in _filings(call, query, ("8-K",), "tickers"):
        primary, secondary, tertiary, _ = sf.DISCLOSURE_TAXONOMY[1 if f.period.fiscal_quarter == 4 else 0]
        rows.append({"accession_number": f.accession_number, "cik": f.cik, "tickers": [f.ticker],
                     "filing_date": f.filing_date.isoformat(), "filing_url": sf.filing_url(f.cik, f.accession_number),
                     "primary_category": primary, "secondary_category": secondary, "tertiary_category": tertiary,
                     "supporting_text": _eight_k_text(f).split(": ", 1)[1].split(". Item 9.01")[0]})
    fields = {k: (lambda key: lambda r: r[key])(k) for k in ("cik", "filing_date", "tertiary_category")}
    return page(call, rows, "filing_date.desc", fields, lists={"tickers": lambda r: r["tickers"]}, limit=100,
                query=query)


# -- Forms 3 and 4 ----------------------------------------------------------------------------------
def _ownership(f: sf.Filing) -> Dict[str, Any]:
    person = f.extra[0]
    return {"accession_number": f.accession_number, "filing_date": f.filing_date.isoformat(),
            "filing_url": sf.filing_url(f.cik, f.accession_number), "form_type": f.form_type,
            "issuer_cik": f.cik, "issuer_name": f.issuer_name, "tickers": [f.ticker], "owner_cik": person.cik,
            "owner_name": person.name, "is_director": person.is_director, "is_officer": bool(person.title),
            "is_other": False, "is_ten_percent_owner": False, "officer_title": person.title or None,
            "security_title": "Common Stock", "security_type": "non_derivative", "direct_or_indirect": "D",
            "not_subject_to_section_16": False, "aff_10b5_one": f.form_type == "4"}


_OWNER_FIELDS = {"issuer_cik": lambda r: r["issuer_cik"], "owner_cik": lambda r: r["owner_cik"],
                 "form_type": lambda r: r["form_type"], "filing_date": lambda r: r["filing_date"],
                 "min_ticker": lambda r: min(r["tickers"]), "max_ticker": lambda r: max(r["tickers"])}


def _owner_rows(call: Call, form: str) -> List[Dict[str, Any]]:
    query = effective_query(call)
    return [dict(_ownership(f), filing=f) for f in _filings(call, query, (form,), "tickers")]


def _strip(render: Callable[[Dict[str, Any]], Dict[str, Any]]):
    def out(row: Dict[str, Any]) -> Dict[str, Any]:
        body = render(row)
        return {k: v for k, v in body.items() if k != "filing" and v is not None}
    return out


@handles("list_stocks_filings_form_3")
def form_3(call: Call) -> Dict[str, Any]:
    """Each insider's initial statement of ownership."""
    rows = _owner_rows(call, "3")

    def render(r: Dict[str, Any]) -> Dict[str, Any]:
        f = r["filing"]
        return dict(r, period_of_report=f.filing_date.isoformat(), shares_owned=float(f.extra[1]))
    return page(call, rows, "filing_date.desc", _OWNER_FIELDS, lists={"tickers": lambda r: r["tickers"]},
                render=_strip(render), limit=100)


@handles("list_stocks_filings_form_4")
def form_4(call: Call) -> Dict[str, Any]:
    """Each insider sale (transaction code ``S``) at the close of its transaction date."""
    rows = _owner_rows(call, "4")
    for r in rows:
        r["transaction_code"] = "S"

    def render(r: Dict[str, Any]) -> Dict[str, Any]:
        f = r["filing"]
        day = f.filing_date - sf.FORM4_LAG
        price = _close(call, f.ticker, day)
        shares = float(f.extra[1])
        return dict(r, period_of_report=day.isoformat(), transaction_date=day.isoformat(), record_type="transaction",
                    transaction_shares=shares, transaction_price_per_share=price,
                    transaction_value=round(shares * price, 2), transaction_acquired_disposed="D",
                    shares_owned_following_transaction=float(f.extra[2]), equity_swap_involved=False,
                    transaction_timeliness="on_time",
                    footnotes=[{"id": "F1", "description": "Sold under a Rule 10b5-1 trading plan adopted by the "
                                                            "reporting person."}])
    fields = dict(_OWNER_FIELDS, transaction_code=lambda r: r["transaction_code"])
    return page(call, rows, "filing_date.desc", fields, lists={"tickers": lambda r: r["tickers"]},
                render=_strip(render), limit=100)


# -- 13-F -------------------------------------------------------------------------------------------
@handles("list_stocks_filings_13f")
def thirteen_f(call: Call) -> Dict[str, Any]:
    """The positions of three managers, one row per holding of each quarterly 13-F."""
    universe = call.state.model.universe
    rows = []
    for cik, name, end, filed, number in sf.manager_filings(universe, today(call)):
        for sec, share in sf.holdings(universe, cik):
            if sec.list_date <= end.isoformat() and (not sec.delisted or sec.delisted >= end.isoformat()):
                rows.append({"filer_cik": cik, "filing_date": filed.isoformat(), "period": end.isoformat(),
                             "accession_number": number, "sec": sec, "share": share, "manager": name})

    def render(r: Dict[str, Any]) -> Dict[str, Any]:
        sec = r["sec"]
        end = _dt.date.fromisoformat(r["period"])
        shares = int(float_row(sec, end)["free_float"] * r["share"] * universe.split_factor(sec.ticker, r["period"]))
        value = int(round(shares * _close(call, sec.ticker, end)))
        sole = int(shares * (0.8 + 0.2 * stable_fraction("sole", r["filer_cik"], sec.ticker)))
        digits = "%08d" % (stable_seed("cusip", sec.ticker) % 10**8)
        return {"accession_number": r["accession_number"], "filer_cik": r["filer_cik"],
                "filing_date": r["filing_date"], "period": r["period"], "form_type": "13F-HR",
                "filing_url": sf.filing_url(r["filer_cik"], r["accession_number"]),
                "file_number": "028-%05d" % (int(r["filer_cik"]) % 100000), "film_number": "%d" % (
                    25_000_000 + stable_seed("film", r["accession_number"]) % 999_999),
                "issuer_name": sec.name.upper(), "title_of_class": "COM",
                "cusip": digits[:6] + "10" + str(sum(int(c) for c in digits) % 10),
                "market_value": value, "shares_or_principal_amount": shares, "shares_or_principal_type": "SH",
                "investment_discretion": "SOLE", "other_managers": [], "voting_authority_sole": sole,
                "voting_authority_shared": 0, "voting_authority_none": shares - sole}
    fields = {k: (lambda key: lambda r: r[key])(k) for k in ("filer_cik", "filing_date")}
    return page(call, rows, "filing_date.desc", fields, render=render, limit=100)


# -- taxonomies -------------------------------------------------------------------------------------
def _taxonomy(call: Call, entries: tuple, version: Any) -> Dict[str, Any]:
    rows = [{"taxonomy": version, "primary_category": p, "secondary_category": s,
             "tertiary_category": t, "description": d} for p, s, t, d in entries]
    fields = {k: (lambda key: lambda r: r[key])(k)
              for k in ("taxonomy", "primary_category", "secondary_category", "tertiary_category")}
    return page(call, rows, "taxonomy.desc", fields, limit=200)


@handles("list_stocks_taxonomies_disclosures")
def disclosure_taxonomy(call: Call) -> Dict[str, Any]:
    """The 8-K disclosure classification used by ``/stocks/filings/8-K/vX/disclosures``."""
    return _taxonomy(call, sf.DISCLOSURE_TAXONOMY, sf.TAXONOMY_VERSION)


@handles("list_stocks_taxonomies_risk_factors")
def risk_factor_taxonomy(call: Call) -> Dict[str, Any]:
    """The risk factor classification used by ``/stocks/filings/vX/risk-factors``."""
    return _taxonomy(call, sf.RISK_TAXONOMY, float(sf.TAXONOMY_VERSION))  # a number in this dataset
