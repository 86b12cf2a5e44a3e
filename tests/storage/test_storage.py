"""The file cache (polygon.storage): round trips, merge, explicit coverage, corruption, degraded modes."""

import logging
import os
import threading

import numpy as np
import pandas as pd
import pytest

from polygon.exceptions import InvalidParameterError, InvalidSymbolError
from polygon.markets.frames import BAR_COLUMNS, empty_bars_frame
from polygon.storage import StorageManager, get_storage_manager

NY = "America/New_York"
MINUTE_MS = 60_000
DAY_MS = 86_400_000
T0 = 1_672_756_200_000  # Tue 2023-01-03 14:30 UTC = 09:30 New York (the make_bars default start)



def test_round_trip_is_lossless_incl_tz_and_na(store, make_bars):
    df = make_bars(count=500)
    assert df["transactions"].isna().sum() == 100
    assert store.write("AAPL", "1min", df, covered=(T0, T0 + 500 * MINUTE_MS)) is True
    back = store.read("AAPL", "1min")
    pd.testing.assert_frame_equal(back, df)
    assert back.attrs["source"] == "cache" and back.attrs["symbol"] == "AAPL" and back.attrs["timeframe"] == "1min"
    # another timezone is kept as written
    tokyo = make_bars(count=10, tz="Asia/Tokyo")
    store.write("MSFT", "5min", tokyo)
    pd.testing.assert_frame_equal(store.read("MSFT", "5min"), tokyo)
    # and can be overridden on read
    assert str(store.read("MSFT", "5min", tz="UTC").index.tz) == "UTC"


def test_miss_is_an_empty_contract_frame(store):
    df = store.read("NVDA", "1day")
    assert len(df) == 0 and tuple(df.columns) == BAR_COLUMNS
    assert str(df["transactions"].dtype) == "Int64" and str(df.index.tz) == NY
    assert store.coverage("NVDA", "1day") == []
    assert store.missing("NVDA", "1day", T0, T0 + DAY_MS) == [(T0, T0 + DAY_MS)]


def test_read_slices_half_open_and_spans_year_partitions(store, make_bars):
    start = 1_703_980_800_000  # 2023-12-31 00:00 UTC
    df = make_bars(start_ms=start, count=4 * 24 * 60, seed=3)  # 4 days across the new year
    store.write("SPY", "1min", df, covered=(start, start + 4 * DAY_MS))
    files = sorted(os.listdir(store.path_for("SPY", "1min")))
    assert [f for f in files if not f.startswith(".")] == ["2023.pkb", "2024.pkb"]
    pd.testing.assert_frame_equal(store.read("SPY", "1min"), df)
    a, b = df.index[100], df.index[3000]
    part = store.read("SPY", "1min", start=a, end=b)
    pd.testing.assert_frame_equal(part, df.loc[a:b].iloc[:-1])  # end is exclusive
    assert store.coverage("SPY", "1min") == [(start, start + 4 * DAY_MS)]  # merged across partitions


def test_write_merges_never_drops_old_bars_and_new_wins(store, make_bars):
    old = make_bars(count=100, seed=1)
    store.write("AAPL", "1min", old, covered=(T0, T0 + 100 * MINUTE_MS))
    new = make_bars(start_ms=T0 + 50 * MINUTE_MS, count=100, seed=2)
    store.write("AAPL", "1min", new, covered=(T0 + 50 * MINUTE_MS, T0 + 150 * MINUTE_MS))
    back = store.read("AAPL", "1min")
    assert len(back) == 150
    pd.testing.assert_frame_equal(back.iloc[:50], old.iloc[:50])
    pd.testing.assert_frame_equal(back.iloc[50:], new)
    # a later fetch with fewer bars does not drop the old ones
    store.write("AAPL", "1min", new.iloc[:3], covered=(T0, T0 + 150 * MINUTE_MS))
    assert len(store.read("AAPL", "1min")) == 150
    assert store.coverage("AAPL", "1min") == [(T0, T0 + 150 * MINUTE_MS)]


