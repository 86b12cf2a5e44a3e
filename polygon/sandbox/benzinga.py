"""The Benzinga partner datasets of the sandbox: firms, analysts, rating actions, consensus, analyst
insights, earnings, guidance, news and bulls/bears cases, shaped like the provider's (``/benzinga/...``).

One event calendar drives all of it. Each company is covered by three to five of ten research firms;
the day after each results release (the 8-K of :mod:`polygon.sandbox.sec_filings`) every covering firm
publishes a rating action; its price target is the day's price level (:func:`polygon.sandbox.bars.anchor_price`,
as traded) times a premium that follows the rating. Consensus figures aggregate the latest action of each
firm; earnings quote the statements of :mod:`polygon.sandbox.fundamentals` (actual EPS and revenue) against
an estimate a stable surprise away; news articles report the earnings and the rating actions.
"""

import datetime as _dt
import functools
from typing import Any, Dict, List, NamedTuple, Optional, Tuple

from polygon.sandbox.bars import anchor_price
from polygon.sandbox.fundamentals import Period, companies, periods
from polygon.sandbox.sec_filings import RESULTS_LEAD
from polygon.sandbox.universe import Security, Universe, stable_fraction, stable_seed

__all__ = ["FIRMS", "RATINGS", "Analyst", "Rating", "analysts", "bulls_bears", "consensus", "coverage_from", "earnings",
           "firm_id",
           "guidance", "news", "rating_action", "rating_actions", "stable_hex", "stable_hex_fraction", "target_action",
           "traded_price"]

FIRMS = ("Northbridge Securities", "Calder & Co.", "Ashgrove Capital Markets", "Pinecrest Research",
         "Halvorsen Partners", "Brightwater Securities", "Redfern Capital", "Stoneleigh Markets",
         "Oakmont Equity Research", "Whitfield & Lowe")
#: rating level -> (label, target premium over the price)
RATINGS = {1: ("Strong Sell", -0.2), 2: ("Sell", -0.1), 3: ("Hold", 0.03), 4: ("Buy", 0.15), 5: ("Strong Buy", 0.25)}
COVERAGE_YEARS = 3  # the datasets reach back this far from the sandbox's today


def coverage_from(as_of: _dt.date) -> _dt.date:
    """The first day the Benzinga datasets cover, seen from ``as_of``."""
    return as_of - _dt.timedelta(days=365 * COVERAGE_YEARS)
_FIRST_NAMES = ("Dana", "Elliot", "Harper", "Jesse", "Kendall", "Logan", "Parker", "Reese", "Rowan", "Sawyer")
_LAST_NAMES = ("Abbott", "Brennan", "Castillo", "Donovan", "Fairchild", "Gallagher", "Holloway", "Iverson",
               "Kessler", "Lindqvist")


def stable_hex(*parts: object) -> str:
    """A stable 24-hex-digit identifier (the provider's Benzinga ids look like this)."""
    return "%016x%08x" % (stable_seed("bz", *parts), stable_seed("bz2", *parts) & 0xFFFFFFFF)


class Analyst(NamedTuple):
    benzinga_id: str
    firm_index: int
    full_name: str


class Rating(NamedTuple):
    """One rating action of a firm on a company."""

    benzinga_id: str
    sec: Security
    day: _dt.date
    firm_index: int
    analyst: Analyst
    level: int
    previous_level: Optional[int]
    price_target: float
    previous_price_target: Optional[float]


def stable_hex_fraction(text: str) -> float:
    """A stable number in ``[0, 1)`` for an identifier."""
    return stable_fraction("bz-fraction", text)


def firm_id(index: int) -> str:
    return stable_hex("firm", index)


def analysts() -> List[Analyst]:
    """Two analysts per firm."""
    out = []
    for firm in range(len(FIRMS)):
        for k in range(2):
            seed = stable_seed("analyst", firm, k)
            out.append(Analyst(stable_hex("analyst", firm, k), firm,
                               "%s %s" % (_FIRST_NAMES[seed % 10], _LAST_NAMES[(seed >> 8) % 10])))
    return out


