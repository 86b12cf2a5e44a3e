"""The provider's newer company data: ``/stocks/financials/v1/*`` (statements and ratios), ``/stocks/vX/float``,
``/stocks/v1/short-interest``, ``/stocks/v1/short-volume``, ``/stocks/v1/splits`` and ``/stocks/v1/dividends``.

Statements come from :mod:`polygon.sandbox.fundamentals`; ratios divide the latest trailing-twelve-month
statements into the last closed session's price and volume of the sandbox's own bars; short volume splits
each session's bar volume; splits and dividends are those of :mod:`polygon.sandbox.corporate` (the same
events as ``/v3/reference/splits`` and ``/v3/reference/dividends``), with their adjustment factors.
"""

import datetime as _dt
from typing import Any, Dict, List, Mapping

from polygon.sandbox import corporate
from polygon.sandbox.datasets import page, today
from polygon.sandbox.endpoints import Call, handles
from polygon.sandbox.fundamentals import (
    BALANCE_FIELDS,
    CASH_FLOW_FIELDS,
    INCOME_FIELDS,
    Period,
    companies,
    float_row,
    periods,
    settlement_dates,
    short_interest_rows,
    short_volume_row,
)
from polygon.sandbox.listing import effective_query
from polygon.sandbox.reference import ticker_row

_SHORT_INTEREST_FROM = _dt.date(2022, 1, 1)
_SHORT_VOLUME_DAYS = 730  # the daily short volume reaches back two years from today
_AVERAGE_SESSIONS = 20


def _chosen(call: Call, query: Mapping[str, str], *names: str) -> List[Any]:
    """The companies a ticker filter (``ticker``/``tickers`` and their ``.any_of``) leaves, else all of them."""
    wanted = set()
    for name in names:
        for key in (name, name + ".any_of", name + ".all_of"):
            if query.get(key):
                wanted |= set(query[key].split(","))
    found = companies(call.state.model.universe)
    return [s for s in found if s.ticker in wanted] if wanted else found


# -- statements -------------------------------------------------------------------------------------
_PERIOD_FIELDS = {
    "cik": lambda p: p.cik, "period_end": lambda p: p.period_end.isoformat(),
    "filing_date": lambda p: p.filing_date.isoformat(), "fiscal_year": lambda p: p.fiscal_year,
    "fiscal_quarter": lambda p: p.fiscal_quarter, "timeframe": lambda p: p.timeframe,
}


def _statement(part: str, names: tuple):
    def render(p: Period) -> Dict[str, Any]:
        row = {"cik": p.cik, "tickers": [p.ticker], "period_end": p.period_end.isoformat(),
               "filing_date": p.filing_date.isoformat(), "fiscal_year": p.fiscal_year, "timeframe": p.timeframe}
        if p.fiscal_quarter is not None:
            row["fiscal_quarter"] = p.fiscal_quarter
        values = getattr(p, part)
        row.update((name, values[name]) for name in names)
        return row
    return render


def _statements(call: Call, part: str, names: tuple) -> Dict[str, Any]:
    query = effective_query(call)
    universe, as_of = call.state.model.universe, today(call)
    rows: List[Period] = []
    for sec in _chosen(call, query, "tickers"):
        rows.extend(periods(universe, sec.ticker, as_of))
    return page(call, rows, "period_end.desc", _PERIOD_FIELDS, lists={"tickers": lambda p: (p.ticker,)},
                render=_statement(part, names), query=query)


@handles("list_financials_balance_sheets")
def balance_sheets(call: Call) -> Dict[str, Any]:
    """Balance sheets at each period end (quarterly, annual, trailing twelve months: the last quarter's)."""
    return _statements(call, "balance", BALANCE_FIELDS)


@handles("list_financials_income_statements")
def income_statements(call: Call) -> Dict[str, Any]:
    """Income statements per quarter, fiscal year and trailing twelve months."""
    return _statements(call, "income", INCOME_FIELDS)


@handles("list_financials_cash_flow_statements")
def cash_flow_statements(call: Call) -> Dict[str, Any]:
    """Cash flow statements per quarter, fiscal year and trailing twelve months."""
    return _statements(call, "cash_flow", CASH_FLOW_FIELDS)


# -- ratios -----------------------------------------------------------------------------------------
def _last_sessions(call: Call, ticker: str, count: int) -> Any:
    model, day = call.state.model, today(call)
    days = model.session_days(ticker, day - _dt.timedelta(days=2 * count + 10), day - _dt.timedelta(days=1))
    return model.days(ticker, days[-count], days[-1]) if days else None


