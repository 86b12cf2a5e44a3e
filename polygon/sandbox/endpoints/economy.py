"""``/fed/v1/*``: Treasury yields, inflation, inflation expectations and labor market series
(:mod:`polygon.sandbox.economy`), filtered by ``date`` (equal, ranges, ``any_of``), newest first by default."""

from typing import Any, Callable, Dict, List

from polygon.sandbox import economy
from polygon.sandbox.datasets import page, today
from polygon.sandbox.endpoints import Call, handles

_BY_DATE = {"date": lambda r: r["date"]}


def _series(call: Call, rows: Callable[[Any], List[Dict[str, Any]]]) -> Dict[str, Any]:
    return page(call, rows(today(call)), "date.desc", _BY_DATE, limit=100)


@handles("list_treasury_yields")
def treasury_yields(call: Call) -> Dict[str, Any]:
    """Daily Treasury par yields, 1 month to 30 years."""
    return _series(call, economy.treasury_yields)


@handles("list_inflation")
def inflation(call: Call) -> Dict[str, Any]:
    """Monthly CPI and PCE."""
    return _series(call, economy.inflation)


@handles("list_inflation_expectations")
def inflation_expectations(call: Call) -> Dict[str, Any]:
    """Monthly market and model inflation expectations."""
    return _series(call, economy.inflation_expectations)


@handles("list_labor_market_indicators")
def labor_market(call: Call) -> Dict[str, Any]:
    """Monthly labor market indicators."""
    return _series(call, economy.labor_market)
