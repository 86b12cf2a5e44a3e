"""Export of cached bars as a hive-partitioned dataset (:func:`export_bars`; needs pyarrow).

Layout: ``<root>/symbol=AAPL/timeframe=1min/year=2023/part-0.parquet`` (or ``.arrow``, ``.csv``), read
directly by DuckDB (``read_parquet('root/**/*.parquet', hive_partitioning=1)``), Spark, Dask and
``pyarrow.dataset.dataset(root, partitioning='hive')``.
"""

import os
import urllib.parse
from typing import Any, Dict, List, Optional, Sequence, Union

import numpy as np

from polygon.exceptions import InvalidParameterError
from polygon.markets.frames import frame_to_arrays, tz_name
from polygon.markets.timeframes import parse_timeframe
from polygon.storage.formats import arrow_table, require_pyarrow

__all__ = ["EXPORT_FORMATS", "export_bars"]

#: Formats :func:`export_bars` writes.
EXPORT_FORMATS = ("parquet", "feather", "csv")


def export_bars(
    cache: Any,
    symbols: Union[str, Sequence[str]],
    timeframe: Any,
    path: Union[str, os.PathLike],
    format: str = "parquet",
    start: Any = None,
    end: Any = None,
    tz: Optional[str] = None,
) -> Dict[str, Any]:
    """Write bars read from ``cache`` (a :class:`polygon.storage.cache.BarCache`) as a hive-partitioned dataset.

    Columns: ``timestamp`` (tz-aware), open, high, low, close, volume, vwap, transactions; ``year`` is the
    bar's year in ``tz``. Re-exporting a symbol replaces its partitions. Arguments as
    :meth:`polygon.storage.StorageManager.export`.

    :returns: ``{'path': root, 'rows': {symbol: n}, 'files': [paths]}``.
    :raises CacheError: when pyarrow is missing. :raises InvalidParameterError: for an unknown format.
    """
    if format not in EXPORT_FORMATS:
        raise InvalidParameterError("unknown export format %r; allowed: %s" % (format, ", ".join(EXPORT_FORMATS)))
    pa, _ = require_pyarrow()
    writer = _writer(format)
    if isinstance(symbols, str):
        symbols = [symbols]
    root = os.path.abspath(os.fspath(path))
    os.makedirs(root, exist_ok=True)
    tf = parse_timeframe(timeframe)
    rows: Dict[str, int] = {}
    files: List[str] = []
    for symbol in symbols:
        frame = cache.read(symbol, tf, start, end, tz)
        name = frame.attrs["symbol"]
        rows[name] = len(frame)
        if frame.empty:
            continue
        table = arrow_table(frame_to_arrays(frame), tz_name(frame.index.tz))
        years = frame.index.year.to_numpy(np.int32)
        for year in np.unique(years).tolist():
            # hive layout written directly (pyarrow's dataset writer can abort the process at exit)
            directory = os.path.join(root, "symbol=" + urllib.parse.quote(name, safe=""),
                                     "timeframe=" + tf.name, "year=%d" % year)
            os.makedirs(directory, exist_ok=True)
            for old in os.listdir(directory):  # re-exporting replaces the partition
                if old.startswith("part-"):
                    os.remove(os.path.join(directory, old))
            target = os.path.join(directory, "part-0." + ("arrow" if format == "feather" else format))
            writer(table.filter(pa.array(years == year)), target)
            files.append(target)
    return {"path": root, "rows": rows, "files": sorted(files)}


def _writer(format: str):
    """The pyarrow function that writes one export partition file in ``format``."""
    if format == "parquet":
        import pyarrow.parquet as pq

        return pq.write_table
    if format == "feather":
        import pyarrow.feather as feather

        return feather.write_feather
    import pyarrow.csv as pacsv

    return pacsv.write_csv
