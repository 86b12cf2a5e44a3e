"""Issue 13 against the sandbox: each market's sessions decide coverage, missing ranges and validation."""

import pandas as pd

from polygon.core import PolygonClient
from polygon.options import parse_option_ticker

NY = "America/New_York"


def test_crypto_weekend_has_bars_and_full_coverage(manager):
    df = manager.fetch_data("X:BTCUSD", "1hour", "2024-03-02", "2024-03-03", validate=True)
    assert len(df) == 48 and df.attrs["validation"]["overall_quality"] == "excellent"
    summary = manager.get_data_summary("X:BTCUSD", "1hour", "2024-03-02", "2024-03-03")
    assert summary["cache_coverage"]["percentage"] == 100.0 and summary["cache_coverage"]["missing_ranges"] == []
    daily = manager.fetch_data("X:BTCUSD", "1day", "2024-03-01", "2024-03-07", tz="UTC")
    assert [d.strftime("%Y-%m-%d %H:%M") for d in daily.index[[0, -1]]] == ["2024-03-01 00:00", "2024-03-07 00:00"]


def test_forex_saturday_has_no_bars_and_is_not_missing(manager):
    df = manager.fetch_data("C:EURUSD", "1hour", "2024-03-01", "2024-03-04", validate=True)
    days = set(df.index.tz_convert(NY).day_name())
    assert "Saturday" not in days and {"Friday", "Sunday", "Monday"} <= days
    assert df.attrs["validation"]["checks"]["outside_session"]["status"] == "passed"
    summary = manager.get_data_summary("C:EURUSD", "1hour", "2024-03-01", "2024-03-04")
    assert summary["cache_coverage"]["percentage"] == 100.0 and summary["cache_coverage"]["missing_ranges"] == []


def test_index_has_values_without_volume_and_validates_excellent(manager):
    df = manager.fetch_data("I:SPX", "1min", "2024-03-04", "2024-03-05", validate=True)
    report = df.attrs["validation"]
    assert len(df) == 2 * 390 and (df["volume"].fillna(0) == 0).all()
    assert report["overall_quality"] == "excellent" and report["score"] == 100.0, report["issues"]
    assert report["checks"]["negative_volume"]["status"] == "skipped"


def test_expired_option_has_no_bars_after_expiry_and_that_is_not_missing(manager, sandbox):
    with PolygonClient(config=sandbox.config()) as client:
        contract = next(iter(client.list_options_contracts(underlying_ticker="SPY", expired=True, limit=1,
                                                           max_pages=1)))
    ticker = contract.ticker
    expiry = parse_option_ticker(ticker).expiry
    assert expiry.isoformat() == contract.expiration_date
    start, end = expiry - pd.Timedelta(days=7), expiry + pd.Timedelta(days=10)
    df = manager.fetch_data(ticker, "1hour", start, end)
    assert len(df) and df.index[-1].tz_convert(NY).date() <= expiry
    summary = manager.get_data_summary(ticker, "1hour", start, end)
    assert summary["cache_coverage"]["missing_ranges"] == []
    def aggs():
        return sum(n for path, n in sandbox.stats()["requests"].items() if path.startswith("/v2/aggs/"))

    sent = aggs()
    after = manager.fetch_data(ticker, "1hour", expiry + pd.Timedelta(days=3), expiry + pd.Timedelta(days=10))
    assert len(after) == 0 and aggs() == sent  # no bars to fetch after expiry, and no lookup to say why
    assert "expired on %s" % expiry.isoformat() in after.attrs["empty_reason"]
    latest = manager.fetch_latest(ticker, "1hour", bars=5)
    assert len(latest) == 5 and latest.index[-1].tz_convert(NY).date() <= expiry
