"""Flat-file sync from the sandbox's S3 (a real moto server on 127.0.0.1) into the cache."""

import datetime as dt
import json
import logging
import os
import subprocess
import sys
import textwrap
import time

import numpy as np
import pandas as pd
import pytest

from polygon.exceptions import (
    InvalidParameterError,
    PolygonAuthenticationError,
    PolygonConfigError,
    PolygonNotEntitledError,
)
from polygon.flatfiles import Manifest, sync_flatfiles
from polygon.manager import PolygonDataManager
from polygon.storage import StorageManager

#: January 2024 (21 trading days) and the symbols whose minute files are published (see conftest.py)
MONTH = ("2024-01-01", "2024-01-31")
MINUTE_SYMBOLS = ["AAPL", "MSFT", "SPY", "BRK.B", "JPM", "KO"]


@pytest.fixture(autouse=True)
def _same_data(ff_data):
    assert ff_data == {"month": MONTH, "minute_symbols": MINUTE_SYMBOLS}

COLUMNS = ["open", "high", "low", "close", "volume", "transactions"]


def _manager(config):
    return PolygonDataManager(config=config, storage=StorageManager(config.cache_dir))


def _rest(config, symbol, timeframe):
    """The REST bars of the month, unadjusted (the flat files carry as-traded prices)."""
    return PolygonDataManager(config=config, storage=StorageManager(config.cache_dir + "-rest")).fetch_data(
        symbol, timeframe, *MONTH, use_cache=False, adjusted=False)


def test_a_synced_month_serves_fetch_data_with_zero_rest_requests(ff_sandbox, ff_config):
    report = sync_flatfiles("stocks", "minute_aggs", *MONTH, config=ff_config, progress=False)
    assert len(report.days_synced) == 21 and report.days_missing == {}
    assert report.symbols == set(MINUTE_SYMBOLS)
    ff_sandbox.reset_stats()
    manager = _manager(ff_config)
    frames = {s: manager.fetch_data(s, "1min", *MONTH) for s in MINUTE_SYMBOLS}
    assert ff_sandbox.stats()["requests_total"] == 0, ff_sandbox.stats()["requests"]
    for symbol, frame in frames.items():
        assert frame.attrs["source"] == "cache"
        rest = _rest(ff_config, symbol, "1min")
        assert len(frame) == len(rest) > 20 * 390
        pd.testing.assert_frame_equal(frame[COLUMNS], rest[COLUMNS], check_freq=False)
        assert frame["vwap"].isna().all()  # the provider's files carry no VWAP: never invented


def test_day_files_fill_daily_bars_for_the_whole_universe(ff_sandbox, ff_config):
    report = sync_flatfiles("stocks", "day_aggs", *MONTH, config=ff_config, progress=False)
    model, first, last = ff_sandbox.model, dt.date(2024, 1, 1), dt.date(2024, 1, 31)
    listed = {t for t in model.universe.tickers if model.session_days(t, first, last)}
    assert report.symbols == listed and len(listed) > 200  # delisted symbols are in no file after delisting
    ff_sandbox.reset_stats()
    frame = _manager(ff_config).fetch_data("NFLX", "1day", *MONTH)
    assert ff_sandbox.stats()["requests_total"] == 0
    pd.testing.assert_frame_equal(frame[COLUMNS], _rest(ff_config, "NFLX", "1day")[COLUMNS], check_freq=False)


