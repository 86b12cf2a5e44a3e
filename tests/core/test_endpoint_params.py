"""polygon.core.params: python arguments coerced by parameter kind (pure functions, no I/O)."""

import datetime as dt

import pandas as pd
import pytest

from polygon._generated.endpoints import ENDPOINTS
from polygon.core.params import coerce_params, coerce_value
from polygon.exceptions import InvalidDateRangeError, InvalidParameterError, InvalidSymbolError

TZ = "America/New_York"


@pytest.mark.parametrize("kind, value, expected", [
    ("symbol", " aapl ", "AAPL"),
    ("symbol", ["aapl", "x:btcusd"], ["AAPL", "X:BTCUSD"]),
    ("symbol", "aapl,msft", ["AAPL", "MSFT"]),
    ("currency", "eur", "eur"),  # left as given: the schema's pattern checks it, never read as a date
    ("agg_bound", dt.date(2024, 1, 2), "2024-01-02"),
    ("agg_bound", dt.datetime(2024, 1, 2, 9, 30), "1704205800000"),
    ("date", dt.datetime(2024, 1, 2, 23, 0), "2024-01-02"),
    ("datetime", dt.datetime(2024, 1, 2, 9, 30), "2024-01-02T14:30:00Z"),
    ("datetime", dt.datetime(2024, 1, 2, 9, 30, tzinfo=dt.timezone.utc), "2024-01-02T09:30:00Z"),
    ("datetime", dt.date(2024, 1, 2), "2024-01-02"),
    ("timestamp_ns", dt.datetime(2024, 1, 2, 9, 30, 0, 123456), 1704205800123456000),
    ("timestamp_ns", pd.Timestamp("2024-01-02 09:30:00.123456789"), 1704205800123456789),
    ("timestamp_ns", pd.Timestamp("2024-01-02 14:30:00.000000001", tz="UTC"), 1704205800000000001),
    ("timestamp_ms", dt.datetime(2024, 1, 2, 9, 30, 0, 999999), 1704205800999),
    ("timestamp_ns", dt.date(2024, 1, 2), "2024-01-02"),
    ("timestamp_ns", 1704205800123456789, 1704205800123456789),
    (None, dt.date(2024, 1, 2), "2024-01-02"),
    (None, 5, 5),
])
def test_coerce_value(kind, value, expected):
    assert coerce_value(kind, value, TZ, "x") == expected


@pytest.mark.parametrize("kind, value, error", [
    ("symbol", "../etc", InvalidSymbolError),
    ("symbol", ["AAPL", "A/B"], InvalidSymbolError),
    ("date", 1704205800000, InvalidDateRangeError),
    ("agg_bound", "2024-02-30", InvalidDateRangeError),
    ("timestamp_ns", 1.5, InvalidParameterError),
    ("timestamp_ms", True, InvalidParameterError),
])
def test_coerce_value_rejects(kind, value, error):
    with pytest.raises(error) as info:
        coerce_value(kind, value, TZ, "x")
    assert isinstance(info.value, ValueError)


def test_coerce_params_by_endpoint_spec():
    spec = ENDPOINTS["list_trades"]
    out = coerce_params(spec, {"ticker": "aapl", "timestamp_gte": dt.date(2024, 1, 2), "order": None,
                               "bogus": 1}, TZ)
    assert out == {"ticker": "AAPL", "timestamp_gte": "2024-01-02", "bogus": 1}  # None dropped, unknown kept
    spec = ENDPOINTS["get_real_time_currency_conversion"]
    assert coerce_params(spec, {"from_": "AUD", "to": "USD"}, TZ) == {"from_": "AUD", "to": "USD"}
