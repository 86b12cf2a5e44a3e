"""Company filings over the universe's common stocks: SEC filings (10-Q/10-K since 2018) and their
files, the financials derived from them (vX), and IPOs (from the listing dates).

One calendar drives all of it: quarters end on Mar/Jun/Sep/Dec 31; a 10-Q is filed 35 days after a
quarter, the 10-K 60 days after the year; nothing is filed after the sandbox clock's today. The
financials of a filing cite that filing (``source_filing_url``), and shares outstanding match the
ticker details.
"""

import datetime as _dt
from typing import Any, Dict, List, NamedTuple, Optional

from polygon.sandbox.endpoints import Call
from polygon.sandbox.listing import effective_query, filter_rows, list_body, path_value
from polygon.sandbox.query import serves
from polygon.sandbox.refdata import sector_of
from polygon.sandbox.reference import shares_outstanding, ticker_row
from polygon.sandbox.universe import stable_fraction, stable_seed
from polygon.sandbox.wire import WireError

_FIRST_YEAR = 2018
_QUARTER_ENDS = ((3, 31), (6, 30), (9, 30), (12, 31))


def _today(call: Call) -> _dt.date:
    return _dt.datetime.fromtimestamp(call.now_ms / 1000.0, _dt.timezone.utc).date()


def _companies(universe) -> List[Any]:
    return [s for s in universe.securities if s.type == "CS" and getattr(s, "market", "stocks") == "stocks"]


def _filings_of(sec, today: _dt.date) -> List[Dict[str, Any]]:
    cik = ticker_row(sec)["cik"]
    tag, sic, _ = sector_of(sec.ticker)
    first = max(_FIRST_YEAR, int(sec.list_date[:4]) + 1)
    delisted = getattr(sec, "delisted", None)
    out = []
    for year in range(first, today.year + 1):
        for quarter, (month, day) in enumerate(_QUARTER_ENDS, 1):
            period = _dt.date(year, month, day)
            annual = quarter == 4
            filed = period + _dt.timedelta(days=60 if annual else 35)
            if filed > today or (delisted is not None and period.isoformat() > delisted):
                continue
            seq = 100_000 + stable_seed("accession", sec.ticker, period.isoformat()) % 900_000
            accession = "%s-%02d-%06d" % (cik, filed.year % 100, seq)
            start = _dt.date(year, 1, 1) if annual else _dt.date(year, month - 2, 1)
            out.append({"id": accession.replace("-", ""), "accession_number": accession, "ticker": sec.ticker,
                        "cik": cik, "name": sec.name, "sic": sic, "type": "10-K" if annual else "10-Q",
                        "period_of_report_date": period.isoformat(), "filing_date": filed.isoformat(),
                        "start_date": start.isoformat(), "fiscal_year": str(year),
                        "fiscal_period": "FY" if annual else "Q%d" % quarter, "sec": sec})
    return out


def _all_filings(call: Call, query: Dict[str, str], ticker_key: str) -> List[Dict[str, Any]]:
    today = _today(call)
    companies = _companies(call.state.model.universe)
    wanted = query.get(ticker_key)
    if wanted:
        companies = [s for s in companies if s.ticker == wanted]
    rows: List[Dict[str, Any]] = []
    for sec in companies:
        rows.extend(_filings_of(sec, today))
    return rows


def _filing_body(call: Call, stub: Dict[str, Any]) -> Dict[str, Any]:
    filed = stub["filing_date"]
    return {
        "id": stub["id"],
        "accession_number": stub["accession_number"],
        "type": stub["type"],
        "filing_date": filed.replace("-", ""),
        "period_of_report_date": stub["period_of_report_date"].replace("-", ""),
        "acceptance_datetime": filed.replace("-", "") + "161502",
        "files_count": len(_FILE_KINDS),
        "source_url": "%s/v1/reference/sec/filings/%s" % (call.base_url, stub["id"]),
        # required by the provider's document, which does not describe it: the main document's file
        "download_url": "%s/v1/reference/sec/filings/%s/files/1" % (call.base_url, stub["id"]),
        "entities": [{"relation": "filer", "company_data": {"cik": stub["cik"], "name": stub["name"],
                                                            "sic": stub["sic"], "ticker": stub["ticker"]}}],
    }


