"""SQL over the cache with DuckDB (optional extra ``sql``), reading the cache's own files in place.

With pyarrow installed the bar cache is a hive-partitioned Parquet dataset (:mod:`polygon.storage.files`)::

    <cache_dir>/bars/timeframe=1min/symbol=AAPL/2024.parquet

and the views below read those files directly: there is no second copy, and a query sees every bar the
cache holds at that moment (a partition is replaced by an atomic rename, so a query reads the old file or
the new one). Spark (``spark.read.parquet(path)``), Dask (``dask.dataframe.read_parquet(path)``), Polars
(``pl.scan_parquet(path + '/**/*.parquet', hive_partitioning=True)``) and pyarrow datasets read the same
directory (:func:`dataset_path`). A cache in the native format (written without pyarrow, or before the hive
layout) is not read by SQL: the error says what to install and how to convert the cache
(:func:`polygon.storage.migrate.migrate_cache`).

Views available to queries:

- ``bars``: every cached bar: ``timestamp`` (UTC), ``open, high, low, close, volume, vwap, transactions``,
  ``symbol``, ``timeframe``, ``year`` (of the bar's UTC time);
- ``bars_<timeframe>`` for each cached timeframe (``bars_1min``, ``bars_1day``...), the same columns;
- ``trades`` and ``quotes``: the tick store filled by flat-file sync and the days ``fetch_trades`` /
  ``fetch_quotes`` stored (with ``market`` and ``day`` columns), when it holds any day.

::

    from polygon.sql import query
    query("SELECT symbol, avg(close) AS avg_close FROM bars_1day WHERE year = 2024 GROUP BY symbol")
"""

import logging
import os
import shutil
from typing import Any, Dict, List, Optional

import pandas as pd

from polygon.exceptions import InvalidInputError, PolygonConfigError

__all__ = ["connect", "dataset_path", "mirror_path", "query", "refresh_mirror", "tick_files"]

logger = logging.getLogger(__name__)
_COLUMNS = ("timestamp, open, high, low, close, volume, vwap, transactions, symbol, timeframe, "
            "CAST(year(timestamp) AS INTEGER) AS year")


def _duckdb():
    try:
        import duckdb
    except ImportError:
        raise PolygonConfigError("SQL over the cache needs DuckDB: pip install 'polygon-kit[sql]'") from None
    return duckdb


def _storage(storage: Any = None, cache_dir: Optional[str] = None):
    if storage is not None:
        return storage
    from polygon.storage import get_storage_manager

    return get_storage_manager(cache_dir)


def dataset_path(storage: Any = None, cache_dir: Optional[str] = None) -> str:
    """The root of the cache's Parquet dataset (``<cache_dir>/bars``), what Spark, Dask and Polars read.

    :raises PolygonConfigError: for a cache in the native format (the message says how to convert it).
    """
    store = _storage(storage, cache_dir)
    root = getattr(store, "dataset_path", None)
    if root is None:
        from polygon.storage.files import parquet_available

        once = "`polygon cache migrate` (or StorageManager(%r).migrate())" % store.cache_dir
        how = ("convert it once with %s: the bars are kept, nothing is mixed" % once if parquet_available() else
               "install pyarrow (pip install 'polygon-kit[parquet]'), then convert it once with %s" % once)
        raise PolygonConfigError("SQL reads the cache's Parquet files in place; the cache at %s holds the native "
                                 "format: %s" % (store.cache_dir, how))
    return root


def mirror_path(storage: Any = None, cache_dir: Optional[str] = None) -> str:
    """Kept for code written when SQL kept a mirror: the cache's own dataset (:func:`dataset_path`)."""
    return dataset_path(storage, cache_dir)


def refresh_mirror(storage: Any = None, cache_dir: Optional[str] = None) -> Dict[str, Any]:
    """Kept for code written when SQL kept a mirror: there is nothing to refresh, the cache's files are the
    dataset. Removes a mirror left by an earlier version (``<cache_dir>/.sql``).

    :returns: ``{'path': dataset root, 'exported': [], 'dropped': [], 'unchanged': number of cached pairs}``.
    """
    store = _storage(storage, cache_dir)
    root = dataset_path(store)
    shutil.rmtree(os.path.join(store.cache_dir, ".sql"), ignore_errors=True)
    return {"path": root, "exported": [], "dropped": [], "unchanged": len(store.list_cached())}


def connect(storage: Any = None, cache_dir: Optional[str] = None, refresh: bool = True):
    """A DuckDB connection (in memory, time zone UTC) with the views over the cache's files.

    :param refresh: ignored (kept for code written when SQL kept a mirror).
    :raises PolygonConfigError: for a cache in the native format.
    """
    duckdb = _duckdb()
    store = _storage(storage, cache_dir)
    root = dataset_path(store)
    con = duckdb.connect(":memory:")
    con.execute("SET TimeZone = 'UTC'")
    timeframes = sorted(e.name.split("=", 1)[1] for e in os.scandir(root)
                        if e.is_dir() and e.name.startswith("timeframe=") and _has_files(e.path)) \
        if os.path.isdir(root) else []
    if timeframes:
        pattern = os.path.join(root, "timeframe=*", "symbol=*", "*.parquet")
        con.execute("CREATE VIEW bars AS SELECT %s FROM read_parquet(%s, hive_partitioning = true, "
                    "hive_types_autocast = false)" % (_COLUMNS, _literal(pattern)))
        for tf in timeframes:
            pattern = os.path.join(root, "timeframe=" + tf, "symbol=*", "*.parquet")
            con.execute("CREATE VIEW %s AS SELECT %s FROM read_parquet(%s, hive_partitioning = true, "
                        "hive_types_autocast = false)" % (_ident("bars_" + tf), _COLUMNS, _literal(pattern)))
    else:
        con.execute("CREATE VIEW bars AS SELECT NULL::TIMESTAMPTZ AS timestamp, NULL::DOUBLE AS open, "
                    "NULL::DOUBLE AS high, NULL::DOUBLE AS low, NULL::DOUBLE AS close, NULL::DOUBLE AS volume, "
                    "NULL::DOUBLE AS vwap, NULL::BIGINT AS transactions, NULL::VARCHAR AS symbol, "
                    "NULL::VARCHAR AS timeframe, NULL::INTEGER AS year WHERE false")
    _tick_views(con, store.cache_dir)
    return con