def _covering(sec: Security) -> List[int]:
    count = 3 + stable_seed("coverage", sec.ticker) % 3
    start = stable_seed("coverage-start", sec.ticker) % len(FIRMS)
    return [(start + 3 * i) % len(FIRMS) for i in range(count)]


def _release_days(universe: Universe, sec: Security, as_of: _dt.date) -> List[Tuple[_dt.date, Period]]:
    quarters = [p for p in periods(universe, sec.ticker, as_of) if p.timeframe == "quarterly"]
    return [(q.filing_date - RESULTS_LEAD, q) for q in quarters]


def traded_price(universe: Universe, sec: Security, day: _dt.date) -> float:
    """The as-traded price level of ``sec`` on ``day``."""
    return anchor_price(sec, day) * universe.split_factor(sec.ticker, day.isoformat())


@functools.lru_cache(maxsize=16)
def rating_actions(universe: Universe, as_of: _dt.date) -> List[Rating]:
    """Every rating action up to ``as_of``, oldest first."""
    people = analysts()
    out = []
    for sec in companies(universe):
        for firm in _covering(sec):
            level: Optional[int] = None
            target: Optional[float] = None
            for release, _quarter in _release_days(universe, sec, as_of):
                day = release + _dt.timedelta(days=1)
                if day < coverage_from(as_of) or day > as_of:
                    continue
                step = stable_fraction("rating-step", sec.ticker, firm, day)
                new = 3 + int(stable_seed("rating", sec.ticker, firm) % 3) - 1 if level is None else \
                    min(5, max(1, level + (1 if step > 0.85 else -1 if step < 0.12 else 0)))
                price = traded_price(universe, sec, day)
                premium = RATINGS[new][1] + 0.06 * (stable_fraction("pt", sec.ticker, firm, day) - 0.5)
                new_target = round(price * (1 + premium), 2)
                analyst = people[2 * firm + stable_seed("who", sec.ticker, firm) % 2]
                out.append(Rating(stable_hex("rating", sec.ticker, firm, day), sec, day, firm, analyst, new, level,
                                  new_target, target))
                level, target = new, new_target
    return sorted(out, key=lambda r: (r.day, r.sec.ticker, r.firm_index))


def rating_action(r: Rating) -> str:
    if r.previous_level is None:
        return "initiates"
    return "upgrades" if r.level > r.previous_level else "downgrades" if r.level < r.previous_level else "maintains"


def target_action(r: Rating) -> str:
    if r.previous_price_target is None:
        return "announces"
    return "raises" if r.price_target > r.previous_price_target else "lowers"


def consensus(ratings: List[Rating]) -> Dict[str, Any]:
    """The consensus of the latest action of each firm among ``ratings`` (of one company)."""
    latest: Dict[int, Rating] = {}
    for r in ratings:
        latest[r.firm_index] = r
    levels = [r.level for r in latest.values()]
    targets = [r.price_target for r in latest.values()]
    counts = {n: levels.count(n) for n in range(1, 6)}
    value = sum(levels) / len(levels)
    return {"strong_buy_ratings": counts[5], "buy_ratings": counts[4], "hold_ratings": counts[3],
            "sell_ratings": counts[2], "strong_sell_ratings": counts[1], "ratings_contributors": len(levels),
            "price_target_contributors": len(targets), "consensus_rating_value": round(value, 2),
            "consensus_rating": RATINGS[int(round(value))][0],
            "consensus_price_target": round(sum(targets) / len(targets), 2),
            "high_price_target": max(targets), "low_price_target": min(targets)}