def _find_filing(call: Call, filing_id: str) -> Dict[str, Any]:
    cik = filing_id[:10]
    for sec in _companies(call.state.model.universe):
        if ticker_row(sec)["cik"] == cik:
            for stub in _filings_of(sec, _today(call)):
                if stub["id"] == filing_id:
                    return stub
    raise WireError(404, "Filing not found.", "NOT_FOUND", "message")


@serves("/v1/reference/sec/filings")
def list_filings(call: Call) -> Dict[str, Any]:
    """``/v1/reference/sec/filings``: filters ``type``, ``filing_date``/``period_of_report_date`` (and ranges),
    ``has_xbrl``, ``entities.company_data.*``; sort ``filing_date`` (default) or ``period_of_report_date``."""
    query = effective_query(call)
    rows = _all_filings(call, query, "entities.company_data.ticker")
    rows = filter_rows(rows, query, {"type": lambda r: r["type"],  # dates as the provider's YYYYMMDD here
                                     "filing_date": lambda r: r["filing_date"].replace("-", ""),
                                     "period_of_report_date": lambda r: r["period_of_report_date"].replace("-", ""),
                                     "entities.company_data.cik": lambda r: r["cik"],
                                     "entities.company_data.sic": lambda r: r["sic"],
                                     "entities.company_data.name": lambda r: r["name"]})
    if query.get("entities.company_data.name.search"):
        needle = query["entities.company_data.name.search"].lower()
        rows = [r for r in rows if needle in r["name"].lower()]
    if (query.get("has_xbrl") or "true").lower() not in ("true", "1"):
        rows = []
    return list_body(call, rows, query, "filing_date", order="desc", render=lambda s: _filing_body(call, s))


@serves("/v1/reference/sec/filings/*")
def get_filing(call: Call) -> Dict[str, Any]:
    """``/v1/reference/sec/filings/{filing_id}``."""
    stub = _find_filing(call, str(path_value(call, "filing_id")))
    return {"results": _filing_body(call, stub)}  # the provider's document: no status or request_id here


# sequence, type, file name pattern, description
_FILE_KINDS = ((1, None, "%s.htm", "Main document"),
               (2, "EX-31.1", "%s-ex31.htm", "Certification of the principal executive officer"),
               (3, "XML", "%s_htm.xml", "XBRL instance document"))


def _files(call: Call, stub: Dict[str, Any]) -> List[Dict[str, Any]]:
    base = "%s-%s" % (stub["ticker"].lower().replace(".", ""), stub["period_of_report_date"].replace("-", ""))
    out = []
    for sequence, kind, pattern, text in _FILE_KINDS:
        size = 20_000 + stable_seed("file", stub["id"], sequence) % 2_000_000
        out.append({"id": str(sequence), "sequence": sequence, "type": kind or stub["type"],
                    # "file": required by the provider's document beside the "filename" it describes
                    "filename": pattern % base, "file": pattern % base, "description": text, "size_bytes": size,
                    "source_url": "%s/v1/reference/sec/filings/%s/files/%d" % (call.base_url, stub["id"], sequence)})
    return out


@serves("/v1/reference/sec/filings/*/files")
def list_filing_files(call: Call) -> Dict[str, Any]:
    """``/v1/reference/sec/filings/{filing_id}/files``: filters ``sequence``, ``filename`` (and ranges)."""
    query = effective_query(call)
    rows = _files(call, _find_filing(call, str(path_value(call, "filing_id"))))
    rows = filter_rows(rows, query, {"sequence": lambda r: r["sequence"], "filename": lambda r: r["filename"]})
    return list_body(call, rows, query, "sequence")


