"""Flat-file sync at scale (issue 25) and its failure modes (issue 27 item 6): the parse engines agree, a bad day
is reported while the good ones are stored, odd tickers are stored or reported, a subset sync is not taken for a
full one, and the sandbox's command line serves flat files that ``polygon flatfiles sync`` and ``polygon sql``
use."""

import datetime as dt
import gzip
import os
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from polygon.exceptions import PolygonResponseError
from polygon.flatfiles import Manifest, sync_flatfiles
from polygon.flatfiles.layout import object_key
from polygon.flatfiles.parse import parse_day_bars, select_lines
from polygon.storage import StorageManager

ROOT = Path(__file__).resolve().parents[2]
#: February 2024: days the module's sandbox does not publish (tests put their own files there)
FEB = [dt.date(2024, 2, d) for d in (5, 6, 7, 8, 9)]


def _csv(rows):
    lines = ["ticker,volume,open,close,high,low,window_start,transactions"]
    lines += [",".join(str(v) for v in row) for row in rows]
    return ("\n".join(lines) + "\n").encode()


def _bars(day, tickers, minutes=3):
    start = int(dt.datetime(day.year, day.month, day.day, 14, 30, tzinfo=dt.timezone.utc).timestamp()) * 10 ** 9
    rows = []
    for i, ticker in enumerate(tickers):
        for m in range(minutes):
            price = 10 + i + m / 100
            rows.append((ticker, 100 + m, price, price + 0.01, price + 0.02, price - 0.01, start + m * 60 * 10 ** 9,
                         5 + m))
    return rows


@pytest.fixture
def feb(ff_sandbox):
    """Put files for February days; removed afterwards."""
    keys = []

    def put(day, body, kind="minute_aggs"):
        key = object_key("stocks", kind, day)
        ff_sandbox.flatfiles.put(key, body)
        keys.append(key)

    yield put
    for key in keys:
        ff_sandbox.flatfiles.delete(key)


@pytest.mark.parametrize("wanted", [None, {"BRK.A", "ZZZ"}])
def test_the_pyarrow_and_pandas_engines_give_the_same_columns(wanted):
    pytest.importorskip("pyarrow")
    day = FEB[0]
    rows = _bars(day, ["BRK.A", "AAPL", "ZZZ", "MSFT"])
    rows += [rows[1]]  # a repeated bar: the last one is kept
    rows = rows[3:] + rows[:3]  # not grouped as the provider's files: the result is the same
    data = gzip.compress(_csv(rows))
    a = parse_day_bars(data, wanted, engine="pyarrow")
    b = parse_day_bars(data, wanted, engine="pandas")
    assert a.symbols == b.symbols == sorted(wanted or {"AAPL", "BRK.A", "MSFT", "ZZZ"})
    for name in ("starts", "ends", "t_ns", "transactions", "tx_mask"):
        np.testing.assert_array_equal(getattr(a, name), getattr(b, name))
    np.testing.assert_array_equal(a.values, b.values)
    assert a.kept == 3 * len(a.symbols) and a.rows == b.rows == len(rows)
    for i in range(len(a.symbols)):  # each symbol's rows ascending and unique
        t = a.t_ns[a.starts[i]:a.ends[i]]
        assert (np.diff(t) > 0).all()


def test_select_lines_keeps_the_header_and_only_the_wanted_runs():
    text = _csv(_bars(FEB[0], ["AAPL", "AAPLW", "MSFT"]))
    picked = select_lines(text, {"AAPL"})
    assert picked.splitlines()[0].startswith(b"ticker,") and len(picked.splitlines()) == 4
    assert all(line.startswith(b"AAPL,") for line in picked.splitlines()[1:])


def test_a_file_that_is_not_gzip_or_lacks_columns_is_a_response_error():
    with pytest.raises(PolygonResponseError, match="gzip"):
        parse_day_bars(b"not gzip at all")
    with pytest.raises(PolygonResponseError, match="lacks columns"):
        parse_day_bars(gzip.compress(b"ticker,volume\nAAPL,1\n"))


