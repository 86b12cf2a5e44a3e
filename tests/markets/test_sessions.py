"""Trading calendar: trading days, session bounds, early closes, the weekday fallback."""

import datetime as dt

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from polygon.markets import sessions

HAS_XCALS = sessions.calendar_source() == "exchange_calendars"
needs_xcals = pytest.mark.skipif(not HAS_XCALS, reason="exchange-calendars not installed")

# 2023-11-22 09:30 America/New_York (EST, UTC-5) in epoch ms
NOV22_OPEN = 1700663400000


def test_source_is_reported():
    assert sessions.calendar_source() in ("exchange_calendars", "weekdays")


def test_weekends_are_never_trading_days():
    days = sessions.trading_days("2023-01-01", "2023-12-31")
    assert days and all(d.weekday() < 5 for d in days)
    assert days == sorted(days)


@needs_xcals
def test_independence_day_has_no_session():
    assert not sessions.is_trading_day(dt.date(2023, 7, 4))
    assert sessions.trading_days("2023-07-03", "2023-07-05") == [dt.date(2023, 7, 3), dt.date(2023, 7, 5)]
    assert dt.date(2023, 7, 4) in sessions.holidays("2023-07-01", "2023-07-31")
    assert len(sessions.trading_days("2023-01-01", "2023-12-31")) == 250


@needs_xcals
def test_early_close_day_after_thanksgiving():
    open_ms, close_ms = sessions.session_bounds("2023-11-24", "2023-11-24")
    assert (close_ms - open_ms).tolist() == [210 * 60_000]  # 09:30-13:00
    assert len(sessions.expected_minutes("2023-11-24", "2023-11-24")) == 210
    ext_open, ext_close = sessions.session_bounds("2023-11-24", "2023-11-24", extended=True)
    assert (ext_close - ext_open).tolist() == [13 * 3_600_000]  # 04:00-17:00


def test_regular_bounds_are_0930_to_1600_new_york():
    open_ms, close_ms = sessions.session_bounds("2023-11-22", "2023-11-22")
    assert open_ms.dtype == np.int64
    assert open_ms.tolist() == [NOV22_OPEN]
    assert close_ms.tolist() == [NOV22_OPEN + 390 * 60_000]


def test_daylight_saving_shifts_utc_open():
    open_ms, _ = sessions.session_bounds("2023-03-10", "2023-03-13")  # DST starts 2023-03-12
    to_utc_hour = [dt.datetime.fromtimestamp(v / 1000, dt.timezone.utc).hour for v in open_ms.tolist()]
    assert to_utc_hour == [14, 13]


def test_extended_hours_are_0400_to_2000():
    open_ms, close_ms = sessions.session_bounds("2023-11-22", "2023-11-22", extended=True)
    assert open_ms.tolist() == [NOV22_OPEN - 330 * 60_000]
    assert (close_ms - open_ms).tolist() == [16 * 3_600_000]


def test_expected_minutes_matches_bounds():
    mins = sessions.expected_minutes("2023-11-20", "2023-11-28")
    open_ms, close_ms = sessions.session_bounds("2023-11-20", "2023-11-28")
    assert len(mins) == int(((close_ms - open_ms) // 60_000).sum())
    assert np.all(np.diff(mins) > 0)
    assert np.all(mins % 60_000 == 0)
    assert mins[0] == open_ms[0] and mins[-1] == close_ms[-1] - 60_000


def test_range_across_years_and_empty_range():
    days = sessions.trading_days("2022-12-28", "2023-01-05")
    assert days[0].year == 2022 and days[-1].year == 2023
    assert sessions.trading_days("2023-01-05", "2023-01-01") == []
    assert len(sessions.expected_minutes("2023-07-08", "2023-07-09")) == 0  # a weekend


def test_weekday_fallback_has_no_holidays():
    table = sessions._weekday_year(2023)
    assert len(table.days) == 260
    assert np.datetime64("2023-07-04") in table.days
    assert table.holidays == []


@settings(max_examples=40, deadline=None)
@given(st.dates(min_value=dt.date(1995, 1, 1), max_value=dt.date(2035, 12, 31)), st.integers(0, 60))
def test_trading_days_agree_with_is_trading_day(start, span):
    end = start + dt.timedelta(days=span)
    days = set(sessions.trading_days(start, end))
    for i in range(span + 1):
        day = start + dt.timedelta(days=i)
        assert (day in days) == sessions.is_trading_day(day)


PERSISTED = """
import sys, json
from polygon.markets import sessions
days = sessions.trading_days('2023-07-01', '2023-07-10')
print(json.dumps({'days': [d.isoformat() for d in days], 'xcals_imported': 'exchange_calendars' in sys.modules,
                  'path': sessions.table_path()}))
"""


def _run_child(tmp_path):
    import json
    import os
    import subprocess
    import sys
    from pathlib import Path

    root = Path(__file__).resolve().parents[2]
    env = dict(os.environ, POLYGON_CALENDAR_DIR=str(tmp_path), PYTHONPATH=str(root))
    out = subprocess.run([sys.executable, "-c", PERSISTED], capture_output=True, text=True, timeout=120, env=env)
    assert out.returncode == 0, out.stderr
    return json.loads(out.stdout)


def test_session_table_is_persisted_and_reused_without_building_the_calendar(tmp_path):
    first = _run_child(tmp_path)
    assert first["xcals_imported"] is True  # built the calendar once
    assert first["path"] == str(tmp_path / "xnys-sessions.npz") and (tmp_path / "xnys-sessions.npz").exists()
    second = _run_child(tmp_path)
    assert second["xcals_imported"] is False  # read the table: exchange-calendars not even imported
    assert second["days"] == first["days"] and "2023-07-04" not in second["days"] and len(second["days"]) == 5


def test_a_damaged_or_stale_table_is_rebuilt(tmp_path):
    (tmp_path / "xnys-sessions.npz").write_bytes(b"not a numpy file")
    got = _run_child(tmp_path)
    assert got["xcals_imported"] is True and "2023-07-04" not in got["days"]
    assert _run_child(tmp_path)["xcals_imported"] is False  # the rebuilt table replaced the damaged one


def test_holidays_are_known_on_a_plain_install():
    assert sessions.calendar_source("2023-01-01", "2023-12-31") == "exchange_calendars"
    assert dt.date(2023, 4, 7) in sessions.holidays("2023-04-01", "2023-04-30")  # Good Friday
    assert sessions.fallback_years() == []
