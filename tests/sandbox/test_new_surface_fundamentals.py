"""The sandbox's fundamentals model on every company and quarter: the statements add up and chain (cash and
equity of a quarter are the previous quarter's plus its flows), annual rows sum their quarters, nothing is
reported before it is filed."""

import datetime as _dt

import pytest

from polygon.sandbox import fundamentals as F
from polygon.sandbox.universe import Universe

AS_OF = _dt.date(2025, 6, 30)


@pytest.fixture(scope="module")
def universe():
    return Universe()


def test_every_quarter_adds_up_and_chains(universe):
    checked = 0
    for sec in F.companies(universe):
        quarters = [p for p in F.periods(universe, sec.ticker, AS_OF) if p.timeframe == "quarterly"]
        assert all(q.filing_date <= AS_OF for q in quarters)
        for before, now in zip(quarters, quarters[1:]):
            b, inc, flow = now.balance, now.income, now.cash_flow
            assert b["total_assets"] == b["total_liabilities"] + b["total_equity"] == b["total_liabilities_and_equity"]
            assert min(b[k] for k in F.BALANCE_FIELDS if k != "accumulated_other_comprehensive_income") >= 0, sec.ticker
            assert inc["gross_profit"] - inc["total_operating_expenses"] == inc["operating_income"]
            assert flow["net_income"] == inc["consolidated_net_income_loss"]
            cash_before = before.balance["cash_and_equivalents"]
            assert b["cash_and_equivalents"] == cash_before + flow["change_in_cash_and_equivalents"]
            assert b["total_equity"] == (before.balance["total_equity"] + inc["consolidated_net_income_loss"]
                                         + flow["dividends"] + flow["other_financing_activities"])
            checked += 1
    assert checked > 3000


def test_annual_and_trailing_rows_sum_four_quarters(universe):
    rows = F.periods(universe, "KO", AS_OF)
    quarters = {(p.fiscal_year, p.fiscal_quarter): p for p in rows if p.timeframe == "quarterly"}
    for annual in (p for p in rows if p.timeframe == "annual"):
        parts = [quarters[(annual.fiscal_year, q)] for q in range(1, 5)]
        assert annual.income["revenue"] == sum(p.income["revenue"] for p in parts)
        assert annual.cash_flow["dividends"] == sum(p.cash_flow["dividends"] for p in parts) < 0  # KO pays
        assert annual.balance == parts[-1].balance and annual.filing_date == parts[-1].filing_date