def test_a_bad_day_is_reported_and_the_good_days_are_stored(ff_sandbox, ff_config, feb):
    """Issue 27 item 6: one unreadable day file aborted the range and dropped the good days downloaded with it."""
    for day in FEB:
        feb(day, gzip.compress(_csv(_bars(day, ["AAPL", "MSFT"]))))
    bad = FEB[2]
    feb(bad, b"\x1f\x8b\x08 truncated gzip")
    report = sync_flatfiles("stocks", "minute_aggs", FEB[0], FEB[-1], config=ff_config, progress=False)
    assert report.days_synced == [d.isoformat() for d in FEB if d != bad]
    assert list(report.days_failed) == [bad.isoformat()] and "gzip" in report.days_failed[bad.isoformat()]
    assert "failed %s" % bad.isoformat() in report.summary()
    assert bad.isoformat() not in Manifest(ff_config.cache_dir, "stocks", "minute_aggs").days
    storage = StorageManager(ff_config.cache_dir)
    assert len(storage.read("MSFT", "1min", FEB[0], FEB[-1] + dt.timedelta(days=1))) == 3 * (len(FEB) - 1)
    feb(bad, gzip.compress(_csv(_bars(bad, ["AAPL", "MSFT"]))))  # republished: the next sync takes it
    again = sync_flatfiles("stocks", "minute_aggs", FEB[0], FEB[-1], config=ff_config, progress=False)
    assert again.days_synced == [bad.isoformat()] and not again.days_failed
    assert len(storage.read("MSFT", "1min", FEB[0], FEB[-1] + dt.timedelta(days=1))) == 3 * len(FEB)


ODD = ["BRK.A", "BF.B", "ZVZZT", "ABRpD", "GNTw", "aapl", "A B", "../../escape", "X" * 41, "WS/PR", "ÄPFEL",
       ".HIDDEN"]


def test_full_market_tickers_are_stored_or_reported_never_outside_the_cache(ff_sandbox, ff_config, feb, tmp_path):
    day = FEB[0]
    feb(day, gzip.compress(_csv(_bars(day, ODD))))
    before = sorted(os.listdir(tmp_path))
    report = sync_flatfiles("stocks", "minute_aggs", day, day, config=ff_config, progress=False)
    assert report.symbols == {"BRK.A", "BF.B", "ZVZZT"}
    assert report.skipped_tickers == set(ODD) - report.symbols
    assert "9 tickers not stored" in report.summary()
    assert sorted(os.listdir(tmp_path)) == before  # nothing beside the cache directory
    storage = StorageManager(ff_config.cache_dir)
    for symbol in ("BRK.A", "BF.B", "ZVZZT"):
        assert len(storage.read(symbol, "1min", day, day + dt.timedelta(days=1))) == 3
        assert os.path.realpath(storage.path_for(symbol, "1min")).startswith(os.path.realpath(ff_config.cache_dir))


def test_a_sync_of_some_symbols_is_not_taken_for_the_whole_day(ff_sandbox, ff_config, feb):
    day = FEB[1]
    feb(day, gzip.compress(_csv(_bars(day, ["AAPL", "KO", "MSFT"]))))
    first = sync_flatfiles("stocks", "minute_aggs", day, day, symbols=["AAPL"], config=ff_config, progress=False)
    assert first.symbols == {"AAPL"}
    again = sync_flatfiles("stocks", "minute_aggs", day, day, symbols=["AAPL"], config=ff_config, progress=False)
    assert again.days_skipped == [day.isoformat()]
    full = sync_flatfiles("stocks", "minute_aggs", day, day, config=ff_config, progress=False)
    assert full.days_synced == [day.isoformat()] and full.symbols == {"AAPL", "KO", "MSFT"}
    assert Manifest(ff_config.cache_dir, "stocks", "minute_aggs").entry(day.isoformat())["symbols"] is None


