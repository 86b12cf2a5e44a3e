"""Company fundamentals of the sandbox's common stocks: quarterly statements that add up, ratios from the
statements and the bars, free float, short interest and short volume.

One model per company, quarter by quarter from 2018 (or the year after listing): revenue grows at a
stable rate with a mild seasonal swing; costs are stable shares of revenue; income taxes are 21% of
pre-tax income. The cash flow statement starts from the income statement's net income; the balance
sheet's cash is the previous quarter's cash plus the quarter's change in cash, and equity is the previous
equity plus net income minus dividends and buybacks (or plus shares issued when equity would fall below
four tenths of a year's revenue), so assets = liabilities + equity on every date.
Annual and trailing-twelve-month rows sum four quarters (flows) and take the last quarter's balances.
Dividends paid are the dividends of :mod:`polygon.sandbox.corporate` times the shares outstanding of
:func:`polygon.sandbox.reference.shares_outstanding` (which the ticker details report too).

A quarter's 10-Q is filed 35 days after it ends, a 10-K 60 days after the year; nothing is reported
before its filing date (the sandbox clock's today).
"""

import datetime as _dt
import functools
import math
from typing import Any, Dict, List, NamedTuple, Optional

from polygon.sandbox import corporate
from polygon.sandbox.datasets import quarter_ends, round_money
from polygon.sandbox.reference import shares_outstanding, ticker_row
from polygon.sandbox.universe import Security, Universe, stable_fraction

__all__ = ["BALANCE_FIELDS", "CASH_FLOW_FIELDS", "INCOME_FIELDS", "Period", "companies", "filing_date",
           "float_row", "periods", "short_interest_rows", "short_volume_row", "settlement_dates"]

FIRST_YEAR = 2018
TAX_RATE = 0.21

INCOME_FIELDS = (
    "revenue", "cost_of_revenue", "gross_profit", "research_development", "selling_general_administrative",
    "depreciation_depletion_amortization", "other_operating_expenses", "total_operating_expenses",
    "operating_income", "interest_income", "interest_expense", "other_income_expense",
    "total_other_income_expense", "income_before_income_taxes", "income_taxes", "discontinued_operations",
    "extraordinary_items", "equity_in_affiliates", "consolidated_net_income_loss", "noncontrolling_interest",
    "preferred_stock_dividends_declared", "net_income_loss_attributable_common_shareholders", "ebitda",
    "basic_shares_outstanding", "diluted_shares_outstanding", "basic_earnings_per_share",
    "diluted_earnings_per_share")
CASH_FLOW_FIELDS = (
    "net_income", "depreciation_depletion_and_amortization", "change_in_other_operating_assets_and_liabilities_net",
    "other_operating_activities", "other_cash_adjustments", "cash_from_operating_activities_continuing_operations",
    "net_cash_from_operating_activities_discontinued_operations", "net_cash_from_operating_activities",
    "purchase_of_property_plant_and_equipment", "sale_of_property_plant_and_equipment", "other_investing_activities",
    "net_cash_from_investing_activities_continuing_operations",
    "net_cash_from_investing_activities_discontinued_operations", "net_cash_from_investing_activities",
    "dividends", "long_term_debt_issuances_repayments", "short_term_debt_issuances_repayments",
    "other_financing_activities", "net_cash_from_financing_activities_continuing_operations",
    "net_cash_from_financing_activities_discontinued_operations", "net_cash_from_financing_activities",
    "effect_of_currency_exchange_rate", "income_loss_from_discontinued_operations", "noncontrolling_interests",
    "change_in_cash_and_equivalents")