def ratios_of(call: Call, sec: Any) -> Dict[str, Any]:
    """The ratios of ``sec``: the last closed session's close and mean volume over the sandbox's bars, and the
    latest trailing-twelve-month statements (market cap = close x basic shares outstanding)."""
    universe, as_of = call.state.model.universe, today(call)
    ttm = [p for p in periods(universe, sec.ticker, as_of) if p.timeframe == "trailing_twelve_months"]
    bars = _last_sessions(call, sec.ticker, _AVERAGE_SESSIONS)
    if not ttm or bars is None or not len(bars):
        return {"ticker": sec.ticker}
    p = ttm[-1]
    price = float(bars.c[-1])
    shares = p.income["basic_shares_outstanding"]
    market_cap = price * shares
    inc, flow, bal = p.income, p.cash_flow, p.balance
    equity = bal["total_equity"]
    debt = bal["debt_current"] + bal["long_term_debt_and_capital_lease_obligations"]
    cash = bal["cash_and_equivalents"] + bal["short_term_investments"]
    free_cash_flow = flow["net_cash_from_operating_activities"] + flow["purchase_of_property_plant_and_equipment"]
    enterprise_value = market_cap + debt - bal["cash_and_equivalents"]
    per_share_dividends = -flow["dividends"] / shares

    def ratio(numerator: float, denominator: float) -> Any:
        return round(numerator / denominator, 4) if denominator else None

    out = {"ticker": sec.ticker, "cik": p.cik, "date": call.state.model.day_of(sec.ticker, int(bars.t[-1])).isoformat(),
           "price": price, "average_volume": round(float(bars.v.mean()), 0), "market_cap": round(market_cap, 2),
           "earnings_per_share": inc["diluted_earnings_per_share"],
           "price_to_earnings": ratio(price, inc["diluted_earnings_per_share"]),
           "price_to_book": ratio(market_cap, equity), "price_to_sales": ratio(market_cap, inc["revenue"]),
           "price_to_cash_flow": ratio(market_cap, flow["net_cash_from_operating_activities"]),
           "price_to_free_cash_flow": ratio(market_cap, free_cash_flow),
           "dividend_yield": round(per_share_dividends / price, 4),
           "return_on_assets": ratio(inc["consolidated_net_income_loss"], bal["total_assets"]),
           "return_on_equity": ratio(inc["consolidated_net_income_loss"], equity),
           "debt_to_equity": ratio(debt, equity),
           "current": ratio(bal["total_current_assets"], bal["total_current_liabilities"]),
           "quick": ratio(cash + bal["receivables"], bal["total_current_liabilities"]),
           "cash": ratio(cash, bal["total_current_liabilities"]),
           "ev_to_sales": ratio(enterprise_value, inc["revenue"]),
           "ev_to_ebitda": ratio(enterprise_value, inc["ebitda"]),
           "enterprise_value": round(enterprise_value, 2), "free_cash_flow": free_cash_flow}
    return {k: v for k, v in out.items() if v is not None}


_RATIO_NAMES = ("price", "average_volume", "market_cap", "earnings_per_share", "price_to_earnings", "price_to_book",
                "price_to_sales", "price_to_cash_flow", "price_to_free_cash_flow", "dividend_yield",
                "return_on_assets", "return_on_equity", "debt_to_equity", "current", "quick", "cash", "ev_to_sales",
                "ev_to_ebitda", "enterprise_value", "free_cash_flow")


@handles("list_financials_ratios")
def financial_ratios(call: Call) -> Dict[str, Any]:
    """One row per company: its ratios as of the last closed session (values computed only for the rows a
    filter or the page needs)."""
    query = effective_query(call)
    cache: Dict[str, Dict[str, Any]] = {}

    def full(row: Dict[str, Any]) -> Dict[str, Any]:
        if row["ticker"] not in cache:
            cache[row["ticker"]] = ratios_of(call, row["sec"])
        return cache[row["ticker"]]

    fields = {"ticker": lambda r: r["ticker"], "cik": lambda r: r["cik"]}
    fields.update({name: (lambda key: lambda r: full(r).get(key))(name) for name in _RATIO_NAMES})
    rows = [{"ticker": s.ticker, "cik": str(ticker_row(s)["cik"]), "sec": s} for s in _chosen(call, query, "ticker")]
    return page(call, rows, "ticker.asc", fields, render=full, query=query)


# -- float, short interest, short volume -----------------------------------------------------------
@handles("list_stocks_floats")
def stocks_floats(call: Call) -> Dict[str, Any]:
    """The free float of each company as of its latest quarter end."""
    query = effective_query(call)
    rows = [float_row(s, today(call)) for s in _chosen(call, query, "ticker")]
    fields = {"ticker": lambda r: r["ticker"], "free_float_percent": lambda r: r["free_float_percent"],
              "free_float": lambda r: r["free_float"], "effective_date": lambda r: r["effective_date"]}
    return page(call, rows, "ticker.asc", fields, query=query)


