"""``/benzinga/v1/*`` and ``/benzinga/v2/news``: the Benzinga partner datasets of :mod:`polygon.sandbox.benzinga`
(firms, analysts, ratings, consensus, analyst insights, earnings, guidance, news, bulls/bears say)."""

from typing import Any, Dict, List

from polygon.sandbox import benzinga as bz
from polygon.sandbox.datasets import page, today
from polygon.sandbox.endpoints import Call, handles
from polygon.sandbox.listing import filter_rows
from polygon.sandbox.wire import WireError


def _getters(*names: str) -> Dict[str, Any]:
    return {name: (lambda key: lambda r: r.get(key))(name) for name in names}


def _firm_row(index: int) -> Dict[str, Any]:
    return {"benzinga_id": bz.firm_id(index), "name": bz.FIRMS[index], "currency": "USD",
            "last_updated": "2018-01-02T00:00:00Z"}  # listed since the datasets begin


@handles("list_benzinga_firms")
def firms(call: Call) -> Dict[str, Any]:
    """The research firms."""
    rows = [_firm_row(i) for i in range(len(bz.FIRMS))]
    return page(call, rows, "name.asc", _getters("benzinga_id", "name"), limit=100)


def _rating_row(r: bz.Rating) -> Dict[str, Any]:
    row = {"benzinga_id": r.benzinga_id, "ticker": r.sec.ticker, "company_name": r.sec.name, "currency": "USD",
           "date": r.day.isoformat(), "time": "07:30:00", "firm": bz.FIRMS[r.firm_index],
           "benzinga_firm_id": bz.firm_id(r.firm_index), "analyst": r.analyst.full_name,
           "benzinga_analyst_id": r.analyst.benzinga_id, "rating": bz.RATINGS[r.level][0],
           "rating_action": bz.rating_action(r), "price_target": r.price_target,
           "adjusted_price_target": r.price_target, "price_target_action": bz.target_action(r),
           "importance": 3 if r.previous_level is None or r.level != r.previous_level else 1,
           "last_updated": "%sT07:31:00Z" % r.day.isoformat(),
           "benzinga_calendar_url": "https://www.benzinga.com/quote/%s/analyst-ratings" % r.sec.ticker,
           "benzinga_news_url": "https://www.benzinga.com/analyst-ratings/%s" % r.benzinga_id}
    if r.previous_level is not None:
        row["previous_rating"] = bz.RATINGS[r.previous_level][0]
    if r.previous_price_target is not None:
        row["previous_price_target"] = row["previous_adjusted_price_target"] = r.previous_price_target
        row["price_percent_change"] = round(100.0 * (r.price_target / r.previous_price_target - 1.0), 2)
    return row


def _ratings(call: Call) -> List[Dict[str, Any]]:
    return [_rating_row(r) for r in bz.rating_actions(call.state.model.universe, today(call))]


@handles("list_benzinga_ratings")
def ratings(call: Call) -> Dict[str, Any]:
    """Rating actions, newest first."""
    fields = _getters("date", "ticker", "importance", "last_updated", "rating_action", "price_target_action",
                      "benzinga_id", "benzinga_analyst_id", "benzinga_firm_id")
    return page(call, _ratings(call), "date.desc", fields, limit=100)


@handles("list_benzinga_analyst_insights")
def analyst_insights(call: Call) -> Dict[str, Any]:
    """One insight per rating action, quoting it."""
    rows = []
    for r in _ratings(call):
        rows.append({"benzinga_id": "i" + r["benzinga_id"][1:], "benzinga_rating_id": r["benzinga_id"],
                     "benzinga_firm_id": r["benzinga_firm_id"], "firm": r["firm"], "ticker": r["ticker"],
                     "company_name": r["company_name"], "date": r["date"], "last_updated": r["last_updated"],
                     "rating": r["rating"], "rating_action": r["rating_action"], "price_target": r["price_target"],
                     "insight": "%s %s %s at %s with a $%.2f target after the latest results." % (
                         r["firm"], r["rating_action"], r["ticker"], r["rating"], r["price_target"])})
    fields = _getters("date", "ticker", "last_updated", "firm", "rating_action", "benzinga_firm_id",
                      "benzinga_rating_id")
    return page(call, rows, "date.desc", fields, limit=100)