@functools.lru_cache(maxsize=16)
def earnings(universe: Universe, as_of: _dt.date) -> List[Dict[str, Any]]:
    """Each results release of the last three years (actuals from the statements) and the next, projected one."""
    out = []
    for sec in companies(universe):
        releases = _release_days(universe, sec, as_of)
        eps_by_quarter = {(q.fiscal_year, q.fiscal_quarter): q.income["diluted_earnings_per_share"]
                          for _, q in releases}
        revenue_by_quarter = {(q.fiscal_year, q.fiscal_quarter): q.income["revenue"] for _, q in releases}
        for day, q in releases:
            if day < coverage_from(as_of):
                continue
            eps, revenue = q.income["diluted_earnings_per_share"], q.income["revenue"]
            surprise = 0.08 * (stable_fraction("eps-surprise", sec.ticker, day) - 0.35)
            estimated = round(eps / (1 + surprise), 2)
            estimated_revenue = round(revenue / (1 + surprise / 3), 0)
            row = _earning_row(sec, day, q.fiscal_year, q.fiscal_quarter, "confirmed")
            row.update({"actual_eps": eps, "estimated_eps": estimated, "eps_surprise": round(eps - estimated, 2),
                        "eps_surprise_percent":
                            round(100 * (eps - estimated) / abs(estimated), 2) if estimated else 0.0,
                        "actual_revenue": revenue, "estimated_revenue": estimated_revenue,
                        "revenue_surprise": round(revenue - estimated_revenue, 0),
                        "revenue_surprise_percent": round(100 * (revenue - estimated_revenue) / estimated_revenue, 2)})
            previous = (q.fiscal_year - 1, q.fiscal_quarter)
            if previous in eps_by_quarter:
                row["previous_eps"] = eps_by_quarter[previous]
                row["previous_revenue"] = revenue_by_quarter[previous]
            out.append(row)
        if releases:
            day, q = releases[-1]
            year, quarter = (q.fiscal_year + 1, 1) if q.fiscal_quarter == 4 else (q.fiscal_year, q.fiscal_quarter + 1)
            row = _earning_row(sec, day + _dt.timedelta(days=91), year, quarter, "projected")
            row["last_updated"] = "%sT20:10:00Z" % day.isoformat()  # projected when the last results came out
            row["estimated_eps"] = round(q.income["diluted_earnings_per_share"] * 1.02, 2)
            row["estimated_revenue"] = round(q.income["revenue"] * 1.02, 0)
            out.append(row)
    return out


def _earning_row(sec: Security, day: _dt.date, year: int, quarter: int, status: str) -> Dict[str, Any]:
    return {"benzinga_id": stable_hex("earnings", sec.ticker, year, quarter), "ticker": sec.ticker,
            "company_name": sec.name, "currency": "USD", "date": day.isoformat(), "time": "16:05:00",
            "date_status": status, "fiscal_year": year, "fiscal_period": "Q%d" % quarter,
            "importance": int(stable_seed("importance", sec.ticker) % 6), "eps_method": "GAAP",
            "revenue_method": "GAAP", "last_updated": "%sT20:10:00Z" % day.isoformat()}


@functools.lru_cache(maxsize=16)
def guidance(universe: Universe, as_of: _dt.date) -> List[Dict[str, Any]]:
    """With each fourth-quarter release, guidance for the next fiscal year around the year's own results."""
    out = []
    for sec in companies(universe):
        years = {p.fiscal_year: p for p in periods(universe, sec.ticker, as_of) if p.timeframe == "annual"}
        previous = None
        for year, annual in sorted(years.items()):
            day = annual.filing_date - RESULTS_LEAD
            if day < coverage_from(as_of):
                continue
            eps, revenue = annual.income["diluted_earnings_per_share"], annual.income["revenue"]
            growth = 1.0 + 0.08 * stable_fraction("guide", sec.ticker, year)
            row = {"benzinga_id": stable_hex("guidance", sec.ticker, year), "ticker": sec.ticker,
                   "company_name": sec.name, "currency": "USD", "date": day.isoformat(), "time": "16:05:00",
                   "fiscal_year": year + 1, "fiscal_period": "FY", "positioning": "primary",
                   "release_type": "new" if previous is None else "update", "eps_method": "GAAP",
                   "revenue_method": "GAAP", "importance": int(stable_seed("importance", sec.ticker) % 6),
                   "min_eps_guidance": round(eps * growth * 0.97, 2), "max_eps_guidance": round(eps * growth * 1.03, 2),
                   "estimated_eps_guidance": round(eps * growth, 2),
                   "min_revenue_guidance": round(revenue * growth * 0.98, 0),
                   "max_revenue_guidance": round(revenue * growth * 1.02, 0),
                   "estimated_revenue_guidance": round(revenue * growth, 0),
                   "last_updated": "%sT20:15:00Z" % day.isoformat()}
            if previous is not None:
                row.update({"previous_min_eps_guidance": previous["min_eps_guidance"],
                            "previous_max_eps_guidance": previous["max_eps_guidance"],
                            "previous_min_revenue_guidance": previous["min_revenue_guidance"],
                            "previous_max_revenue_guidance": previous["max_revenue_guidance"]})
            out.append(row)
            previous = row
    return out


