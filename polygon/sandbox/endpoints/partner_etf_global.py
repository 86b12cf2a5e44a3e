"""``/etf-global/v1/*``: constituents, fund flows, profiles, taxonomies and analytics of the universe's ETFs
(:mod:`polygon.sandbox.etf_global`). Each answers as of one ``effective_date`` (the last session before
today unless the request names one); fund flows are daily over the last year."""

import datetime as _dt
from typing import Any, Dict, List

from polygon.sandbox import etf_global as eg
from polygon.sandbox.datasets import page, today
from polygon.sandbox.endpoints import Call, handles
from polygon.sandbox.listing import effective_query
from polygon.sandbox.universe import stable_fraction

_FLOW_DAYS = 365


def _effective_day(call: Call, query: Dict[str, str]) -> _dt.date:
    if query.get("effective_date"):
        return _dt.date.fromisoformat(query["effective_date"])
    last = today(call) - _dt.timedelta(days=1)
    days = call.state.model.session_days("SPY", last - _dt.timedelta(days=10), last)
    return days[-1] if days else today(call) - _dt.timedelta(days=1)


def _stamp(row: Dict[str, Any], day: _dt.date) -> Dict[str, Any]:
    out = {k: v for k, v in row.items() if v is not None}
    out["effective_date"] = day.isoformat()
    out["processed_date"] = (day + _dt.timedelta(days=1)).isoformat()
    return out


def _funds(call: Call, query: Dict[str, str]) -> List[Any]:
    wanted = set()
    for key in ("composite_ticker", "composite_ticker.any_of"):
        if query.get(key):
            wanted |= set(query[key].split(","))
    found = eg.etfs(call.state.model.universe)
    return [f for f in found if f.ticker in wanted] if wanted else found


def _getters(*names: str) -> Dict[str, Any]:
    return {name: (lambda key: lambda r: r.get(key))(name) for name in names}


@handles("get_etf_global_constituents")
def constituents(call: Call) -> Dict[str, Any]:
    """Every position of each fund on the effective date, largest first within a fund."""
    query = effective_query(call)
    day = _effective_day(call, query)
    rows = []
    for fund in _funds(call, query):
        for rank, row in enumerate(eg.constituents(call.state.model.universe, fund.ticker, day)):
            rows.append(dict(_stamp(row, day), composite_ticker=fund.ticker, rank=rank))
    fields = _getters("composite_ticker", "constituent_ticker", "effective_date", "processed_date", "us_code", "isin",
                      "figi", "sedol", "rank")
    body = page(call, rows, "composite_ticker.asc", fields, limit=100, query=query)
    for row in body["results"]:
        row.pop("rank", None)
    return body


@handles("get_etf_global_fund_flows")
def fund_flows(call: Call) -> Dict[str, Any]:
    """Daily creations and redemptions: the change in shares outstanding times the net asset value."""
    query = effective_query(call)
    universe = call.state.model.universe
    rows = []
    for fund in _funds(call, query):
        days = call.state.model.session_days(fund.ticker, today(call) - _dt.timedelta(days=_FLOW_DAYS),
                                             today(call) - _dt.timedelta(days=1))
        previous = None
        for day in days:
            nav, shares = eg.fund_size(universe, fund, day)
            if previous is not None:
                rows.append({"composite_ticker": fund.ticker, "effective_date": day.isoformat(),
                             "processed_date": (day + _dt.timedelta(days=1)).isoformat(), "nav": nav,
                             "shares_outstanding": float(shares), "fund_flow": round((shares - previous) * nav, 2)})
            previous = shares
    fields = _getters("composite_ticker", "effective_date", "processed_date")
    return page(call, rows, "effective_date.desc", fields, limit=100, query=query)


def _per_fund(call: Call, make) -> Dict[str, Any]:
    query = effective_query(call)
    day = _effective_day(call, query)
    rows = [_stamp(make(fund, day), day) for fund in _funds(call, query)]
    fields = _getters("composite_ticker", "effective_date", "processed_date", "risk_total_score", "reward_score",
                      "quant_total_score", "quant_grade", "quant_composite_technical", "quant_composite_sentiment",
                      "quant_composite_behavioral", "quant_composite_fundamental", "quant_composite_global",
                      "quant_composite_quality")
    return page(call, rows, "composite_ticker.asc", fields, limit=100, query=query)


@handles("get_etf_global_profiles")
def profiles(call: Call) -> Dict[str, Any]:
    """Each fund's profile (assets, fees, exposures)."""
    return _per_fund(call, lambda fund, day: eg.profile(call.state.model.universe, fund, day))


@handles("get_etf_global_taxonomies")
def taxonomies(call: Call) -> Dict[str, Any]:
    """Each fund's classification."""
    return _per_fund(call, lambda fund, day: eg.taxonomy(fund))


_SCORES = ("quant_technical_st", "quant_technical_it", "quant_technical_lt", "quant_sentiment_iv",
           "quant_sentiment_pc", "quant_sentiment_si", "quant_fundamental_pe", "quant_fundamental_pb",
           "quant_fundamental_pcf", "quant_fundamental_div", "quant_global_sector", "quant_global_country",
           "quant_quality_liquidity", "quant_quality_diversification", "quant_quality_firm", "risk_volatility",
           "risk_deviation", "risk_efficiency", "risk_liquidity", "risk_structure", "risk_country")


def _analytics(fund: Any, day: _dt.date) -> Dict[str, Any]:
    """Component scores (0-100) drawn per fund and day; composites average their components."""
    week = day.isoformat()[:8]
    s = {name: round(100 * stable_fraction(name, fund.ticker, week), 2) for name in _SCORES}

    def mean(*names: str) -> float:
        return round(sum(s[n] for n in names) / len(names), 2)

    row = dict(s, composite_ticker=fund.ticker,
               quant_composite_technical=mean("quant_technical_st", "quant_technical_it", "quant_technical_lt"),
               quant_composite_sentiment=mean("quant_sentiment_iv", "quant_sentiment_pc", "quant_sentiment_si"),
               quant_composite_behavioral=mean("quant_sentiment_pc", "quant_technical_st"),
               quant_composite_fundamental=mean("quant_fundamental_pe", "quant_fundamental_pb",
                                                "quant_fundamental_pcf", "quant_fundamental_div"),
               quant_composite_global=mean("quant_global_sector", "quant_global_country"),
               quant_composite_quality=mean("quant_quality_liquidity", "quant_quality_diversification",
                                            "quant_quality_firm"),
               risk_total_score=mean("risk_volatility", "risk_deviation", "risk_efficiency", "risk_liquidity",
                                     "risk_structure", "risk_country"))
    total = round(sum(row[k] for k in row if k.startswith("quant_composite_")) / 6, 2)
    row.update(quant_total_score=total, reward_score=round(100 - row["risk_total_score"] * 0.5 - 25 + total * 0.5, 2),
               quant_grade="ABCDF"[min(4, int((100 - total) // 20))])
    return row


@handles("get_etf_global_analytics")
def analytics(call: Call) -> Dict[str, Any]:
    """Each fund's quantitative, risk and reward scores."""
    return _per_fund(call, _analytics)
