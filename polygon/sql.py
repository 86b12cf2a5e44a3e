"""SQL over the cache with DuckDB (optional extra ``sql``).

The cache's own files are a private format, so the SQL layer keeps a **hive-partitioned Parquet mirror**
of it under ``<cache_dir>/.sql/bars`` (``timeframe=1min/symbol=AAPL/year=2024/part-0.parquet``), brought up
to date before each query: only the symbol/timeframe pairs whose cached data changed since the last
refresh are exported again (a fingerprint of rows, bounds, coverage and size), and pairs no longer cached
are dropped. The same directory is what Spark (``spark.read.parquet(path)``), Dask
(``dask.dataframe.read_parquet(path)``) and pyarrow datasets read; see :func:`refresh_mirror`.

Views available to queries:

- ``bars``: every cached bar: ``timestamp`` (UTC), ``open, high, low, close, volume, vwap, transactions``,
  ``symbol``, ``timeframe``, ``year``;
- ``bars_<timeframe>`` for each cached timeframe (``bars_1min``, ``bars_1day``...), the same columns;
- ``trades`` and ``quotes``: the tick store filled by flat-file sync (with ``market`` and ``day`` columns),
  when it holds any day.

::

    from polygon.sql import query
    query("SELECT symbol, avg(close) AS avg_close FROM bars_1day WHERE year = 2024 GROUP BY symbol")
"""

import json
import logging
import os
import shutil
import threading
import urllib.parse
from typing import Any, Dict, List, Optional

import pandas as pd

from polygon.exceptions import InvalidInputError, PolygonConfigError

__all__ = ["connect", "mirror_path", "query", "refresh_mirror", "tick_files"]

logger = logging.getLogger(__name__)
_LOCK = threading.Lock()
_MANIFEST = "mirror.json"


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


def mirror_path(storage: Any = None, cache_dir: Optional[str] = None) -> str:
    """The root of the Parquet mirror (``<cache_dir>/.sql/bars``)."""
    return os.path.join(_storage(storage, cache_dir).cache_dir, ".sql", "bars")


def _fingerprint(info: Dict[str, Any]) -> str:
    return json.dumps([info["rows"], str(info["first"]), str(info["last"]), info["coverage"], info["size_bytes"]],
                      default=str)


def refresh_mirror(storage: Any = None, cache_dir: Optional[str] = None) -> Dict[str, Any]:
    """Bring the Parquet mirror up to date with the cache.

    :returns: ``{'path': root, 'exported': [...], 'dropped': [...], 'unchanged': n}``
        (items are ``'SYMBOL/timeframe'``).
    :raises CacheError: when pyarrow is missing.
    """
    store = _storage(storage, cache_dir)
    root = mirror_path(store)
    with _LOCK:
        os.makedirs(root, exist_ok=True)
        manifest_file = os.path.join(os.path.dirname(root), _MANIFEST)
        try:
            with open(manifest_file, "r", encoding="utf-8") as fh:
                known: Dict[str, str] = json.load(fh)
        except (OSError, ValueError):
            known = {}
        seen: Dict[str, str] = {}
        exported: List[str] = []
        unchanged = 0
        for item in store.list_cached():
            name = "%s/%s" % (item["symbol"], item["timeframe"])
            info = store.info(item["symbol"], item["timeframe"])
            print_ = _fingerprint(info)
            seen[name] = print_
            if known.get(name) == print_ and os.path.isdir(_pair_dir(root, item["symbol"], item["timeframe"])):
                unchanged += 1
                continue
            target = _pair_dir(root, item["symbol"], item["timeframe"])
            shutil.rmtree(target, ignore_errors=True)
            staging = os.path.join(os.path.dirname(root), ".staging")
            shutil.rmtree(staging, ignore_errors=True)
            store.export(item["symbol"], item["timeframe"], staging, format="parquet", tz="UTC")
            source = _export_dir(staging, item["symbol"], item["timeframe"])
            if os.path.isdir(source):
                os.makedirs(os.path.dirname(target), exist_ok=True)
                os.replace(source, target)
            shutil.rmtree(staging, ignore_errors=True)
            exported.append(name)
        dropped = sorted(set(known) - set(seen))
        for name in dropped:
            symbol, timeframe = name.rsplit("/", 1)
            shutil.rmtree(_pair_dir(root, symbol, timeframe), ignore_errors=True)
        tmp = manifest_file + ".tmp"
        with open(tmp, "w", encoding="utf-8") as fh:
            json.dump(seen, fh, indent=1, sort_keys=True)
        os.replace(tmp, manifest_file)
    return {"path": root, "exported": exported, "dropped": dropped, "unchanged": unchanged}


