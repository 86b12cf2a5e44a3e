"""Build handler calls for the market-data handler tests (a real SandboxState, no HTTP)."""

import datetime as dt
import urllib.parse

from werkzeug.datastructures import MultiDict

from polygon.sandbox.endpoints import Call
from polygon.sandbox.state import SandboxState

#: a fixed "now" for the handler tests: Tuesday 2024-06-04 11:00 New York
NOW = dt.datetime(2024, 6, 4, 15, 0, tzinfo=dt.timezone.utc)
NOW_MS = int(NOW.timestamp() * 1000)


def make_state(**options) -> SandboxState:
    return SandboxState("test-key", options)


def call(state, name, args=None, now_ms=NOW_MS, **params) -> Call:
    """A call of endpoint ``name`` with ``params`` (wire or python names) and raw query ``args``."""
    return Call(state=state, name=name, params=params, args=MultiDict(args or {}), base_url="http://127.0.0.1:1",
                rid="rid", now_ms=now_ms, wall_ms=now_ms)


def cursor_of(next_url: str) -> dict:
    """The ``cursor`` query argument of a ``next_url``."""
    return {"cursor": urllib.parse.parse_qs(urllib.parse.urlparse(next_url).query)["cursor"][0]}


def follow(handler, state, name, first_params, max_pages=50, now_ms=NOW_MS):
    """Every page of a list endpoint: ``(results, pages)``."""
    def results(body):
        found = body.get("results", [])
        return found["values"] if isinstance(found, dict) else found

    body = handler(call(state, name, now_ms=now_ms, **first_params))
    rows, pages = list(results(body)), 1
    ticker_params = {k: v for k, v in first_params.items() if k.lower().endswith("ticker")}
    while "next_url" in body and pages < max_pages:
        body = handler(call(state, name, cursor_of(body["next_url"]), now_ms=now_ms, **ticker_params))
        rows.extend(results(body))
        pages += 1
    assert "next_url" not in body, "more pages than %d" % max_pages
    return rows, pages
