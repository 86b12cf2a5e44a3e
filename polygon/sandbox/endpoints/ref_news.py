"""``/v2/reference/news``: three synthetic articles per trading day about the well-known tickers.

Articles are published after the close (16:35, 17:50 and 20:10 New York time) from 2016 on, never
after the sandbox clock's "now". Each one reports its main ticker's move of that day as the
sandbox's own bars show it, so title and sentiment agree with the aggregates.
"""

import datetime as _dt
import hashlib
from typing import Any, Dict, List

from polygon.markets import sessions
from polygon.sandbox.endpoints import Call
from polygon.sandbox.listing import effective_query, filter_rows, list_body
from polygon.sandbox.query import serves
from polygon.sandbox.reference import KNOWN_TICKERS
from polygon.sandbox.universe import stable_seed

_FIRST_DAY = _dt.date(2016, 1, 4)
_SLOTS_MS = (65 * 60_000, 140 * 60_000, 280 * 60_000)  # after the session's close
_PUBLISHERS = [
    {"name": "Sandbox Wire", "homepage_url": "https://wire.example.com/",
     "logo_url": "https://wire.example.com/logo.png", "favicon_url": "https://wire.example.com/favicon.ico"},
    {"name": "Synthetic Street", "homepage_url": "https://street.example.com/",
     "logo_url": "https://street.example.com/logo.svg", "favicon_url": "https://street.example.com/favicon.ico"},
    {"name": "Offline Observer", "homepage_url": "https://observer.example.com/",
     "logo_url": "https://observer.example.com/logo.png", "favicon_url": "https://observer.example.com/icon.png"},
]
_AUTHORS = ("Ada Quill", "Ben Ledger", "Cora Tick", "Dev Margin", "Eli Spread")
_TICKERS = sorted(KNOWN_TICKERS)


def _iso(ms: int) -> str:
    return _dt.datetime.fromtimestamp(ms / 1000.0, _dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def _day_of(text: str, default: _dt.date) -> _dt.date:
    try:
        return _dt.date.fromisoformat(text[:10])
    except ValueError:
        return default


def _stubs(query: Dict[str, str], now_ms: int) -> List[Dict[str, Any]]:
    """Cheap rows (id, time, tickers) of the articles in the query's published_utc window."""
    today = _dt.datetime.fromtimestamp(now_ms / 1000.0, _dt.timezone.utc).date()
    lows = [query.get(k) for k in ("published_utc", "published_utc.gte", "published_utc.gt") if query.get(k)]
    highs = [query.get(k) for k in ("published_utc", "published_utc.lte", "published_utc.lt") if query.get(k)]
    first = max([_FIRST_DAY] + [_day_of(t, _FIRST_DAY) - _dt.timedelta(days=1) for t in lows])
    last = min([today] + [_day_of(t, today) + _dt.timedelta(days=1) for t in highs])
    if first > last:
        return []
    days = sessions.trading_days(first, last)
    if not days:
        return []
    _opens, closes = sessions.session_bounds(days[0], days[-1])
    rows = []
    for day, close in zip(days, closes.tolist()):
        for slot, offset in enumerate(_SLOTS_MS):
            ms = int(close) + offset
            if ms > now_ms:
                break
            seed = stable_seed("news", day.isoformat(), slot)
            main = _TICKERS[seed % len(_TICKERS)]
            other = _TICKERS[(seed >> 16) % len(_TICKERS)]
            tickers = [main] if other == main or slot == 1 else [main, other]
            ident = hashlib.sha256(("%s|%d" % (day.isoformat(), slot)).encode()).hexdigest()
            rows.append({"id": ident, "published_utc": _iso(ms), "tickers": tickers, "day": day, "slot": slot,
                         "seed": seed})
    return rows


def _render(model, stub: Dict[str, Any]) -> Dict[str, Any]:
    main = stub["tickers"][0]
    sec = model.universe.get(main)
    bar = model.day_bar(main, stub["day"])
    change = 0.0
    if len(bar) and float(bar.o[0]):
        change = 100.0 * (float(bar.c[0]) - float(bar.o[0])) / float(bar.o[0])
    sentiment = "positive" if change > 0.5 else "negative" if change < -0.5 else "neutral"
    verb = {"positive": "rise", "negative": "fall", "neutral": "hold steady"}[sentiment]
    when = stub["day"].strftime("%A, %B %d").replace(" 0", " ")
    title = "%s (%s) shares %s %.1f%% on %s" % (sec.name, main, verb, abs(change), when)
    seed = stub["seed"]
    publisher = _PUBLISHERS[seed % len(_PUBLISHERS)]
    slug = "%s-%s-%d" % (main.lower().replace(".", "-"), stub["day"].isoformat(), stub["slot"])
    insights = [{"ticker": main, "sentiment": sentiment,
                 "sentiment_reasoning": "The stock moved %+.2f%% from open to close in the sandbox's bars." % change}]
    for other in stub["tickers"][1:]:
        insights.append({"ticker": other, "sentiment": "neutral",
                         "sentiment_reasoning": "Mentioned as a peer; its own move is not the subject."})
    return {
        "id": stub["id"],
        "publisher": dict(publisher),
        "title": title,
        "author": _AUTHORS[(seed >> 8) % len(_AUTHORS)],
        "published_utc": stub["published_utc"],
        "article_url": publisher["homepage_url"] + "news/" + slug,
        "amp_url": publisher["homepage_url"] + "amp/news/" + slug,
        "image_url": publisher["homepage_url"] + "img/" + slug + ".jpg",
        "tickers": list(stub["tickers"]),
        "description": "%s %s %.2f%% in the session of %s (synthetic sandbox article)."
                       % (main, {"positive": "gained", "negative": "lost", "neutral": "moved"}[sentiment],
                          abs(change), stub["day"].isoformat()),
        "keywords": [main, "stocks", sentiment],
        "insights": insights,
    }


def _ticker_filter(rows: List[Dict[str, Any]], query: Dict[str, str]) -> List[Dict[str, Any]]:
    if query.get("ticker"):
        rows = [r for r in rows if query["ticker"] in r["tickers"]]
    for op, test in (("gte", lambda a, b: a >= b), ("gt", lambda a, b: a > b), ("lte", lambda a, b: a <= b),
                     ("lt", lambda a, b: a < b)):
        bound = query.get("ticker." + op)
        if bound:
            rows = [r for r in rows if any(test(t, bound) for t in r["tickers"])]
    return rows


@serves("/v2/reference/news")
def news(call: Call) -> Dict[str, Any]:
    """``/v2/reference/news``: filters ``ticker`` (and ranges), ``published_utc`` (and ranges, date or
    date-time), ``order`` (default desc), ``sort`` (published_utc), ``limit`` (max 1000), cursor pages."""
    query = effective_query(call)
    rows = _ticker_filter(_stubs(query, call.now_ms), query)
    rows = filter_rows(rows, query, {"published_utc": lambda r: r["published_utc"]}, times=("published_utc",))
    model = call.state.model
    return list_body(call, rows, query, "published_utc", order="desc", render=lambda stub: _render(model, stub))