def test_second_sync_downloads_nothing_and_a_republished_day_is_synced_again(ff_sandbox, ff_config):
    days = ("2024-01-08", "2024-01-12")
    first = sync_flatfiles("stocks", "minute_aggs", *days, config=ff_config, progress=False)
    assert len(first.days_synced) == 5
    again = sync_flatfiles("stocks", "minute_aggs", *days, config=ff_config, progress=False)
    assert again.days_synced == [] and len(again.days_skipped) == 5 and again.bytes == 0

    day = dt.date(2024, 1, 10)
    key = "us_stocks_sip/minute_aggs_v1/2024/01/2024-01-10.csv.gz"
    original = ff_sandbox.flatfiles.day_file(day, "minute_aggs", MINUTE_SYMBOLS)

    def correct(frame):  # the provider corrects one bar and republishes the day
        frame = frame.copy()
        row = frame.index[(frame["ticker"] == "MSFT")][100]
        frame.loc[row, "close"] = 123.45
        return frame

    try:
        ff_sandbox.flatfiles.put(key, ff_sandbox.flatfiles.day_file(day, "minute_aggs", MINUTE_SYMBOLS, edit=correct))
        third = sync_flatfiles("stocks", "minute_aggs", *days, config=ff_config, progress=False)
        assert third.days_synced == ["2024-01-10"] and third.days_resynced == ["2024-01-10"]
        frame = StorageManager(ff_config.cache_dir).read("MSFT", "1min", "2024-01-10", "2024-01-11")
        assert frame["close"].iloc[100] == 123.45
        assert (frame["close"] == 123.45).sum() == 1 and len(frame) == len(frame.index.unique())
    finally:
        ff_sandbox.flatfiles.put(key, original)


def test_a_killed_sync_resumes_without_duplicates(ff_sandbox, ff_config):
    """SIGKILL the sync in another process after its first recorded day, then resume here."""
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([os.getcwd()] + sys.path))
    values = {"cache_dir": ff_config.cache_dir, **ff_sandbox.flatfiles.config_values(),
              "api_key": ff_config.api_key, "base_url": ff_config.base_url}
    script = textwrap.dedent("""
        import json, sys
        from polygon.config import get_config
        from polygon.flatfiles import sync_flatfiles
        config = get_config(**json.loads(sys.argv[1]))
        sync_flatfiles('stocks', 'minute_aggs', '2024-01-01', '2024-01-31', config=config, max_workers=1, batch_rows=1,
                       progress=False, on_day=lambda day: __import__('time').sleep(0.3))
    """)
    proc = subprocess.Popen([sys.executable, "-c", script, json.dumps(values)], env=env)
    manifest_path = Manifest(ff_config.cache_dir, "stocks", "minute_aggs").path
    deadline = time.monotonic() + 60
    try:
        while time.monotonic() < deadline and proc.poll() is None:
            if os.path.exists(manifest_path) and len(Manifest(ff_config.cache_dir, "stocks", "minute_aggs").days) >= 2:
                break
            time.sleep(0.05)
        assert proc.poll() is None, "the sync finished before it could be killed"
        proc.kill()
    finally:
        proc.wait(timeout=30)
    done = set(Manifest(ff_config.cache_dir, "stocks", "minute_aggs").days)
    assert 2 <= len(done) < 21
    resumed = sync_flatfiles("stocks", "minute_aggs", *MONTH, config=ff_config, progress=False)
    assert set(resumed.days_skipped) == done and len(resumed.days_synced) == 21 - len(done)
    frame = StorageManager(ff_config.cache_dir).read("AAPL", "1min", MONTH[0], "2024-02-01")  # end exclusive
    rest = _rest(ff_config, "AAPL", "1min")
    assert frame.index.is_unique and len(frame) == len(rest)


_SLOW_SYNC = textwrap.dedent("""
    import json, sys, time
    from polygon.config import get_config
    from polygon.flatfiles import staging, sync_flatfiles
    add = staging.Stage.add
    def slow_add(self, *args, **kwargs):  # each staged day takes a while: the test kills the sync between two
        add(self, *args, **kwargs)
        time.sleep(0.4)
    staging.Stage.add = slow_add
    config = get_config(**json.loads(sys.argv[1]))
    sync_flatfiles('stocks', 'minute_aggs', '2024-01-01', '2024-01-31', config=config, max_workers=1, progress=False)
""")