@handles("list_benzinga_analysts")
def analysts(call: Call) -> Dict[str, Any]:
    """The firms' analysts, with track records computed from their rating actions."""
    actions: Dict[str, List[bz.Rating]] = {}
    for r in bz.rating_actions(call.state.model.universe, today(call)):
        actions.setdefault(r.analyst.benzinga_id, []).append(r)
    rows = []
    for a in bz.analysts():
        done = actions.get(a.benzinga_id, [])
        wins = sum(1 for r in done if r.previous_price_target is not None and
                   (r.price_target >= r.previous_price_target) == (r.level >= 3))
        rows.append({"benzinga_id": a.benzinga_id, "benzinga_firm_id": bz.firm_id(a.firm_index),
                     "firm_name": bz.FIRMS[a.firm_index], "full_name": a.full_name, "total_ratings": float(len(done)),
                     "overall_success_rate": round(wins / len(done), 4) if done else 0.0,
                     "overall_avg_return": round(10 * (bz.stable_hex_fraction(a.benzinga_id) - 0.3), 2),
                     "overall_avg_return_percentile": round(100 * bz.stable_hex_fraction(a.benzinga_id), 1),
                     "total_ratings_percentile": round(100 * bz.stable_hex_fraction(a.full_name), 1),
                     "smart_score": round(50 + 50 * (wins / len(done) if done else 0) - 10, 1),
                     "last_updated": "%sT00:00:00Z" % (done[-1].day.isoformat() if done else "2018-01-02")})
    fields = _getters("benzinga_id", "benzinga_firm_id", "firm_name", "full_name")
    return page(call, rows, "full_name.asc", fields, limit=100)


@handles("list_benzinga_consensus_ratings")
def consensus_ratings(call: Call) -> Dict[str, Any]:
    """The consensus of the latest action of each covering firm (within the ``date`` range when given)."""
    ticker = str(call.params.get("ticker"))
    found = [r for r in bz.rating_actions(call.state.model.universe, today(call)) if r.sec.ticker == ticker]
    query = {k: v for k, v in call.args.items() if k.startswith("date")}
    dated = [{"date": r.day.isoformat(), "r": r} for r in found]
    if call.state.model.universe.get(ticker) is None:
        raise WireError(404, "Ticker not found.", "NOT_FOUND", "message")
    chosen = [d["r"] for d in filter_rows(dated, query, {"date": lambda d: d["date"]})]
    results = [dict(bz.consensus(chosen), ticker=ticker)] if chosen else []
    return {"status": "OK", "request_id": call.rid, "count": len(results), "results": results}


@handles("list_benzinga_earnings")
def earnings(call: Call) -> Dict[str, Any]:
    """Results releases (confirmed, with actuals) and each company's next (projected) one."""
    fields = _getters("date", "ticker", "importance", "last_updated", "date_status", "eps_surprise_percent",
                      "revenue_surprise_percent", "fiscal_year", "fiscal_period")
    return page(call, bz.earnings(call.state.model.universe, today(call)), "date.desc", fields, limit=100)


@handles("list_benzinga_guidance")
def guidance(call: Call) -> Dict[str, Any]:
    """Annual guidance given with each fourth-quarter release."""
    fields = _getters("date", "ticker", "positioning", "importance", "last_updated", "fiscal_year", "fiscal_period")
    return page(call, bz.guidance(call.state.model.universe, today(call)), "date.desc", fields, limit=100)


def _news(call: Call, lists: Dict[str, Any]) -> Dict[str, Any]:
    fields = _getters("published", "last_updated", "author")
    return page(call, bz.news(call.state.model.universe, today(call)), "published.desc", fields,
                times=("published", "last_updated"), lists=lists, limit=100)


@handles("list_benzinga_news")
def news(call: Call) -> Dict[str, Any]:
    """Articles on results and rating actions."""
    return _news(call, {"tickers": lambda r: r["tickers"], "channels": lambda r: r["channels"],
                        "tags": lambda r: r["tags"]})


@handles("list_benzinga_news_v2")
def news_v2(call: Call) -> Dict[str, Any]:
    """The same articles through the v2 path (``stocks`` filters like ``tickers``)."""
    return _news(call, {"tickers": lambda r: r["tickers"], "stocks": lambda r: r["tickers"],
                        "channels": lambda r: r["channels"], "tags": lambda r: r["tags"]})


@handles("list_benzinga_bulls_bears_say")
def bulls_bears_say(call: Call) -> Dict[str, Any]:
    """A bull and a bear case per company."""
    fields = _getters("ticker", "benzinga_id", "last_updated")
    return page(call, bz.bulls_bears(call.state.model.universe, today(call)), "ticker.asc", fields, limit=100)