def test_coverage_is_explicit_weekend_gap_is_not_missing(store, make_bars):
    friday = 1_673_010_000_000  # Fri 2023-01-06 13:00 UTC
    monday = friday + 3 * DAY_MS
    bars = pd.concat([make_bars(start_ms=friday, count=60), make_bars(start_ms=monday, count=60, seed=5)])
    requested = (friday, monday + 60 * MINUTE_MS)
    store.write("AAPL", "1min", bars, covered=requested)
    assert store.missing("AAPL", "1min", *requested) == []
    assert store.coverage("AAPL", "1min") == [requested]
    # a range never requested is missing even though bars would not exist there either
    assert store.missing("AAPL", "1min", friday - DAY_MS, monday) == [(friday - DAY_MS, friday)]
    frame, covered = store.read_with_coverage("AAPL", "1min", friday - DAY_MS, monday)
    assert covered == [(friday, monday)]
    assert len(frame) == 60
    # bars without coverage (e.g. streamed) are stored but do not count as covered
    store.write("TSLA", "1min", make_bars(count=5))
    assert len(store.read("TSLA", "1min")) == 5 and store.coverage("TSLA", "1min") == []


def test_coverage_only_write_for_a_range_without_bars(store):
    # a holiday fetched completely returns no bars but is covered from now on
    holiday = 1_672_617_600_000  # 2023-01-02 UTC
    assert store.write("AAPL", "1min", empty_bars_frame(), covered=(holiday, holiday + DAY_MS))
    assert store.missing("AAPL", "1min", holiday, holiday + DAY_MS) == []
    assert store.info("AAPL", "1min")["rows"] == 0


def test_traversal_and_invalid_symbols_raise_value_error(store, make_bars):
    for bad in ("../etc", "..", "a/b", "AAPL/../../x", "/abs", "C:\\x", "", ".hidden", "A\x00B", 42):
        with pytest.raises(ValueError):
            store.write(bad, "1min", make_bars(count=1))
        with pytest.raises(InvalidSymbolError):
            store.read(bad, "1min")
    with pytest.raises(ValueError):
        store.read("AAPL", "../1min")
    assert os.listdir(store.cache_dir) == []
    # prefixed tickers stay inside, in their market
    store.write("X:BTCUSD", "1day", make_bars(count=2, step_ms=DAY_MS))
    assert store.path_for("X:BTCUSD", "1day") == os.path.join(store.cache_dir, "crypto", "X_BTCUSD", "1day")
    assert len(store.read("x:btcusd", "1day")) == 2


def _only_data_file(store, symbol, timeframe):
    directory = store.path_for(symbol, timeframe)
    (name,) = [n for n in os.listdir(directory) if n.endswith(".pkb")]
    return os.path.join(directory, name)