def _stage_files(cache_dir, pid, suffix):
    """Days with a ``suffix`` file in the staging directory of the sync run by process ``pid``."""
    root = os.path.join(cache_dir, ".flatfiles", "staging")
    out = set()
    for name in os.listdir(root) if os.path.isdir(root) else ():
        if name.split("-")[2:3] == [str(pid)]:
            out |= {f[:-len(suffix)] for f in os.listdir(os.path.join(root, name)) if f.endswith(suffix)}
    return out


def _kill_when(proc, ready, what):
    deadline = time.monotonic() + 90
    try:
        while time.monotonic() < deadline and proc.poll() is None and not ready():
            time.sleep(0.05)
        assert proc.poll() is None, "the sync finished before it could be killed (%s)" % what
        assert ready(), what
        proc.kill()
    finally:
        proc.wait(timeout=30)


def test_a_sync_killed_twice_before_its_commit_still_downloads_each_staged_day_once(ff_sandbox, ff_config):
    """The second sync takes the first one's staged days over; killed too, it must hand them on (run and index)."""
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([os.getcwd()] + sys.path))
    values = json.dumps({"cache_dir": ff_config.cache_dir, **ff_sandbox.flatfiles.config_values(),
                         "api_key": ff_config.api_key, "base_url": ff_config.base_url})
    cache = ff_config.cache_dir
    first = subprocess.Popen([sys.executable, "-c", _SLOW_SYNC, values], env=env)
    _kill_when(first, lambda: len(_stage_files(cache, first.pid, ".json")) >= 3, "3 days staged by the first sync")
    days_first = _stage_files(cache, first.pid, ".json")
    second = subprocess.Popen([sys.executable, "-c", _SLOW_SYNC, values], env=env)
    _kill_when(second, lambda: len(_stage_files(cache, second.pid, ".run")) >= len(days_first) + 2,
               "the first sync's days taken over and one more staged by the second")
    days_second = _stage_files(cache, second.pid, ".json")
    assert days_first < days_second  # the taken-over days kept their index
    assert Manifest(cache, "stocks", "minute_aggs").days == {}  # nothing committed by either
    ff_sandbox.flatfiles.reset_requests()
    resumed = sync_flatfiles("stocks", "minute_aggs", *MONTH, config=ff_config, progress=False)
    gets = [r for r in ff_sandbox.flatfiles.requests if r[0] == "GET" and "list-type=2" not in r[2]]
    assert days_second <= set(resumed.days_resumed) and len(resumed.days_synced) == 21
    assert len(gets) == 21 - len(resumed.days_resumed)  # every staged day downloaded once in all
    frame = StorageManager(cache).read("AAPL", "1min", MONTH[0], "2024-02-01")
    rest = _rest(ff_config, "AAPL", "1min")
    assert frame.index.is_unique and len(frame) == len(rest)
    pd.testing.assert_frame_equal(frame[COLUMNS], rest[COLUMNS], check_freq=False, check_names=False)


def test_after_an_unexpected_error_the_days_other_workers_finished_are_recorded(ff_sandbox, ff_config):
    """The first day's file vanishes between the listing and its download (a real 404): the sync raises, and the
    days the other workers finished meanwhile are stored and recorded, so the next sync does not fetch them."""
    from polygon.exceptions import PolygonNotFoundError
    from polygon.flatfiles import FlatFilesSource

    flat = ff_sandbox.flatfiles
    day = dt.date(2024, 1, 2)
    key = "us_stocks_sip/minute_aggs_v1/2024/01/2024-01-02.csv.gz"
    original = flat.day_file(day, "minute_aggs", MINUTE_SYMBOLS)

    class Withdrawn(FlatFilesSource):
        def list_days(self, prefix):
            listed = super().list_days(prefix)
            flat.delete(key)  # the provider withdraws the day after it was listed
            return listed

    try:
        with pytest.raises(PolygonNotFoundError, match="2024-01-02"):
            sync_flatfiles("stocks", "minute_aggs", *MONTH, config=ff_config, max_workers=4, progress=False,
                           source=Withdrawn.from_config(ff_config, max_connections=4))
    finally:
        flat.put(key, original)
    recorded = sorted(Manifest(ff_config.cache_dir, "stocks", "minute_aggs").days)
    assert recorded and day.isoformat() not in recorded, recorded
    storage = StorageManager(ff_config.cache_dir)
    for done in recorded:  # recorded days are in the cache
        nxt = (dt.date.fromisoformat(done) + dt.timedelta(days=1)).isoformat()
        assert len(storage.read("AAPL", "1min", done, nxt)) > 300
    flat.reset_requests()
    again = sync_flatfiles("stocks", "minute_aggs", *MONTH, config=ff_config, progress=False)
    gets = [r for r in flat.requests if r[0] == "GET" and "list-type=2" not in r[2]]
    assert sorted(again.days_skipped) == recorded and len(gets) == 21 - len(recorded)