BALANCE_FIELDS = (
    "cash_and_equivalents", "short_term_investments", "receivables", "inventories", "other_current_assets",
    "total_current_assets", "property_plant_equipment_net", "goodwill", "intangible_assets_net", "other_assets",
    "total_assets", "accounts_payable", "accrued_and_other_current_liabilities", "debt_current",
    "deferred_revenue_current", "total_current_liabilities", "long_term_debt_and_capital_lease_obligations",
    "other_noncurrent_liabilities", "total_liabilities", "commitments_and_contingencies", "preferred_stock",
    "common_stock", "additional_paid_in_capital", "retained_earnings_deficit",
    "accumulated_other_comprehensive_income", "treasury_stock", "other_equity",
    "total_equity_attributable_to_parent", "noncontrolling_interest", "total_equity", "total_liabilities_and_equity")
_PER_SHARE = ("basic_earnings_per_share", "diluted_earnings_per_share")
_SHARES = ("basic_shares_outstanding", "diluted_shares_outstanding")


class Period(NamedTuple):
    """One reported period of a company: its three statements (wire name -> value)."""

    ticker: str
    cik: str
    fiscal_year: int
    fiscal_quarter: Optional[int]  # None for annual and trailing-twelve-month rows
    timeframe: str  # 'quarterly', 'annual', 'trailing_twelve_months'
    period_end: _dt.date
    filing_date: _dt.date
    income: Dict[str, float]
    cash_flow: Dict[str, float]
    balance: Dict[str, float]


def companies(universe: Universe) -> List[Security]:
    """The universe's operating companies (common stocks of the US market)."""
    return [s for s in universe.securities if s.type == "CS" and s.market == "stocks"]


def filing_date(period_end: _dt.date, annual: bool) -> _dt.date:
    """When the statements of a period are filed: 10-Q 35 days after the quarter, 10-K 60 after the year."""
    return period_end + _dt.timedelta(days=60 if annual else 35)


def _quarter_flows(sec: Security, year: int, quarter: int, shares: int) -> Dict[str, float]:
    t = (year - FIRST_YEAR) + (quarter - 1) / 4.0
    growth = (1.01 + 0.06 * stable_fraction("growth", sec.ticker)) ** t
    season = 1.0 + 0.06 * math.sin(math.pi * quarter / 2.0 + 6.0 * stable_fraction("season", sec.ticker))
    revenue = sec.base_price * shares * (0.012 + 0.035 * stable_fraction("sales", sec.ticker)) * growth * season
    gross_share = 0.35 + 0.35 * stable_fraction("gross", sec.ticker)
    rd = revenue * 0.08 * stable_fraction("rd", sec.ticker)
    sga = revenue * (0.06 + 0.08 * stable_fraction("sga", sec.ticker))
    dda = revenue * (0.02 + 0.03 * stable_fraction("dda", sec.ticker))
    return {"revenue": revenue, "gross": revenue * gross_share, "rd": rd, "sga": sga, "dda": dda,
            "noise": stable_fraction("quarter", sec.ticker, year, quarter) - 0.5}


