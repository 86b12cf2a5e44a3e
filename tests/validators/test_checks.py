"""One test per injected defect, plus a clean frame that scores excellent."""

import json

import numpy as np
import pandas as pd
import pytest

from polygon.validators import generate_validation_summary

NOW = pd.Timestamp("2025-01-01", tz="UTC").timestamp()


def summary(df, symbol="AAPL", timeframe="1min", **kw):
    before = df.copy(deep=True)
    attrs = dict(df.attrs)
    report = generate_validation_summary(df, symbol, timeframe, now=NOW, **kw)
    pd.testing.assert_frame_equal(df, before)  # never mutates
    assert df.attrs == attrs
    json.dumps(report)  # JSON-serialisable, no default= needed
    return report


def failed(report):
    return {name for name, check in report["checks"].items() if check["status"] == "failed"}


def finding(report, check):
    matches = [f for f in report["issues"] if f["check"] == check]
    assert matches, "no finding for %s in %s" % (check, [f["check"] for f in report["issues"]])
    return matches[0]


@pytest.mark.parametrize("timeframe", ["1min", "5min", "1hour", "1day"])
def test_clean_frame_scores_excellent(make_bars, timeframe):
    df = make_bars("2024-03-04", "2024-03-15", timeframe)
    report = summary(df, timeframe=timeframe)
    assert failed(report) == set(), report["issues"]
    assert report["overall_quality"] == "excellent" and report["score"] == 100.0
    assert report["bar_count"] == len(df) == report["expected_bar_count"]
    assert report["completeness"] == 100.0 and report["missing_ranges"] == []
    assert report["calendar_source"] == "exchange_calendars"
    assert all(c["passed"] for c in report["checks"].values())


def test_missing_required_column_is_critical(make_bars):
    report = summary(make_bars().drop(columns=["volume"]))
    f = finding(report, "columns")
    assert f["severity"] == "critical" and "volume" in f["explanation"]
    assert report["overall_quality"] == "poor" and report["score"] <= 40
    assert report["checks"]["negative_volume"]["status"] == "skipped"


def test_non_numeric_column(make_bars):
    df = make_bars()
    df["vwap"] = df["vwap"].astype(str)
    report = summary(df)
    assert "dtypes" in failed(report) and "vwap" in finding(report, "dtypes")["explanation"]


def test_index_not_datetime_is_critical(make_bars):
    report = summary(make_bars().reset_index(drop=True))
    assert finding(report, "index")["severity"] == "critical"
    assert report["overall_quality"] == "poor"


def test_timestamp_column_instead_of_index_is_read(make_bars):
    report = summary(make_bars().reset_index())
    assert finding(report, "index")["severity"] == "medium"
    assert report["checks"]["ohlc_consistency"]["status"] == "passed"
    assert report["completeness"] == 100.0


def test_naive_index(make_bars):
    df = make_bars(tz="UTC")
    df.index = df.index.tz_localize(None)
    report = summary(df)
    assert "naive" in finding(report, "index")["explanation"]
    assert report["completeness"] == 100.0  # read as UTC, still matches the calendar


def test_unsorted_index(make_bars):
    df = make_bars().iloc[::-1]
    report = summary(df)
    assert "not sorted" in finding(report, "index")["explanation"]
    assert report["checks"]["return_outliers"]["status"] == "passed"  # checks run on sorted copies


def test_duplicate_timestamps(make_bars):
    df = make_bars()
    df = pd.concat([df, df.iloc[[10, 20]]])
    report = summary(df)
    f = finding(report, "duplicates")
    assert f["count"] == 2 and f["timestamps"][0] == df.index[10].isoformat()


def test_misaligned_bars(make_bars):
    df = make_bars("2024-03-04", "2024-03-04", "5min")
    df.index = df.index.where(np.arange(len(df)) != 7, df.index[7] + pd.Timedelta(seconds=30))
    report = summary(df, timeframe="5min")
    f = finding(report, "alignment")
    assert f["count"] == 1 and f["timestamps"] == [(df.index[7]).isoformat()]


def test_missing_values(make_bars):
    df = make_bars()
    df.iloc[5, df.columns.get_loc("close")] = np.nan
    df.iloc[6, df.columns.get_loc("volume")] = np.inf
    f = finding(summary(df), "missing_values")
    assert f["count"] == 2 and f["severity"] == "high"