def test_symbol_filter_and_listing_rule_for_absent_symbols(ff_sandbox, ff_config):
    """A requested symbol absent from a day's file is covered-empty only if it was listed that day."""
    day = dt.date(2024, 1, 16)
    key = "us_stocks_sip/minute_aggs_v1/2024/01/2024-01-16.csv.gz"
    original = ff_sandbox.flatfiles.day_file(day, "minute_aggs", MINUTE_SYMBOLS)
    try:  # KO did not trade that day (a halt): absent from the file, though listed
        ff_sandbox.flatfiles.put(key, ff_sandbox.flatfiles.day_file(
            day, "minute_aggs", MINUTE_SYMBOLS, edit=lambda f: f[f["ticker"] != "KO"]))
        report = sync_flatfiles("stocks", "minute_aggs", "2024-01-16", "2024-01-16", symbols=["KO", "AAPL"],
                                config=ff_config, progress=False)
    finally:
        ff_sandbox.flatfiles.put(key, original)
    assert report.symbols == {"AAPL"} and report.covered_empty == {"KO": ["2024-01-16"]}
    storage = StorageManager(ff_config.cache_dir)
    assert storage.missing("KO", "1min", "2024-01-16", "2024-01-17") == []
    assert storage.read("KO", "1min", "2024-01-16", "2024-01-17").empty
    assert not os.path.exists(storage.path_for("MSFT", "1min"))  # filtered out: nothing written


def test_a_symbol_not_yet_listed_is_not_recorded_as_covered(ff_sandbox, ff_config):
    day = dt.date(2012, 5, 1)  # META listed 2012-05-18
    key = "us_stocks_sip/day_aggs_v1/2012/05/2012-05-01.csv.gz"
    ff_sandbox.flatfiles.put(key, ff_sandbox.flatfiles.day_file(day, "day_aggs", ["AAPL", "MSFT"]))
    try:
        report = sync_flatfiles("stocks", "day_aggs", day, day, symbols=["META", "AAPL"], config=ff_config,
                                progress=False)
    finally:
        ff_sandbox.flatfiles.delete(key)
    assert report.symbols == {"AAPL"} and report.covered_empty == {}
    next_day = day + dt.timedelta(days=1)
    assert StorageManager(ff_config.cache_dir).missing("META", "1day", day, next_day) != []
    assert StorageManager(ff_config.cache_dir).missing("AAPL", "1day", day, next_day) == []


def test_days_without_a_file_are_reported_with_the_reason(ff_config):
    report = sync_flatfiles("stocks", "day_aggs", "2024-01-30", "2024-02-02", config=ff_config, progress=False)
    assert report.days_synced == ["2024-01-30", "2024-01-31"]
    assert report.days_missing == {"2024-02-01": "no file in the bucket", "2024-02-02": "no file in the bucket"}
    future = dt.date.today() + dt.timedelta(days=7)
    report = sync_flatfiles("crypto", "day_aggs", future, future, config=ff_config, progress=False)
    assert "not published yet" in report.days_missing[future.isoformat()]


