"""polygon._generated.endpoints: the endpoint table and the validating request builder."""

import dataclasses
import datetime

import pytest

from polygon._generated import models
from polygon._generated.endpoints import (
    ENDPOINTS,
    EndpointSpec,
    ParameterError,
    ParamSpec,
    PreparedRequest,
    build_request,
    parse_response,
)

AGGS = dict(ticker="AAPL", multiplier=5, timespan="minute", from_="2023-01-03", to="2023-01-31")


def test_table_names_paths_and_models():
    expected = {
        "get_aggs": ("/v2/aggs/ticker/{stocksTicker}/range/{multiplier}/{timespan}/{from}/{to}", models.AggsResponse),
        "get_previous_close": ("/v2/aggs/ticker/{stocksTicker}/prev", models.PreviousCloseResponse),
        "get_grouped_daily": ("/v2/aggs/grouped/locale/us/market/stocks/{date}", models.GroupedDailyResponse),
        "get_daily_open_close": ("/v1/open-close/{stocksTicker}/{date}", models.DailyOpenCloseResponse),
        "get_market_status": ("/v1/marketstatus/now", models.MarketStatusResponse),
        "get_market_holidays": ("/v1/marketstatus/upcoming", models.MarketHoliday),
        "list_tickers": ("/v3/reference/tickers", models.TickersResponse),
        "get_ticker_details": ("/v3/reference/tickers/{ticker}", models.TickerDetailsResponse),
        "get_last_trade": ("/v2/last/trade/{stocksTicker}", models.LastTradeResponse),
        "get_last_quote": ("/v2/last/nbbo/{stocksTicker}", models.LastQuoteResponse),
        "get_snapshot_ticker": (
            "/v2/snapshot/locale/us/markets/stocks/tickers/{stocksTicker}", models.SnapshotTickerResponse,
        ),
    }
    assert set(expected) <= set(ENDPOINTS)
    # the imported document's 89 paths are 58 endpoints; the newer surface (issue 24) comes on top
    newer = ("/stocks/financials/", "/stocks/v1/", "/stocks/vX/", "/stocks/filings/", "/stocks/taxonomies/", "/fed/",
             "/benzinga/", "/etf-global/", "/tmx/", "/consumer-spending/", "/futures/")
    assert len([s for s in ENDPOINTS.values() if not s.path.startswith(newer)]) == 58
    for name, (path, model) in expected.items():
        spec = ENDPOINTS[name]
        assert isinstance(spec, EndpointSpec) and spec.name == name and spec.method == "GET"
        assert spec.path == path and spec.response_model is model and spec.summary
        assert all(isinstance(p, ParamSpec) for p in spec.params)
    paginated = {n for n, s in ENDPOINTS.items() if s.paginated}
    assert {"get_aggs", "list_tickers", "list_trades", "list_quotes", "get_sma"} <= paginated
    assert all(n.startswith("list_") for n in set(ENDPOINTS) - paginated) is False
    assert [n for n, s in ENDPOINTS.items() if s.response_is_list] == ["get_market_holidays"]


def test_param_specs_of_aggs():
    spec = ENDPOINTS["get_aggs"]
    assert [(p.name, p.wire_name, p.location) for p in spec.params] == [
        ("ticker", "stocksTicker", "path"),
        ("multiplier", "multiplier", "path"),
        ("timespan", "timespan", "path"),
        ("from_", "from", "path"),
        ("to", "to", "path"),
        ("adjusted", "adjusted", "query"),
        ("limit", "limit", "query"),
        ("sort", "sort", "query"),
    ]
    limit = spec.param("limit")
    assert (limit.type, limit.minimum, limit.maximum) == ("integer", 1, 50000)
    assert (limit.default, limit.required) == (5000, False)
    assert spec.param("sort").enum == ("asc", "desc")
    assert spec.param("adjusted").type == "boolean"
    assert spec.param("timespan").enum == ("second", "minute", "hour", "day", "week", "month", "quarter", "year")
    with pytest.raises(KeyError):
        spec.param("nope")
    with pytest.raises(dataclasses.FrozenInstanceError):
        spec.name = "x"