def test_ohlc_inconsistency(make_bars):
    df = make_bars()
    df.iloc[100, df.columns.get_loc("high")] = df["low"].iloc[100] - 1.0
    df.iloc[200, df.columns.get_loc("low")] = df[["open", "close"]].iloc[200].max() + 0.5
    report = summary(df)
    f = finding(report, "ohlc_consistency")
    assert f["count"] == 2 and f["timestamps"] == [df.index[100].isoformat(), df.index[200].isoformat()]
    assert report["overall_quality"] != "excellent"


def test_non_positive_prices(make_bars):
    df = make_bars()
    for col in ("open", "high", "low", "close"):
        df.iloc[300, df.columns.get_loc(col)] = 0.0
    f = finding(summary(df), "non_positive_prices")
    assert f["count"] == 1 and f["severity"] == "high"


def test_negative_volume(make_bars):
    df = make_bars()
    df.iloc[[3, 4, 5], df.columns.get_loc("volume")] = -10.0
    f = finding(summary(df), "negative_volume")
    assert f["count"] == 3 and len(f["timestamps"]) == 3


def test_vwap_outside_range(make_bars):
    df = make_bars()
    df.iloc[50, df.columns.get_loc("vwap")] = df["high"].iloc[50] + 1.0
    df.iloc[51, df.columns.get_loc("vwap")] = np.nan  # missing vwap is not a range error
    f = finding(summary(df), "vwap_range")
    assert f["count"] == 1 and f["timestamps"] == [df.index[50].isoformat()]


def test_zero_volume_with_moving_prices(make_bars):
    df = make_bars()
    df.iloc[60, df.columns.get_loc("volume")] = 0.0
    flat = df.iloc[61]["close"]
    for col in ("open", "high", "low", "close", "vwap"):
        df.iloc[61, df.columns.get_loc(col)] = flat
    df.iloc[61, df.columns.get_loc("volume")] = 0.0  # flat zero-volume bar: fine
    f = finding(summary(df), "zero_volume_price_change")
    assert f["count"] == 1 and f["timestamps"] == [df.index[60].isoformat()]


def test_bar_outside_sessions(make_bars):
    df = make_bars("2024-03-04", "2024-03-08")
    extra = df.iloc[[0, 0]].copy()
    extra.index = pd.DatetimeIndex([pd.Timestamp("2024-03-06 02:00", tz="America/New_York"),
                                    pd.Timestamp("2024-03-09 11:00", tz="America/New_York")], name="timestamp")
    report = summary(pd.concat([df, extra]).sort_index())
    f = finding(report, "outside_session")
    assert f["count"] == 2 and f["severity"] == "medium"
    assert f["timestamps"] == ["2024-03-06T02:00:00-05:00", "2024-03-09T11:00:00-05:00"]


def test_extended_hours_bars(make_bars):
    df = make_bars("2024-03-04", "2024-03-05", extended=True)
    regular = summary(df)
    f = finding(regular, "outside_session")
    assert f["severity"] == "low" and f["count"] == len(df) - 2 * 390
    extended = summary(df, extended_hours=True)
    assert extended["checks"]["outside_session"]["status"] == "passed"
    assert extended["expected_bar_count"] == 2 * 960 and extended["overall_quality"] == "excellent"


def test_whole_missing_session(make_bars):
    df = make_bars("2024-03-04", "2024-03-08")
    df = df[df.index.day != 6]
    report = summary(df)
    f = finding(report, "missing_sessions")
    assert f["severity"] == "high" and f["count"] == 1
    assert report["missing_ranges"] == [{"start": "2024-03-06T09:30:00-05:00", "end": "2024-03-06T16:00:00-05:00",
                                         "bars": 390, "kind": "session", "severity": "high"}]
    assert report["completeness"] == 80.0 and report["overall_quality"] != "excellent"


def test_missing_sessions_at_edges_need_the_requested_range(make_bars):
    df = make_bars("2024-03-05", "2024-03-07")
    assert summary(df)["checks"]["missing_sessions"]["status"] == "passed"
    report = summary(df, start="2024-03-04", end="2024-03-08")
    assert finding(report, "missing_sessions")["count"] == 2
    assert report["expected_bar_count"] == 5 * 390


def test_long_gap_in_liquid_symbol(make_bars):
    df = make_bars("2024-03-04", "2024-03-08")
    gap = (df.index >= "2024-03-05 11:00") & (df.index < "2024-03-05 12:00")
    report = summary(df[~gap])
    f = finding(report, "long_gaps")
    assert f["severity"] == "high" and f["count"] == 1 and f["bars"] == 60
    assert f["timestamps"] == ["2024-03-05T11:00:00-05:00"]
    assert report["missing_ranges"][0]["kind"] == "long_gap"
    assert report["missing_ranges"][0]["end"] == "2024-03-05T12:00:00-05:00"