def test_truncated_file_is_quarantined_and_treated_as_miss(store, make_bars, caplog):
    store.write("AAPL", "1min", make_bars(count=200), covered=(T0, T0 + 200 * MINUTE_MS))
    path = _only_data_file(store, "AAPL", "1min")
    with open(path, "r+b") as fh:
        fh.truncate(os.path.getsize(path) // 2)
    with caplog.at_level(logging.WARNING, logger="polygon"):
        frame, covered = store.read_with_coverage("AAPL", "1min")
    assert len(frame) == 0 and covered == []
    assert any("corrupt" in r.getMessage() for r in caplog.records)
    assert not os.path.exists(path)
    assert any(".corrupt-" in n for n in os.listdir(os.path.dirname(path)))
    assert store.info("AAPL", "1min")["quarantined"] == 1
    # the key is usable again
    store.write("AAPL", "1min", make_bars(count=3), covered=(T0, T0 + 3 * MINUTE_MS))
    assert len(store.read("AAPL", "1min")) == 3


@pytest.mark.parametrize("where", ["header", "payload", "magic"])
def test_flipped_bytes_are_detected(store, make_bars, where):
    store.write("AAPL", "1min", make_bars(count=300), covered=(T0, T0 + 300 * MINUTE_MS))
    path = _only_data_file(store, "AAPL", "1min")
    size = os.path.getsize(path)
    offset = {"magic": 0, "header": 20, "payload": size - 1000}[where]
    with open(path, "r+b") as fh:
        fh.seek(offset)
        byte = fh.read(1)
        fh.seek(offset)
        fh.write(bytes([byte[0] ^ 0x41]))
    assert len(store.read("AAPL", "1min")) == 0
    assert store.missing("AAPL", "1min", T0, T0 + MINUTE_MS) == [(T0, T0 + MINUTE_MS)]


def test_uncreatable_cache_dir_degrades_with_one_warning(tmp_path, make_bars, caplog):
    blocker = tmp_path / "a-file"
    blocker.write_text("not a directory")
    with caplog.at_level(logging.WARNING, logger="polygon"):
        store = StorageManager(str(blocker / "cache"), tz=NY)
        for _ in range(3):
            assert store.write("AAPL", "1min", make_bars(count=5), covered=(T0, T0 + 5 * MINUTE_MS)) is False
            assert len(store.read("AAPL", "1min")) == 0
        assert store.missing("AAPL", "1min", T0, T0 + MINUTE_MS) == [(T0, T0 + MINUTE_MS)]
        assert store.append_bars("AAPL", "1min", make_bars(count=2)) == 0
        assert store.flush() == 0
    warnings = [r for r in caplog.records if r.levelno >= logging.WARNING]
    assert len(warnings) == 1 and "not usable" in warnings[0].getMessage()
    assert store.writable is False and store.list_cached() == [] and store.size_on_disk() == 0


@pytest.mark.skipif(os.name != "posix" or os.geteuid() == 0, reason="root ignores directory permissions")
def test_read_only_cache_dir_serves_reads_and_skips_writes(cache_dir, make_bars, caplog):
    writer = StorageManager(cache_dir, tz=NY)
    writer.write("AAPL", "1min", make_bars(count=10), covered=(T0, T0 + 10 * MINUTE_MS))
    os.chmod(cache_dir, 0o555)
    try:
        with caplog.at_level(logging.WARNING, logger="polygon"):
            store = StorageManager(cache_dir, tz=NY)
            assert store.writable is False
            assert store.write("MSFT", "1min", make_bars(count=1)) is False
            assert len(store.read("AAPL", "1min")) == 10
        assert len([r for r in caplog.records if r.levelno >= logging.WARNING]) == 1
    finally:
        os.chmod(cache_dir, 0o755)


def test_read_only_detection_uses_access_check(cache_dir, monkeypatch, caplog):
    # works as root too: os.access is what the probe consults first
    monkeypatch.setattr(os, "access", lambda *a, **k: False)
    with caplog.at_level(logging.WARNING, logger="polygon"):
        store = StorageManager(cache_dir, tz=NY)
    assert store.writable is False
    assert len(caplog.records) == 1


def test_concurrent_writers_from_threads_lose_nothing(store, make_bars):
    chunks = [make_bars(start_ms=T0 + i * 50 * MINUTE_MS, count=50, seed=i) for i in range(16)]
    errors = []
    barrier = threading.Barrier(8, timeout=30)

    def worker(items):
        try:
            barrier.wait()
            for i, chunk in items:
                store.write("AAPL", "1min", chunk, covered=(T0 + i * 50 * MINUTE_MS, T0 + (i + 1) * 50 * MINUTE_MS))
        except Exception as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    threads = [threading.Thread(target=worker, args=([(i, chunks[i]) for i in range(k, 16, 8)],)) for k in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert not errors and not any(t.is_alive() for t in threads)
    pd.testing.assert_frame_equal(store.read("AAPL", "1min"), pd.concat(chunks))
    assert store.coverage("AAPL", "1min") == [(T0, T0 + 800 * MINUTE_MS)]
    assert not [n for n in os.listdir(store.path_for("AAPL", "1min")) if ".tmp-" in n]


def test_append_bars_buffers_flushes_and_is_thread_safe(cache_dir, make_bars):
    store = StorageManager(cache_dir, tz=NY, flush_rows=100, flush_interval=3600)
    bars = make_bars(count=400)
    events = [
        {"timestamp": int(ts.value // 1_000_000), "open": row.open, "high": row.high, "low": row.low,
         "close": row.close, "volume": row.volume, "vwap": row.vwap,
         "transactions": None if pd.isna(row.transactions) else int(row.transactions)}
        for ts, row in zip(bars.index, bars.itertuples())
    ]
    store.append_bars("AAPL", "1min", events[:10])
    assert store.info("AAPL", "1min")["pending"] == 10
    assert store.info("AAPL", "1min")["rows"] == 0  # buffered, not written yet
    threads = [threading.Thread(target=lambda k=k: [store.append_bars("AAPL", "1min", events[i])
                                                    for i in range(10 + k, 400, 4)]) for k in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert store.info("AAPL", "1min")["rows"] >= 300  # flushed in batches of flush_rows
    back = store.read("AAPL", "1min")  # a read flushes what is pending
    pd.testing.assert_frame_equal(back, bars, check_freq=False)
    assert store.coverage("AAPL", "1min") == []  # streamed bars add no coverage
    assert store.append_bars("AAPL", "1min", make_bars(count=2, start_ms=T0 + 400 * MINUTE_MS)) == 2
    assert store.flush() == 2 and store.info("AAPL", "1min")["rows"] == 402


def test_maintenance_list_size_info_clear(store, make_bars):
    store.write("AAPL", "1min", make_bars(count=30), covered=(T0, T0 + 30 * MINUTE_MS))
    store.write("AAPL", "1day", make_bars(count=3, step_ms=DAY_MS))
    store.write("MSFT", "1min", make_bars(count=20))
    store.write("X:BTCUSD", "1hour", make_bars(count=5, step_ms=3_600_000))
    listed = [(e["market"], e["symbol"], e["timeframe"], e["rows"]) for e in store.list_cached()]
    assert listed == [("crypto", "X:BTCUSD", "1hour", 5), ("stocks", "AAPL", "1day", 3),
                      ("stocks", "AAPL", "1min", 30), ("stocks", "MSFT", "1min", 20)]
    info = store.info("AAPL", "1min")
    assert info["rows"] == 30 and info["partitions"] == 1
    assert info["first"] == pd.Timestamp("2023-01-03 09:30", tz=NY)
    assert info["last"] == pd.Timestamp("2023-01-03 09:59", tz=NY)
    assert info["coverage"] == [(T0, T0 + 30 * MINUTE_MS)]
    total = store.size_on_disk()
    assert total >= store.size_on_disk("AAPL") > store.size_on_disk("AAPL", "1min") > 0
    assert store.clear(timeframe="1min") == 2
    assert [e["timeframe"] for e in store.list_cached()] == ["1hour", "1day"]
    assert store.clear("AAPL") == 1
    assert store.clear() == 1
    assert store.list_cached() == [] and len(store.read("X:BTCUSD", "1hour")) == 0


def test_parquet_format_round_trip_and_mixed_formats(cache_dir, make_bars):
    pytest.importorskip("pyarrow")
    pq_store = StorageManager(cache_dir, format="parquet", tz=NY)
    df = make_bars(count=120)
    pq_store.write("AAPL", "1min", df.iloc[:60], covered=(T0, T0 + 60 * MINUTE_MS))
    assert os.path.exists(os.path.join(pq_store.path_for("AAPL", "1min"), "2023.parquet"))
    native = StorageManager(cache_dir, tz=NY)  # reads the parquet partition, then rewrites it natively
    pd.testing.assert_frame_equal(native.read("AAPL", "1min"), df.iloc[:60])
    native.write("AAPL", "1min", df.iloc[60:], covered=(T0 + 60 * MINUTE_MS, T0 + 120 * MINUTE_MS))
    names = sorted(n for n in os.listdir(native.path_for("AAPL", "1min")) if not n.startswith("."))
    assert names == ["2023.pkb"]
    pd.testing.assert_frame_equal(pq_store.read("AAPL", "1min"), df)
    assert pq_store.coverage("AAPL", "1min") == [(T0, T0 + 120 * MINUTE_MS)]
    with pytest.raises(InvalidParameterError):
        StorageManager(cache_dir, format="pickle")


def test_export_hive_dataset_readable_by_pyarrow(store, make_bars, tmp_path):
    ds = pytest.importorskip("pyarrow.dataset")
    start = 1_703_980_800_000  # 2023-12-31 UTC: bars land in two years
    aapl = make_bars(start_ms=start, count=3 * 24 * 60, seed=1, tz="UTC")
    btc = make_bars(start_ms=start, count=10, step_ms=DAY_MS, seed=2, tz="UTC")
    store.write("AAPL", "1min", aapl)
    store.write("X:BTCUSD", "1min", btc)
    out = tmp_path / "export"
    result = store.export(["AAPL", "X:BTCUSD"], "1min", str(out), tz="UTC")
    assert result["rows"] == {"AAPL": len(aapl), "X:BTCUSD": 10}
    assert os.path.isdir(out / "symbol=AAPL" / "timeframe=1min" / "year=2024")
    dataset = ds.dataset(str(out), format="parquet", partitioning="hive")
    table = dataset.to_table(filter=(ds.field("symbol") == "X:BTCUSD"))
    assert table.num_rows == 10
    frame = dataset.to_table(filter=(ds.field("symbol") == "AAPL") & (ds.field("year") == 2024)).to_pandas()
    assert len(frame) == int((aapl.index.year == 2024).sum())
    assert set(frame.columns) >= set(BAR_COLUMNS) | {"timestamp", "symbol", "timeframe", "year"}
    # re-export replaces, does not duplicate
    store.export("AAPL", "1min", str(out), tz="UTC")
    assert ds.dataset(str(out), format="parquet", partitioning="hive").count_rows() == len(aapl) + 10
    with pytest.raises(InvalidParameterError):
        store.export("AAPL", "1min", str(out), format="xls")


def test_get_storage_manager_follows_environment(cache_dir, tmp_path, monkeypatch):
    first = get_storage_manager()
    assert first.cache_dir == str(cache_dir) and get_storage_manager() is first
    other = tmp_path / "other"
    monkeypatch.setenv("POLYGON_CACHE_DIR", str(other))
    second = get_storage_manager()
    assert second is not first and second.cache_dir == str(other) and os.path.isdir(other)


def test_partitions_for_second_and_daily_bars(store, make_bars):
    store.write("AAPL", "1sec", make_bars(start_ms=1_675_209_540_000, count=120, step_ms=1000))  # 2023-01-31 23:59
    names = sorted(n for n in os.listdir(store.path_for("AAPL", "1sec")) if not n.startswith("."))
    assert names == ["2023-01.pkb", "2023-02.pkb"]
    store.write("AAPL", "1day", make_bars(count=400, step_ms=DAY_MS))
    names = sorted(n for n in os.listdir(store.path_for("AAPL", "1day")) if not n.startswith("."))
    assert names == ["all.pkb"]
    assert len(store.read("AAPL", "1day", start="2023-06-01", end="2023-07-01")) == 30
    assert np.all(np.diff(store.read("AAPL", "1sec").index.asi8) == 1_000_000_000)


def test_coverage_across_partitions_is_split_and_recombined(store):
    # second bars: one file per month; a covered range spanning three months is stored in three files
    start, end = 1_675_123_200_000, 1_680_307_200_000  # 2023-01-31 .. 2023-04-01 UTC
    assert store.write("AAPL", "1sec", None, covered=(start, end))
    names = sorted(n for n in os.listdir(store.path_for("AAPL", "1sec")) if not n.startswith("."))
    assert names == ["2023-01.pkb", "2023-02.pkb", "2023-03.pkb"]
    assert store.coverage("AAPL", "1sec") == [(start, end)]
    # daily bars: one file whatever the span
    assert store.write("AAPL", "1day", None, covered=[(0, DAY_MS), (DAY_MS * 10, DAY_MS * 20000)])
    assert store.coverage("AAPL", "1day") == [(0, DAY_MS), (DAY_MS * 10, DAY_MS * 20000)]
    assert store.missing("AAPL", "1day", 0, DAY_MS * 11) == [(DAY_MS, DAY_MS * 10)]