@functools.lru_cache(maxsize=1024)
def _quarters(universe: Universe, ticker: str, last_year: int) -> List[Period]:
    """Every quarter of ``ticker`` through ``last_year`` (filed or not: callers cut at today)."""
    sec = universe.get(ticker)
    shares = shares_outstanding(sec)
    cik = str(ticker_row(sec)["cik"])
    first = max(FIRST_YEAR, int(sec.list_date[:4]) + 1)
    end = _dt.date(last_year, 12, 31)
    if sec.delisted:
        end = min(end, _dt.date.fromisoformat(sec.delisted))
    paid = {}
    for div in corporate.dividends(universe, _dt.date(last_year, 12, 31), ticker):
        key = (div.ex_dividend_date.year, (div.ex_dividend_date.month - 1) // 3 + 1)
        per_share = div.cash_amount / universe.split_factor(ticker, div.ex_dividend_date.isoformat())
        paid[key] = paid.get(key, 0.0) + per_share
    out: List[Period] = []
    cash = equity = debt = 0.0
    opened = False
    debt_share = 0.15 + 0.35 * stable_fraction("leverage", ticker)
    for year, quarter, period_end in quarter_ends(first, end):
        f = _quarter_flows(sec, year, quarter, shares)
        revenue = f["revenue"]
        annual_revenue = 4 * revenue
        if not opened:  # the opening balances of the first reported quarter
            cash = annual_revenue * (0.15 + 0.2 * stable_fraction("cash", ticker))
            equity = annual_revenue * (0.6 + 0.6 * stable_fraction("equity", ticker))
            debt = annual_revenue * debt_share
            opened = True
        interest_expense = debt * 0.045 / 4
        interest_income = cash * 0.02 / 4
        operating_income = f["gross"] - f["rd"] - f["sga"]
        pretax = operating_income + interest_income - interest_expense
        taxes = TAX_RATE * max(pretax, 0.0)
        net = pretax - taxes
        per_share_dividend = paid.get((year, quarter), 0.0)
        dividends = per_share_dividend * shares
        buybacks = max(net, 0.0) * (0.3 + 0.3 * stable_fraction("buyback", ticker))
        equity_floor = annual_revenue * 0.4  # issue shares (negative buybacks) rather than let equity run out
        buybacks -= max(0.0, equity_floor - (equity + net - dividends - buybacks))
        debt_change = revenue * 0.02 * f["noise"]
        capex = f["dda"] + revenue * 0.01 * stable_fraction("capex", ticker)  # at least the depreciation
        working_capital = revenue * 0.02 * f["noise"]
        income = {
            "revenue": revenue, "cost_of_revenue": revenue - f["gross"], "gross_profit": f["gross"],
            "research_development": f["rd"], "selling_general_administrative": f["sga"],
            "depreciation_depletion_amortization": f["dda"], "other_operating_expenses": 0.0,
            "total_operating_expenses": f["rd"] + f["sga"], "operating_income": operating_income,
            "interest_income": interest_income, "interest_expense": interest_expense, "other_income_expense": 0.0,
            "total_other_income_expense": interest_income - interest_expense, "income_before_income_taxes": pretax,
            "income_taxes": taxes, "discontinued_operations": 0.0, "extraordinary_items": 0.0,
            "equity_in_affiliates": 0.0, "consolidated_net_income_loss": net, "noncontrolling_interest": 0.0,
            "preferred_stock_dividends_declared": 0.0, "net_income_loss_attributable_common_shareholders": net,
            "ebitda": operating_income + f["dda"], "basic_shares_outstanding": float(shares),
            "diluted_shares_outstanding": float(round(shares * 1.01)),
        }
        operating = net + f["dda"] + working_capital
        investing = -capex + revenue * 0.002
        floor = revenue * 0.5  # borrow rather than let cash fall below half a quarter's revenue
        debt_change += max(0.0, floor - (cash + operating + investing - dividends + debt_change - buybacks))
        financing = -dividends + debt_change - buybacks
        flow = {
            "net_income": net, "depreciation_depletion_and_amortization": f["dda"],
            "change_in_other_operating_assets_and_liabilities_net": working_capital,
            "other_operating_activities": 0.0, "other_cash_adjustments": 0.0,
            "cash_from_operating_activities_continuing_operations": operating,
            "net_cash_from_operating_activities_discontinued_operations": 0.0,
            "net_cash_from_operating_activities": operating,
            "purchase_of_property_plant_and_equipment": -capex,
            "sale_of_property_plant_and_equipment": revenue * 0.002, "other_investing_activities": 0.0,
            "net_cash_from_investing_activities_continuing_operations": investing,
            "net_cash_from_investing_activities_discontinued_operations": 0.0,
            "net_cash_from_investing_activities": investing,
            "dividends": -dividends, "long_term_debt_issuances_repayments": debt_change,
            "short_term_debt_issuances_repayments": 0.0, "other_financing_activities": -buybacks,
            "net_cash_from_financing_activities_continuing_operations": financing,
            "net_cash_from_financing_activities_discontinued_operations": 0.0,
            "net_cash_from_financing_activities": financing, "effect_of_currency_exchange_rate": 0.0,
            "income_loss_from_discontinued_operations": 0.0, "noncontrolling_interests": 0.0,
            "change_in_cash_and_equivalents": operating + investing + financing,
        }
        income = _add_up_income({k: round_money(v) for k, v in income.items()})
        flow = _add_up_cash_flow({k: round_money(v) for k, v in flow.items()}, income)
        cash = cash + flow["change_in_cash_and_equivalents"]
        debt = debt + flow["long_term_debt_issuances_repayments"]
        equity += income["consolidated_net_income_loss"] + flow["dividends"] + flow["other_financing_activities"]
        out.append(Period(ticker, cik, year, quarter, "quarterly", period_end,
                          filing_date(period_end, quarter == 4), _per_share(income),
                          flow, _balance(ticker, revenue, cash, equity, debt, shares)))
    return out


def _add_up_income(i: Dict[str, float]) -> Dict[str, float]:
    """Subtotals recomputed from the rounded lines, so the statement adds up to the unit."""
    i["gross_profit"] = i["revenue"] - i["cost_of_revenue"]
    i["total_operating_expenses"] = i["research_development"] + i["selling_general_administrative"] \
        + i["other_operating_expenses"]
    i["operating_income"] = i["gross_profit"] - i["total_operating_expenses"]
    i["total_other_income_expense"] = i["interest_income"] - i["interest_expense"] + i["other_income_expense"]
    i["income_before_income_taxes"] = i["operating_income"] + i["total_other_income_expense"]
    i["consolidated_net_income_loss"] = i["income_before_income_taxes"] - i["income_taxes"]
    i["net_income_loss_attributable_common_shareholders"] = i["consolidated_net_income_loss"] \
        - i["noncontrolling_interest"] - i["preferred_stock_dividends_declared"]
    i["ebitda"] = i["operating_income"] + i["depreciation_depletion_amortization"]
    return i


def _add_up_cash_flow(f: Dict[str, float], income: Dict[str, float]) -> Dict[str, float]:
    """The cash flow statement's subtotals from its rounded lines, starting from the income statement."""
    f["net_income"] = income["consolidated_net_income_loss"]
    f["depreciation_depletion_and_amortization"] = income["depreciation_depletion_amortization"]
    f["cash_from_operating_activities_continuing_operations"] = f["net_income"] \
        + f["depreciation_depletion_and_amortization"] + f["change_in_other_operating_assets_and_liabilities_net"] \
        + f["other_operating_activities"] + f["other_cash_adjustments"]
    f["net_cash_from_operating_activities"] = f["cash_from_operating_activities_continuing_operations"] \
        + f["net_cash_from_operating_activities_discontinued_operations"]
    f["net_cash_from_investing_activities_continuing_operations"] = f["purchase_of_property_plant_and_equipment"] \
        + f["sale_of_property_plant_and_equipment"] + f["other_investing_activities"]
    f["net_cash_from_investing_activities"] = f["net_cash_from_investing_activities_continuing_operations"] \
        + f["net_cash_from_investing_activities_discontinued_operations"]
    f["net_cash_from_financing_activities_continuing_operations"] = f["dividends"] \
        + f["long_term_debt_issuances_repayments"] + f["short_term_debt_issuances_repayments"] \
        + f["other_financing_activities"]
    f["net_cash_from_financing_activities"] = f["net_cash_from_financing_activities_continuing_operations"] \
        + f["net_cash_from_financing_activities_discontinued_operations"]
    f["change_in_cash_and_equivalents"] = f["net_cash_from_operating_activities"] \
        + f["net_cash_from_investing_activities"] + f["net_cash_from_financing_activities"] \
        + f["effect_of_currency_exchange_rate"]
    return f


def _per_share(income: Dict[str, float]) -> Dict[str, float]:
    net = income["net_income_loss_attributable_common_shareholders"]
    income["basic_earnings_per_share"] = round(net / income["basic_shares_outstanding"], 2)
    income["diluted_earnings_per_share"] = round(net / income["diluted_shares_outstanding"], 2)
    return income


def _balance(ticker: str, revenue: float, cash: float, equity: float, debt: float, shares: int) -> Dict[str, float]:
    m = round_money
    b = {"cash_and_equivalents": m(cash), "short_term_investments": m(revenue * 0.3),
         "receivables": m(revenue * 0.45), "inventories": m(revenue * 0.5 * stable_fraction("inventory", ticker)),
         "other_current_assets": m(revenue * 0.05), "accounts_payable": m(revenue * 0.35),
         "accrued_and_other_current_liabilities": m(revenue * 0.2), "debt_current": m(debt * 0.1),
         "deferred_revenue_current": m(revenue * 0.08), "long_term_debt_and_capital_lease_obligations": m(debt * 0.9),
         "other_noncurrent_liabilities": m(revenue * 0.4), "commitments_and_contingencies": 0.0}
    b["total_current_assets"] = sum(b[k] for k in ("cash_and_equivalents", "short_term_investments", "receivables",
                                                   "inventories", "other_current_assets"))
    b["total_current_liabilities"] = sum(b[k] for k in ("accounts_payable", "accrued_and_other_current_liabilities",
                                                        "debt_current", "deferred_revenue_current"))
    b["total_liabilities"] = b["total_current_liabilities"] + b["long_term_debt_and_capital_lease_obligations"] \
        + b["other_noncurrent_liabilities"]
    total_equity = m(equity)
    b["total_assets"] = b["total_liabilities"] + total_equity
    b["goodwill"] = m(revenue * 0.6 * stable_fraction("goodwill", ticker))
    b["intangible_assets_net"] = m(revenue * 0.2)
    fixed = b["total_assets"] - b["total_current_assets"] - b["goodwill"] - b["intangible_assets_net"]
    b["property_plant_equipment_net"] = m(fixed * 0.8)
    b["other_assets"] = fixed - b["property_plant_equipment_net"]
    b["common_stock"] = m(shares * 0.00001)
    b["preferred_stock"] = b["other_equity"] = b["noncontrolling_interest"] = 0.0
    b["additional_paid_in_capital"] = m(revenue * 1.5)
    b["accumulated_other_comprehensive_income"] = m(-revenue * 0.05)
    b["treasury_stock"] = 0.0
    b["retained_earnings_deficit"] = total_equity - b["common_stock"] - b["additional_paid_in_capital"] \
        - b["accumulated_other_comprehensive_income"]
    b["total_equity"] = b["total_equity_attributable_to_parent"] = total_equity
    b["total_liabilities_and_equity"] = b["total_liabilities"] + total_equity
    return b


def _summed(quarters: List[Period], timeframe: str, filed: _dt.date) -> Period:
    last = quarters[-1]
    income = {k: sum(q.income[k] for q in quarters) for k in INCOME_FIELDS if k not in _PER_SHARE + _SHARES}
    income.update({k: last.income[k] for k in _SHARES})
    flow = {k: sum(q.cash_flow[k] for q in quarters) for k in CASH_FLOW_FIELDS}
    return Period(last.ticker, last.cik, last.fiscal_year, None, timeframe, last.period_end, filed,
                  _per_share(income), flow, dict(last.balance))


@functools.lru_cache(maxsize=2048)
def periods(universe: Universe, ticker: str, as_of: _dt.date) -> List[Period]:
    """Quarterly, annual and trailing-twelve-month periods of ``ticker`` filed by ``as_of``, oldest first."""
    quarters = [q for q in _quarters(universe, ticker, as_of.year) if q.filing_date <= as_of]
    out = list(quarters)
    for i in range(3, len(quarters)):
        window = quarters[i - 3:i + 1]
        if window[-1].fiscal_quarter == 4 and window[0].fiscal_quarter == 1:
            out.append(_summed(window, "annual", window[-1].filing_date))
        out.append(_summed(window, "trailing_twelve_months", window[-1].filing_date))
    return sorted(out, key=lambda p: (p.period_end, p.timeframe))


# -- float, short interest, short volume ----------------------------------------------------------
def float_row(sec: Security, as_of: _dt.date) -> Dict[str, Any]:
    """The free float of ``sec`` (shares outstanding less insiders' and strategic holdings)."""
    share = 0.55 + 0.43 * stable_fraction("free-float", sec.ticker)
    shares = shares_outstanding(sec)
    effective = quarter_ends(as_of.year - 1, as_of)[-1][2]
    return {"ticker": sec.ticker, "effective_date": effective.isoformat(), "free_float": int(shares * share),
            "free_float_percent": round(100.0 * share, 2)}


def settlement_dates(first: _dt.date, last: _dt.date) -> List[_dt.date]:
    """FINRA's short interest settlement dates: mid-month and month-end (the business day on or before)."""
    out = []
    month = _dt.date(first.year, first.month, 1)
    while month <= last:
        nxt = (month + _dt.timedelta(days=32)).replace(day=1)
        for day in (month.replace(day=15), nxt - _dt.timedelta(days=1)):
            while day.weekday() >= 5:
                day -= _dt.timedelta(days=1)
            if first <= day <= last:
                out.append(day)
        month = nxt
    return out


def short_interest_rows(sec: Security, dates: List[_dt.date]) -> List[Dict[str, Any]]:
    """Short interest of ``sec`` on each settlement date: a stable share of its float that drifts."""
    free = float_row(sec, dates[-1] if dates else _dt.date.today())["free_float"]
    base = 0.01 + 0.12 * stable_fraction("short-share", sec.ticker)
    rows = []
    for day in dates:
        drift = 1.0 + 0.35 * math.sin(day.toordinal() / 45.0 + 7.0 * stable_fraction("short-phase", sec.ticker))
        volume = int(sec.base_volume * (0.8 + 0.4 * stable_fraction("adv", sec.ticker, day.isoformat())))
        short = int(free * base * drift)
        rows.append({"ticker": sec.ticker, "settlement_date": day.isoformat(), "short_interest": short,
                     "avg_daily_volume": max(volume, 1), "days_to_cover": round(short / max(volume, 1), 2)})
    return rows


def short_volume_row(sec: Security, day: _dt.date, total: int) -> Dict[str, Any]:
    """Off-exchange (TRF) and exchange short volume of ``sec`` on ``day`` out of ``total`` traded shares."""
    ratio = 0.3 + 0.25 * stable_fraction("short-volume", sec.ticker) + 0.1 * (
        stable_fraction("short-volume", sec.ticker, day.isoformat()) - 0.5)
    short = int(total * ratio)
    exempt = int(short * 0.01 * stable_fraction("exempt", sec.ticker, day.isoformat()))
    shares = [0.55, 0.25, 0.15]  # ADF/NASDAQ Carteret, NYSE, NASDAQ Chicago (the rest)
    adf = int(short * shares[0] * 0.3)
    carteret = int(short * shares[0]) - adf
    nyse = int(short * shares[1])
    chicago = short - adf - carteret - nyse
    split = lambda part: int(part * exempt / short) if short else 0  # noqa: E731
    return {"ticker": sec.ticker, "date": day.isoformat(), "total_volume": total, "short_volume": short,
            "exempt_volume": exempt, "non_exempt_volume": short - exempt,
            "short_volume_ratio": round(100.0 * short / total, 2) if total else 0.0,
            "adf_short_volume": adf, "adf_short_volume_exempt": split(adf),
            "nasdaq_carteret_short_volume": carteret, "nasdaq_carteret_short_volume_exempt": split(carteret),
            "nyse_short_volume": nyse, "nyse_short_volume_exempt": split(nyse),
            "nasdaq_chicago_short_volume": chicago, "nasdaq_chicago_short_volume_exempt": split(chicago)}