def test_wrong_keys_and_plan_limits_are_clear_403s_without_the_secret(ff_sandbox, ff_config, caplog):
    caplog.set_level(logging.DEBUG)
    bad = ff_config.replace(s3_secret_access_key="not-the-secret")
    with pytest.raises(PolygonAuthenticationError) as info:
        sync_flatfiles("stocks", "day_aggs", *MONTH, config=bad, progress=False)
    assert "S3 keys were refused" in str(info.value) and "not the API key" in str(info.value)
    with Sandbox_plan(ff_sandbox) as config:
        with pytest.raises(PolygonNotEntitledError) as info:
            sync_flatfiles("stocks", "day_aggs", *MONTH, config=config, progress=False)
        assert "plan does not include" in str(info.value)
    secret, key_id = ff_config.s3_secret_access_key, ff_config.s3_access_key_id
    assert "Sending http request" not in caplog.text  # botocore's header dumps stay off even at DEBUG
    assert secret not in caplog.text and key_id not in caplog.text and secret not in repr(ff_config)
    manifest = Manifest(ff_config.cache_dir, "stocks", "day_aggs").path
    assert not os.path.exists(manifest) or secret not in open(manifest).read()


class Sandbox_plan:
    """A second sandbox whose keys may read only the options files."""

    def __init__(self, ff_sandbox):
        from polygon.sandbox import Sandbox

        self.sb = Sandbox(port=0, flatfiles={"bucket": "ff-plan-options", "plan": ["options"]})

    def __enter__(self):
        self.sb.start()
        self.sb.flatfiles.publish("2024-01-02", "2024-01-03", kinds=("day_aggs",), symbols=["AAPL"])
        return self.sb.config()

    def __exit__(self, *exc):
        self.sb.stop()


def test_bad_input_is_rejected_before_any_download(ff_config):
    with pytest.raises(InvalidParameterError, match="allowed: stocks, options"):
        sync_flatfiles("bonds", "day_aggs", *MONTH, config=ff_config)
    with pytest.raises(InvalidParameterError, match="publishes no quotes"):
        sync_flatfiles("crypto", "quotes", *MONTH, config=ff_config)
    with pytest.raises(PolygonConfigError, match="S3 keys"):
        sync_flatfiles("stocks", "day_aggs", *MONTH, config=ff_config.replace(s3_access_key_id=None))


def test_without_boto3_the_error_names_the_extra(monkeypatch, ff_config):
    monkeypatch.setitem(sys.modules, "boto3", None)
    with pytest.raises(PolygonConfigError, match=r"polygon-kit\[flatfiles\]"):
        sync_flatfiles("stocks", "day_aggs", *MONTH, config=ff_config)


def test_trades_files_go_to_the_tick_store_with_exact_nanoseconds(ff_sandbox, ff_config):
    pytest.importorskip("pyarrow")
    import gzip

    from polygon.flatfiles import TickStore

    base = 1704292200_000_000_123  # 2024-01-03 14:30 UTC plus 123 ns: exact only as int64
    rows = ["ticker,conditions,correction,exchange,id,participant_timestamp,price,sequence_number,sip_timestamp,"
            "size,tape,trf_id,trf_timestamp"]
    for i in range(2000):
        symbol = ("AAPL", "MSFT")[i % 2]
        rows.append('%s,"12,37",0,4,%d,%d,%.2f,%d,%d,%s,1,,' % (symbol, i, base + i * 1001, 180 + i / 1000, i,
                                                                 base + i * 1001 + 7, "0.5" if i == 3 else "100"))
    key = "us_stocks_sip/trades_v1/2024/01/2024-01-03.csv.gz"
    ff_sandbox.flatfiles.put(key, gzip.compress(("\n".join(rows) + "\n").encode()))
    try:
        report = sync_flatfiles("stocks", "trades", "2024-01-03", "2024-01-03", symbols=["MSFT"], config=ff_config,
                                progress=False)
    finally:
        ff_sandbox.flatfiles.delete(key)
    assert report.rows == 1000 and report.days_synced == ["2024-01-03"]
    frame = TickStore(ff_config.cache_dir).read("stocks", "trades", dt.date(2024, 1, 3), "MSFT")
    assert len(frame) == 1000 and set(frame["ticker"]) == {"MSFT"}
    assert frame["sip_timestamp"].dtype == np.int64
    assert int(frame["sip_timestamp"].iloc[0]) == base + 1001 + 7
    assert frame.loc[frame["sequence_number"] == 3, "size"].item() == 0.5  # fractional sizes kept