@handles("list_short_interest")
def short_interest(call: Call) -> Dict[str, Any]:
    """Short interest on FINRA's settlement dates since 2022 (none after the sandbox's today)."""
    query = effective_query(call)
    dates = settlement_dates(_SHORT_INTEREST_FROM, today(call) - _dt.timedelta(days=1))
    rows: List[Dict[str, Any]] = []
    for sec in _chosen(call, query, "ticker"):
        listed = sec.list_date
        rows.extend(r for r in short_interest_rows(sec, dates) if r["settlement_date"] >= listed
                    and (not sec.delisted or r["settlement_date"] <= sec.delisted))
    fields = {name: (lambda key: lambda r: r[key])(name)
              for name in ("ticker", "settlement_date", "days_to_cover", "avg_daily_volume", "short_interest")}
    return page(call, rows, "ticker.asc", fields, query=query)


@handles("list_short_volume")
def short_volume(call: Call) -> Dict[str, Any]:
    """Daily short volume over the last two years from each session's bar volume (values computed for the page, or for
    every candidate row when a volume filter asks for them)."""
    query = effective_query(call)
    model, day = call.state.model, today(call)
    since = day - _dt.timedelta(days=_SHORT_VOLUME_DAYS)
    first = _dt.date.fromisoformat(query["date.gte"]) if query.get("date.gte") else since
    if query.get("date"):
        first = _dt.date.fromisoformat(query["date"])
    last = day - _dt.timedelta(days=1)
    rows = [{"ticker": s.ticker, "date": d.isoformat(), "sec": s, "day": d}
            for s in _chosen(call, query, "ticker")
            for d in model.session_days(s.ticker, max(first, since), last)]
    cache: Dict[tuple, Dict[str, Any]] = {}

    def full(row: Dict[str, Any]) -> Dict[str, Any]:
        key = (row["ticker"], row["date"])
        if key not in cache:
            bar = model.day_bar(row["ticker"], row["day"], adjusted=False)
            cache[key] = short_volume_row(row["sec"], row["day"], int(bar.v[0]) if len(bar) else 0)
        return cache[key]

    fields = {"ticker": lambda r: r["ticker"], "date": lambda r: r["date"],
              "short_volume_ratio": lambda r: full(r)["short_volume_ratio"],
              "total_volume": lambda r: full(r)["total_volume"]}
    return page(call, rows, "date.desc", fields, render=full, query=query)


# -- splits and dividends (v1) ----------------------------------------------------------------------
@handles("list_stocks_splits")
def stocks_splits(call: Call) -> Dict[str, Any]:
    """Splits announced by today, with the cumulative factor that adjusts prices before each execution date."""
    query = effective_query(call)
    events = corporate.splits(call.state.model.universe, today(call))
    rows = []
    for s in events:
        later = [e for e in events if e.ticker == s.ticker and e.execution_date >= s.execution_date]
        factor = 1.0
        for e in later:
            factor *= e.split_from / e.split_to
        rows.append({"id": s.id, "ticker": s.ticker, "execution_date": s.execution_date.isoformat(),
                     "split_from": s.split_from, "split_to": s.split_to,
                     "adjustment_type": "forward_split" if s.split_to > s.split_from else "reverse_split",
                     "historical_adjustment_factor": round(factor, 10)})
    fields = {name: (lambda key: lambda r: r[key])(name) for name in ("ticker", "execution_date", "adjustment_type")}
    return page(call, rows, "execution_date.desc", fields, query=query)


@handles("list_stocks_dividends")
def stocks_dividends(call: Call) -> Dict[str, Any]:
    """Dividends declared by today; the adjustment factor divides out the dividend from the close before the
    ex-date (the sandbox's as-traded bars)."""
    query = effective_query(call)
    model = call.state.model
    universe = model.universe
    rows = [{"id": d.id, "ticker": d.ticker, "cash_amount": d.cash_amount, "currency": "USD",
             "declaration_date": d.declaration_date.isoformat(), "ex_dividend_date": d.ex_dividend_date.isoformat(),
             "record_date": d.record_date.isoformat(), "pay_date": d.pay_date.isoformat(),
             "distribution_type": "recurring", "frequency": 4,
             "split_adjusted_cash_amount": round(d.cash_amount / universe.split_factor(
                 d.ticker, d.ex_dividend_date.isoformat()), 6)}
            for d in corporate.dividends(universe, today(call))]

    def render(row: Dict[str, Any]) -> Dict[str, Any]:
        ex = _dt.date.fromisoformat(row["ex_dividend_date"])
        days = model.session_days(row["ticker"], ex - _dt.timedelta(days=10), ex - _dt.timedelta(days=1))
        out = dict(row)
        if days:
            close = float(model.day_bar(row["ticker"], days[-1], adjusted=False).c[0])
            out["historical_adjustment_factor"] = round(1.0 - row["cash_amount"] / close, 8)
        return out

    fields = {name: (lambda key: lambda r: r[key])(name)
              for name in ("ticker", "ex_dividend_date", "distribution_type", "frequency", "cash_amount")}
    return page(call, rows, "ex_dividend_date.desc", fields, render=render, query=query)
