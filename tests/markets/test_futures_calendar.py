"""The CME Globex calendar (pure): trading dates, CME holidays and early closes from exchange-calendars' CMES, the
evening open at 18:00 New York, the fallback rule for a year CMES cannot answer, the persisted table, and the
reasons an empty futures range gives. Expected sessions are read from exchange_calendars itself, never typed in."""

import datetime as dt
import json
import logging
import os
import subprocess
import sys
import warnings
import zoneinfo
from pathlib import Path

import exchange_calendars
import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from polygon import markets
from polygon.markets import futures_calendar
from polygon.markets.empty_range import empty_range_reason

NY = zoneinfo.ZoneInfo("America/New_York")
THANKSGIVING = dt.date(2025, 11, 27)
_HOUR_MS = 3_600_000


def _ms(*args):
    return int(dt.datetime(*args, tzinfo=NY).timestamp() * 1000)


def cmes(first, last):
    """exchange_calendars' own CMES schedule: ``{date: (open ms, close ms)}``."""
    first, last = pd.Timestamp(first).date(), pd.Timestamp(last).date()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        sched = exchange_calendars.get_calendar("CMES", start=str(first - dt.timedelta(days=7)),
                                                end=str(last + dt.timedelta(days=7))).schedule
    return {day.date(): (int(o.timestamp() * 1000), int(c.timestamp() * 1000))
            for day, o, c in zip(sched.index, sched["open"], sched["close"]) if first <= day.date() <= last}


def test_the_thanksgiving_session_ends_at_the_cme_early_close():
    expected_close = cmes(THANKSGIVING, THANKSGIVING)[THANKSGIVING][1]
    days, opens, closes = futures_calendar.session_bounds(THANKSGIVING, THANKSGIVING)
    assert days.tolist() == [THANKSGIVING]
    assert closes.tolist() == [expected_close] and expected_close < _ms(2025, 11, 27, 17)
    assert opens.tolist() == [_ms(2025, 11, 26, 18)]  # the evening open stays 18:00 New York the day before
    assert futures_calendar.early_closes("2025-11-24", "2025-11-30") == [
        (THANKSGIVING, expected_close, _ms(2025, 11, 27, 17)),
        (dt.date(2025, 11, 28), cmes("2025-11-28", "2025-11-28")[dt.date(2025, 11, 28)][1], _ms(2025, 11, 28, 17))]
    # the market vocabulary follows: the minutes after the early close are not expected
    minutes = markets.expected_minutes("ESZ5", THANKSGIVING, THANKSGIVING)
    assert len(minutes) == (expected_close - _ms(2025, 11, 26, 18)) // 60_000
    assert minutes[-1] == expected_close - 60_000
    next_open = markets.session_bounds("CLF6", "2025-11-28", "2025-11-28")[0][0]
    assert next_open == _ms(2025, 11, 27, 18)  # the next session opens on the holiday's evening


def test_cme_holidays_are_the_weekdays_cmes_has_no_session_on():
    year = cmes("2025-01-01", "2026-12-31")
    weekdays = [d.date() for d in pd.date_range("2025-01-01", "2026-12-31") if d.weekday() < 5]
    expected = [d for d in weekdays if d not in year]
    assert futures_calendar.holidays("2025-01-01", "2026-12-31") == expected
    assert dt.date(2025, 12, 25) in expected and dt.date(2025, 4, 18) in expected  # Christmas, Good Friday
    assert markets.trading_days("ESZ5", "2025-12-22", "2025-12-26") == [d for d in sorted(year)
                                                                        if dt.date(2025, 12, 22) <= d
                                                                        <= dt.date(2025, 12, 26)]
    assert not futures_calendar.is_trading_day("2025-12-25") and futures_calendar.is_trading_day("2025-12-24")
    assert len(markets.expected_minutes("ESZ5", "2025-12-25", "2025-12-25")) == 0


@settings(max_examples=30, deadline=None)
@given(st.dates(min_value=dt.date(1995, 1, 1), max_value=dt.date(2039, 11, 30)), st.integers(0, 40))
def test_every_session_is_cmes_cut_at_the_maintenance_break(first, span):
    last = first + dt.timedelta(days=span)
    expected = cmes(first, last)
    days, opens, closes = futures_calendar.session_bounds(first, last)
    assert days.tolist() == sorted(expected)
    for day, o, c in zip(days.tolist(), opens.tolist(), closes.tolist()):
        cme_open, cme_close = expected[day]
        local_open = dt.datetime.fromtimestamp(o / 1000, NY)
        assert o == cme_open and (local_open.date(), local_open.hour) == (day - dt.timedelta(days=1), 18)
        assert c == min(cme_close, o + 23 * _HOUR_MS)  # CMES has no break: its regular close is 18:00 New York
        assert dt.datetime.fromtimestamp(c / 1000, NY).date() == day


@pytest.fixture
def fresh_calendar():
    """Undo what a test does to the module's cached years, fallback list and forced source."""
    futures_calendar._year.cache_clear()
    yield futures_calendar
    futures_calendar._state["source"] = None
    futures_calendar._fallback.clear()
    futures_calendar._year.cache_clear()