def test_sparse_missing_minutes_are_illiquid_low(make_bars):
    rng = np.random.default_rng(5)
    n = 5 * 390
    keep = np.ones(n, dtype=bool)
    keep[rng.choice(np.arange(1, n - 1), 15, replace=False)] = False
    df = make_bars("2024-03-04", "2024-03-08", keep=keep)
    report = summary(df)
    f = finding(report, "illiquid_gaps")
    assert f["severity"] == "low" and f["bars"] == 15
    assert "long_gaps" not in failed(report) and report["overall_quality"] == "excellent"


def test_return_outlier(make_bars):
    df = make_bars("2024-03-04", "2024-03-08")
    i = 1000
    price = df["close"].iloc[i] * 1.25
    for col in ("high", "close"):
        df.iloc[i, df.columns.get_loc(col)] = price
    df.iloc[i + 1, df.columns.get_loc("open")] = price
    df.iloc[i + 1, df.columns.get_loc("high")] = price
    report = summary(df)
    f = finding(report, "return_outliers")
    assert df.index[i].isoformat() in f["timestamps"]
    assert f["z_scores"][0] > 10 and abs(f["returns"][0]) > 0.2


def test_stale_run(make_bars):
    df = make_bars("2024-03-04", "2024-03-05")
    price = df["close"].iloc[100]
    for col in ("open", "high", "low", "close", "vwap"):
        df.iloc[100:145, df.columns.get_loc(col)] = price
    f = finding(summary(df), "stale_runs")
    assert f["count"] == 1 and f["longest"] == 45 and f["timestamps"] == [df.index[100].isoformat()]


def test_weekly_bars_are_not_outside_sessions():
    index = pd.date_range("2024-01-07", periods=8, freq="W-SUN", tz="America/New_York", name="timestamp")
    close = np.linspace(180, 190, len(index))
    df = pd.DataFrame({"open": close, "high": close + 2, "low": close - 2, "close": close, "volume": 5e7,
                       "vwap": close}, index=index)
    report = summary(df, timeframe="1week")
    assert report["checks"]["outside_session"]["status"] == "skipped"
    assert report["checks"]["alignment"]["status"] == "passed" and report["overall_quality"] == "excellent"


def test_crypto_is_not_held_to_exchange_sessions():
    index = pd.date_range("2024-03-02", periods=2000, freq="1min", tz="UTC", name="timestamp")  # a weekend
    rng = np.random.default_rng(3)
    close = 60000 * np.exp(np.cumsum(rng.normal(0, 5e-4, len(index))))
    df = pd.DataFrame({"open": close, "high": close * 1.001, "low": close * 0.999, "close": close,
                       "volume": 1.0, "vwap": close, "transactions": 3}, index=index)
    report = summary(df, symbol="X:BTCUSD")
    assert report["market"] == "crypto"
    # 03:00 on a Sunday is inside crypto's around-the-clock session
    assert report["checks"]["outside_session"]["status"] == "passed"
    assert report["expected_bar_count"] == 2000 and report["completeness"] == 100.0
    assert report["overall_quality"] == "excellent"


def test_empty_frame_is_poor(make_bars):
    report = summary(make_bars().iloc[:0])
    assert report["bar_count"] == 0 and report["score"] == 0.0 and report["overall_quality"] == "poor"


def test_empty_frame_with_range_reports_the_missing_sessions(make_bars):
    report = summary(make_bars().iloc[:0], start="2024-03-04", end="2024-03-05")
    assert report["expected_bar_count"] == 780 and report["completeness"] == 0.0
    assert finding(report, "missing_sessions")["count"] == 2


def test_volume_context_decides_short_gaps(make_bars):
    df = make_bars("2024-03-04", "2024-03-08")
    gap = (df.index >= "2024-03-05 11:00") & (df.index < "2024-03-05 11:05")  # 5 bars, plausible run is 3
    busy = summary(df[~gap])
    assert finding(busy, "long_gaps")["bars"] == 5 and busy["checks"]["illiquid_gaps"]["status"] == "passed"
    thin = df.copy()
    near = (thin.index >= "2024-03-05 10:55") & (thin.index < "2024-03-05 11:10")
    thin.loc[near, "volume"] = 1.0  # thin trading on both sides: a 5-minute pause is plausible
    report = summary(thin[~gap])
    assert report["checks"]["long_gaps"]["status"] == "passed"
    assert finding(report, "illiquid_gaps")["bars"] == 5 and report["overall_quality"] == "excellent"
