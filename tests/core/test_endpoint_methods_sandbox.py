"""Every generated client method, and every ``*_df`` frame, against the sandbox (one per module).

The sandbox's bodies are checked against schema/rest by tests/conformance; this is the client's side: each
statically defined method of ``PolygonClient`` reaches its path with valid arguments and returns something
non-empty of the right type, and each tabular endpoint becomes a frame with its documented columns.
"""

import datetime as dt
import inspect

import pandas as pd
import pytest

from polygon._generated import models
from polygon._generated.endpoints import ENDPOINTS
from polygon.core import PolygonClient
from polygon.core.rate_limit import RateLimiter
from polygon.markets import sessions
from polygon.sandbox import Sandbox
from polygon.sandbox.universe import FUTURES_PRODUCTS, front_contract

DATE = "2023-01-09"
TZ = "America/New_York"
# python parameter name -> a valid value in the sandbox (path and required query parameters)
SAMPLES = {
    "ticker": "AAPL", "underlying_asset": "SPY", "id": "AAPL", "multiplier": 1, "timespan": "day",
    "date": DATE, "direction": "gainers", "file_id": "1", "tickers": ["AAPL", "MSFT"], "amount": 100,
}
FRONT_ES = front_contract(FUTURES_PRODUCTS[0], dt.date.today()).ticker
#: per endpoint: arguments that differ from SAMPLES (markets in the path, identifiers the sandbox lists)
SPECIAL = {
    "get_real_time_currency_conversion": {"from_": "EUR", "to": "USD"},
    "get_last_forex_quote": {"from_": "EUR", "to": "USD"},
    "get_historic_forex_quotes": {"from_": "EUR", "to": "USD"},
    "get_last_crypto_trade": {"from_": "BTC", "to": "USD"},
    "get_historic_crypto_trades": {"from_": "BTC", "to": "USD"},
    "get_daily_open_close_crypto": {"from_": "BTC", "to": "USD"},
    "get_snapshot_ticker_crypto": {"ticker": "X:BTCUSD"},
    "get_snapshot_crypto_book": {"ticker": "X:BTCUSD"},
    "get_snapshot_ticker_forex": {"ticker": "C:EURUSD"},
    "get_snapshot_all_crypto": {"tickers": ["X:BTCUSD"]},
    "get_snapshot_all_forex": {"tickers": ["C:EURUSD"]},
    "get_summaries": {"ticker_any_of": "AAPL,X:BTCUSD"},
    # futures: a contract trading today (the E-mini S&P 500 front month)
    "list_futures_aggregates": {"ticker": FRONT_ES},
    "list_futures_trades": {"ticker": FRONT_ES},
    "list_futures_quotes": {"ticker": FRONT_ES},
}


@pytest.fixture(scope="module")
def client():
    with Sandbox(port=0) as sandbox:
        with PolygonClient(config=sandbox.config(timezone=TZ), rate_limiter=RateLimiter(per_minute=None)) as c:
            yield c


@pytest.fixture(scope="module")
def found(client):
    """Identifiers the sandbox itself lists: an options contract, an SEC filing."""
    contract = next(client.list_options_contracts(underlying_ticker="SPY", limit=1))
    filing = next(client.list_filings(limit=1), None)
    return {"option": contract.ticker, "filing": filing.id if filing is not None else None}


def _arguments(name, found):
    spec = ENDPOINTS[name]
    args = {p.name: SAMPLES.get(p.name) for p in spec.params if p.required}
    if name in ("get_options_contract", "get_snapshot_option"):
        args.update({"ticker": found["option"]} if name == "get_options_contract"
                    else {"underlying_asset": "SPY", "option_contract": found["option"]})
    if "filing_id" in args:
        args["filing_id"] = found["filing"]
    args.update(SPECIAL.get(name, {}))
    if name == "get_aggs":
        args.update({"from_": "2023-01-03", "to": "2023-01-31"})
    missing = [key for key, value in args.items() if value is None]
    assert not missing, "no sample for %s(%s)" % (name, ", ".join(missing))
    return args


def _non_empty(value):
    if isinstance(value, list):
        return bool(value)
    return any(v not in (None, [], {}) for k, v in value.to_dict().items() if k not in ("status", "request_id"))


@pytest.mark.parametrize("name", sorted(ENDPOINTS))
def test_method_against_the_sandbox(client, found, name):
    spec = ENDPOINTS[name]
    args = _arguments(name, found)
    if "limit" in {p.name for p in spec.params} and name.startswith("list_"):
        args["limit"] = 3
    if spec.paginated and not name.startswith("list_"):
        args["max_pages"] = 2  # indicators page through years of values 10 at a time
    result = getattr(client, name)(**args)
    if inspect.isgenerator(result):
        records = list(result)
        assert 0 < len(records) <= 3, name
        assert all(isinstance(r, spec.item_model) for r in records)
        assert any(_non_empty(r) for r in records)
    else:
        expected = list if spec.response_is_list else spec.response_model
        assert isinstance(result, expected), (name, type(result))
        assert _non_empty(result), name
        if spec.response_is_list:
            assert all(isinstance(item, spec.response_model) for item in result)


TABULAR = sorted(name for name, spec in ENDPOINTS.items() if spec.table is not None)


@pytest.mark.parametrize("name", TABULAR)
def test_frame_against_the_sandbox(client, found, name):
    spec = ENDPOINTS[name]
    args = _arguments(name, found)
    if name.startswith("list_"):
        args["limit"] = 5
    if spec.paginated:
        args["max_pages"] = 2
    frame = getattr(client, name + "_df")(**args)
    assert isinstance(frame, pd.DataFrame) and 0 < len(frame) <= (5 if name.startswith("list_") else 100000)
    names = [c.name for c in spec.table.columns]
    assert [c for c in frame.columns if c in names] == names
    items = tuple(c.name + "_" for c in spec.table.columns if c.dtype == "items")  # one column per line item
    assert all(c in names or (items and c.startswith(items)) for c in frame.columns)
    for column in spec.table.columns:
        if column.dtype.startswith("timestamp") or column.dtype == "datetime":
            assert str(frame[column.name].dt.tz) == TZ


def test_trades_frame_matches_the_models(client):
    day = sessions.trading_days(dt.date(2024, 6, 3), dt.date(2024, 6, 7))[0]
    trades = list(client.list_trades("AAPL", timestamp=day, limit=50))
    frame = client.list_trades_df("AAPL", timestamp=day, limit=50)
    assert len(frame) == len(trades) == 50
    assert frame["price"].tolist() == [t.price for t in trades]
    stamps = frame["sip_timestamp"].dt.tz_convert("UTC").astype("int64").tolist()
    assert stamps == [t.sip_timestamp for t in trades]  # nanoseconds, exact
    assert isinstance(trades[0], models.TradesResult)
