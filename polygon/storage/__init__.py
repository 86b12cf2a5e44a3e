"""The file cache of bars as the guides use it: :class:`StorageManager` and :func:`get_storage_manager`.

:class:`StorageManager` is the cache of :mod:`polygon.storage.cache` (read, write, coverage, maintenance) plus
the write-behind buffer of streamed bars (:mod:`polygon.storage.write_behind`: :meth:`~StorageManager.append_bars`,
:meth:`~StorageManager.flush`) and the export to a hive-partitioned dataset (:mod:`polygon.storage.export`).
Layout and file formats: :mod:`polygon.storage.files` and :mod:`polygon.storage.formats`.

``format='parquet'`` (needs pyarrow) writes the partitions as Parquet files; the default native format
needs nothing beyond numpy and stores one-minute bars in about 20 bytes each.
"""

import os
import threading
from typing import Any, Dict, Optional, Sequence, Tuple, Union

import pandas as pd

from polygon.markets.frames import BarArrays, arrays_from_columns, frame_to_arrays
from polygon.storage.cache import BarCache
from polygon.storage.export import export_bars
from polygon.storage.files import FORMATS, CacheKey, partition_files
from polygon.storage.write_behind import WriteBehind

__all__ = ["FORMATS", "StorageManager", "get_storage_manager"]