@serves("/v1/reference/sec/filings/*/files/*")
def get_filing_file(call: Call) -> Dict[str, Any]:
    """``/v1/reference/sec/filings/{filing_id}/files/{file_id}``: the file's description."""
    for row in _files(call, _find_filing(call, str(path_value(call, "filing_id")))):
        if row["id"] == str(path_value(call, "file_id")):
            return row
    raise WireError(404, "File not found.", "NOT_FOUND", "message")


# -- financials -------------------------------------------------------------------------------------
def _point(label: str, order: int, value: float, unit: str = "USD") -> Dict[str, Any]:
    # amounts in whole dollars, as the provider reports them; per-share values with cents
    amount = int(round(value)) if unit == "USD" else round(value, 4)
    return {"label": label, "order": order, "unit": unit, "value": amount}


def _financials(call: Call, stub: Dict[str, Any]) -> Dict[str, Any]:
    sec = stub["sec"]
    shares = shares_outstanding(sec)
    years = int(stub["fiscal_year"]) - _FIRST_YEAR + (0 if stub["fiscal_period"] == "FY" else 0.25 * int(
        stub["fiscal_period"][1]))
    growth = (1.0 + 0.02 + 0.08 * stable_fraction("growth", sec.ticker)) ** years
    quarterly = sec.base_price * shares * (0.04 + 0.06 * stable_fraction("sales", sec.ticker)) * growth
    revenue = quarterly * (4 if stub["fiscal_period"] == "FY" else 1)
    margin = 0.05 + 0.2 * stable_fraction("margin", sec.ticker)
    net = revenue * margin
    assets = 2.5 * quarterly * 4
    liabilities = assets * (0.35 + 0.3 * stable_fraction("leverage", sec.ticker))
    return {
        "cik": stub["cik"], "company_name": stub["name"], "tickers": [sec.ticker],
        "start_date": stub["start_date"], "end_date": stub["period_of_report_date"],
        "filing_date": stub["filing_date"], "acceptance_datetime": stub["filing_date"].replace("-", "") + "161502",
        "fiscal_year": stub["fiscal_year"], "fiscal_period": stub["fiscal_period"],
        "timeframe": "annual" if stub["fiscal_period"] == "FY" else "quarterly",
        "source_filing_url": "%s/v1/reference/sec/filings/%s" % (call.base_url, stub["id"]),
        "source_filing_file_url": "%s/v1/reference/sec/filings/%s/files/3" % (call.base_url, stub["id"]),
        "financials": {
            "income_statement": {
                "revenues": _point("Revenues", 100, revenue),
                "cost_of_revenue": _point("Cost Of Revenue", 300, revenue * 0.55),
                "gross_profit": _point("Gross Profit", 800, revenue * 0.45),
                "operating_expenses": _point("Operating Expenses", 1000, revenue * 0.45 - net * 1.25),
                "net_income_loss": _point("Net Income/Loss", 3200, net),
                "basic_earnings_per_share": _point("Basic Earnings Per Share", 4200, net / shares, "USD / shares"),
                "diluted_earnings_per_share": _point("Diluted Earnings Per Share", 4300, net / (shares * 1.01),
                                                     "USD / shares"),
            },
            "balance_sheet": {
                "assets": _point("Assets", 100, assets),
                "liabilities": _point("Liabilities", 600, liabilities),
                "equity": _point("Equity", 1400, assets - liabilities),
                "liabilities_and_equity": _point("Liabilities And Equity", 1900, assets),
            },
            "cash_flow_statement": {
                "net_cash_flow_from_operating_activities": _point("Net Cash Flow From Operating Activities", 100,
                                                                  net * 1.3),
                "net_cash_flow": _point("Net Cash Flow", 1100, net * 0.2),
            },
            "comprehensive_income": {
                "comprehensive_income_loss": _point("Comprehensive Income/Loss", 100, net * 1.02),
            },
        },
    }


