"""Report shape, calendar handling (holidays, weekday fallback), strict mode, text table, property test."""

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from polygon.exceptions import DataValidationError
from polygon.markets import sessions
from polygon.validators import (
    QUALITY_LEVELS,
    format_report,
    generate_validation_summary,
    quality_for,
    score_findings,
    validate_bars,
)

ROOT = Path(__file__).resolve().parents[2]
NOW = pd.Timestamp("2025-01-01", tz="UTC").timestamp()
NY = "America/New_York"


def weekday_grid(start, end, holidays=(), early_close=None):
    """Minute bars 09:30-16:00 on every weekday, built without polygon.markets.sessions (like a provider would send)."""
    stamps = []
    for day in pd.bdate_range(start, end):
        if day.strftime("%Y-%m-%d") in holidays:
            continue
        close = "13:00" if early_close and day.strftime("%Y-%m-%d") in early_close else "16:00"
        stamps.append(pd.date_range(day + pd.Timedelta("09:30:00"), day + pd.Timedelta(close + ":00"),
                                    freq="1min", inclusive="left", tz=NY))
    index = stamps[0].append(stamps[1:]).rename("timestamp")
    n = len(index)
    close = 50 + np.cumsum(np.random.default_rng(0).normal(0, 0.02, n))
    return pd.DataFrame({"open": close, "high": close + 0.01, "low": close - 0.01, "close": close,
                         "volume": 100.0, "vwap": close, "transactions": 1}, index=index)


JULY = weekday_grid("2024-07-01", "2024-07-09", holidays={"2024-07-04"}, early_close={"2024-07-03"})


def test_holiday_and_early_close_are_not_missing_with_exchange_calendars():
    assert sessions.calendar_source() == "exchange_calendars"
    report = generate_validation_summary(JULY, "MSFT", "1min", now=NOW)
    assert report["checks"]["missing_sessions"]["status"] == "passed"
    assert report["checks"]["outside_session"]["status"] == "passed"
    assert report["missing_ranges"] == [] and report["completeness"] == 100.0
    assert report["expected_bar_count"] == len(JULY) == 5 * 390 + 210
    assert report["overall_quality"] == "excellent"
    assert "holidays and early closes known" in report["calendar_note"]


def test_daily_bars_skip_holidays_and_flag_a_missing_day():
    days = [d for d in pd.bdate_range("2024-11-18", "2024-12-06") if d.strftime("%Y-%m-%d") != "2024-11-28"]
    index = pd.DatetimeIndex(days).tz_localize(NY).rename("timestamp")
    close = np.linspace(100, 110, len(index))
    df = pd.DataFrame({"open": close, "high": close + 1, "low": close - 1, "close": close, "volume": 1e6,
                       "vwap": close}, index=index)
    report = generate_validation_summary(df, "AAPL", "1day", now=NOW)
    assert report["overall_quality"] == "excellent" and report["expected_bar_count"] == len(df)
    report = generate_validation_summary(df.drop(index[3]), "AAPL", "1day", now=NOW)
    assert report["missing_ranges"] == [{"start": "2024-11-21", "end": "2024-11-21", "bars": 1, "kind": "session",
                                         "severity": "high"}]


FALLBACK = """
import sys, json
import pandas as pd
sys.path.insert(0, %r)
from polygon.markets import sessions
sessions._state['source'] = 'weekdays'  # as for a year exchange-calendars cannot answer
from test_summary import JULY
from polygon.validators import generate_validation_summary
report = generate_validation_summary(JULY, 'MSFT', '1min', now=%r)
print(json.dumps(report))
"""


MISSING = """
import sys
sys.modules['exchange_calendars'] = None  # a broken install: the core dependency cannot be imported
from polygon.markets import sessions
from polygon.exceptions import PolygonConfigError
try:
    sessions.trading_days('2024-07-01', '2024-07-05')
except PolygonConfigError as exc:
    print('error:', exc)
"""


def test_missing_calendar_is_an_install_error_not_a_silent_fallback(tmp_path):
    env = dict(os.environ, POLYGON_CALENDAR_DIR=str(tmp_path))
    out = subprocess.run([sys.executable, "-c", MISSING], cwd=ROOT, capture_output=True, text=True, timeout=120,
                         env=env)
    assert out.returncode == 0, out.stderr
    assert out.stdout.startswith("error:") and "pip install exchange-calendars" in out.stdout


