"""SQL over the cache (DuckDB) reading the cache's own Parquet files in place, and Dask reading the same files,
checked against the frames ``fetch_data`` returns."""

import os

import numpy as np
import pandas as pd
import pytest

from polygon.exceptions import InvalidInputError, PolygonConfigError
from polygon.manager import PolygonDataManager
from polygon.storage import StorageManager

duckdb = pytest.importorskip("duckdb", reason="the sql extra (duckdb) is not installed")
pytest.importorskip("pyarrow", reason="the cache is Parquet (readable in place) only with pyarrow")

SYMBOLS = ["AAPL", "MSFT", "BRK.B"]


@pytest.fixture(scope="module")
def filled(sandbox, tmp_path_factory):
    """A cache holding a year of daily bars and a week of minute bars for three symbols, and the frames."""
    cache = str(tmp_path_factory.mktemp("sqlcache"))
    config = sandbox.config(cache_dir=cache)
    storage = StorageManager(cache)
    manager = PolygonDataManager(config=config, storage=storage)
    frames = {}
    for symbol in SYMBOLS:
        frames[(symbol, "1day")] = manager.fetch_data(symbol, "1day", "2023-01-01", "2023-12-31")
        frames[(symbol, "1min")] = manager.fetch_data(symbol, "1min", "2023-03-06", "2023-03-10")
    return storage, frames


def test_sql_aggregates_equal_pandas_on_the_same_frames(filled):
    from polygon.sql import query

    storage, frames = filled
    result = query("SELECT symbol, timeframe, count(*) AS n, sum(volume) AS volume, avg(close) AS avg_close, "
                   "max(high) AS high FROM bars GROUP BY symbol, timeframe ORDER BY symbol, timeframe",
                   storage=storage)
    expected = pd.DataFrame([
        {"symbol": s, "timeframe": tf, "n": len(f), "volume": f["volume"].sum(), "avg_close": f["close"].mean(),
         "high": f["high"].max()} for (s, tf), f in sorted(frames.items())])
    assert list(result["symbol"]) == list(expected["symbol"]) and list(result["n"]) == list(expected["n"])
    np.testing.assert_allclose(result[["volume", "avg_close", "high"]].to_numpy(float),
                               expected[["volume", "avg_close", "high"]].to_numpy(float), rtol=1e-12)


def test_views_per_timeframe_and_timestamps_are_exact(filled):
    from polygon.sql import query

    storage, frames = filled
    day = query("SELECT timestamp, close FROM bars_1day WHERE symbol = 'BRK.B' ORDER BY timestamp", storage=storage)
    frame = frames[("BRK.B", "1day")]
    assert len(day) == len(frame)
    got = pd.DatetimeIndex(day["timestamp"])
    got = got.tz_localize("UTC") if got.tz is None else got.tz_convert("UTC")
    assert (got == frame.index.tz_convert("UTC")).all()
    np.testing.assert_array_equal(day["close"].to_numpy(), frame["close"].to_numpy())
    years = query("SELECT DISTINCT year FROM bars_1min", storage=storage)
    assert years["year"].tolist() == [2023]


def test_views_read_the_cache_files_in_place_no_copy(filled, sandbox):
    from polygon.sql import query, refresh_mirror

    storage, _frames = filled
    assert storage.dataset_path == os.path.join(storage.cache_dir, "bars")
    manager = PolygonDataManager(config=sandbox.config(cache_dir=storage.cache_dir), storage=storage)
    manager.fetch_data("KO", "1day", "2023-01-01", "2023-01-31")  # seen at once: nothing to refresh
    assert query("SELECT count(*) AS n FROM bars WHERE symbol = 'KO'", storage=storage)["n"].item() == 20
    storage.clear("KO")
    assert query("SELECT count(*) AS n FROM bars WHERE symbol = 'KO'", storage=storage)["n"].item() == 0
    # one copy: the only Parquet files under the cache directory are the cache's own partitions
    files = [os.path.join(r, n) for r, _d, names in os.walk(storage.cache_dir) for n in names
             if n.endswith(".parquet")]
    assert files and all(f.startswith(storage.dataset_path + os.sep) for f in files)
    assert not os.path.exists(os.path.join(storage.cache_dir, ".sql"))
    assert refresh_mirror(storage)["exported"] == []  # kept for old code: nothing to do