@serves("/vX/reference/financials")
def list_financials(call: Call) -> Dict[str, Any]:
    """``/vX/reference/financials``: one report per filing (10-Q quarterly, 10-K annual); filters ``ticker``,
    ``cik``, ``company_name`` (``.search``), ``sic``, ``filing_date``/``period_of_report_date`` (and ranges),
    ``timeframe``; sort ``period_of_report_date`` (default) or ``filing_date``; limit max 100."""
    query = effective_query(call)
    rows = _all_filings(call, query, "ticker")
    for row in rows:
        row["timeframe"] = "annual" if row["fiscal_period"] == "FY" else "quarterly"
    rows = filter_rows(rows, query, {"cik": lambda r: r["cik"], "company_name": lambda r: r["name"],
                                     "sic": lambda r: r["sic"], "filing_date": lambda r: r["filing_date"],
                                     "period_of_report_date": lambda r: r["period_of_report_date"],
                                     "timeframe": lambda r: r["timeframe"]})
    if query.get("company_name.search"):
        needle = query["company_name.search"].lower()
        rows = [r for r in rows if needle in r["name"].lower()]
    return list_body(call, rows, query, "period_of_report_date", order="desc", max_limit=100,
                     render=lambda s: _financials(call, s))


# -- IPOs ---------------------------------------------------------------------------------------------
class _Upcoming(NamedTuple):
    """A company whose listing is still ahead (not in the universe yet)."""

    ticker: str
    type: str
    primary_exchange: str
    base_volume: int


def _cusip(ticker: str) -> str:
    digits = "%08d" % (stable_seed("cusip", ticker) % 10**8)
    return digits[:6] + "10" + str(sum(int(c) for c in digits) % 10)


def _ipo(sec, status: str, listing: str, last_updated: str, name: Optional[str] = None) -> Dict[str, Any]:
    price = round(8.0 + 40.0 * stable_fraction("ipo", sec.ticker), 2)
    offered = int(2_000_000 + 30_000_000 * stable_fraction("offered", sec.ticker))
    cusip = _cusip(sec.ticker)
    row = {"ticker": sec.ticker, "issuer_name": name or sec.name, "ipo_status": status, "listing_date": listing,
           "last_updated": last_updated, "primary_exchange": sec.primary_exchange,
           "security_type": sec.type, "security_description": "Ordinary Shares" if sec.type == "CS" else "Fund Units",
           "currency_code": "USD", "us_code": cusip, "isin": "US%s%d" % (cusip, stable_seed("isin", cusip) % 10),
           "lot_size": 100, "lowest_offer_price": round(price * 0.9, 2), "highest_offer_price": round(price * 1.1, 2),
           "min_shares_offered": offered // 2, "max_shares_offered": offered,
           "shares_outstanding": shares_outstanding(sec)}
    if status == "history":
        row["final_issue_price"] = price
        row["total_offer_size"] = round(price * offered, 2)
    return row


@serves("/vX/reference/ipos")
def list_ipos(call: Call) -> Dict[str, Any]:
    """``/vX/reference/ipos``: the listings of the universe's stocks since 2000 (``history``) and three
    upcoming ones (``pending``); filters ``ticker``, ``us_code``, ``isin``, ``listing_date`` (and
    ranges), ``ipo_status``; sort ``listing_date`` desc by default."""
    query = effective_query(call)
    today = _today(call)
    rows = []
    for sec in call.state.model.universe.securities:
        if sec.list_date >= "2000-01-01" and sec.list_date <= today.isoformat():
            rows.append(_ipo(sec, "history", sec.list_date, sec.list_date))
    for i in range(3):
        listing = today + _dt.timedelta(days=9 + 7 * i)
        upcoming = _Upcoming("ZIPO" + "ABC"[i], "CS", ("XNAS", "XNYS")[i % 2], 500_000 * (i + 1))
        rows.append(_ipo(upcoming, "pending", listing.isoformat(), today.isoformat(),
                         "Sandbox Upcoming %s Inc." % "ABC"[i]))
    rows = filter_rows(rows, query, {"ticker": lambda r: r["ticker"], "us_code": lambda r: r["us_code"],
                                     "isin": lambda r: r["isin"], "listing_date": lambda r: r["listing_date"],
                                     "ipo_status": lambda r: r["ipo_status"]})
    return list_body(call, rows, query, "listing_date", order="desc", with_count=False)
