"""``/tmx/v1/corporate-events`` (TMX corporate events of the universe's companies) and
``/consumer-spending/eu/v1/*`` (EU merchant hierarchy and spend aggregates of
:mod:`polygon.sandbox.consumer_spending`).

Corporate events are the sandbox's own calendar: each results release (the 8-K date of
:mod:`polygon.sandbox.sec_filings`) and the next expected one, each dividend's ex-date
(:mod:`polygon.sandbox.corporate`, as ``/v3/reference/dividends``) and each split, over the last two years.
"""

import datetime as _dt
from typing import Any, Dict, List

from polygon.sandbox import consumer_spending as cs
from polygon.sandbox import corporate
from polygon.sandbox.datasets import page, today
from polygon.sandbox.endpoints import Call, handles
from polygon.sandbox.etf_global import isin_of
from polygon.sandbox.fundamentals import companies, periods
from polygon.sandbox.sec_filings import RESULTS_LEAD
from polygon.sandbox.universe import stable_seed

_EVENT_YEARS = 2


def _getters(*names: str) -> Dict[str, Any]:
    return {name: (lambda key: lambda r: r.get(key))(name) for name in names}


def _event(sec: Any, day: _dt.date, kind: str, name: str, status: str) -> Dict[str, Any]:
    company = 10_000 + stable_seed("tmx-company", sec.ticker) % 90_000
    return {"ticker": sec.ticker, "company_name": sec.name, "isin": isin_of(sec.ticker), "date": day.isoformat(),
            "type": kind, "name": name, "status": status, "trading_venue": sec.primary_exchange,
            "tmx_company_id": company, "tmx_record_id": "%d-%s-%s" % (company, kind, day.strftime("%Y%m%d")),
            "url": "https://money.tmx.com/en/quote/%s" % sec.ticker}


def corporate_events(call: Call) -> List[Dict[str, Any]]:
    universe, as_of = call.state.model.universe, today(call)
    first = as_of - _dt.timedelta(days=365 * _EVENT_YEARS)
    out = []
    for sec in companies(universe):
        quarters = [p for p in periods(universe, sec.ticker, as_of) if p.timeframe == "quarterly"]
        for q in quarters:
            day = q.filing_date - RESULTS_LEAD
            if day >= first:
                out.append(_event(sec, day, "earnings", "Q%d %d Earnings Release" % (q.fiscal_quarter, q.fiscal_year),
                                  "confirmed"))
        if quarters:
            last = quarters[-1]
            nxt = last.filing_date - RESULTS_LEAD + _dt.timedelta(days=91)
            quarter = 1 if last.fiscal_quarter == 4 else last.fiscal_quarter + 1
            year = last.fiscal_year + (1 if last.fiscal_quarter == 4 else 0)
            out.append(_event(sec, nxt, "earnings", "Q%d %d Earnings Release" % (quarter, year), "tentative"))
    by_ticker = {s.ticker: s for s in companies(universe)}
    for d in corporate.dividends(universe, as_of):
        if d.ex_dividend_date >= first and d.ticker in by_ticker:
            out.append(_event(by_ticker[d.ticker], d.ex_dividend_date, "dividend",
                              "Cash Dividend USD %.4f" % d.cash_amount, "confirmed"))
    for s in corporate.splits(universe, as_of):
        if s.execution_date >= first and s.ticker in by_ticker:
            out.append(_event(by_ticker[s.ticker], s.execution_date, "split",
                              "Stock Split %g for %g" % (s.split_to, s.split_from), "confirmed"))
    return out


@handles("list_tmx_corporate_events")
def tmx_corporate_events(call: Call) -> Dict[str, Any]:
    """Results releases, dividends and splits of the last two years and the next expected releases."""
    fields = _getters("date", "type", "status", "ticker", "isin", "trading_venue", "tmx_company_id", "tmx_record_id")
    return page(call, corporate_events(call), "date.desc", fields, limit=100)


@handles("list_eu_merchant_hierarchy")
def eu_merchant_hierarchy(call: Call) -> Dict[str, Any]:
    """The merchants and their groups."""
    fields = _getters("lookup_name", "ticker", "listing_status", "active_from", "active_to")
    return page(call, cs.hierarchy(), "lookup_name.asc", fields, limit=100)


@handles("list_eu_merchant_aggregates")
def eu_merchant_aggregates(call: Call) -> Dict[str, Any]:
    """Daily spend per merchant, country and channel (newest first)."""
    rows = [{k: v for k, v in r.items() if v is not None} for r in cs.aggregates(today(call))]
    fields = _getters("transaction_date", "name", "user_country", "channel", "consumer_type", "parent_name")
    return page(call, rows, "transaction_date.desc", fields, limit=100)