def test_a_native_cache_says_what_to_install_and_how_to_convert(tmp_path, make_bars):
    from polygon.sql import query

    storage = StorageManager(str(tmp_path / "native"), format="native")
    storage.write("AAPL", "1min", make_bars(count=3))
    with pytest.raises(PolygonConfigError, match="native format.*polygon cache migrate"):
        query("SELECT count(*) FROM bars", storage=storage)


def test_bad_sql_is_a_typed_error_and_an_empty_cache_has_empty_views(tmp_path):
    from polygon.sql import query

    storage = StorageManager(str(tmp_path))
    assert query("SELECT count(*) AS n FROM bars", storage=storage)["n"].item() == 0
    with pytest.raises(InvalidInputError, match="SQL error"):
        query("SELEC nothing", storage=storage)
    with pytest.raises(InvalidInputError, match="needs an SQL statement"):
        query("  ", storage=storage)


def test_without_duckdb_the_error_names_the_extra(monkeypatch, tmp_path):
    import sys

    from polygon.sql import query

    monkeypatch.setitem(sys.modules, "duckdb", None)
    with pytest.raises(PolygonConfigError, match=r"polygon-kit\[sql\]"):
        query("SELECT 1", storage=StorageManager(str(tmp_path)))


@pytest.mark.filterwarnings("ignore:The inplace keyword")  # inside dask's parquet reader
def test_dask_reads_the_cache_files_in_place_and_agrees_with_fetch_data(filled):
    dd = pytest.importorskip("dask.dataframe", reason="dask is an optional test dependency")

    storage, frames = filled
    ddf = dd.read_parquet(os.path.join(storage.dataset_path, "timeframe=1day"))
    got = ddf.groupby("symbol").agg({"close": "sum", "volume": "sum"}).compute()
    counts = ddf.groupby("symbol").size().compute()
    for symbol in SYMBOLS:
        frame = frames[(symbol, "1day")]
        assert counts.loc[symbol] == len(frame)
        assert got.loc[symbol, "close"] == pytest.approx(frame["close"].sum(), rel=1e-12)
        assert got.loc[symbol, "volume"] == pytest.approx(frame["volume"].sum(), rel=1e-12)
    one = ddf[ddf["symbol"] == "BRK.B"].compute().sort_values("timestamp")
    np.testing.assert_array_equal(one["close"].to_numpy(), frames[("BRK.B", "1day")]["close"].to_numpy())


def test_sql_after_fetch_trades_reads_bars_and_the_stored_ticks(sandbox, tmp_path):
    """Issue 21 item 3: a tick day stored by ``fetch_trades`` (by_symbol/) made every query raise IOException."""
    from polygon.sql import query
    from polygon.ticks import fetch_quotes, fetch_trades

    cache = str(tmp_path / "cache")
    config = sandbox.config(cache_dir=cache)
    bars = PolygonDataManager(config=config, storage=StorageManager(cache)).fetch_data("AAPL", "1day", "2024-01-02",
                                                                                       "2024-01-05")
    trades = fetch_trades("MSFT", "2024-01-04", config=config)
    quotes = fetch_quotes("MSFT", "2024-01-04", config=config)
    assert os.path.isdir(os.path.join(cache, ".ticks", "stocks", "trades", "by_symbol", "MSFT"))
    got = query("SELECT count(*) AS n FROM bars_1day", cache_dir=cache)
    assert int(got["n"].iloc[0]) == len(bars)
    got = query("SELECT ticker, market, day, count(*) AS n, sum(size) AS size FROM trades GROUP BY ALL",
                cache_dir=cache)
    assert got[["ticker", "market"]].values.tolist() == [["MSFT", "stocks"]]
    assert str(got["day"].iloc[0])[:10] == "2024-01-04"
    assert int(got["n"].iloc[0]) == len(trades) and float(got["size"].iloc[0]) == float(trades["size"].sum())
    got = query("SELECT count(*) AS n FROM quotes", cache_dir=cache)
    assert int(got["n"].iloc[0]) == len(quotes)
