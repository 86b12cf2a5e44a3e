"""File cache of bars with explicit coverage: :class:`StorageManager` and :func:`get_storage_manager`.

Layout (every path component is validated; no input can leave the cache directory)::

    <cache_dir>/<market>/<symbol as file name>/<timeframe>/<partition>.pkb      (or .parquet)
    <cache_dir>/stocks/AAPL/1min/2023.pkb
    <cache_dir>/crypto/X_BTCUSD/1day/all.pkb

Partitions: one file per month for second bars, per year for minute and hour bars, one file (``all``)
for daily and longer bars. Each partition file holds its bars **and** the coverage of its time span,
so data and coverage are replaced together by one atomic rename and cannot disagree after a crash.

Coverage is the set of requested ``[start, end)`` intervals (UTC epoch ms) that were fetched
completely; it is never inferred from the bars present, so weekends, holidays and quiet minutes
inside a fetched range are not "missing" (see :mod:`polygon.coverage`).

File formats (native ``.pkb``: a JSON header plus contiguous little-endian arrays with checksums, no
pickle; or Parquet with pyarrow) are described in :mod:`polygon.cache_files`. A file whose length or
checksums do not match is logged, renamed aside (``<name>.corrupt-<ns>``) and treated as a miss.

``format='parquet'`` (needs pyarrow) writes the partitions as Parquet files. :meth:`StorageManager.export`
writes a hive-partitioned dataset (``symbol=AAPL/timeframe=1min/year=2023/part-0.parquet``) that DuckDB,
Spark, Dask and ``pyarrow.dataset`` read directly.

Writes take a per-key thread lock and an OS file lock (``fcntl.flock``; ``msvcrt`` on Windows), write a
temporary file in the same directory, ``fsync`` it and ``os.replace`` it over the old one. A read-only,
missing-and-uncreatable or failing cache directory degrades to uncached operation with one warning; a
single failed write in a usable directory only skips that write. A write never replaces a partition it
cannot read (I/O error, Parquet without pyarrow): it is skipped and the old file kept. :meth:`clear`
removes data files only; key directories and their ``.lock`` files stay (other writers may wait on them).
"""

import atexit
import datetime as _dt
import errno
import logging
import os
import threading
import time
import urllib.parse
import weakref
from typing import Any, Dict, List, NamedTuple, Optional, Sequence, Tuple, Union

import numpy as np
import pandas as pd

from polygon import coverage as cov
from polygon.cache_files import (
    EXTENSIONS,
    FAR_MS,
    FORMATS,
    KeyLock,
    PartFile,
    arrow_table,
    fsync_dir,
    label_bounds_ms,
    label_name,
    labels_of_interval,
    labels_of_ns,
    native_encode,
    parquet_available,
    parquet_write,
    parse_label,
    partition_kind,
    read_part,
    require_pyarrow,
    thread_lock,
)
from polygon.exceptions import CacheError, InvalidParameterError, InvalidSymbolError
from polygon.frames import (
    DEFAULT_TZ,
    BarArrays,
    arrays_from_columns,
    arrays_to_frame,
    concat_arrays,
    empty_arrays,
    frame_to_arrays,
    merge_arrays,
    tz_name,
)
from polygon.symbols import filename_to_symbol, market_of, symbol_to_filename, validate_symbol
from polygon.timeframes import Timeframe, parse_timeframe

__all__ = ["FORMATS", "StorageManager", "get_storage_manager"]

logger = logging.getLogger(__name__)

Interval = Tuple[int, int]
TimeLike = Any


class _Key(NamedTuple):
    symbol: str
    timeframe: Timeframe
    market: str
    path: str
    kind: str  # 'month' | 'year' | 'all'


_MANAGERS: "weakref.WeakSet[StorageManager]" = weakref.WeakSet()