@functools.lru_cache(maxsize=16)
def news(universe: Universe, as_of: _dt.date) -> List[Dict[str, Any]]:
    """An article per results release and per rating action."""
    out = []
    for row in earnings(universe, as_of):
        if row["date_status"] != "confirmed":
            continue
        beat = "beats" if row["eps_surprise"] >= 0 else "misses"
        title = "%s %s %s Q%s EPS Estimate" % (row["company_name"], beat, row["fiscal_year"], row["fiscal_period"][1])
        out.append(_article(row["benzinga_id"], row["ticker"], row["date"] + "T20:10:00Z", title,
                            "%s reported quarterly earnings of $%.2f per share versus the estimate of $%.2f."
                            % (row["company_name"], row["actual_eps"], row["estimated_eps"]),
                            ["Earnings", "News"], ["Earnings Beats" if beat == "beats" else "Earnings Misses"]))
    for r in rating_actions(universe, as_of):
        verb = rating_action(r)
        title = "%s %s %s on %s, %s price target to $%.2f" % (
            FIRMS[r.firm_index], verb, RATINGS[r.level][0], r.sec.ticker, target_action(r), r.price_target)
        out.append(_article(r.benzinga_id, r.sec.ticker, r.day.isoformat() + "T12:30:00Z", title,
                            "%s analyst %s %s %s with a %s rating." % (FIRMS[r.firm_index], r.analyst.full_name,
                                                                      verb, r.sec.name, RATINGS[r.level][0]),
                            ["Analyst Ratings", "Price Target"], [verb.capitalize()]))
    return out


def _article(key: str, ticker: str, published: str, title: str, teaser: str, channels: List[str],
             tags: List[str]) -> Dict[str, Any]:
    number = 40_000_000 + stable_seed("article", key) % 9_000_000
    slug = "-".join(w.lower().strip(",.$&") for w in title.split()[:8] if w.strip(",.$&"))
    return {"benzinga_id": number, "title": title, "teaser": teaser,
            "body": "<p>%s</p><p>%s</p>" % (teaser, title), "author": "Benzinga Newsdesk",
            "published": published, "last_updated": published, "tickers": [ticker], "channels": channels,
            "tags": tags, "images": [],
            "url": "https://www.benzinga.com/news/%s/%d/%s" % (published[:7].replace("-", "/"), number, slug)}


def bulls_bears(universe: Universe, as_of: _dt.date) -> List[Dict[str, Any]]:
    """A bull and a bear case per company, from its trailing-twelve-month statements."""
    out = []
    for sec in companies(universe):
        ttm = [p for p in periods(universe, sec.ticker, as_of) if p.timeframe == "trailing_twelve_months"]
        if len(ttm) < 5:
            continue
        now, year_ago = ttm[-1].income, ttm[-5].income
        growth = 100.0 * (now["revenue"] / year_ago["revenue"] - 1.0)
        margin = 100.0 * now["operating_income"] / now["revenue"]
        out.append({"benzinga_id": stable_hex("bulls-bears", sec.ticker), "ticker": sec.ticker,
                    "bull_case": "%s grew revenue %.1f%% over the last twelve months with an operating margin of "
                                 "%.1f%%, leaving room for buybacks and dividends." % (sec.name, growth, margin),
                    "bear_case": "At %.1f%% growth the valuation of %s leaves little margin for a slowdown, and "
                                 "costs take %.1f%% of revenue." % (growth, sec.name, 100.0 - margin),
                    "last_updated": "%sT00:00:00Z" % ttm[-1].filing_date.isoformat()})
    return out
