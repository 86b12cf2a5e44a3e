"""The sandbox router: matching against the generated endpoint table and parameter checks."""

import pytest
import requests

from polygon._generated.endpoints import ENDPOINTS, EndpointSpec, ParamSpec
from polygon.sandbox.router import Router, ticker_market
from polygon.sandbox.wire import WireError


def _spec(name, path, *params):
    return EndpointSpec(name=name, method="GET", path=path, params=params, response_model=None)


def _p(wire, location="path", kind="string", kind_=None, **kw):
    if kind_ is not None:
        kw["kind"] = kind_
    return ParamSpec(name=wire, wire_name=wire, location=location, type=kind, **kw)


TABLE = {
    "details": _spec("details", "/v3/reference/tickers/{ticker}", _p("ticker", required=True)),
    "types": _spec("types", "/v3/reference/tickers/types", _p("asset_class", "query", enum=("stocks", "fx"))),
    "trades": _spec("trades", "/v3/trades/{stockTicker}", _p("stockTicker", required=True),
                    _p("limit", "query", "integer", minimum=1, maximum=50000, default=1000)),
    "crypto_trades": _spec("crypto_trades", "/v3/trades/{cryptoTicker}", _p("cryptoTicker", required=True)),
    "options_trades": _spec("options_trades", "/v3/trades/{optionsTicker}", _p("optionsTicker", required=True)),
}


def test_literal_segments_win_over_variables():
    router = Router(TABLE)
    assert router.match("/v3/reference/tickers/types")[0].name == "types"
    spec, values = router.match("/v3/reference/tickers/AAPL/")
    assert spec.name == "details" and values == {"ticker": "AAPL"}
    assert router.match("/v3/reference/tickers") is None and router.match("/v3/reference/tickers/A/B") is None


@pytest.mark.parametrize("ticker,name", [("AAPL", "trades"), ("X:BTCUSD", "crypto_trades"),
                                         ("O:SPY251219C00500000", "options_trades")])
def test_per_market_variants_are_told_apart_by_the_ticker_prefix(ticker, name):
    assert Router(TABLE).match("/v3/trades/" + ticker)[0].name == name


def test_ticker_market():
    assert [ticker_market(t) for t in ("AAPL", "X:BTCUSD", "C:EURUSD", "I:SPX", "O:A1", "BRK.B")] == [
        "stocks", "crypto", "fx", "indices", "options", "stocks"]


def test_validation_converts_applies_defaults_and_caps_limit():
    router = Router(TABLE)
    spec, values = router.match("/v3/trades/AAPL")
    assert router.validate(spec, values, {}, "/v3/trades/AAPL") == {"stockTicker": "AAPL", "limit": 1000}
    assert router.validate(spec, values, {"limit": "60000"})["limit"] == 50000


@pytest.mark.parametrize("query,needle", [
    ({"limit": "ten"}, "'limit': must be an integer"),
    ({"limit": "0"}, "'limit'"),
    ({"colour": "red"}, "Unknown query parameter 'colour'"),
])
def test_bad_parameters_name_the_parameter_and_what_is_allowed(query, needle):
    router = Router(TABLE)
    spec, values = router.match("/v3/trades/AAPL")
    with pytest.raises(WireError) as info:
        router.validate(spec, values, query, "/v3/trades/AAPL", strict=True)
    assert info.value.status == 400 and needle in info.value.message
    if "colour" in query:
        assert "allowed: limit, apiKey, cursor" in info.value.message


def test_path_values_repeated_in_the_query_are_accepted():
    # the official client sends path arguments again as query parameters
    router = Router(TABLE)
    spec, values = router.match("/v3/reference/tickers/AAPL")
    assert router.validate(spec, values, {"ticker": "AAPL"}, "/v3/reference/tickers/AAPL") == {"ticker": "AAPL"}
    with pytest.raises(WireError):
        router.validate(spec, values, {"ticker": "MSFT"}, "/v3/reference/tickers/AAPL", strict=True)


def test_enum_query_value():
    router = Router(TABLE)
    spec, values = router.match("/v3/reference/tickers/types")
    assert router.validate(spec, values, {"asset_class": "fx"}) == {"asset_class": "fx"}
    with pytest.raises(WireError, match="one of 'stocks', 'fx'"):
        router.validate(spec, values, {"asset_class": "bonds"})


def test_every_generated_path_is_routed_to_its_endpoint():
    router = Router()
    for name, spec in ENDPOINTS.items():
        path = spec.path
        for param in spec.params:
            if param.location == "path":
                path = path.replace("{%s}" % param.wire_name, _sample(param))
        assert router.match(path)[0].path == spec.path, name


def _sample(param):
    if param.enum:
        return str(param.enum[0])
    if param.type == "integer":
        return "1"
    return {"cryptoTicker": "X:BTCUSD", "fxTicker": "C:EURUSD", "forexTicker": "C:EURUSD",
            "indicesTicker": "I:SPX", "optionsTicker": "O:SPY251219C00500000"}.get(param.wire_name, "AAPL")