def _quote(symbol: str) -> str:
    return urllib.parse.quote(symbol, safe="")


def _export_dir(root: str, symbol: str, timeframe: str) -> str:
    return os.path.join(root, "symbol=" + _quote(symbol), "timeframe=" + timeframe)


def _pair_dir(root: str, symbol: str, timeframe: str) -> str:
    # timeframe first, so one timeframe is one directory tree (bars_1min reads timeframe=1min only)
    return os.path.join(root, "timeframe=" + timeframe, "symbol=" + _quote(symbol))


def connect(storage: Any = None, cache_dir: Optional[str] = None, refresh: bool = True):
    """A DuckDB connection (in memory) with the views over the cache.

    :param refresh: bring the mirror up to date first (default).
    """
    duckdb = _duckdb()
    store = _storage(storage, cache_dir)
    if refresh:
        refresh_mirror(store)
    root = mirror_path(store)
    con = duckdb.connect(":memory:")
    timeframes = sorted(e.name.split("=", 1)[1] for e in os.scandir(root)
                        if e.is_dir() and e.name.startswith("timeframe=")) if os.path.isdir(root) else []
    columns = ("timestamp, open, high, low, close, volume, vwap, transactions, "
               "url_decode(symbol) AS symbol, timeframe, CAST(year AS INTEGER) AS year")
    if timeframes:
        pattern = os.path.join(root, "*", "*", "*", "*.parquet")
        con.execute("CREATE VIEW bars AS SELECT %s FROM read_parquet(%s, hive_partitioning = true, "
                    "hive_types_autocast = false)" % (columns, _literal(pattern)))
        for tf in timeframes:
            pattern = os.path.join(root, "timeframe=" + tf, "*", "*", "*.parquet")
            con.execute("CREATE VIEW %s AS SELECT %s FROM read_parquet(%s, hive_partitioning = true, "
                        "hive_types_autocast = false)" % (_ident("bars_" + tf), columns, _literal(pattern)))
    else:
        con.execute("CREATE VIEW bars AS SELECT NULL::TIMESTAMPTZ AS timestamp, NULL::DOUBLE AS open, "
                    "NULL::DOUBLE AS high, NULL::DOUBLE AS low, NULL::DOUBLE AS close, NULL::DOUBLE AS volume, "
                    "NULL::DOUBLE AS vwap, NULL::BIGINT AS transactions, NULL::VARCHAR AS symbol, "
                    "NULL::VARCHAR AS timeframe, NULL::INTEGER AS year WHERE false")
    _tick_views(con, store.cache_dir)
    return con


def tick_files(cache_dir: str, kind: str) -> List[str]:
    """The stored days of ``kind`` (``trades``/``quotes``): every flat-file day
    (``.ticks/<market>/<kind>/<YYYY>/<day>.parquet``), then the per-symbol days that ``fetch_trades`` /
    ``fetch_quotes`` stored (``.ticks/<market>/<kind>/by_symbol/<SYMBOL>/<day>.parquet``) of days no flat file
    holds (where both exist, :func:`polygon.ticks.fetch_ticks` reads the flat file's rows too)."""
    root = os.path.join(cache_dir, ".ticks")
    flat: List[str] = []
    own: List[str] = []
    flat_days = set()
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
                    flat_days.add((market, name))
        by_symbol = os.path.join(base, "by_symbol")
        for symbol in sorted(os.listdir(by_symbol)) if os.path.isdir(by_symbol) else ():
            folder = os.path.join(by_symbol, symbol)
            for name in sorted(os.listdir(folder)) if os.path.isdir(folder) else ():
                if name.endswith(".parquet") and not name.startswith(".") and (market, name) not in flat_days:
                    own.append(os.path.join(folder, name))
    return flat + own


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
