"""SMA/EMA/RSI/MACD from the sandbox's own bars, checked against pandas."""

import pandas as pd
import pytest

from polygon.sandbox.endpoints import market_indicators as mi
from polygon.sandbox.wire import WireError
from tests.sandbox.market_calls import call, follow, make_state


@pytest.fixture(scope="module")
def state():
    return make_state()


def frame(body):
    aggs = pd.DataFrame(body["results"]["underlying"]["aggregates"]).set_index("t")
    values = pd.DataFrame(body["results"]["values"]).set_index("timestamp").sort_index()
    return aggs, values


def test_sma_matches_pandas_rolling_mean(state):
    body = mi.get_sma(call(state, "get_sma", stocksTicker="AAPL", timespan="day", window=20, limit=30,
                           expand_underlying=True))
    aggs, values = frame(body)
    want = aggs["c"].rolling(20).mean()
    assert len(values) == 30
    pd.testing.assert_series_equal(values["value"], want.loc[values.index], check_names=False, check_index=False)
    assert body["results"]["values"][0]["timestamp"] > body["results"]["values"][-1]["timestamp"]  # desc


@pytest.mark.parametrize("ticker, timespan", [("MSFT", "day"), ("X:BTCUSD", "hour"), ("SPY", "minute")])
def test_ema_matches_pandas_ewm(state, ticker, timespan):
    key = "cryptoTicker" if ticker.startswith("X:") else "stocksTicker"
    body = mi.get_ema(call(state, "get_ema", **{key: ticker}, timespan=timespan, window=10, limit=25,
                           series_type="high", expand_underlying=True))
    aggs, values = frame(body)
    want = aggs["h"].ewm(span=10, adjust=False).mean()
    assert len(values) == 25
    pd.testing.assert_series_equal(values["value"], want.loc[values.index], check_names=False, check_index=False,
                                   rtol=1e-12)


def test_rsi_matches_pandas_wilder(state):
    body = mi.get_rsi(call(state, "get_rsi", stocksTicker="NVDA", window=14, limit=40, expand_underlying=True))
    aggs, values = frame(body)
    diff = aggs["c"].diff().dropna()
    gain = diff.clip(lower=0).ewm(alpha=1 / 14, adjust=False).mean()
    loss = (-diff).clip(lower=0).ewm(alpha=1 / 14, adjust=False).mean()
    want = 100 - 100 / (1 + gain / loss)
    pd.testing.assert_series_equal(values["value"], want.loc[values.index], check_names=False, check_index=False,
                                   rtol=1e-10)
    assert values["value"].between(0, 100).all()


def test_macd_matches_pandas(state):
    body = mi.get_macd(call(state, "get_macd", stocksTicker="AAPL", limit=15, expand_underlying=True))
    aggs, values = frame(body)
    line = aggs["c"].ewm(span=12, adjust=False).mean() - aggs["c"].ewm(span=26, adjust=False).mean()
    signal = line.iloc[25:].ewm(span=9, adjust=False).mean()
    got = values.loc[values.index]
    pd.testing.assert_series_equal(got["value"], line.loc[got.index], check_names=False, check_index=False)
    pd.testing.assert_series_equal(got["signal"], signal.loc[got.index], check_names=False, check_index=False)
    pd.testing.assert_series_equal(got["histogram"], (line - signal).loc[got.index], check_names=False,
                                   check_index=False)


def test_values_agree_across_pages_and_requests(state):
    rows, pages = follow(mi.get_ema, state, "get_ema", {"stocksTicker": "AAPL", "window": 5, "limit": 7,
                                                        "timestamp.gte": "2024-01-02", "timestamp.lte": "2024-03-28"})
    single = mi.get_ema(call(state, "get_ema", stocksTicker="AAPL", window=5, limit=100,
                             **{"timestamp.gte": "2024-01-02", "timestamp.lte": "2024-03-28"}))["results"]["values"]
    assert pages > 5 and [r["timestamp"] for r in rows] == [r["timestamp"] for r in single]
    assert [r["value"] for r in rows] == pytest.approx([r["value"] for r in single], rel=1e-9)


def test_bad_parameters(state):
    with pytest.raises(WireError):
        mi.get_sma(call(state, "get_sma", stocksTicker="AAPL", timespan="fortnight"))
    with pytest.raises(WireError):
        mi.get_macd(call(state, "get_macd", stocksTicker="AAPL", short_window=30, long_window=26))


def test_the_cursor_stops_at_the_first_value(sandbox, ticker="I:SPX"):
    """Following ``next_url`` to the end walks back to the first bar and stops there with a page that has no
    ``next_url`` - never past the data (I:SPX is listed before 1970: its cursor used to reach a negative
    timestamp, answered 400 '-673200000')."""
    import requests

    headers = {"Authorization": "Bearer " + sandbox.api_key}
    url, params, pages, stamps = sandbox.base_url + "/v1/indicators/sma/" + ticker, {
        "timespan": "day", "window": 10, "limit": 5000}, 0, []
    while url and pages < 20:
        resp = requests.get(url, params=params, headers=headers, timeout=30)
        assert resp.status_code == 200, resp.text[:300]
        body = resp.json()
        stamps += [v["timestamp"] for v in body["results"]["values"]]
        url, params, pages = body.get("next_url"), None, pages + 1
    assert url is None and 1 < pages < 20, pages
    assert stamps == sorted(stamps, reverse=True) and len(set(stamps)) == len(stamps)
    assert min(stamps) >= 0