def test_the_sandbox_tape_as_trades_and_quotes_files_into_the_tick_store(ff_sandbox, ff_config):
    pytest.importorskip("pyarrow")
    from polygon.flatfiles import TickStore
    from polygon.sandbox.tape import day_quotes, day_trades

    day = dt.date(2024, 1, 4)
    ff_sandbox.flatfiles.publish(day, day, kinds=("trades", "quotes"), symbols=["AAPL", "MSFT"])
    for kind in ("trades", "quotes"):
        report = sync_flatfiles("stocks", kind, day, day, config=ff_config, progress=False)
        assert report.days_synced == [day.isoformat()]
    store = TickStore(ff_config.cache_dir)
    trades = store.read("stocks", "trades", day, "MSFT")
    tape = day_trades(ff_sandbox.model, "MSFT", day)
    assert len(trades) == len(tape) > 1000
    np.testing.assert_array_equal(trades["sip_timestamp"].to_numpy(np.int64), tape.sip_timestamp)
    np.testing.assert_array_equal(trades["price"].to_numpy(), tape.price)
    assert trades["size"].sum() == tape.size.sum()
    assert trades["trf_timestamp"].isna().all()  # absent on the tape: missing, never a made-up 0
    quotes = store.read("stocks", "quotes", day, "AAPL")
    np.testing.assert_array_equal(quotes["bid_price"].to_numpy(), day_quotes(ff_sandbox.model, "AAPL", day).bid_price)
    # the minute bars are the aggregation of those trades
    bars = ff_sandbox.model.day_minutes("MSFT", day, adjusted=False)
    assert bars.v.sum() == tape.size.sum()
    # and SQL sees the tick store
    pytest.importorskip("duckdb")
    from polygon.sql import query

    counts = query("SELECT ticker, market, day, count(*) AS n, sum(size) AS size FROM trades "
                   "GROUP BY ALL ORDER BY ticker", storage=StorageManager(ff_config.cache_dir))
    msft = counts[counts["ticker"] == "MSFT"].iloc[0]
    assert (msft["market"], str(msft["day"])[:10], msft["n"], msft["size"]) == ("stocks", "2024-01-04", len(tape),
                                                                                 tape.size.sum())


def test_s3_settings_from_the_config_file_and_the_environment(tmp_path):
    from polygon.config import get_config

    ini = tmp_path / "config.ini"
    ini.write_text("[polygon]\ns3_access_key_id = AKIAFILE\ns3_secret_access_key = file-secret\n"
                   "s3_endpoint = http://127.0.0.1:9\ns3_bucket = mybucket\n")
    config = get_config(config_file=str(ini), environ={})
    assert (config.s3_access_key_id, config.s3_secret_access_key, config.s3_endpoint, config.s3_bucket) == (
        "AKIAFILE", "file-secret", "http://127.0.0.1:9", "mybucket")
    env = get_config(config_file=str(ini), environ={"POLYGON_S3_SECRET_ACCESS_KEY": "env-secret"})
    assert env.s3_secret_access_key == "env-secret" and env.s3_access_key_id == "AKIAFILE"  # env wins
    shown = repr(env) + str(env.as_dict())
    assert "env-secret" not in shown and "AKIAFILE" not in shown
    assert get_config(environ={}).s3_endpoint == "https://files.massive.com"