class StorageManager(BarCache):
    """The file cache of bars for one cache directory, with a write-behind buffer for streamed bars.

    All public methods are thread-safe; writers in different processes are serialised by file locks.

    :param cache_dir: cache directory (created when missing); default the configured ``cache_dir``
        (``POLYGON_CACHE_DIR``).
    :param format: partition format for writes: ``'native'`` (default) or ``'parquet'`` (needs pyarrow).
        Both are always readable, as are native files written by earlier versions.
    :param tz: timezone of returned frames when a partition records none; default the configured timezone.
    :param flush_rows: :meth:`append_bars` writes pending bars once this many are buffered for a key.
    :param flush_interval: ... or once the oldest pending bar is this many seconds old.
    :raises InvalidParameterError: for an unknown ``format``.
    """

    def __init__(
        self,
        cache_dir: Optional[Union[str, os.PathLike]] = None,
        format: str = "native",
        tz: Optional[str] = None,
        flush_rows: int = 1000,
        flush_interval: float = 30.0,
    ) -> None:
        super().__init__(cache_dir, format, tz)
        self._buffer = WriteBehind(self._write_pending, flush_rows, flush_interval)

    def __repr__(self) -> str:
        return "StorageManager(%r, format=%r, writable=%r)" % (self.cache_dir, self.format, self.writable)

    @property
    def flush_rows(self) -> int:
        """Pending bars per key that trigger a write."""
        return self._buffer.flush_rows

    @property
    def flush_interval(self) -> float:
        """Age in seconds of the oldest pending bar that triggers a write."""
        return self._buffer.flush_interval

    # -- the write-behind buffer ----------------------------------------------------------------------------

    def append_bars(self, symbol: str, timeframe: Any, bars: Any) -> int:
        """Buffer streamed bars (e.g. aggregate events) and write them in batches.

        Cheap and thread-safe: bars are buffered in memory and merged into the cache once
        ``flush_rows`` are pending for the key or the oldest is ``flush_interval`` seconds old, on
        :meth:`flush`, before any read of the key, and at interpreter exit. Streamed bars add **no**
        coverage (a stream can miss bars), so a later fetch of the same range replaces them.

        :param bars: one dict or a list of dicts with ``timestamp`` (epoch ms, bar start), ``open``,
            ``high``, ``low``, ``close`` and optionally ``volume``, ``vwap``, ``transactions``
            (the stream client's aggregate dicts), or a bars DataFrame.
        :returns: the number of bars accepted (0 when the cache is not writable).
        :raises InvalidSymbolError: (a ``ValueError``) for an invalid symbol.
        """
        key = self._key(symbol, timeframe)
        if not self.writable:
            return 0
        if isinstance(bars, pd.DataFrame):
            arrays = frame_to_arrays(bars, self.tz)
        else:
            if isinstance(bars, dict):
                bars = [bars]
            rows = list(bars)
            if not rows:
                return 0
            arrays = arrays_from_columns(
                [b["timestamp"] for b in rows], [b["open"] for b in rows], [b["high"] for b in rows],
                [b["low"] for b in rows], [b["close"] for b in rows],
                [b.get("volume") for b in rows], [b.get("vwap") for b in rows],
                [b.get("transactions") for b in rows], unit="ms")
        self._buffer.add(key, arrays)
        return arrays.rows

    def flush(self) -> int:
        """Write every pending streamed bar now.

        :returns: the number of bars written.
        """
        return self._buffer.flush()

    def _write_pending(self, key: CacheKey, arrays: BarArrays) -> bool:
        return self._write_arrays(key, arrays, [], self._stored_tz(key))

    def _stored_tz(self, key: CacheKey) -> str:
        files = partition_files(key)
        if files:
            part = self._load(key, files[max(files)], header_only=True)
            if part is not None and part.header.get("tz"):
                return str(part.header["tz"])
        return self.tz

    def _before_read(self, key: CacheKey) -> None:
        self._buffer.flush_key(key.path)

    def _pending_rows(self, key: CacheKey) -> int:
        return self._buffer.pending(key.path)

    def _discard_pending(self, keys: Sequence[CacheKey], everything: bool) -> None:
        self._buffer.discard([key.path for key in keys], everything)

    # -- export ---------------------------------------------------------------------------------------------

    def export(
        self,
        symbols: Union[str, Sequence[str]],
        timeframe: Any,
        path: Union[str, os.PathLike],
        format: str = "parquet",
        start: Any = None,
        end: Any = None,
        tz: Optional[str] = None,
    ) -> Dict[str, Any]:
        """Write cached bars as a hive-partitioned dataset: ``symbol=AAPL/timeframe=1min/year=2023/...``.

        The result is read directly by DuckDB (``read_parquet('path/**/*.parquet', hive_partitioning=1)``),
        Spark, Dask and ``pyarrow.dataset.dataset(path, partitioning='hive')``. Columns: ``timestamp``
        (tz-aware), open, high, low, close, volume, vwap, transactions; ``year`` is the bar's year in
        ``tz``. Re-exporting a symbol replaces its partitions.

        :param symbols: one ticker or a list. :param timeframe: e.g. ``'1min'``.
        :param path: dataset root directory (created).
        :param format: ``'parquet'`` (default), ``'feather'`` or ``'csv'``.
        :param start: first instant (inclusive). :param end: end instant (exclusive).
        :param tz: timezone of timestamps and of the ``year`` partition (default: as stored).
        :returns: ``{'path': root, 'rows': {symbol: n}, 'files': [paths]}``.
        :raises CacheError: when pyarrow is missing. :raises InvalidParameterError: for an unknown format.
        """
        return export_bars(self, symbols, timeframe, path, format, start, end, tz)


_DEFAULT: Dict[Tuple[str, str], StorageManager] = {}
_DEFAULT_LOCK = threading.Lock()


def get_storage_manager(cache_dir: Optional[Union[str, os.PathLike]] = None) -> StorageManager:
    """Return the process-wide :class:`StorageManager` for ``cache_dir``.

    :param cache_dir: default the configured cache directory (``POLYGON_CACHE_DIR`` or the per-user cache
        dir), resolved on every call so a changed environment gets its own manager.
    :returns: the shared manager (created on first use; one per directory and timezone).
    """
    from polygon.config import get_config

    config = get_config()
    directory = os.path.abspath(os.fspath(cache_dir if cache_dir is not None else config.cache_dir))
    with _DEFAULT_LOCK:
        manager = _DEFAULT.get((directory, config.timezone))
        if manager is None:
            manager = _DEFAULT[(directory, config.timezone)] = StorageManager(directory, tz=config.timezone)
        return manager
