"""Market reference data: splits, dividends and options contracts, as known on the sandbox clock's day."""

import datetime as _dt
from typing import Any, Dict, List

from polygon.sandbox import corporate, options
from polygon.sandbox.endpoints import Call
from polygon.sandbox.endpoints.market_aggs import clock_day
from polygon.sandbox.query import effective, list_page, parse_day, serves, to_bool
from polygon.sandbox.wire import WireError

__all__ = ["get_options_contract", "list_dividends", "list_options_contracts", "list_splits"]


@serves("/v3/reference/splits")
def list_splits(call: Call) -> Dict[str, Any]:
    """``/v3/reference/splits``: splits announced by the clock's day (execution dates may be ahead)."""
    rows = [{"execution_date": s.execution_date, "id": s.id, "split_from": s.split_from, "split_to": s.split_to,
             "ticker": s.ticker, "reverse_split": s.split_to < s.split_from}
            for s in corporate.splits(call.state.model.universe, clock_day(call))]
    body = list_page(call, rows, "/v3/reference/splits", ("execution_date", "ticker"), "desc", 10, 1000,
                     ("ticker", "execution_date", "reverse_split"))
    for row in body["results"]:
        row.pop("reverse_split")
    return body


@serves("/v3/reference/dividends")
def list_dividends(call: Call) -> Dict[str, Any]:
    """``/v3/reference/dividends``: cash dividends declared by the clock's day."""
    params = effective(call)
    ticker = params.get("ticker")
    frequency = params.get("frequency")
    if frequency not in (None, "") and int(frequency) not in (0, 1, 2, 4, 12):
        raise WireError(400, "Invalid value for 'frequency': must be one of 0, 1, 2, 4, 12.")
    rows = [{"cash_amount": d.cash_amount, "currency": "USD", "declaration_date": d.declaration_date,
             "dividend_type": "CD", "ex_dividend_date": d.ex_dividend_date, "frequency": 4, "id": d.id,
             "pay_date": d.pay_date, "record_date": d.record_date, "ticker": d.ticker}
            for d in corporate.dividends(call.state.model.universe, clock_day(call),
                                         str(ticker) if ticker and "." not in str(ticker) else None)]
    return list_page(call, rows, "/v3/reference/dividends",
                     ("ex_dividend_date", "pay_date", "declaration_date", "record_date", "cash_amount", "ticker"),
                     "desc", 10, 1000, ("ticker", "ex_dividend_date", "record_date", "declaration_date", "pay_date",
                                        "frequency", "cash_amount", "dividend_type"))


def _contract_row(c: options.Contract) -> Dict[str, Any]:
    return {"cfi": "OCASPS" if c.contract_type == "call" else "OPASPS", "contract_type": c.contract_type,
            "exercise_style": "american", "expiration_date": c.expiration, "primary_exchange": "BATO",
            "shares_per_contract": 100, "strike_price": c.strike, "ticker": c.ticker,
            "underlying_ticker": c.underlying}


def _as_of(call: Call, params: Dict[str, Any]) -> _dt.date:
    today = clock_day(call)
    return min(parse_day(params["as_of"], "as_of"), today) if params.get("as_of") else today


@serves("/v3/reference/options/contracts")
def list_options_contracts(call: Call) -> Dict[str, Any]:
    """``/v3/reference/options/contracts``: contracts listed on ``as_of`` (the clock's day by default);
    ``expired=true`` lists those that expired in the year before instead."""
    params = effective(call)
    as_of = _as_of(call, params)
    expired = to_bool(params.get("expired"), "expired", False)
    underlyings = [str(params["underlying_ticker"])] if params.get("underlying_ticker") else sorted(options.UNDERLYINGS)
    rows: List[Dict[str, Any]] = []
    universe = call.state.model.universe
    for underlying in underlyings:
        if underlying not in options.UNDERLYINGS:
            continue
        if expired:
            days = [as_of - _dt.timedelta(days=i) for i in range(1, 366)]
            expiries = [d for d in days if options._expiry_kind(underlying, d) is not None]
        else:
            expiries = options.expirations(underlying, as_of)
        for expiration in expiries:
            rows.extend(_contract_row(c) for c in options.contracts(universe, underlying, expiration)
                        if c.list_date <= as_of)
    if params.get("underlying_ticker"):
        params_filters = ("ticker", "contract_type", "expiration_date", "strike_price")
    else:
        params_filters = ("ticker", "underlying_ticker", "contract_type", "expiration_date", "strike_price")
    return list_page(call, rows, "/v3/reference/options/contracts",
                     ("ticker", "underlying_ticker", "expiration_date", "strike_price"), "asc", 10, 1000,
                     params_filters)


@serves("/v3/reference/options/contracts/*")
def get_options_contract(call: Call) -> Dict[str, Any]:
    """``/v3/reference/options/contracts/{options_ticker}``."""
    params = effective(call)
    ticker = str(params.get("options_ticker") or params.get("ticker") or "")
    contract = options.contract_of(call.state.model.universe, ticker)
    if contract is None or contract.list_date > _as_of(call, params):
        raise WireError(404, "Options contract not found.", "NOT_FOUND", "message")
    row = _contract_row(contract)
    row["expiration_date"] = contract.expiration.isoformat()
    return {"request_id": call.rid, "results": row, "status": "OK"}