def test_the_sandbox_command_line_serves_flat_files_for_sync_and_sql(tmp_path):
    """``python -m polygon.sandbox --flatfiles`` prints the S3 endpoint and keys; the CLI syncs from it."""
    pytest.importorskip("duckdb")
    env = dict(os.environ, PYTHONPATH=str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", ""),
               POLYGON_CONFIG_FILE=os.devnull)
    proc = subprocess.Popen([sys.executable, "-m", "polygon.sandbox", "--port", "0", "--clock", "2024-01-10",
                             "--flatfiles", "--flatfiles-days", "3", "--flatfiles-kinds", "day_aggs"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env, cwd=str(ROOT))
    try:
        lines = [proc.stdout.readline() for _ in range(3)]
        text = "".join(lines)
        assert "flat files (S3) http://127.0.0.1:" in text and "days 2024-01-05 .. 2024-01-09" in text, (
            text + (proc.stderr.read() if proc.poll() is not None else ""))
        rest = re.search(r"REST (\S+)", text).group(1)
        exports = dict(item.split("=", 1) for item in lines[2].split()[1:])
        assert set(exports) == {"POLYGON_S3_ENDPOINT", "POLYGON_S3_BUCKET", "POLYGON_S3_ACCESS_KEY_ID",
                                "POLYGON_S3_SECRET_ACCESS_KEY"}
        user = dict(env, POLYGON_API_KEY=re.search(r"key (\S+)", lines[0]).group(1), POLYGON_BASE_URL=rest,
                    POLYGON_CACHE_DIR=str(tmp_path / "cache"), **exports)

        def polygon(*args):
            out = subprocess.run([sys.executable, "-m", "polygon"] + list(args), env=user, capture_output=True,
                                 text=True, timeout=300, cwd=str(ROOT))
            assert out.returncode == 0, out.stdout[-2000:] + out.stderr[-3000:]
            return out.stdout

        synced = polygon("flatfiles", "sync", "--kind", "day_aggs", "--start", "2024-01-05", "--end", "2024-01-09",
                         "--no-progress")
        rows = int(re.search(r"; (\d+) rows, (\d+) symbols", synced).group(1))
        assert "3 days synced" in synced and rows > 300
        counted = polygon("sql", "SELECT count(*) AS n FROM bars_1day")
        assert counted.split()[-1] == str(rows)  # every synced row is in the SQL view
    finally:
        proc.terminate()
        proc.wait(timeout=30)


def test_a_sync_after_cache_clear_restores_the_days(ff_sandbox, ff_config):
    """Issue 27 item 6: ``cache clear`` left the manifests, so a re-sync reported "already current" and restored
    nothing."""
    days = ("2024-01-08", "2024-01-10")
    first = sync_flatfiles("stocks", "day_aggs", *days, symbols=["AAPL", "MSFT"], config=ff_config, progress=False)
    assert len(first.days_synced) == 3
    storage = StorageManager(ff_config.cache_dir)
    assert storage.clear(timeframe="1day") > 0 and storage.read("AAPL", "1day").empty
    again = sync_flatfiles("stocks", "day_aggs", *days, symbols=["AAPL", "MSFT"], config=ff_config, progress=False)
    assert again.days_skipped == [] and len(again.days_synced) == 3
    assert len(storage.read("AAPL", "1day", "2024-01-08", "2024-01-11")) == 3
    storage.clear("MSFT")  # one symbol: the days are synced again (idempotent), MSFT comes back
    third = sync_flatfiles("stocks", "day_aggs", *days, symbols=["AAPL", "MSFT"], config=ff_config, progress=False)
    assert len(third.days_synced) == 3 and len(storage.read("MSFT", "1day", "2024-01-08", "2024-01-11")) == 3


def test_fetch_data_after_a_sync_makes_no_request_and_duckdb_and_dask_agree(ff_sandbox, ff_config):
    """The synced files are the dataset: DuckDB and Dask read them in place and equal ``fetch_data``."""
    pytest.importorskip("duckdb")
    dd = pytest.importorskip("dask.dataframe")
    from polygon.manager import PolygonDataManager
    from polygon.sql import query

    sync_flatfiles("stocks", "minute_aggs", "2024-01-08", "2024-01-12", symbols=["AAPL", "BRK.B"],
                   config=ff_config, progress=False)
    ff_sandbox.reset_stats()
    storage = StorageManager(ff_config.cache_dir)
    frame = PolygonDataManager(config=ff_config, storage=storage).fetch_data("BRK.B", "1min", "2024-01-08",
                                                                           "2024-01-12", adjusted=False)
    assert ff_sandbox.stats()["requests_total"] == 0 and frame.attrs["source"] == "cache" and len(frame) > 1000
    sql = query("SELECT count(*) AS n, sum(close) AS c FROM bars_1min WHERE symbol = 'BRK.B'", storage=storage)
    assert int(sql["n"].iloc[0]) == len(frame)
    assert float(sql["c"].iloc[0]) == pytest.approx(float(frame["close"].sum()), rel=1e-12)
    ddf = dd.read_parquet(os.path.join(storage.dataset_path, "timeframe=1min"))
    got = ddf[ddf["symbol"] == "BRK.B"].compute().sort_values("timestamp")
    np.testing.assert_array_equal(got["close"].to_numpy(), frame["close"].to_numpy())


def test_a_tick_day_synced_for_some_symbols_serves_only_those(ff_sandbox, ff_config):
    pytest.importorskip("pyarrow")
    from polygon.flatfiles import TickStore
    from polygon.ticks import fetch_trades

    day = dt.date(2024, 1, 3)
    key = object_key("stocks", "trades", day)
    ff_sandbox.flatfiles.put(key, ff_sandbox.flatfiles.tick_file(day, "trades", ["AAPL", "MSFT", "KO"]))
    try:
        sync_flatfiles("stocks", "trades", day, day, symbols=["MSFT"], config=ff_config, progress=False)
        store = TickStore(ff_config.cache_dir)
        assert store.symbols("stocks", "trades", day) == ["MSFT"]
        assert store.has("stocks", "trades", day, "MSFT") and not store.has("stocks", "trades", day, "KO")
        ko = fetch_trades("KO", day, config=ff_config)  # not in the synced subset: from the REST API
        assert ko.attrs["source"] == {day.isoformat(): "api"} and len(ko) > 100
        msft = fetch_trades("MSFT", day, config=ff_config)
        assert msft.attrs["source"] == {day.isoformat(): "flatfiles"}
        # a second subset sync of the same file keeps the first one's symbols (the day file is replaced whole)
        again = sync_flatfiles("stocks", "trades", day, day, symbols=["AAPL"], config=ff_config, progress=False)
        assert again.days_synced == [day.isoformat()]
        assert store.symbols("stocks", "trades", day) == ["AAPL", "MSFT"]
        assert len(store.read("stocks", "trades", day, "MSFT")) == len(msft)
    finally:
        ff_sandbox.flatfiles.delete(key)
    if pytest.importorskip("duckdb"):
        from polygon.sql import query

        got = query("SELECT ticker, count(*) AS n FROM trades GROUP BY ticker ORDER BY ticker",
                    cache_dir=ff_config.cache_dir)
        assert dict(zip(got["ticker"], got["n"])) == {"AAPL": len(store.read("stocks", "trades", day, "AAPL")),
                                                      "KO": len(ko), "MSFT": len(msft)}


def test_a_sync_killed_before_its_commit_resumes_from_the_parsed_days(ff_sandbox, ff_config):
    """SIGKILL a sync while it stages days (parsing slowed down), then resume: the complete runs of the dead
    sync are used, not downloaded again, and the result equals the REST bars."""
    import json
    import textwrap
    import time

    from polygon.manager import PolygonDataManager

    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(ROOT)] + sys.path))
    values = {"cache_dir": ff_config.cache_dir, **ff_sandbox.flatfiles.config_values(),
              "api_key": ff_config.api_key, "base_url": ff_config.base_url}
    script = textwrap.dedent("""
        import json, sys, time
        import polygon.flatfiles.sync as sync
        from polygon.config import get_config
        real = sync.parse_day_bars
        def slow(*args, **kwargs):
            time.sleep(0.4)
            return real(*args, **kwargs)
        sync.parse_day_bars = slow
        sync.sync_flatfiles('stocks', 'minute_aggs', '2024-01-01', '2024-01-31', config=get_config(**json.loads(
            sys.argv[1])), max_workers=1, progress=False)
    """)
    staging = os.path.join(ff_config.cache_dir, ".flatfiles", "staging")

    def indexes():
        return [n for _r, _d, names in os.walk(staging) for n in names if n.endswith(".json")]

    proc = subprocess.Popen([sys.executable, "-c", script, json.dumps(values)], env=env, cwd=str(ROOT))
    deadline = time.monotonic() + 120
    try:
        while time.monotonic() < deadline and proc.poll() is None and len(indexes()) < 3:
            time.sleep(0.05)
        assert proc.poll() is None, "the sync finished before it could be killed"
        proc.kill()
    finally:
        proc.wait(timeout=30)
    parsed = len(indexes())
    assert 3 <= parsed < 21 and not os.path.exists(Manifest(ff_config.cache_dir, "stocks", "minute_aggs").path)
    resumed = sync_flatfiles("stocks", "minute_aggs", "2024-01-01", "2024-01-31", config=ff_config, progress=False)
    assert len(resumed.days_resumed) == parsed and len(resumed.days_synced) == 21
    assert os.listdir(staging) == []
    frame = StorageManager(ff_config.cache_dir).read("AAPL", "1min", "2024-01-01", "2024-02-01")
    rest = PolygonDataManager(config=ff_config, storage=StorageManager(ff_config.cache_dir + "-rest")).fetch_data(
        "AAPL", "1min", "2024-01-01", "2024-01-31", use_cache=False, adjusted=False)
    assert frame.index.is_unique and len(frame) == len(rest)
    np.testing.assert_array_equal(frame["close"].to_numpy(), rest["close"].to_numpy())