def test_weekday_fallback_notes_unknown_holidays():
    code = FALLBACK % (str(Path(__file__).parent), NOW)
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    report = json.loads(out.stdout)
    assert report["calendar_source"] == "weekdays"
    assert "holidays not known" in report["calendar_note"]
    session = [f for f in report["issues"] if f["check"] == "missing_sessions"][0]
    assert session["severity"] == "low" and "may be exchange holidays" in session["explanation"]
    kinds = {r["kind"]: r for r in report["missing_ranges"]}
    assert kinds["session"]["start"] == "2024-07-04T09:30:00-04:00" and kinds["session"]["severity"] == "low"
    # the early close is unknown too: July 3rd 13:00-16:00 looks like a long gap
    assert kinds["long_gap"]["start"] == "2024-07-03T13:00:00-04:00" and kinds["long_gap"]["bars"] == 180
    assert report["overall_quality"] in ("good", "fair")


def test_score_rule_and_levels():
    assert score_findings([], 100) == 100.0 and score_findings([], 0) == 0.0
    one_bad_bar = [{"severity": "high", "share": 1e-5}]
    assert 92 < score_findings(one_bad_bar, 100000) < 93
    assert score_findings([{"severity": "high", "share": 0.5}], 10) == 70.0
    assert score_findings([{"severity": "low", "share": 0.9}], 10) == 92.0  # illiquid minutes alone: good
    assert score_findings([{"severity": "critical", "share": 0.0}], 10) == 40.0
    assert [quality_for(s) for s in (100, 95, 94.9, 80, 79.9, 60, 59.9, 0)] == [
        "excellent", "excellent", "good", "good", "fair", "fair", "poor", "poor"]
    assert [name for name, _ in QUALITY_LEVELS] == ["excellent", "good", "fair", "poor"]


def test_report_keys(make_bars):
    report = generate_validation_summary(make_bars(), "aapl", "1min", now=NOW)
    for key in ("overall_quality", "score", "checks", "bar_count", "expected_bar_count", "completeness",
                "missing_ranges", "issues", "calendar_source", "calendar_note", "scoring_rule"):
        assert key in report
    assert report["symbol"] == "aapl" and report["timeframe"] == "1min"
    assert set(report["checks"]["ohlc_consistency"]) == {"passed", "status", "severity", "count", "details"}


def test_validate_bars_strict_raises_listing_failures(make_bars, caplog):
    df = make_bars()
    df.iloc[[1, 2], df.columns.get_loc("volume")] = -1.0
    df.iloc[3, df.columns.get_loc("high")] = 0.5 * df["low"].iloc[3]
    with pytest.raises(DataValidationError) as info:
        validate_bars(df, "AAPL", "1min", strict=True, now=NOW)
    err = info.value
    assert {f["check"] for f in err.failures} == {"negative_volume", "ohlc_consistency", "vwap_range"}
    assert "negative_volume" in str(err) and err.report["overall_quality"] != "excellent"
    assert validate_bars(make_bars(), "AAPL", "1min", strict=True, now=NOW)["overall_quality"] == "excellent"


def test_validate_bars_warns_for_fair_or_poor(make_bars, caplog):
    df = make_bars().drop(columns=["close"])
    with caplog.at_level("WARNING", logger="polygon.validators"):
        report = validate_bars(df, "AAPL", "1min", now=NOW)
    assert report["overall_quality"] == "poor"
    assert any("quality is poor" in r.getMessage() for r in caplog.records)


def test_low_findings_do_not_fail_strict(make_bars):
    keep = np.ones(390, dtype=bool)
    keep[[10, 50, 200]] = False
    report = validate_bars(make_bars("2024-03-04", "2024-03-04", keep=keep), "AAPL", "1min", strict=True, now=NOW)
    assert report["checks"]["illiquid_gaps"]["status"] == "failed"


def test_unfinished_sessions_are_not_expected(make_bars):
    df = make_bars("2024-03-04", "2024-03-04")
    noon = pd.Timestamp("2024-03-04 12:00", tz=NY)
    report = generate_validation_summary(df[df.index < noon], "AAPL", "1min", now=noon.timestamp())
    assert report["expected_bar_count"] == 150 and report["completeness"] == 100.0


