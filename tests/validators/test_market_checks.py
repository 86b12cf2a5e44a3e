"""Validators know each market: crypto around the clock, the fx week, indices without volume, option expiry."""

import numpy as np
import pandas as pd

from polygon.validators import generate_validation_summary

NOW = pd.Timestamp("2025-01-01", tz="UTC").timestamp()


def _frame(index, volume=1.0, seed=1):
    rng = np.random.default_rng(seed)
    close = 100 * np.exp(np.cumsum(rng.normal(0, 5e-4, len(index))))
    return pd.DataFrame({"open": close, "high": close * 1.001, "low": close * 0.999, "close": close,
                         "volume": volume, "vwap": close}, index=index.rename("timestamp"))


def test_crypto_at_three_on_a_sunday_is_in_session_and_complete():
    index = pd.date_range("2024-03-03 03:00", "2024-03-03 04:59", freq="1min", tz="America/New_York")
    report = generate_validation_summary(_frame(index), "X:BTCUSD", "1min", now=NOW)
    assert report["checks"]["outside_session"]["status"] == "passed"
    assert report["completeness"] == 100.0 and report["overall_quality"] == "excellent", report["issues"]


def test_crypto_hole_is_found():
    index = pd.date_range("2024-03-02", "2024-03-03 23:59", freq="1min", tz="UTC")
    frame = _frame(index).drop(index[600:900])  # five hours without a bar
    report = generate_validation_summary(frame, "X:BTCUSD", "1min", "2024-03-02", "2024-03-03", now=NOW)
    assert report["missing_ranges"][0]["kind"] == "long_gap" and report["missing_ranges"][0]["bars"] == 300


def test_fx_saturday_is_not_missing_but_a_saturday_bar_is_outside_the_session():
    week = pd.date_range("2024-03-01", "2024-03-05", freq="1h", tz="America/New_York", inclusive="left")
    local = week.tz_convert("America/New_York")
    weekday, hour = local.day_of_week, local.hour
    open_ = ~((weekday == 5) | ((weekday == 4) & (hour >= 17)) | ((weekday == 6) & (hour < 17)))
    clean = _frame(week[open_])
    report = generate_validation_summary(clean, "C:EURUSD", "1hour", now=NOW)
    assert report["checks"]["outside_session"]["status"] == "passed"
    assert report["checks"]["missing_sessions"]["status"] == "passed" and report["completeness"] == 100.0
    assert report["overall_quality"] == "excellent", report["issues"]
    saturday = _frame(week[open_ | ((weekday == 5) & (hour == 12))])
    report = generate_validation_summary(saturday, "C:EURUSD", "1hour", now=NOW)
    assert report["checks"]["outside_session"]["status"] == "failed"
    assert report["checks"]["outside_session"]["count"] == 1


def test_index_without_volume_validates_excellent():
    index = pd.date_range("2024-03-04 09:30", "2024-03-04 15:59", freq="1min", tz="America/New_York")
    for volume in (np.nan, 0.0):
        report = generate_validation_summary(_frame(index, volume=volume), "I:SPX", "1min", now=NOW)
        assert report["checks"]["negative_volume"]["status"] == "skipped"
        assert report["checks"]["zero_volume_price_change"]["status"] == "skipped"
        assert report["checks"]["missing_values"]["status"] == "passed"
        assert report["overall_quality"] == "excellent", report["issues"]
    no_column = _frame(index).drop(columns=["volume"])
    assert generate_validation_summary(no_column, "I:SPX", "1min", now=NOW)["overall_quality"] == "excellent"


def test_expired_option_is_not_missing_after_expiry():
    days = pd.bdate_range("2023-06-12", "2023-06-16").tz_localize("America/New_York")
    report = generate_validation_summary(_frame(days), "O:SPY230616C00400000", "1day", "2023-06-12", "2023-06-23",
                                         now=NOW)
    assert report["expected_bar_count"] == 5 and report["completeness"] == 100.0
    assert report["missing_ranges"] == []


def test_split_like_cliff_without_volume_change_is_high():
    days = pd.bdate_range("2024-01-02", periods=20).tz_localize("America/New_York")
    frame = _frame(days, volume=1e6)
    frame.iloc[10:, :4] = frame.iloc[10:, :4] / 4  # prices adjusted from here on, volumes not: mixed
    frame["vwap"] = frame["close"]
    report = generate_validation_summary(frame, "AAPL", "1day", now=NOW)
    issue = [f for f in report["issues"] if f["check"] == "split_like_cliff"][0]
    assert issue["severity"] == "high" and "x0.25" in issue["explanation"]
    clean = generate_validation_summary(_frame(days, volume=1e6), "AAPL", "1day", now=NOW)
    assert clean["checks"]["split_like_cliff"]["status"] == "passed"
    crypto = generate_validation_summary(frame, "X:BTCUSD", "1day", now=NOW)
    assert crypto["checks"]["split_like_cliff"]["status"] == "skipped"
