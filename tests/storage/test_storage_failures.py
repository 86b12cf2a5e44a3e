"""The file cache under failures: clear() racing writes, one failed write, unreadable old partitions."""

import errno
import os
import threading
import time

import pytest

import polygon.storage.cache as cache_mod
import polygon.storage.files as files_mod
from polygon.storage import StorageManager

NY = "America/New_York"
MINUTE_MS = 60_000
DAY_MS = 86_400_000
T0 = 1_672_756_200_000  # Tue 2023-01-03 14:30 UTC = 09:30 New York (the make_bars default start)



def _day(store, make_bars):
    assert store.write("AAPL", "1min", make_bars(count=390), covered=(T0, T0 + 390 * MINUTE_MS)) is True
    return os.path.join(store.path_for("AAPL", "1min"), "2023" + files_mod.EXTENSIONS[store.format])


def _next_day(make_bars):
    return make_bars(start_ms=T0 + DAY_MS, count=1, seed=7), (T0 + DAY_MS, T0 + DAY_MS + MINUTE_MS)


# -- clear() alongside writes ---------------------------------------------------------------------------

def test_clear_keeps_the_lock_file_and_key_directory(store, make_bars):
    store.write("AAPL", "1min", make_bars(count=10), covered=(T0, T0 + 10 * MINUTE_MS))
    lock = os.path.join(store.path_for("AAPL", "1min"), ".lock")
    inode = os.stat(lock).st_ino
    assert store.clear("AAPL") == 1
    # another thread or process may be waiting on this very file: it must not be unlinked
    assert os.stat(lock).st_ino == inode
    assert len(store.read("AAPL", "1min")) == 0 and store.coverage("AAPL", "1min") == []
    assert store.list_cached() == []
    assert store.write("AAPL", "1min", make_bars(count=3), covered=(T0, T0 + 3 * MINUTE_MS)) is True
    assert len(store.read("AAPL", "1min")) == 3


def test_clear_racing_writes_never_disables_the_cache(store, make_bars):
    bars = make_bars(count=10)
    results, errors = [], []
    done = threading.Event()
    deadline = time.monotonic() + 20

    def writer():
        try:
            for _ in range(150):
                if time.monotonic() > deadline:
                    break
                results.append(store.write("AAPL", "1min", bars, covered=(T0, T0 + 10 * MINUTE_MS)))
        except Exception as exc:  # noqa: BLE001 - reported by the assertion below
            errors.append(exc)
        finally:
            done.set()

    def clearer():
        try:
            for _ in range(1_000_000):
                if done.is_set() or time.monotonic() > deadline:
                    break
                store.clear("AAPL")
        except Exception as exc:  # noqa: BLE001
            errors.append(exc)

    threads = [threading.Thread(target=writer), threading.Thread(target=clearer)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=30)
    assert not any(t.is_alive() for t in threads)
    assert errors == []
    assert len(results) >= 20 and all(results)
    assert store.writable is True
    assert store.write("AAPL", "1min", bars, covered=(T0, T0 + 10 * MINUTE_MS)) is True
    assert len(store.read("AAPL", "1min")) == 10


def test_one_failed_write_in_a_usable_directory_keeps_the_cache_writable(store, make_bars, monkeypatch):
    real = files_mod.native_encode
    calls = [0]

    def failing_once(*args, **kwargs):
        calls[0] += 1
        if calls[0] == 1:
            raise OSError(errno.ENOSPC, "No space left on device")
        return real(*args, **kwargs)

    monkeypatch.setattr(files_mod, "native_encode", failing_once)
    assert store.write("AAPL", "1min", make_bars(count=5), covered=(T0, T0 + 5 * MINUTE_MS)) is False
    assert store.writable is True
    assert not [n for n in os.listdir(store.path_for("AAPL", "1min")) if ".tmp-" in n]
    assert store.write("AAPL", "1min", make_bars(count=5), covered=(T0, T0 + 5 * MINUTE_MS)) is True
    assert len(store.read("AAPL", "1min")) == 5 and calls[0] == 2


# -- an old partition that cannot be read is never replaced -----------------------------------------------

def test_io_error_on_the_old_partition_skips_the_write_and_keeps_the_file(store, make_bars, monkeypatch):
    path = _day(store, make_bars)
    before = open(path, "rb").read()
    real = cache_mod.read_part
    calls = [0]

    def flaky(p, header_only=False):  # one transient EIO on the old partition
        calls[0] += 1
        if calls[0] == 1:
            raise OSError(errno.EIO, "Input/output error")
        return real(p, header_only)

    monkeypatch.setattr(cache_mod, "read_part", flaky)
    bars, covered = _next_day(make_bars)
    assert store.write("AAPL", "1min", bars, covered=covered) is False
    assert calls[0] == 1
    assert open(path, "rb").read() == before
    assert store.writable is True
    assert len(store.read("AAPL", "1min")) == 390
    assert store.coverage("AAPL", "1min") == [(T0, T0 + 390 * MINUTE_MS)]  # nothing recorded for the skip
    # once readable again the same write merges as usual
    assert store.write("AAPL", "1min", bars, covered=covered) is True
    assert len(store.read("AAPL", "1min")) == 391
    assert store.coverage("AAPL", "1min") == [(T0, T0 + 390 * MINUTE_MS), covered]


def test_parquet_partition_without_pyarrow_is_kept(cache_dir, make_bars, monkeypatch):
    pytest.importorskip("pyarrow")
    path = _day(StorageManager(cache_dir, format="parquet", tz=NY), make_bars)
    before = open(path, "rb").read()
    monkeypatch.setattr(files_mod, "parquet_available", lambda: False)  # same cache, env without pyarrow
    store = StorageManager(cache_dir, tz=NY)
    bars, covered = _next_day(make_bars)
    assert store.write("AAPL", "1min", bars, covered=covered) is False
    assert sorted(os.listdir(os.path.dirname(path))) == [".lock", "2023.parquet"]
    assert open(path, "rb").read() == before and store.writable is True
    monkeypatch.undo()
    assert len(store.read("AAPL", "1min")) == 390
    assert store.coverage("AAPL", "1min") == [(T0, T0 + 390 * MINUTE_MS)]


def test_a_corrupt_old_partition_is_moved_aside_and_the_write_starts_afresh(store, make_bars):
    path = _day(store, make_bars)
    with open(path, "r+b") as fh:
        fh.truncate(os.path.getsize(path) // 2)
    bars, covered = _next_day(make_bars)
    assert store.write("AAPL", "1min", bars, covered=covered) is True
    assert any(".corrupt-" in n for n in os.listdir(os.path.dirname(path)))
    assert len(store.read("AAPL", "1min")) == 1 and store.coverage("AAPL", "1min") == [covered]