@atexit.register
def _flush_all_at_exit() -> None:
    for manager in list(_MANAGERS):
        try:
            manager.flush()
        except Exception:  # noqa: BLE001 - never fail interpreter exit
            logger.debug("cache: flush at exit failed", exc_info=True)


class StorageManager:
    """The file cache of bars for one cache directory.

    All public methods are thread-safe; writers in different processes are serialised by file locks.

    :param cache_dir: cache directory (created when missing); default the configured ``cache_dir``
        (``POLYGON_CACHE_DIR``).
    :param format: partition format for writes: ``'native'`` (default) or ``'parquet'`` (needs pyarrow).
        Both are always readable.
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
        if format not in FORMATS:
            raise InvalidParameterError("unknown cache format %r; allowed: %s" % (format, ", ".join(FORMATS)))
        if format == "parquet":
            require_pyarrow()
        if cache_dir is None or tz is None:
            from polygon.config import get_config

            config = get_config()
            cache_dir = config.cache_dir if cache_dir is None else cache_dir
            tz = config.timezone if tz is None else tz
        self.cache_dir = os.path.abspath(os.fspath(cache_dir))
        self.format = format
        self.tz = tz or DEFAULT_TZ
        self.flush_rows = int(flush_rows)
        self.flush_interval = float(flush_interval)
        self._warned = False
        self._pending: Dict[str, Tuple[_Key, List[BarArrays], int, float]] = {}
        self._pending_lock = threading.Lock()
        self.writable = self._probe()
        _MANAGERS.add(self)

    def __repr__(self) -> str:
        return "StorageManager(%r, format=%r, writable=%r)" % (self.cache_dir, self.format, self.writable)

    # -- availability -------------------------------------------------------------------------------------

    def _probe(self) -> bool:
        problem = self._check_dir()
        if problem is not None:
            self._degrade("cache directory %s is not usable (%s)" % (self.cache_dir, problem.strerror or problem))
            return False
        return True

    def _check_dir(self) -> Optional[OSError]:
        """``None`` when the cache directory can be created and written, else the error."""
        try:
            os.makedirs(self.cache_dir, exist_ok=True)
            if not os.access(self.cache_dir, os.W_OK | os.X_OK):
                raise PermissionError(errno.EACCES, "not writable", self.cache_dir)
            probe = os.path.join(self.cache_dir, ".probe-%d-%d" % (os.getpid(), threading.get_ident()))
            with open(probe, "wb") as fh:
                fh.write(b"ok")
            os.remove(probe)
            return None
        except OSError as exc:
            return exc

    def _degrade(self, why: str) -> None:
        self.writable = False
        if not self._warned:
            self._warned = True
            logger.warning("%s; continuing without writing to the cache", why)

    # -- keys -------------------------------------------------------------------------------------------

    def _key(self, symbol: str, timeframe: Any) -> _Key:
        sym = validate_symbol(symbol)
        tf = parse_timeframe(timeframe)
        market = market_of(sym)
        path = os.path.join(self.cache_dir, market, symbol_to_filename(sym), tf.name)
        root = os.path.join(self.cache_dir, "")
        if not os.path.abspath(path).startswith(root):
            raise InvalidSymbolError("invalid symbol %r: it would leave the cache directory" % (symbol,))
        return _Key(sym, tf, market, path, partition_kind(tf))

    def path_for(self, symbol: str, timeframe: Any) -> str:
        """Return the directory holding ``symbol``/``timeframe`` (it may not exist).

        :raises InvalidSymbolError: (a ``ValueError``) for an invalid symbol.
        :raises InvalidTimeframeError: for an invalid timeframe.
        """
        return self._key(symbol, timeframe).path

    def _partition_files(self, key: _Key) -> Dict[int, str]:
        """label -> path; when both formats exist for a label, the newer file wins."""
        found: Dict[int, Tuple[int, str]] = {}
        try:
            entries = list(os.scandir(key.path))
        except OSError:
            return {}
        for entry in entries:
            name = entry.name
            stem, ext = os.path.splitext(name)
            if name.startswith(".") or ext not in (".pkb", ".parquet"):
                continue
            label = parse_label(stem, key.kind)
            if label is None:
                continue
            try:
                mtime = entry.stat().st_mtime_ns
            except OSError:
                continue
            if label not in found or mtime > found[label][0]:
                found[label] = (mtime, entry.path)
        return {label: found[label][1] for label in sorted(found)}

    # -- low level reads --------------------------------------------------------------------------------

    def _load(self, key: _Key, path: str, header_only: bool = False, strict: bool = False) -> Optional[PartFile]:
        """``None`` for a miss (missing, or corrupt and moved aside). An existing file that cannot be read
        now (I/O error, Parquet without pyarrow) is a miss too, or, when ``strict``, raises ``OSError``."""
        if path.endswith(EXTENSIONS["parquet"]) and not parquet_available():
            if strict:
                raise OSError(errno.ENOTSUP, "reading Parquet needs pyarrow")
            logger.debug("cache: skipping %s: reading parquet needs pyarrow", path)
            return None
        try:
            return read_part(path, header_only)
        except FileNotFoundError:
            return None
        except CacheError as exc:
            self._quarantine(key, path, str(exc))
            return None
        except OSError as exc:
            if strict:
                raise
            logger.warning("cache: cannot read %s: %s; treating it as a miss", path, exc)
            return None

    def _quarantine(self, key: _Key, path: str, why: str) -> None:
        logger.warning("cache: corrupt file %s (%s); moved aside and treated as a miss", path, why)
        if not self.writable:
            return
        try:
            with KeyLock(key.path):
                # a writer may have replaced the file since it was read: only move it if it is still bad
                try:
                    read_part(path, False)
                    return
                except CacheError:
                    pass
                os.replace(path, "%s.corrupt-%d" % (path, time.time_ns()))
        except OSError as exc:
            logger.debug("cache: could not quarantine %s: %s", path, exc)

    def _read_parts(self, key: _Key, start_ms: Optional[int], end_ms: Optional[int],
                    header_only: bool = False) -> List[PartFile]:
        parts = []
        for label, path in self._partition_files(key).items():
            lo, hi = label_bounds_ms(label, key.kind)
            if (end_ms is not None and lo >= end_ms) or (start_ms is not None and hi <= start_ms):
                continue
            part = self._load(key, path, header_only)
            if part is not None:
                parts.append(part)
        return parts

    @staticmethod
    def _part_coverage(part: PartFile) -> List[Interval]:
        try:
            return cov.from_json(part.header.get("coverage", []))
        except ValueError:
            logger.warning("cache: bad coverage in %s; ignoring it", part.path)
            return []

    # -- public reads -----------------------------------------------------------------------------------

    def read_arrays_with_coverage(
        self, symbol: str, timeframe: Any, start: TimeLike = None, end: TimeLike = None
    ) -> Tuple[BarArrays, List[Interval], Optional[str]]:
        """Like :meth:`read_with_coverage` but return :class:`~polygon.frames.BarArrays` (no DataFrame).

        :returns: ``(arrays, coverage, stored_tz)``; ``stored_tz`` is ``None`` when nothing was read.
        """
        key = self._key(symbol, timeframe)
        self._flush_key(key.path)
        s_ms = None if start is None else cov.to_ms(start, self.tz)
        e_ms = None if end is None else cov.to_ms(end, self.tz)
        parts = self._read_parts(key, s_ms, e_ms)
        arrays = concat_arrays([p.arrays for p in parts if p.arrays is not None])
        if s_ms is not None or e_ms is not None:
            arrays = arrays.slice_ns(None if s_ms is None else s_ms * 1_000_000,
                                     None if e_ms is None else e_ms * 1_000_000)
        covered = cov.add(*[self._part_coverage(p) for p in parts]) if parts else []
        if s_ms is not None or e_ms is not None:
            covered = cov.clip(covered, -FAR_MS if s_ms is None else s_ms, FAR_MS if e_ms is None else e_ms)
        stored_tz = parts[-1].header.get("tz") if parts else None
        return arrays, covered, stored_tz

    def read_with_coverage(
        self, symbol: str, timeframe: Any, start: TimeLike = None, end: TimeLike = None, tz: Optional[str] = None
    ) -> Tuple[pd.DataFrame, List[Interval]]:
        """Read bars and the coverage of exactly the partitions that were read (consistent with each other).

        Use this rather than :meth:`read` + :meth:`coverage` when deciding what to fetch: a partition
        found corrupt during the read drops out of both.

        :param symbol: ticker. :param timeframe: e.g. ``'1min'``.
        :param start: first instant (inclusive), anything :func:`polygon.coverage.to_ms` accepts; naive
            values are in the manager's timezone. :param end: last instant (exclusive).
        :param tz: timezone of the returned index (default: the one recorded with the data).
        :returns: ``(frame, coverage)``; coverage is clipped to ``[start, end)`` when given.
        :raises InvalidSymbolError: (a ``ValueError``) for an invalid symbol.
        """
        arrays, covered, stored_tz = self.read_arrays_with_coverage(symbol, timeframe, start, end)
        frame = arrays_to_frame(arrays, tz or stored_tz or self.tz)
        frame.attrs.update({"symbol": validate_symbol(symbol), "timeframe": parse_timeframe(timeframe).name,
                            "source": "cache"})
        return frame, covered

    def read(
        self, symbol: str, timeframe: Any, start: TimeLike = None, end: TimeLike = None, tz: Optional[str] = None
    ) -> pd.DataFrame:
        """Read cached bars in ``[start, end)`` as a frame of the :mod:`polygon.frames` contract.

        A miss (nothing cached, corrupt file, unusable directory) is an empty frame, never ``None``.

        :param symbol: ticker. :param timeframe: e.g. ``'1min'``.
        :param start: first instant (inclusive); ``None`` = from the first bar.
        :param end: end instant (exclusive); ``None`` = through the last bar.
        :param tz: timezone of the returned index (default: the one recorded with the data).
        :returns: the bars, with ``attrs`` ``symbol``, ``timeframe``, ``source='cache'``.
        :raises InvalidSymbolError: (a ``ValueError``) for an invalid symbol.
        """
        return self.read_with_coverage(symbol, timeframe, start, end, tz)[0]

    def coverage(self, symbol: str, timeframe: Any) -> List[Interval]:
        """Return the stored coverage: requested ``[start_ms, end_ms)`` intervals fetched completely.

        :raises InvalidSymbolError: (a ``ValueError``) for an invalid symbol.
        """
        key = self._key(symbol, timeframe)
        parts = self._read_parts(key, None, None, header_only=True)
        return cov.add(*[self._part_coverage(p) for p in parts]) if parts else []

    def missing(self, symbol: str, timeframe: Any, start: TimeLike, end: TimeLike) -> List[Interval]:
        """Return the parts of ``[start, end)`` not covered (``requested - covered``), in epoch ms.

        :param start: request start (inclusive). :param end: request end (exclusive).
        """
        s_ms, e_ms = cov.to_ms(start, self.tz), cov.to_ms(end, self.tz)
        return cov.subtract([(s_ms, e_ms)], self.coverage(symbol, timeframe))

    # -- writes -----------------------------------------------------------------------------------------

    def write(
        self,
        symbol: str,
        timeframe: Any,
        df: Optional[pd.DataFrame],
        covered: Any = None,
    ) -> bool:
        """Merge bars into the cache and record coverage, atomically per partition.

        Old bars are never dropped; a bar with the same timestamp as an old one replaces it.

        :param symbol: ticker. :param timeframe: e.g. ``'1min'``.
        :param df: bars (any frame :func:`polygon.frames.conform_bars_frame` accepts; ``None`` = no bars).
        :param covered: the requested range(s) these bars complete: one ``(start, end)`` pair or a list of
            them (epoch ms or anything :func:`polygon.coverage.to_ms` accepts; end exclusive). ``None``
            records no coverage (e.g. streamed bars).
        :returns: ``True`` when written, ``False`` when the cache is not writable or (part of) the write
            was skipped: an existing partition could not be read (I/O error, Parquet without pyarrow) and
            is left untouched, with no coverage recorded for it, or the write failed.
        :raises InvalidSymbolError: (a ``ValueError``) for an invalid symbol.
        :raises InvalidInputError: when ``df`` cannot be conformed to the bars contract.
        """
        key = self._key(symbol, timeframe)
        tz = self.tz
        if isinstance(df, pd.DataFrame) and isinstance(df.index, pd.DatetimeIndex) and df.index.tz is not None:
            tz = tz_name(df.index.tz)
        arrays = frame_to_arrays(df, tz) if df is not None else empty_arrays()
        return self._write_arrays(key, arrays, self._covered_list(covered), tz)

    def write_arrays(self, symbol: str, timeframe: Any, arrays: BarArrays, covered: Any = None,
                     tz: Optional[str] = None) -> bool:
        """:meth:`write` for sorted, unique :class:`~polygon.frames.BarArrays` (no DataFrame round trip).

        :param tz: timezone recorded with the data (default the manager's).
        """
        key = self._key(symbol, timeframe)
        return self._write_arrays(key, arrays, self._covered_list(covered), tz or self.tz)

    def _covered_list(self, covered: Any) -> List[Interval]:
        if covered is None:
            return []
        if isinstance(covered, tuple) and len(covered) == 2 and not isinstance(covered[0], (tuple, list)):
            covered = [covered]
        return cov.normalize((cov.to_ms(s, self.tz), cov.to_ms(e, self.tz)) for s, e in covered)

    def _write_arrays(self, key: _Key, arrays: BarArrays, covered: List[Interval], tz: str) -> bool:
        if not self.writable:
            return False
        labels = labels_of_ns(arrays.t_ns, key.kind)
        uniq, first = np.unique(labels, return_index=True)
        bounds = list(first) + [arrays.rows]
        new_parts = {int(lbl): arrays.take(np.arange(bounds[i], bounds[i + 1])) for i, lbl in enumerate(uniq)}
        wanted = set(new_parts)
        for s_ms, e_ms in covered:
            wanted.update(labels_of_interval(s_ms, e_ms, key.kind))
        if not wanted:
            return True
        written = True
        try:
            with KeyLock(key.path):
                os.makedirs(key.path, exist_ok=True)  # under the lock: a clear() may have removed it before
                self._remove_stale_temps(key.path)
                existing = self._partition_files(key)
                for label in sorted(wanted):
                    if not self._write_partition(key, label, existing.get(label), new_parts.get(label), covered, tz):
                        written = False
                fsync_dir(key.path)
        except OSError as exc:
            problem = self._check_dir()
            if problem is not None:
                self._degrade("cache write to %s failed (%s); cache directory not usable (%s)"
                              % (key.path, exc.strerror or exc, problem.strerror or problem))
            else:  # one failed write (a transient error, a file in the way): the cache stays in use
                logger.warning("cache: write to %s failed: %s; not cached this time", key.path, exc.strerror or exc)
            return False
        return written

    def _write_partition(self, key: _Key, label: int, old_path: Optional[str], bars: Optional[BarArrays],
                         covered: List[Interval], tz: str) -> bool:
        """Merge into one partition; ``False`` (nothing written, no coverage) when the old file is unreadable."""
        lo, hi = label_bounds_ms(label, key.kind)
        part_cov = cov.clip(covered, lo, hi)
        try:
            old = self._load(key, old_path, strict=True) if old_path else None
        except OSError as exc:  # never replace what cannot be read now; no coverage for this partition
            logger.warning("cache: cannot read %s (%s); left as it is, bars not cached", old_path, exc)
            return False
        old_arrays = old.arrays if old is not None and old.arrays is not None else empty_arrays()
        old_cov = self._part_coverage(old) if old is not None else []
        merged_cov = cov.add(old_cov, part_cov)
        if (bars is None or bars.rows == 0) and old is not None and merged_cov == old_cov:
            return True
        merged = merge_arrays(old_arrays, bars if bars is not None else empty_arrays())
        meta = {
            "symbol": key.symbol, "timeframe": key.timeframe.name, "partition": label_name(label, key.kind),
            "tz": tz, "coverage": cov.to_json(merged_cov),
            "first_ns": int(merged.t_ns[0]) if merged.rows else None,
            "last_ns": int(merged.t_ns[-1]) if merged.rows else None,
            "written_at": _dt.datetime.now(_dt.timezone.utc).isoformat(),
        }
        name = label_name(label, key.kind) + EXTENSIONS[self.format]
        final = os.path.join(key.path, name)
        tmp = os.path.join(key.path, ".%s.tmp-%d-%d" % (name, os.getpid(), threading.get_ident()))
        try:
            if self.format == "parquet":
                parquet_write(tmp, merged, meta)
                with open(tmp, "rb+") as fh:
                    os.fsync(fh.fileno())
            else:
                with open(tmp, "wb") as fh:
                    for chunk in native_encode(merged, meta):
                        data = chunk if isinstance(chunk, bytes) else chunk.reshape(-1).view(np.uint8)
                        if len(data):
                            fh.write(data)
                    fh.flush()
                    os.fsync(fh.fileno())
            os.replace(tmp, final)
        except BaseException:
            try:
                os.remove(tmp)
            except OSError:
                pass
            raise
        if old_path and old_path != final:
            try:
                os.remove(old_path)
            except OSError:
                pass
        return True

    @staticmethod
    def _remove_stale_temps(directory: str) -> None:
        """Under the key lock every temp file is left over from a killed writer."""
        try:
            for entry in os.scandir(directory):
                if entry.name.startswith(".") and ".tmp-" in entry.name:
                    os.remove(entry.path)
        except OSError:
            pass

    # -- streaming --------------------------------------------------------------------------------------

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
        if arrays.rows == 0:
            return 0
        due = False
        with self._pending_lock:
            entry = self._pending.get(key.path)
            now = time.monotonic()
            if entry is None:
                entry = (key, [], 0, now)
            entry = (key, entry[1] + [arrays], entry[2] + arrays.rows, entry[3])
            self._pending[key.path] = entry
            due = entry[2] >= self.flush_rows or now - entry[3] >= self.flush_interval
        if due:
            self._flush_key(key.path)
        return arrays.rows

    def _flush_key(self, path: str) -> int:
        if not self._pending:
            return 0
        with thread_lock(path):  # keeps flush order == append order per key
            with self._pending_lock:
                entry = self._pending.pop(path, None)
            if entry is None:
                return 0
            key, chunks, count, _ = entry
            merged = empty_arrays()
            for chunk in chunks:
                merged = merge_arrays(merged, chunk)
            return count if self._write_arrays(key, merged, [], self._stored_tz(key)) else 0

    def _stored_tz(self, key: _Key) -> str:
        files = self._partition_files(key)
        if files:
            part = self._load(key, files[max(files)], header_only=True)
            if part is not None and part.header.get("tz"):
                return str(part.header["tz"])
        return self.tz

    def flush(self) -> int:
        """Write every pending streamed bar now.

        :returns: the number of bars written.
        """
        with self._pending_lock:
            paths = list(self._pending)
        return sum(self._flush_key(path) for path in paths)

    # -- maintenance ------------------------------------------------------------------------------------

    def _iter_keys(self, symbol: Optional[str] = None, timeframe: Any = None) -> List[_Key]:
        if symbol is not None and timeframe is not None:
            return [self._key(symbol, timeframe)]
        want_sym = validate_symbol(symbol) if symbol is not None else None
        want_tf = parse_timeframe(timeframe).name if timeframe is not None else None
        keys = []
        try:
            markets = sorted(e.name for e in os.scandir(self.cache_dir) if e.is_dir() and not e.name.startswith("."))
        except OSError:
            return []
        for market in markets:
            market_dir = os.path.join(self.cache_dir, market)
            for sym_entry in sorted(os.scandir(market_dir), key=lambda e: e.name):
                if not sym_entry.is_dir():
                    continue
                try:
                    sym = filename_to_symbol(sym_entry.name)
                except InvalidSymbolError:
                    continue
                if want_sym is not None and sym != want_sym:
                    continue
                for tf_entry in sorted(os.scandir(sym_entry.path), key=lambda e: e.name):
                    if not tf_entry.is_dir():
                        continue
                    try:
                        tf = parse_timeframe(tf_entry.name)
                    except ValueError:
                        continue
                    if tf.name != tf_entry.name or (want_tf is not None and tf.name != want_tf):
                        continue
                    key = self._key(sym, tf)
                    if key.market == market:
                        keys.append(key)
        return keys

    @staticmethod
    def _files(key: _Key) -> List[os.DirEntry]:
        try:
            return [e for e in os.scandir(key.path) if e.is_file()]
        except OSError:
            return []

    def info(self, symbol: str, timeframe: Any) -> Dict[str, Any]:
        """Describe one cached symbol/timeframe.

        :returns: dict with ``symbol``, ``timeframe``, ``market``, ``path``, ``partitions``, ``rows``
            (also as ``bars``),
            ``first``/``last`` (Timestamps or ``None``), ``coverage`` (ms intervals),
            ``coverage_ranges`` (Timestamp pairs), ``size_bytes``, ``tz``, ``quarantined``,
            ``pending`` (streamed bars not yet written).
        """
        key = self._key(symbol, timeframe)
        parts = self._read_parts(key, None, None, header_only=True)
        tz = (parts[-1].header.get("tz") if parts else None) or self.tz
        firsts = [p.header["first_ns"] for p in parts if p.header.get("first_ns") is not None]
        lasts = [p.header["last_ns"] for p in parts if p.header.get("last_ns") is not None]
        covered = cov.add(*[self._part_coverage(p) for p in parts]) if parts else []
        files = self._files(key)
        rows = sum(int(p.header.get("rows", 0)) for p in parts)
        with self._pending_lock:
            pending = self._pending.get(key.path)
        return {
            "symbol": key.symbol,
            "timeframe": key.timeframe.name,
            "market": key.market,
            "path": key.path,
            "partitions": len(parts),
            "rows": rows,
            "bars": rows,
            "first": pd.Timestamp(min(firsts), unit="ns", tz="UTC").tz_convert(tz) if firsts else None,
            "last": pd.Timestamp(max(lasts), unit="ns", tz="UTC").tz_convert(tz) if lasts else None,
            "coverage": covered,
            "coverage_ranges": cov.to_timestamps(covered, tz),
            "size_bytes": sum(e.stat().st_size for e in files),
            "tz": tz,
            "quarantined": sum(1 for e in files if ".corrupt-" in e.name),
            "pending": pending[2] if pending else 0,
        }

    def list_cached(self) -> List[Dict[str, Any]]:
        """List every cached symbol/timeframe with ``market``, ``symbol``, ``timeframe``, ``partitions``,
        ``rows``, ``first``, ``last`` and ``size_bytes`` (sorted by market, symbol, timeframe)."""
        out = []
        for key in self._iter_keys():
            item = self.info(key.symbol, key.timeframe)
            if item["partitions"] or item["quarantined"]:
                out.append({k: item[k] for k in ("market", "symbol", "timeframe", "partitions", "rows",
                                                 "first", "last", "size_bytes")})
        return out

    def size_on_disk(self, symbol: Optional[str] = None, timeframe: Any = None) -> int:
        """Bytes used by the cache, or by one symbol and/or timeframe."""
        if symbol is None and timeframe is None:
            total = 0
            for root, _dirs, names in os.walk(self.cache_dir):
                for name in names:
                    try:
                        total += os.path.getsize(os.path.join(root, name))
                    except OSError:
                        pass
            return total
        return sum(e.stat().st_size for key in self._iter_keys(symbol, timeframe) for e in self._files(key))

    def clear(self, symbol: Optional[str] = None, timeframe: Any = None) -> int:
        """Delete cached data: everything, one symbol (all timeframes), one timeframe (all symbols), or both.

        Pending streamed bars of the cleared keys are discarded too.

        :returns: the number of files removed.
        :raises InvalidSymbolError: (a ``ValueError``) for an invalid symbol.
        """
        removed = 0
        keys = self._iter_keys(symbol, timeframe)
        with self._pending_lock:
            for key in keys:
                self._pending.pop(key.path, None)
            if symbol is None and timeframe is None:
                self._pending.clear()
        for key in keys:
            if not os.path.isdir(key.path):
                continue
            # Only data files go, under the key lock. The directory and its ``.lock`` stay: unlinking a
            # lock file another thread or process waits on (or the directory a waiting writer is about to
            # use) would break mutual exclusion and fail that write.
            with KeyLock(key.path):
                for entry in self._files(key):
                    if entry.name == ".lock":
                        continue
                    try:
                        os.remove(entry.path)
                        removed += 1
                    except OSError as exc:
                        logger.warning("cache: could not remove %s: %s", entry.path, exc)
        return removed

    # -- export -----------------------------------------------------------------------------------------

    def export(
        self,
        symbols: Union[str, Sequence[str]],
        timeframe: Any,
        path: Union[str, os.PathLike],
        format: str = "parquet",
        start: TimeLike = None,
        end: TimeLike = None,
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
        if format not in ("parquet", "feather", "csv"):
            raise InvalidParameterError("unknown export format %r; allowed: parquet, feather, csv" % (format,))
        pa, _ = require_pyarrow()
        writer = _export_writer(format)
        if isinstance(symbols, str):
            symbols = [symbols]
        root = os.path.abspath(os.fspath(path))
        os.makedirs(root, exist_ok=True)
        tf = parse_timeframe(timeframe)
        rows: Dict[str, int] = {}
        files: List[str] = []
        for symbol in symbols:
            key = self._key(symbol, tf)
            frame = self.read(key.symbol, tf, start, end, tz)
            rows[key.symbol] = len(frame)
            if frame.empty:
                continue
            table = arrow_table(frame_to_arrays(frame), tz_name(frame.index.tz))
            years = frame.index.year.to_numpy(np.int32)
            for year in np.unique(years).tolist():
                # hive layout written directly (pyarrow's dataset writer can abort the process at exit)
                directory = os.path.join(root, "symbol=" + urllib.parse.quote(key.symbol, safe=""),
                                         "timeframe=" + tf.name, "year=%d" % year)
                os.makedirs(directory, exist_ok=True)
                for old in os.listdir(directory):  # re-exporting replaces the partition
                    if old.startswith("part-"):
                        os.remove(os.path.join(directory, old))
                target = os.path.join(directory, "part-0." + ("arrow" if format == "feather" else format))
                writer(table.filter(pa.array(years == year)), target)
                files.append(target)
        return {"path": root, "rows": rows, "files": sorted(files)}


def _export_writer(format: str):
    """The pyarrow function that writes one export partition file in ``format``."""
    if format == "parquet":
        import pyarrow.parquet as pq

        return pq.write_table
    if format == "feather":
        import pyarrow.feather as feather

        return feather.write_feather
    import pyarrow.csv as pacsv

    return pacsv.write_csv


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