def test_build_aggs_request():
    req = build_request("get_aggs", adjusted=False, sort="desc", limit=50000, **AGGS)
    assert isinstance(req, PreparedRequest)
    assert req.method == "GET"
    assert req.path == "/v2/aggs/ticker/AAPL/range/5/minute/2023-01-03/2023-01-31"
    assert req.query == {"adjusted": "false", "limit": "50000", "sort": "desc"}


def test_values_are_serialised():
    req = build_request(
        "get_aggs", ticker="BRK.B", multiplier=1, timespan="day",
        from_=datetime.date(2023, 1, 3), to=1675123200000, adjusted=True, limit=None,
    )
    assert req.path == "/v2/aggs/ticker/BRK.B/range/1/day/2023-01-03/1675123200000"
    assert req.query == {"adjusted": "true"}  # None means not given
    assert build_request("get_snapshot_ticker", ticker="a/b?c").path.endswith("/tickers/a%2Fb%3Fc")
    assert build_request("list_tickers", ticker_gte="A", active=True, limit=1000).query == {
        "active": "true", "limit": "1000", "ticker.gte": "A",
    }
    assert build_request("get_market_status") == ("GET", "/v1/marketstatus/now", {})


@pytest.mark.parametrize(
    "name, params, fragments",
    [
        ("get_nothing", {}, ["unknown endpoint 'get_nothing'", "get_aggs"]),
        ("get_aggs", dict(AGGS, colour="red"), ["unknown parameter 'colour'", "allowed:", "from_", "limit"]),
        ("get_aggs", dict(AGGS, stocksTicker="X"), ["unknown parameter 'stocksTicker'", "did you mean 'ticker'"]),
        ("get_aggs", {k: v for k, v in AGGS.items() if k != "to"}, ["missing required parameter 'to'", "a string"]),
        ("get_aggs", dict(AGGS, timespan="minutes"), ["'timespan'", "one of 'second', 'minute'", "'minutes'"]),
        ("get_aggs", dict(AGGS, sort="up"), ["'sort'", "one of 'asc', 'desc'"]),
        ("get_aggs", dict(AGGS, limit=50001), ["'limit'", "between 1 and 50000", "50001"]),
        ("get_aggs", dict(AGGS, limit=0), ["'limit'", "between 1 and 50000"]),
        ("get_aggs", dict(AGGS, limit="10"), ["'limit'", "an integer"]),
        ("get_aggs", dict(AGGS, multiplier=True), ["'multiplier'", "an integer >= 1"]),
        ("get_aggs", dict(AGGS, adjusted="true"), ["'adjusted'", "True or False"]),
        ("get_aggs", dict(AGGS, from_=datetime.datetime(2023, 1, 3)), ["'from_'", "a string"]),
        ("get_aggs", dict(AGGS, ticker=".."), ["'ticker'", "must not be empty"]),
        ("get_aggs", dict(AGGS, ticker=""), ["'ticker'", "must not be empty"]),
        ("list_tickers", dict(market="moon"), ["'market'", "'stocks'", "'crypto'"]),
        ("list_tickers", dict(limit=1001), ["'limit'", "between 1 and 1000"]),
    ],
)
def test_validation_errors_name_the_parameter(name, params, fragments):
    with pytest.raises(ParameterError) as info:
        build_request(name, **params)
    assert isinstance(info.value, ValueError)
    for fragment in fragments:
        assert fragment in str(info.value)
    if "unknown endpoint" not in str(info.value):
        assert info.value.param in params or info.value.param == "to"


def test_parse_response_list_and_object():
    holidays = parse_response("get_market_holidays", [{"date": "2024-12-25", "exchange": "NYSE", "status": "closed"}])
    assert holidays == [models.MarketHoliday(date="2024-12-25", exchange="NYSE", status="closed")]
    assert parse_response("get_market_holidays", None) == []
    status = parse_response("get_market_status", {"market": "open", "exchanges": {"nyse": "open"}})
    assert status.market == "open" and status.exchanges.nyse == "open" and status.currencies is None


def test_numpy_scalars_are_accepted():
    np = pytest.importorskip("numpy")
    req = build_request(
        "get_aggs", ticker="A", multiplier=np.int64(5), timespan="day", from_=np.int64(1700000000000),
        to="2024-01-01", limit=np.int32(10),
    )
    assert req.path == "/v2/aggs/ticker/A/range/5/day/1700000000000/2024-01-01"
    assert req.query == {"limit": "10"}
