"""Every path of the generated endpoint table, requested from one sandbox with valid parameters: each body
validates against its response schema in schema/rest (jsonschema) and parses into the generated model without
unknown fields; a few invalid requests get the provider's 400 shape naming the parameter.

Client and sandbox both read schema/ (through polygon/_generated); this test is what keeps the sandbox's bodies
honest against the same files, without ../shared.
"""

import datetime as dt

import pytest
import requests

from polygon._generated.endpoints import ENDPOINTS, build_request, parse_response
from polygon.markets import sessions
from polygon.sandbox import Sandbox
from polygon.sandbox.endpoints import HANDLERS, load_all

from .schemas import error_shape_problems, model_differences, rest_schema_file, schema_errors

FALLBACK_OPTION = "O:SPY251219C00500000"
DATE = "2023-01-09"
# wire name -> sample value (path and required query parameters)
SAMPLES = {
    "stocksTicker": "AAPL", "stockTicker": "AAPL", "ticker": "AAPL", "id": "AAPL", "underlyingAsset": "SPY",
    "cryptoTicker": "X:BTCUSD", "fxTicker": "C:EURUSD", "forexTicker": "C:EURUSD", "indicesTicker": "I:SPX",
    "multiplier": 1, "timespan": "day", "date": DATE, "direction": "gainers", "file_id": "1",
    "ticker.any_of": "AAPL,MSFT", "tickers": "AAPL,MSFT", "amount": 100, "precision": 2,
}

#: optional parameters a request needs to return data (python names)
EXTRA = {"get_summaries": {"ticker_any_of": "AAPL,X:BTCUSD"}}
_MARKET_TICKERS = {"crypto": "X:BTCUSD", "forex": "C:EURUSD"}


@pytest.fixture(scope="module")
def sb():
    """Strict about query parameters (``strict_params``): our own requests must use only documented ones."""
    with Sandbox(port=0, strict_params=True) as sandbox:
        yield sandbox


def _get(sb, path, **query):
    return requests.get(sb.base_url + path, params=query, headers={"Authorization": "Bearer " + sb.api_key},
                        timeout=30)


@pytest.fixture(scope="module")
def found(sb):
    """Identifiers the sandbox itself lists (an options contract, an SEC filing)."""
    return identifiers(sb)


def identifiers(sb):
    """Identifiers the sandbox itself lists (an options contract, an SEC filing, a recent trading day)."""
    days = sessions.trading_days(dt.date.today() - dt.timedelta(days=10), dt.date.today() - dt.timedelta(days=1))
    out = {"option": FALLBACK_OPTION, "filing": None, "recent_day": days[-1].isoformat()}  # options trade now
    resp = _get(sb, "/v3/reference/options/contracts", underlying_ticker="SPY", limit=1)
    if resp.status_code == 200 and resp.json().get("results"):
        out["option"] = resp.json()["results"][0]["ticker"]
    resp = _get(sb, "/v1/reference/sec/filings", limit=1)
    if resp.status_code == 200 and resp.json().get("results"):
        out["filing"] = resp.json()["results"][0]["id"]
    return out


def _value(spec, param, found):
    wire = param.wire_name
    if wire in ("from", "to"):
        if "/range/" in spec.path:
            return "2023-01-03" if wire == "from" else "2023-01-31"
        crypto = "crypto" in spec.path
        return ("BTC" if crypto else "EUR") if wire == "from" else "USD"
    if wire in ("optionsTicker", "options_ticker", "optionContract"):
        return found["option"]
    if wire == "ticker" and "/markets/" in spec.path:  # v2 snapshots: the market is in the path
        market = spec.path.split("/markets/")[1].split("/")[0]
        return _MARKET_TICKERS.get(market, "AAPL")
    if wire == "date" and found.get("variant_market") == "options":
        return found["recent_day"]
    if wire == "filing_id":
        return found["filing"] or "0000000000"
    if wire == "ticker" and spec.path.startswith("/futures/"):  # a futures contract trading today
        from polygon.sandbox.universe import FUTURES_PRODUCTS, front_contract
        return front_contract(FUTURES_PRODUCTS[0], dt.date.today()).ticker
    if wire in SAMPLES:
        return SAMPLES[wire]
    if param.enum:
        return param.enum[0]
    raise AssertionError("no sample value for %s parameter %r: add one to SAMPLES" % (spec.name, wire))


