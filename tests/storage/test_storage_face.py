"""polygon.storage stays the guides' import path; the face of the room with cache, write_behind and export."""

import polygon.storage as storage
from polygon.storage.cache import BarCache
from polygon.storage.write_behind import WriteBehind

PUBLIC_METHODS = ("read", "read_with_coverage", "read_arrays_with_coverage", "write", "write_arrays", "coverage",
                  "missing", "append_bars", "flush", "info", "list_cached", "size_on_disk", "clear", "export",
                  "path_for")


def test_the_documented_names_import_from_polygon_storage(cache_dir, monkeypatch):
    assert set(storage.__all__) == {"FORMATS", "StorageManager", "get_storage_manager"}
    assert storage.FORMATS == ("native", "parquet")
    assert issubclass(storage.StorageManager, BarCache)
    for name in PUBLIC_METHODS:
        assert callable(getattr(storage.StorageManager, name)), name
    monkeypatch.setenv("POLYGON_CACHE_DIR", str(cache_dir))
    first = storage.get_storage_manager()
    assert first is storage.get_storage_manager() and first.cache_dir == str(cache_dir)


def test_streamed_bars_wait_in_the_buffer_until_a_read_of_their_key(cache_dir):
    store = storage.StorageManager(cache_dir, tz="America/New_York", flush_rows=10, flush_interval=3600)
    assert isinstance(store._buffer, WriteBehind) and store.flush_rows == 10
    bar = {"timestamp": 1_672_756_200_000, "open": 1.0, "high": 2.0, "low": 0.5, "close": 1.5, "volume": 10.0}
    assert store.append_bars("AAPL", "1min", [bar]) == 1
    assert store.info("AAPL", "1min")["pending"] == 1 and store.info("AAPL", "1min")["rows"] == 0
    assert len(store.read("AAPL", "1min")) == 1  # a read writes the key's pending bars first
    assert store.info("AAPL", "1min")["pending"] == 0 and store.coverage("AAPL", "1min") == []