def test_a_year_cmes_cannot_answer_falls_back_to_the_old_rule_with_one_warning(fresh_calendar, caplog):
    with caplog.at_level(logging.WARNING, logger="polygon.markets.calendar_years"):
        days = fresh_calendar.trading_days("2300-12-20", "2300-12-31")
        fresh_calendar.trading_days("2300-01-01", "2300-01-10")
    warned = [r.getMessage() for r in caplog.records if "2300" in r.getMessage()]
    assert len(warned) == 1 and "CMES" in warned[0] and "weekdays" in warned[0]
    assert days and dt.date(2300, 12, 25) not in days and all(d.weekday() < 5 for d in days)
    assert fresh_calendar.fallback_years() == [2300] and fresh_calendar.early_closes("2300-01-01", "2300-12-31") == []
    assert fresh_calendar.calendar_source("2300-01-01", "2300-02-01") == "weekdays"
    assert fresh_calendar.calendar_source("2025-01-01", "2025-02-01") == "exchange_calendars"


def test_the_forced_fallback_is_the_weekday_rule_without_early_closes(fresh_calendar):
    fresh_calendar._state["source"] = "weekdays"
    fresh_calendar._year.cache_clear()
    days, opens, closes = fresh_calendar.session_bounds("2025-11-24", "2025-11-28")
    assert len(days) == 5 and closes[3] == _ms(2025, 11, 27, 17)  # Thanksgiving is an ordinary day then
    assert fresh_calendar.trading_days("2025-04-18", "2025-04-18") == [dt.date(2025, 4, 18)]
    assert fresh_calendar.holidays("2025-12-22", "2025-12-26") == [dt.date(2025, 12, 25)]


PERSISTED = """
import sys, json
from polygon.markets import futures_calendar
days, opens, closes = futures_calendar.session_bounds('2025-11-24', '2025-11-28')
print(json.dumps({'days': [str(d) for d in days], 'closes': closes.tolist(),
                  'xcals_imported': 'exchange_calendars' in sys.modules, 'path': futures_calendar.table_path()}))
"""


def _child(tmp_path):
    root = Path(__file__).resolve().parents[2]
    env = dict(os.environ, POLYGON_CALENDAR_DIR=str(tmp_path), PYTHONPATH=str(root))
    out = subprocess.run([sys.executable, "-c", PERSISTED], capture_output=True, text=True, timeout=120, env=env)
    assert out.returncode == 0, out.stderr
    return json.loads(out.stdout)


def test_the_cmes_table_is_persisted_and_reused_without_importing_exchange_calendars(tmp_path):
    first = _child(tmp_path)
    assert first["xcals_imported"] is True and first["path"] == str(tmp_path / "cmes-sessions.npz")
    second = _child(tmp_path)
    assert second["xcals_imported"] is False
    assert second["days"] == first["days"] and second["closes"] == first["closes"]
    assert second["closes"][3] == cmes(THANKSGIVING, THANKSGIVING)[THANKSGIVING][1]


NOW = _ms(2026, 12, 1)


def test_an_empty_futures_range_says_which_cme_holiday_or_early_close():
    christmas = empty_range_reason("ESZ5", "1day", _ms(2025, 12, 24, 18), _ms(2025, 12, 25, 18), NOW)
    assert christmas == "no bars: ESZ5 has no CME Globex trading in the range (trading date 2025-12-25): " \
                        "CME holiday 2025-12-25"
    close = cmes(THANKSGIVING, THANKSGIVING)[THANKSGIVING][1]
    afternoon = empty_range_reason("CLF6", "1min", close, _ms(2025, 11, 27, 17), NOW)
    assert "the 2025-11-27 session closed early at %s New York, a CME holiday early close" % (
        dt.datetime.fromtimestamp(close / 1000, NY).strftime("%H:%M")) in afternoon
    good_friday = empty_range_reason("ESM5", "1hour", _ms(2025, 4, 17, 17), _ms(2025, 4, 20, 18), NOW)
    assert "CME holiday 2025-04-18" in good_friday and "a weekend" in good_friday
    assert "maintenance break" in empty_range_reason("ESZ5", "1min", _ms(2025, 12, 3, 17, 5), _ms(2025, 12, 3, 17, 55),
                                                     NOW)
    # a range that holds trading has no reason, even on the holiday-shortened day
    assert empty_range_reason("ESZ5", "1min", close - 60_000, _ms(2025, 11, 27, 17), NOW) is None
    assert empty_range_reason("ESZ5", "1day", _ms(2025, 11, 26, 18), _ms(2025, 11, 27, 18), NOW) is None


def test_minutes_after_an_early_close_are_named_and_the_break_still_is():
    from polygon.markets.futures import after_early_close, in_maintenance_break

    close = cmes(THANKSGIVING, THANKSGIVING)[THANKSGIVING][1]
    t = np.array([close - 60_000, close, _ms(2025, 11, 27, 16, 59), _ms(2025, 11, 27, 17, 30),
                  _ms(2025, 12, 3, 14)], dtype=np.int64)
    assert after_early_close(t, NY).tolist() == [False, True, True, False, False]
    assert in_maintenance_break(t, NY).tolist() == [False, False, False, True, False]