def _request(name, found, variant=None):
    """A valid request of endpoint ``name`` (or of its per-market ``variant`` path: the same method with
    a ticker of that market)."""
    spec = ENDPOINTS[name]
    found = dict(found, variant_market="options" if variant and "{optionsTicker}" in variant else None)
    params = {p.name: _value(spec, p, found) for p in spec.params if p.required}
    params.update(EXTRA.get(name, {}))
    if variant is not None:
        main, other = spec.path.strip("/").split("/"), variant.strip("/").split("/")
        for mine, theirs in zip(main, other):
            if mine != theirs:
                param = [p for p in spec.params if "{%s}" % p.wire_name == mine][0]
                params[param.name] = _value(spec, _Wire(theirs[1:-1]), found)
    prepared = build_request(name, **params)
    return prepared.path, prepared.query


class _Wire:
    """A parameter known only by its wire name (a variant's path variable)."""

    enum = None

    def __init__(self, wire_name):
        self.wire_name = wire_name


#: every path of the provider document: each endpoint, and each of its per-market variants
PATHS = [(name, None) for name in sorted(ENDPOINTS)] + [
    (name, variant) for name in sorted(ENDPOINTS) for variant in getattr(ENDPOINTS[name], "variants", ()) or ()]


@pytest.mark.parametrize("name,variant", PATHS, ids=["%s%s" % (n, "" if v is None else "@" + v) for n, v in PATHS])
def test_body_conforms_to_schema_and_model(sb, found, name, variant):
    path, query = _request(name, found, variant)
    resp = _get(sb, path, **query)
    assert resp.status_code != 501, "missing sandbox handler for %s (%s)" % (name, variant or ENDPOINTS[name].path)
    assert resp.status_code == 200, (path, resp.status_code, resp.text[:300])
    assert resp.headers["Content-Type"].startswith("application/json")
    body = resp.json()
    assert rest_schema_file(name).exists()
    problems = schema_errors(name, body)
    assert not problems, problems[:10]
    differences = model_differences(body, parse_response(name, body))
    assert not differences, differences[:10]
    results = body.get("results", body) if isinstance(body, dict) else body
    assert results, "%s answered an empty body for valid parameters: %s" % (name, resp.text[:200])


def test_every_endpoint_has_a_handler():
    load_all()
    missing = sorted(name for name in ENDPOINTS if name not in HANDLERS)
    assert not missing, "endpoints without a sandbox handler: %s" % ", ".join(missing)


@pytest.mark.parametrize("name,wire,value,needle", [
    ("list_tickers", "limit", "ten", "'limit'"),
    ("list_tickers", "order", "sideways", "'order'"),
    ("get_market_status", "colour", "red", "'colour'"),
    ("get_aggs", "adjusted", "maybe", "'adjusted'"),
])
def test_invalid_query_parameters_get_the_provider_400(sb, found, name, wire, value, needle):
    if name not in ENDPOINTS:
        pytest.skip("%s is not in the endpoint table" % name)
    path, query = _request(name, found)
    resp = _get(sb, path, **dict(query, **{wire: value}))
    assert resp.status_code == 400, resp.text
    body = resp.json()
    assert not error_shape_problems(body), body
    assert body["status"] == "ERROR" and needle in body["error"]


def test_invalid_path_value_gets_the_provider_400(sb):
    resp = _get(sb, "/v2/aggs/ticker/AAPL/range/1/dayz/2023-01-03/2023-01-06")
    assert resp.status_code == 400
    body = resp.json()
    assert not error_shape_problems(body) and "timespan" in body["error"]
