"""Futures through fetch_data against the sandbox, for two products (E-mini S&P 500 on CME, crude oil on NYMEX):
the futures aggregates endpoint feeds the cache, a trading date's session opens the evening before, the daily bar
is the session bar, a second fetch is served from the cache without a request, and the validators know the
Globex sessions and the daily 17:00-18:00 maintenance break."""

import datetime as dt

import pandas as pd
import pytest

import polygon
from polygon.markets.symbols import market_of

NY = "America/New_York"


@pytest.mark.parametrize("ticker", ["ESZ5", "CLF6"])
def test_minute_bars_of_a_trading_date_come_once_and_then_from_the_cache(manager, sandbox, requests_sent, ticker):
    assert market_of(ticker) == "futures"
    df = manager.fetch_data(ticker, "1min", "2025-12-03", "2025-12-03", tz=NY, validate=True)
    first, last = df.index[0], df.index[-1]
    assert (first.date(), first.hour, first.minute) == (dt.date(2025, 12, 2), 18, 0)  # the session opened Tuesday
    assert (last.date(), last.hour, last.minute) == (dt.date(2025, 12, 3), 16, 59)
    assert not ((df.index.hour == 17)).any()  # the maintenance break has no bars
    assert len(df) <= 23 * 60 and (df["high"] >= df["low"]).all()
    report = df.attrs["validation"]
    assert report["market"] == "futures" and report["score"] == 100.0, report["issues"]
    assert report["expected_bar_count"] == 23 * 60
    spent = requests_sent()
    assert spent >= 1
    again = manager.fetch_data(ticker, "1min", "2025-12-03", "2025-12-03", tz=NY)
    assert requests_sent() == spent, "the second fetch is served from the cache"
    pd.testing.assert_frame_equal(again, df.drop(columns=[c for c in df.columns if c not in again.columns]),
                                  check_freq=False)


@pytest.mark.parametrize("ticker", ["ESZ5", "CLF6"])
def test_daily_bars_are_the_sessions_and_match_the_provider(manager, sandbox, ticker):
    df = manager.fetch_data(ticker, "1day", "2025-12-01", "2025-12-05", tz=NY, validate=True)
    assert [(t.strftime("%a %H:%M")) for t in df.index] == ["Sun 18:00", "Mon 18:00", "Tue 18:00", "Wed 18:00",
                                                            "Thu 18:00"]
    assert df.attrs["validation"]["score"] == 100.0, df.attrs["validation"]["issues"]
    with polygon.PolygonClient(config=sandbox.config()) as client:
        sessions = list(client.list_futures_aggregates(ticker, resolution="1session", window_start_gte="2025-11-30",
                                                       window_start_lt="2025-12-05"))
    assert [s.session_end_date for s in sessions] == ["2025-12-01", "2025-12-02", "2025-12-03", "2025-12-04",
                                                      "2025-12-05"]
    assert list(df["close"]) == [s.close for s in sessions] and list(df["volume"]) == [s.volume for s in sessions]
    hours = manager.fetch_data(ticker, "1hour", "2025-12-01", "2025-12-05", tz=NY)
    assert len(hours) == 5 * 23 and hours["volume"].sum() == df["volume"].sum()


def test_validators_flag_a_bar_in_the_maintenance_break(manager):
    df = manager.fetch_data("ESZ5", "1min", "2025-12-03", "2025-12-03", tz=NY)
    bad = pd.concat([df, df.iloc[[100]].set_axis([pd.Timestamp("2025-12-03 17:30", tz=NY)])]).sort_index()
    report = polygon.validators.generate_validation_summary(bad, "ESZ5", "1min", start="2025-12-03",
                                                          end="2025-12-03")
    check = report["checks"]["outside_session"]
    assert check["status"] == "failed" and "maintenance break" in check["details"] and check["count"] == 1


def test_the_top_level_fetch_data_reads_futures(sandbox_env):
    df = polygon.fetch_data("NQZ5", "1day", start="2025-12-08", end="2025-12-12")
    assert len(df) == 5 and df.index.tz is not None