def _has_files(directory: str) -> bool:
    """``True`` when a timeframe directory holds at least one partition file (a cleared cache keeps dirs)."""
    for entry in os.scandir(directory):
        if entry.is_dir():
            for item in os.scandir(entry.path):
                if item.name.endswith(".parquet") and not item.name.startswith("."):
                    return True
    return False


def tick_files(cache_dir: str, kind: str) -> List[str]:
    """The stored days of ``kind`` (``trades``/``quotes``): every flat-file day
    (``.ticks/<market>/<kind>/<YYYY>/<day>.parquet``), then the per-symbol days that ``fetch_trades`` /
    ``fetch_quotes`` stored (``.ticks/<market>/<kind>/by_symbol/<SYMBOL>/<day>.parquet``) of the symbol-days no
    flat file holds (where both exist, :func:`polygon.ticks.fetch_ticks` reads the flat file's rows too)."""
    root = os.path.join(cache_dir, ".ticks")
    flat: List[str] = []
    own: List[str] = []
    flat_days: Dict[Any, Any] = {}
    for market in sorted(os.listdir(root)) if os.path.isdir(root) else ():
        base = os.path.join(root, market, kind)
        if not os.path.isdir(base):
            continue
        for sub in sorted(os.listdir(base)):
            folder = os.path.join(base, sub)
            if sub == "by_symbol" or not os.path.isdir(folder):
                continue
            for name in sorted(os.listdir(folder)):
                if name.endswith(".parquet") and not name.startswith("."):
                    flat.append(os.path.join(folder, name))
                    flat_days[(market, name)] = _day_symbols(os.path.join(folder, name))
        by_symbol = os.path.join(base, "by_symbol")
        for symbol in sorted(os.listdir(by_symbol)) if os.path.isdir(by_symbol) else ():
            folder = os.path.join(by_symbol, symbol)
            for name in sorted(os.listdir(folder)) if os.path.isdir(folder) else ():
                held = flat_days.get((market, name), ())
                if name.endswith(".parquet") and not name.startswith(".") and held is not None and \
                        _symbol_of(symbol) not in held:
                    own.append(os.path.join(folder, name))
    return flat + own


def _symbol_of(dirname: str) -> str:
    from polygon.markets.symbols import filename_to_symbol

    try:
        return filename_to_symbol(dirname)
    except ValueError:
        return dirname


def _day_symbols(path: str) -> Optional[List[str]]:
    """The symbols a flat-file tick day holds (``None``: all; see :meth:`polygon.flatfiles.TickStore.symbols`)."""
    import json

    import pyarrow.parquet as pq

    raw = (pq.read_schema(path).metadata or {}).get(b"polygon_kit_symbols")
    return None if raw is None else json.loads(raw.decode("utf-8"))


def _tick_views(con: Any, cache_dir: str) -> None:
    root = os.path.join(cache_dir, ".ticks")
    for kind in ("trades", "quotes"):
        files = tick_files(cache_dir, kind)
        if not files:
            continue
        market = "split_part(substr(filename, %d), %s, 1)" % (len(root) + 2, _literal(os.sep))
        con.execute("CREATE VIEW %s AS SELECT * EXCLUDE (filename), %s AS market, "
                    "CAST(regexp_extract(filename, '(\\d{4}-\\d{2}-\\d{2})\\.parquet$', 1) AS DATE) AS day "
                    "FROM read_parquet([%s], filename = true, union_by_name = true)"
                    % (kind, market, ", ".join(_literal(f) for f in files)))


def query(sql: str, storage: Any = None, cache_dir: Optional[str] = None, refresh: bool = True) -> pd.DataFrame:
    """Run one SQL statement over the cache and return a DataFrame.

    :param sql: a DuckDB SQL query over the views ``bars``, ``bars_<timeframe>``, ``trades``, ``quotes``.
    :raises InvalidInputError: for SQL DuckDB rejects (the message says why).
    """
    duckdb = _duckdb()
    if not isinstance(sql, str) or not sql.strip():
        raise InvalidInputError("query needs an SQL statement, e.g. SELECT count(*) FROM bars")
    con = connect(storage, cache_dir, refresh)
    try:
        return con.execute(sql).df()
    except duckdb.Error as exc:
        raise InvalidInputError("SQL error: %s" % (str(exc).splitlines()[0],)) from None
    finally:
        con.close()


def _literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def _ident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'
