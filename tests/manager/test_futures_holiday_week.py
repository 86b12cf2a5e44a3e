"""fetch_data for two futures products (E-mini S&P 500 on CME, crude oil on NYMEX) across the Thanksgiving 2025 week
against the sandbox: the sessions are exchange_calendars' CMES (the Thanksgiving and Black Friday sessions end at
the CME early close), the validators find nothing missing and nothing outside the sessions, a bar after the early
close is named as such, and a CME holiday gives an empty frame that says why without a request."""

import datetime as dt
import warnings

import exchange_calendars
import pandas as pd
import pytest

import polygon

NY = "America/New_York"
WEEK = ("2025-11-24", "2025-11-28")
_HOUR_MS = 3_600_000


def cmes_week():
    """``[(trading date, open ms, close ms)]`` of the week from exchange_calendars' CMES (no maintenance break
    there: a session stops at its early close, else at 17:00 New York, 23 hours after its 18:00 open)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        sched = exchange_calendars.get_calendar("CMES", start="2025-11-17", end="2025-12-05").schedule
    out = []
    for day, o, c in zip(sched.index, sched["open"], sched["close"]):
        if WEEK[0] <= day.date().isoformat() <= WEEK[1]:
            open_ms = int(o.timestamp() * 1000)
            out.append((day.date(), open_ms, min(int(c.timestamp() * 1000), open_ms + 23 * _HOUR_MS)))
    return out


SESSIONS = cmes_week()


@pytest.mark.parametrize("ticker", ["ESZ5", "CLF6"])
def test_minute_bars_of_the_holiday_week_validate_clean(manager, requests_sent, ticker):
    df = manager.fetch_data(ticker, "1min", WEEK[0], WEEK[1], tz=NY, validate=True)
    report = df.attrs["validation"]
    assert report["score"] == 100.0 and report["missing_ranges"] == [], report["issues"]
    assert report["checks"]["outside_session"]["status"] == "passed"
    assert "CMES" in report["calendar_note"]
    assert report["expected_bar_count"] == sum((c - o) // 60_000 for _d, o, c in SESSIONS)
    t_ms = df.index.tz_convert("UTC").tz_localize(None).values.astype("datetime64[ms]").astype("int64")
    for day, open_ms, close_ms in SESSIONS:
        inside = t_ms[(t_ms >= open_ms) & (t_ms < open_ms + 24 * _HOUR_MS)]
        assert inside.min() == open_ms and inside.max() == close_ms - 60_000, day
    early = [(d, c) for d, o, c in SESSIONS if c < o + 23 * _HOUR_MS]
    assert [d.isoformat() for d, _c in early] == ["2025-11-27", "2025-11-28"]  # Thanksgiving and Black Friday
    spent = requests_sent()
    again = manager.fetch_data(ticker, "1min", WEEK[0], WEEK[1], tz=NY)
    assert requests_sent() == spent and len(again) == len(df)  # the cache serves the week


@pytest.mark.parametrize("ticker", ["ESZ5", "CLF6"])
def test_session_bars_of_the_holiday_week_are_the_cme_sessions(manager, ticker):
    df = manager.fetch_data(ticker, "1day", WEEK[0], "2025-12-05", tz=NY, validate=True)
    assert df.attrs["validation"]["score"] == 100.0, df.attrs["validation"]["issues"]
    opens = [pd.Timestamp(o, unit="ms", tz="UTC") for _d, o, _c in SESSIONS]
    assert list(df.index[:len(opens)]) == opens
    minutes = manager.fetch_data(ticker, "1min", "2025-11-27", "2025-11-27", tz=NY)
    thanksgiving = df.loc[pd.Timestamp(SESSIONS[3][1], unit="ms", tz="UTC")]
    assert (thanksgiving["close"], thanksgiving["volume"]) == (minutes["close"].iloc[-1], minutes["volume"].sum())


def test_a_bar_after_the_early_close_is_named(manager):
    day, _open_ms, close_ms = SESSIONS[3]
    df = manager.fetch_data("ESZ5", "1min", day.isoformat(), day.isoformat(), tz=NY)
    late = pd.Timestamp(close_ms + 30 * 60_000, unit="ms", tz="UTC").tz_convert(NY)
    bad = pd.concat([df, df.iloc[[100]].set_axis([late])]).sort_index()
    report = polygon.validators.generate_validation_summary(bad, "ESZ5", "1min", start=day.isoformat(),
                                                          end=day.isoformat())
    check = report["checks"]["outside_session"]
    assert check["status"] == "failed" and check["count"] == 1
    assert "0 in the daily 17:00-18:00 New York maintenance break, 1 after a CME holiday early close" in \
        check["details"]


@pytest.mark.parametrize("ticker,timeframe", [("ESZ5", "1day"), ("CLF6", "1min"), ("ESH6", "1hour")])
def test_a_cme_holiday_gives_an_empty_frame_that_says_why_without_a_request(manager, requests_sent, ticker,
                                                                            timeframe):
    df = manager.fetch_data(ticker, timeframe, "2025-12-25", "2025-12-25", tz=NY)
    assert len(df) == 0 and requests_sent() == 0
    assert df.attrs["empty_reason"] == ("no bars: %s has no CME Globex trading in the range (trading date "
                                        "2025-12-25): CME holiday 2025-12-25" % ticker)


def test_the_afternoon_after_the_early_close_is_empty_and_says_so(manager, requests_sent):
    day, _open_ms, close_ms = SESSIONS[3]
    start = pd.Timestamp(close_ms, unit="ms", tz="UTC").tz_convert(NY)
    df = manager.fetch_data("CLF6", "1min", start.to_pydatetime(), dt.datetime(2025, 11, 27, 16, 59), tz=NY)
    assert len(df) == 0 and requests_sent() == 0
    assert "the 2025-11-27 session closed early at %s New York, a CME holiday early close" % start.strftime("%H:%M") \
        in df.attrs["empty_reason"]