def test_instant_bounds_clip_the_expected_bars(make_bars):
    df = make_bars("2024-03-04", "2024-03-06")
    df = df[(df.index >= "2024-03-04 14:00") & (df.index <= "2024-03-06 11:00")]
    df.attrs.update(start="2024-03-04T14:00:00-05:00", end="2024-03-06T11:00:59.999-05:00")  # as the manager sets
    report = generate_validation_summary(df, "AAPL", "1min", now=NOW)
    assert report["completeness"] == 100.0 and report["expected_bar_count"] == len(df) == 120 + 390 + 91
    report = generate_validation_summary(df, "AAPL", "1min", start="2024-03-04", end="2024-03-06", now=NOW)
    assert report["missing_ranges"][0] == {"start": "2024-03-04T09:30:00-05:00", "end": "2024-03-04T14:00:00-05:00",
                                           "bars": 270, "kind": "long_gap", "severity": "high"}


def test_format_report_table(make_bars):
    df = make_bars()
    df = df[(df.index < "2024-03-05 10:00") | (df.index >= "2024-03-05 11:00")]
    text = format_report(generate_validation_summary(df, "AAPL", "1min", now=NOW))
    assert "AAPL 1min  quality:" in text and "completeness: 96.92%" in text
    assert "long_gaps" in text and "2024-03-05T10:00:00-05:00" in text
    assert all(line == line.rstrip() for line in text.splitlines())
    symbol_text = format_report({"symbol": "APPL", "valid": False, "syntax_valid": True, "details": {},
                                 "reason": "unknown", "suggestions": [{"ticker": "AAPL", "name": "Apple Inc."}]})
    assert "NOT valid" in symbol_text and "AAPL (Apple Inc.)" in symbol_text


# ---------------------------------------------------------------- property test

_COLUMNS = ["open", "high", "low", "close", "volume", "vwap", "transactions", "timestamp", "other", 0]
_values = st.one_of(
    st.floats(allow_nan=True, allow_infinity=True, width=64),
    st.integers(-10**6, 10**6),
    st.sampled_from([None, "x", "1.5", True]),
)
_times = st.datetimes(min_value=pd.Timestamp("2000-01-01").to_pydatetime(),
                      max_value=pd.Timestamp("2030-12-31").to_pydatetime())


@st.composite
def frames(draw):
    n = draw(st.integers(0, 40))
    names = draw(st.lists(st.sampled_from(_COLUMNS), max_size=9))
    data = {}
    for name in names:
        kind = draw(st.sampled_from(["float", "mixed", "int"]))
        if kind == "float":
            data[name] = draw(st.lists(st.floats(allow_nan=True, allow_infinity=True), min_size=n, max_size=n))
        elif kind == "int":
            data[name] = draw(st.lists(st.integers(-5, 10**9), min_size=n, max_size=n))
        else:
            data[name] = pd.Series(draw(st.lists(_values, min_size=n, max_size=n)), dtype=object)
    index_kind = draw(st.sampled_from(["aware", "naive", "int", "range", "minutes"]))
    if index_kind == "minutes":
        base = pd.Timestamp("2024-03-04 09:30", tz=NY)
        offsets = draw(st.lists(st.integers(-600, 3000), min_size=n, max_size=n))
        index = pd.DatetimeIndex([base + pd.Timedelta(minutes=m) for m in offsets])
    elif index_kind in ("aware", "naive"):
        index = pd.DatetimeIndex(draw(st.lists(_times, min_size=n, max_size=n)))
        if index_kind == "aware":
            index = index.tz_localize("UTC").tz_convert(draw(st.sampled_from([NY, "UTC", "Asia/Tokyo"])))
    elif index_kind == "int":
        index = pd.Index(draw(st.lists(st.integers(-10**15, 10**15), min_size=n, max_size=n)))
    else:
        index = pd.RangeIndex(n)
    frame = pd.DataFrame({k: (v.values if isinstance(v, pd.Series) else v) for k, v in data.items()}, index=index)
    frame.attrs["source"] = "hypothesis"
    return frame


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(df=frames(), timeframe=st.sampled_from(["1min", "5min", "1hour", "1day", "1week"]),
       symbol=st.sampled_from(["AAPL", "X:BTCUSD", "not a symbol"]), extended=st.booleans())
def test_any_frame_never_raises_never_mutates(df, timeframe, symbol, extended):
    before = df.copy(deep=True)
    report = generate_validation_summary(df, symbol, timeframe, extended_hours=extended, now=NOW)
    pd.testing.assert_frame_equal(df, before)
    assert df.attrs == {"source": "hypothesis"}
    json.dumps(report, allow_nan=False)
    assert report["overall_quality"] in ("excellent", "good", "fair", "poor")
    assert 0.0 <= report["score"] <= 100.0
    assert not [n for n, c in report["checks"].items() if c["status"] == "error"]