def test_unknown_parameters_are_ignored_unless_strict(caplog):
    """The provider ignores query parameters it does not know (the official client sends include_otc=false to
    every grouped-daily and snapshot path); ``strict`` (the sandbox's strict_params option) refuses them."""
    router = Router(TABLE)
    spec, values = router.match("/v3/trades/AAPL")
    with caplog.at_level("DEBUG", logger="polygon.sandbox.router"):
        assert router.validate(spec, values, {"colour": "red", "limit": "5"}, "/v3/trades/AAPL") == {
            "stockTicker": "AAPL", "limit": 5}
    assert "ignored unknown query parameter 'colour'" in caplog.text
    with pytest.raises(WireError, match="'limit'"):  # known parameters are still checked
        router.validate(spec, values, {"colour": "red", "limit": "ten"}, "/v3/trades/AAPL")


def test_live_unknown_parameter_is_ignored_and_strict_mode_answers_400(sandbox, make_sandbox):
    headers = {"Authorization": "Bearer " + sandbox.api_key}
    lenient = requests.get(sandbox.base_url + "/v1/marketstatus/now", params={"colour": "red"}, headers=headers,
                           timeout=10)
    assert lenient.status_code == 200 and lenient.json()["market"]
    strict = make_sandbox(strict_params=True)
    resp = requests.get(strict.base_url + "/v1/marketstatus/now", params={"colour": "red"},
                        headers={"Authorization": "Bearer " + strict.api_key}, timeout=10)
    body = resp.json()
    assert resp.status_code == 400 and body["status"] == "ERROR" and len(body["request_id"]) == 32
    assert "colour" in body["error"]


def test_live_post_is_405(sandbox):
    resp = requests.post(sandbox.base_url + "/v1/marketstatus/now",
                         headers={"Authorization": "Bearer " + sandbox.api_key}, timeout=10)
    assert resp.status_code == 405 and "GET" in resp.headers["Allow"]


class _Merged:
    """A spec whose per-market variants share its URL shape (as the generated table merges them)."""

    name = "list_trades"
    path = "/v3/trades/{stockTicker}"
    params = (_p("stockTicker", required=True),)
    variants = ("/v3/trades/{cryptoTicker}", "/v3/trades/{optionsTicker}", "/v3/trades/{fxTicker}")


@pytest.mark.parametrize("ticker,template", [("AAPL", "/v3/trades/{stockTicker}"),
                                             ("X:BTCUSD", "/v3/trades/{cryptoTicker}"),
                                             ("C:EURUSD", "/v3/trades/{fxTicker}"),
                                             ("O:SPY251219C00500000", "/v3/trades/{optionsTicker}")])
def test_stats_template_is_the_variant_of_the_tickers_market(ticker, template):
    router = Router({"list_trades": _Merged})
    spec, values = router.match("/v3/trades/" + ticker)
    assert router.template(spec, values) == template


@pytest.mark.parametrize("param,raw,ok", [
    (_p("date", "query", kind_="date"), "2024-02-29", "2024-02-29"),
    (_p("date", "query", kind_="date"), "2023-02-29", None),
    (_p("filing_date", "query", pattern="^[0-9]{8}$"), "20240131", "20240131"),
    (_p("filing_date", "query", pattern="^[0-9]{8}$"), "2024-01-31", None),
    (_p("tickers", "query", "array", item_type="string"), "AAPL, MSFT", ["AAPL", "MSFT"]),
    (_p("tickers", "query", "array", item_type="string"), ",", None),
])
def test_kind_pattern_and_array_values(param, raw, ok):
    from polygon.sandbox.router import convert

    if ok is None:
        with pytest.raises(WireError, match="'%s'" % param.wire_name):
            convert(param, raw)
    else:
        assert convert(param, raw) == ok


def test_live_endpoint_without_handler_answers_501_naming_it():
    from polygon.polygon_server.serving import LocalServer
    from polygon.sandbox.rest import SandboxApp
    from polygon.sandbox.state import SandboxState

    table = dict(TABLE, nothing=_spec("list_nothing_yet", "/v9/nothing/{ticker}", _p("ticker", required=True)))
    state = SandboxState("k", {})
    server = LocalServer("127.0.0.1", 0, SandboxApp(state, router=Router(table)), name="test-501")
    server.start()
    try:
        resp = requests.get("http://127.0.0.1:%d/v9/nothing/AAPL" % server.server_port,
                            headers={"Authorization": "Bearer k"}, timeout=10)
        body = resp.json()
        assert resp.status_code == 501 and body["status"] == "NOT_IMPLEMENTED"
        assert "/v9/nothing/{ticker}" in body["error"] and "list_nothing_yet" in body["error"]
        assert len(body["request_id"]) == 32 and state.stats()["requests"] == {"/v9/nothing/{ticker}": 1}
    finally:
        server.close()


def test_live_stats_use_the_variant_template_of_the_market(make_sandbox):
    sb = make_sandbox()
    for path in ("/v3/trades/AAPL", "/v3/trades/X:BTCUSD", "/v3/trades/X:BTCUSD"):
        resp = requests.get(sb.base_url + path, params={"limit": 1}, headers={"Authorization": "Bearer " + sb.api_key},
                            timeout=30)
        assert resp.status_code == 200, resp.text
    assert sb.stats()["requests"] == {"/v3/trades/{stockTicker}": 1, "/v3/trades/{cryptoTicker}": 2}
