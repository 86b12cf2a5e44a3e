import pandas as pd
import pytest

from polygon.exceptions import InvalidDateRangeError, InvalidSymbolError, InvalidTimeframeError
from polygon.manager import PolygonDataManager
from polygon.markets.frames import BAR_COLUMNS
from polygon.markets.timeframes import parse_timeframe
from polygon.storage import StorageManager


def _ms(text, tz="America/New_York"):
    return int(pd.Timestamp(text, tz=tz).value // 1_000_000)


def test_frame_contract(manager):
    df = manager.fetch_data("AAPL", "5min", "2023-01-03", "2023-01-06")
    assert list(df.columns) == list(BAR_COLUMNS)
    assert df.index.name == "timestamp" and str(df.index.tz) == "America/New_York"
    assert df.index.is_monotonic_increasing and df.index.is_unique
    assert df["transactions"].dtype == "Int64" and df["close"].dtype == "float64"
    assert df.index[0] == pd.Timestamp("2023-01-03 09:30", tz="America/New_York")
    assert df.index[-1] < pd.Timestamp("2023-01-07", tz="America/New_York")
    assert df.attrs["symbol"] == "AAPL" and df.attrs["timeframe"] == "5min" and df.attrs["source"] == "api"
    assert df.attrs["may_change"] is False
    # 4 regular sessions of 78 five-minute bars
    assert len(df) == 4 * 78


def test_tz_argument_and_empty_result(manager):
    df = manager.fetch_data("AAPL", "1hour", "2023-01-03", "2023-01-03", tz="UTC")
    assert str(df.index.tz) == "UTC" and len(df) > 0
    empty = manager.fetch_data("AAPL", "1min", "2023-01-01", "2023-01-01")  # a Sunday
    assert len(empty) == 0 and list(empty.columns) == list(BAR_COLUMNS)
    assert empty["transactions"].dtype == "Int64"


def test_second_identical_call_sends_zero_requests(manager, requests_sent):
    first = manager.fetch_data("MSFT", "1min", "2023-03-01", "2023-03-10")
    sent = requests_sent()
    assert sent >= 1
    second = manager.fetch_data("MSFT", "1min", "2023-03-01", "2023-03-10")
    assert requests_sent() == sent
    assert second.attrs["source"] == "cache"
    pd.testing.assert_frame_equal(first, second, check_freq=False)


def test_partial_overlap_fetches_only_the_missing_interval(manager, sandbox, requests_sent):
    manager.fetch_data("SPY", "1min", "2023-03-06", "2023-03-10")
    after_first = requests_sent()
    df = manager.fetch_data("SPY", "1min", "2023-03-08", "2023-03-14")  # Wed..Tue: only Sat..Tue missing
    assert requests_sent() - after_first == 1
    assert df.attrs["source"] == "mixed"
    assert df.index[0].date().isoformat() == "2023-03-08" and df.index[-1].date().isoformat() == "2023-03-14"
    cov = manager.storage.coverage("SPY", "1min")
    assert cov == [(_ms("2023-03-06"), _ms("2023-03-15"))]
    # the merged range equals a direct fetch of the same range
    fresh = manager.fetch_data("SPY", "1min", "2023-03-08", "2023-03-14", use_cache=False)
    pd.testing.assert_frame_equal(df.drop(columns=[]), fresh, check_freq=False)


def test_weekend_only_gap_is_not_fetched_nor_missing(manager, requests_sent):
    manager.fetch_data("QQQ", "1min", "2023-03-06", "2023-03-10")  # Mon..Fri
    manager.fetch_data("QQQ", "1min", "2023-03-13", "2023-03-17")  # next Mon..Fri
    before = requests_sent()
    df = manager.fetch_data("QQQ", "1min", "2023-03-06", "2023-03-17")
    assert requests_sent() == before, "the weekend between two cached weeks must not be fetched"
    assert df.attrs["source"] == "cache"
    summary = manager.get_data_summary("QQQ", "1min", "2023-03-06", "2023-03-17")
    assert summary["cache_coverage"]["percentage"] == 100.0
    assert summary["cache_coverage"]["missing_ranges"] == []


def test_holiday_is_not_missing_coverage(manager):
    from polygon.markets import sessions

    if sessions.calendar_source() != "exchange_calendars":
        pytest.skip("holidays are known only with exchange-calendars")
    manager.fetch_data("IWM", "1day", "2023-06-26", "2023-07-03")
    manager.fetch_data("IWM", "1day", "2023-07-05", "2023-07-07")
    summary = manager.get_data_summary("IWM", "1day", "2023-06-26", "2023-07-07")
    assert summary["cache_coverage"]["percentage"] == 100.0  # 2023-07-04 is a holiday
    assert summary["bar_count"] == 9


def test_coverage_summary_hand_checked(manager):
    # cache the second half of a 4-week window: 2 of 4 trading weeks covered -> 50 %
    manager.fetch_data("DIA", "1hour", "2023-05-15", "2023-05-26")
    summary = manager.get_data_summary("DIA", "1hour", "2023-05-01", "2023-05-26")
    cov = summary["cache_coverage"]
    assert cov["percentage"] == pytest.approx(50.0, abs=0.01)
    assert cov["missing_ranges"] == [["2023-05-01T00:00:00-04:00", "2023-05-15T00:00:00-04:00"]]
    assert cov["covered_ranges"] == [["2023-05-15T00:00:00-04:00", "2023-05-27T00:00:00-04:00"]]
    assert summary["bar_count"] > 0 and summary["first_bar"].startswith("2023-05-15")


def test_changing_tail_is_refetched(sandbox, tmp_path, requests_sent):
    now = {"ms": _ms("2023-03-08 11:00")}
    cache = str(tmp_path / "c")
    m = PolygonDataManager(config=sandbox.config(cache_dir=cache), storage=StorageManager(cache),
                           clock=lambda: now["ms"], progress=False)
    df = m.fetch_data("AAPL", "1min", "2023-03-08", "2023-03-08 10:59")
    assert df.attrs["may_change"] is True
    cov = m.storage.coverage("AAPL", "1min")
    assert cov[-1][1] == _ms("2023-03-08 10:45")  # 15 minutes of revisions are never recorded as covered
    before = requests_sent()
    m.fetch_data("AAPL", "1min", "2023-03-08", "2023-03-08 10:59")
    assert requests_sent() - before == 1
    m.close()


def test_use_cache_false_always_fetches(manager, requests_sent):
    manager.fetch_data("TSLA", "1day", "2023-01-01", "2023-02-01")
    before = requests_sent()
    df = manager.fetch_data("TSLA", "1day", "2023-01-01", "2023-02-01", use_cache=False)
    assert requests_sent() - before == 1 and df.attrs["source"] == "api"


def test_as_traded_bars_are_what_the_cache_holds(manager, requests_sent):
    raw = manager.fetch_data("AAPL", "1day", "2023-01-01", "2023-02-01", adjusted=False)
    before = requests_sent()
    again = manager.fetch_data("AAPL", "1day", "2023-01-01", "2023-02-01", adjusted=False)
    assert requests_sent() == before and again.attrs["source"] == "cache" and again.attrs["adjusted"] == "raw"
    assert manager.storage.coverage("AAPL", "1day") == [(_ms("2023-01-01"), _ms("2023-02-02"))]
    pd.testing.assert_frame_equal(raw, again)


@pytest.mark.parametrize("symbol", ["../../etc", "AAPL/../x", "..", "a\\b", ""])
def test_traversal_symbols_raise_value_error(manager, symbol, requests_sent):
    with pytest.raises(ValueError):
        manager.fetch_data(symbol, "1day", "2023-01-01", "2023-01-05")
    with pytest.raises(InvalidSymbolError):
        manager.get_data_summary(symbol, "1day", "2023-01-01", "2023-01-05")
    assert requests_sent() == 0


def test_bad_inputs_are_typed_and_cache_survives(manager):
    good = manager.fetch_data("AAPL", "1day", "2023-01-01", "2023-01-31")
    with pytest.raises(InvalidTimeframeError, match="sec, min, hour"):
        manager.fetch_data("AAPL", "7parsecs", "2023-01-01", "2023-01-31")
    with pytest.raises(InvalidDateRangeError, match="start"):
        manager.fetch_data("AAPL", "1day", "2023-02-01", "2023-01-01")
    with pytest.raises(InvalidDateRangeError):
        manager.fetch_data("AAPL", "1day", "yesterday-ish", "2023-01-01")
    again = manager.fetch_data("AAPL", "1day", "2023-01-01", "2023-01-31")
    assert again.attrs["source"] == "cache"
    pd.testing.assert_frame_equal(good, again, check_freq=False)


def test_unusable_cache_dir_degrades_to_uncached(sandbox, tmp_path, caplog):
    blocker = tmp_path / "file"
    blocker.write_text("not a directory")
    cache = str(blocker / "cache")
    m = PolygonDataManager(config=sandbox.config(cache_dir=cache), progress=False)
    df1 = m.fetch_data("AAPL", "1day", "2023-01-01", "2023-01-31")
    df2 = m.fetch_data("AAPL", "1day", "2023-01-01", "2023-01-31")
    assert len(df1) == len(df2) == 20
    assert df2.attrs["source"] == "api"
    m.close()


def test_fetch_latest_returns_complete_bars(sandbox, tmp_path):
    now = {"ms": _ms("2023-03-08 11:02:30")}
    cache = str(tmp_path / "c")
    m = PolygonDataManager(config=sandbox.config(cache_dir=cache), storage=StorageManager(cache),
                           clock=lambda: now["ms"], progress=False)
    df = m.fetch_latest("AAPL", "5min", bars=20)
    assert len(df) == 20
    assert df.index[-1] == pd.Timestamp("2023-03-08 10:55", tz="America/New_York")  # 11:00 bar still forming
    with pytest.raises(ValueError):
        m.fetch_latest("AAPL", "5min", bars=0)
    m.close()


def test_update_cache_extends_to_now(sandbox, tmp_path, requests_sent):
    now = {"ms": _ms("2023-03-10 17:00")}
    cache = str(tmp_path / "c")
    m = PolygonDataManager(config=sandbox.config(cache_dir=cache), storage=StorageManager(cache),
                           clock=lambda: now["ms"], progress=False)
    first = m.update_cache("MSFT", "1day")
    assert first["bars"] > 15
    now["ms"] = _ms("2023-03-17 17:00")
    second = m.update_cache("MSFT", "1day")
    assert second["added"] == 5  # Mon..Fri of the next week
    assert m.storage.coverage("MSFT", "1day")[0][0] == m.storage.coverage("MSFT", "1day")[0][0]
    m.close()


def test_edge_bars_are_complete_and_never_overwrite_complete_ones(manager):
    # regression: a range starting/ending mid-bar used to cache partial edge bars that later replaced complete ones
    import datetime as dt

    bar = pd.Timestamp("2023-01-03 10:00", tz="America/New_York")
    manager.fetch_data("AAPL", "1hour", dt.datetime(2023, 1, 3, 9), dt.datetime(2023, 1, 3, 10, 30))
    manager.fetch_data("AAPL", "1hour", dt.datetime(2023, 1, 3, 9), dt.datetime(2023, 1, 3, 16))
    cached = manager.fetch_data("AAPL", "1hour", "2023-01-03", "2023-01-03")
    truth = manager.fetch_data("AAPL", "1hour", "2023-01-03", "2023-01-03", use_cache=False)
    assert cached.loc[bar].tolist() == truth.loc[bar].tolist()
    pd.testing.assert_frame_equal(cached, truth, check_freq=False)


def test_week_bars_from_mid_week_do_not_damage_the_cache(manager):
    first = manager.fetch_data("AAPL", "1week", "2023-01-04", "2023-01-31")
    assert first.index[0] > pd.Timestamp("2023-01-04", tz="America/New_York")  # the cut week is not returned
    cached = manager.fetch_data("AAPL", "1week", "2023-01-01", "2023-01-31")
    truth = manager.fetch_data("AAPL", "1week", "2023-01-01", "2023-01-31", use_cache=False)
    pd.testing.assert_frame_equal(cached, truth, check_freq=False)


def test_daily_bars_use_exchange_days_in_any_display_timezone(sandbox, tmp_path):
    # regression: with a timezone west of New York, '2023-01-03' used to select the 4th..6th sessions
    cache = str(tmp_path / "c")
    ny = PolygonDataManager(config=sandbox.config(cache_dir=cache + "1"), progress=False)
    la = PolygonDataManager(config=sandbox.config(cache_dir=cache + "2", timezone="America/Los_Angeles"),
                            progress=False)
    a = ny.fetch_data("AAPL", "1day", "2023-01-03", "2023-01-05")
    b = la.fetch_data("AAPL", "1day", "2023-01-03", "2023-01-05")
    assert len(a) == len(b) == 3
    assert a["close"].tolist() == b["close"].tolist()
    assert str(b.index.tz) == "America/Los_Angeles"
    assert la.get_data_summary("AAPL", "1day", "2023-01-03", "2023-01-05")["cache_coverage"]["percentage"] == 100.0
    ny.close()
    la.close()


def test_unknown_output_timezone_is_rejected_before_io(manager, requests_sent):
    with pytest.raises(InvalidDateRangeError, match="unknown timezone"):
        manager.fetch_data("AAPL", "1day", "2023-01-03", "2023-01-05", tz="Mars/Olympus")
    assert requests_sent() == 0 and manager.storage.list_cached() == []


def test_a_failed_second_interval_keeps_the_first_in_the_cache(make_sandbox, tmp_path):
    """Two uncovered intervals: the first download is stored even when the second one fails."""
    from polygon.exceptions import PolygonRateLimitError
    from polygon.manager import PolygonDataManager
    from polygon.storage import StorageManager

    sb = make_sandbox()
    cache = str(tmp_path / "c")
    m = PolygonDataManager(config=sb.config(cache_dir=cache, max_retries=0), storage=StorageManager(cache),
                           progress=False)
    with m:
        m.fetch_data("IWM", "1min", "2023-03-08", "2023-03-08")  # the middle day is cached
        sb.configure(rate_limit_per_minute=1)  # the next request passes, the one after gets 429
        sb.reset_stats()
        with pytest.raises(PolygonRateLimitError):
            m.fetch_data("IWM", "1min", "2023-03-06", "2023-03-10")  # missing: Mon-Tue and Thu-Fri
        assert sb.stats()["status_counts"] == {200: 1, 429: 1}
        assert m.storage.coverage("IWM", "1min") == [(_ms("2023-03-06"), _ms("2023-03-09"))]
        sb.configure(rate_limit_per_minute=None)
        sb.reset_stats()
        df = m.fetch_data("IWM", "1min", "2023-03-06", "2023-03-10")
        assert sb.stats()["requests_total"] == 1, "only the interval that failed is fetched again"
        assert df.attrs["source"] == "mixed" and df.index[-1].date().isoformat() == "2023-03-10"


def test_fx_saturday_is_not_missing_and_an_expired_option_has_nothing_to_fetch(manager):
    summary = manager.get_data_summary("C:EURUSD", "1hour", "2024-03-02", "2024-03-02")  # a Saturday
    assert summary["cache_coverage"]["missing_ranges"] == [] and summary["cache_coverage"]["percentage"] == 100.0
    summary = manager.get_data_summary("C:EURUSD", "1hour", "2024-03-01", "2024-03-03")
    # uncovered spans that contain trading time are listed whole
    assert summary["cache_coverage"]["missing_ranges"] == [["2024-03-01T00:00:00-05:00", "2024-03-04T00:00:00-05:00"]]
    tf = parse_timeframe("1min")
    start, end = _ms("2023-06-20"), _ms("2023-06-24")
    assert manager.trading_intervals("O:SPY230616C00400000", tf, start, end) == []
    summary = manager.get_data_summary("O:SPY230616C00400000", "1min", "2023-06-20", "2023-06-23")
    assert summary["cache_coverage"]["missing_ranges"] == []


def test_crypto_weekend_is_trading_time(manager):
    summary = manager.get_data_summary("X:BTCUSD", "1hour", "2024-03-02", "2024-03-03")
    assert summary["cache_coverage"]["missing_ranges"] == [["2024-03-02T00:00:00-05:00", "2024-03-04T00:00:00-05:00"]]


def test_daily_crypto_days_are_utc_days(manager):
    start, end = manager.resolve_range("2024-03-02", "2024-03-03", parse_timeframe("1day"), "X:BTCUSD")
    assert (start, end) == (_ms("2024-03-02", "UTC"), _ms("2024-03-04", "UTC"))
    assert manager.resolve_range("2024-03-02", "2024-03-03", parse_timeframe("1day"), "AAPL") == (
        _ms("2024-03-02"), _ms("2024-03-04"))


def test_staged_fetch_is_a_public_seam(manager, requests_sent):
    plan = manager.plan_fetch("NFLX", "1day", "2023-02-01", "2023-02-28")
    assert plan.symbol == "NFLX" and plan.todo and requests_sent() == 0  # planning never touches the network
    manager.download(plan)
    df = manager.finish(plan)
    assert len(df) == 19 and df.attrs["source"] == "api"
    again = manager.plan_fetch("NFLX", "1day", "2023-02-01", "2023-02-28")
    assert again.todo == []
    pd.testing.assert_frame_equal(manager.finish(again), manager.fetch_data("NFLX", "1day", "2023-02-01", "2023-02-28"))
