"""The file cache of bars: read, write and coverage (:class:`BarCache`).

Each partition file holds its bars **and** the coverage of its time span, so data and coverage are
replaced together by one atomic rename and cannot disagree after a crash. Coverage is the set of
requested ``[start, end)`` intervals (UTC epoch ms) that were fetched completely; it is never inferred
from the bars present, so weekends, holidays and quiet minutes inside a fetched range are not "missing"
(see :mod:`polygon.markets.coverage`). Where files live and how one is written is :mod:`polygon.storage.files`;
their formats are :mod:`polygon.storage.formats`. A file whose length or checksums do not match is logged,
renamed aside (``.<name>.corrupt-<ns>``, hidden from dataset readers) and treated as a miss.

A read of several partitions allocates the result once and decodes each partition into its slice, so a
hit costs time linear in the bars read.

Writes take a per-key thread lock and an OS file lock. A read-only, missing-and-uncreatable or failing
cache directory degrades to uncached operation with one warning; a single failed write in a usable
directory only skips that write. A write never replaces a partition it cannot read (I/O error, Parquet
without pyarrow): it is skipped and the old file kept. :meth:`BarCache.clear` removes data files only;
key directories and their ``.lock`` files stay (other writers may wait on them).

The public face is :class:`polygon.storage.StorageManager`, which adds the write-behind buffer of
streamed bars and the export.
"""

import datetime as _dt
import errno
import logging
import os
import threading
import time
from typing import Any, Dict, List, Optional, Sequence, Tuple, Union

import numpy as np
import pandas as pd

from polygon.exceptions import CacheError, InvalidParameterError
from polygon.markets import coverage as cov
from polygon.markets.frames import (
    DEFAULT_TZ,
    BarArrays,
    arrays_to_frame,
    empty_arrays,
    frame_to_arrays,
    merge_arrays,
    tz_name,
)
from polygon.markets.symbols import validate_symbol
from polygon.markets.timeframes import parse_timeframe
from polygon.storage.files import (
    DATASET_DIR,
    FAR_MS,
    FORMATS,
    CacheKey,
    KeyLock,
    PartFile,
    allocate,
    fsync_dir,
    iter_keys,
    key_files,
    key_for,
    label_bounds_ms,
    label_name,
    labels_of_interval,
    labels_of_ns,
    legacy_markets,
    parquet_available,
    partition_files,
    quarantine_name,
    read_layout,
    read_part,
    remove_stale_temps,
    require_pyarrow,
    write_layout,
    write_part,
)

__all__ = ["FORMATS", "BarCache"]

logger = logging.getLogger(__name__)

Interval = Tuple[int, int]
TimeLike = Any


class BarCache:
    """The file cache of bars for one cache directory (thread-safe; writers in different processes are
    serialised by file locks).

    :param cache_dir: cache directory (created when missing); default the configured ``cache_dir``.
    :param format: partition format for writes: ``'parquet'`` (needs pyarrow) or ``'native'``. Default: what
        the cache directory holds; for a new cache ``'parquet'`` (in the hive layout, readable in place by
        DuckDB, Spark, Dask, Polars) when pyarrow is installed, else ``'native'``. A cache written before the
        hive layout keeps its layout and format until :func:`polygon.storage.migrate.migrate_cache` converts it.
    :param tz: timezone of returned frames when a partition records none; default the configured timezone.
    :raises InvalidParameterError: for an unknown ``format``, or one the cache directory does not hold.
    :raises CacheError: for a Parquet cache or ``format='parquet'`` without pyarrow.
    """

    def __init__(self, cache_dir: Optional[Union[str, os.PathLike]] = None, format: Optional[str] = None,
                 tz: Optional[str] = None) -> None:
        if format is not None and format not in FORMATS:
            raise InvalidParameterError("unknown cache format %r; allowed: %s" % (format, ", ".join(FORMATS)))
        if cache_dir is None or tz is None:
            from polygon.config import get_config

            config = get_config()
            cache_dir = config.cache_dir if cache_dir is None else cache_dir
            tz = config.timezone if tz is None else tz
        self.cache_dir = os.path.abspath(os.fspath(cache_dir))
        self.layout, self.format, new = self._resolve_layout(format)
        if self.format == "parquet":
            require_pyarrow()
        self.tz = tz or DEFAULT_TZ
        self._warned = False
        self.writable = self._probe()
        if new and self.writable:
            try:
                write_layout(self.cache_dir, self.layout, self.format)
            except OSError as exc:
                self._degrade("cannot record the cache layout in %s (%s)" % (self.cache_dir, exc))

    def _resolve_layout(self, format: Optional[str]) -> Tuple[str, str, bool]:
        """``(layout, format, new)``: what the directory records, else legacy for an older cache, else hive
        Parquet when pyarrow is installed (``new``: to be recorded)."""
        recorded = read_layout(self.cache_dir)
        if recorded is not None:
            if format is not None and format != recorded["format"] and recorded["layout"] == "hive":
                raise InvalidParameterError(
                    "the cache at %s holds %s files in the hive layout, not %s: formats are never mixed "
                    "(polygon.storage.migrate.migrate_cache converts a cache)" % (self.cache_dir, recorded["format"],
                                                                                  format))
            return recorded["layout"], format or recorded["format"], False
        if legacy_markets(self.cache_dir):
            return "legacy", format or "native", False
        if format is None:
            format = "parquet" if parquet_available() else "native"
        return ("hive", format, True) if format == "parquet" else ("legacy", format, False)

    @property
    def dataset_path(self) -> Optional[str]:
        """The root of the hive-partitioned Parquet dataset the cache's files form (``<cache_dir>/bars``), or
        ``None`` for a native or legacy cache."""
        return os.path.join(self.cache_dir, DATASET_DIR) if self.layout == "hive" else None

    # -- hooks of the write-behind buffer (polygon.storage) ----------------------------------------------

    def _before_read(self, key: CacheKey) -> None:
        """Called before a key is read (the buffer writes its pending bars)."""

    def _pending_rows(self, key: CacheKey) -> int:
        return 0

    def _discard_pending(self, keys: Sequence[CacheKey], everything: bool) -> None:
        """Called by :meth:`clear` for the cleared keys."""

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

    # -- keys ---------------------------------------------------------------------------------------------

    def _key(self, symbol: str, timeframe: Any) -> CacheKey:
        return key_for(self.cache_dir, symbol, timeframe, self.layout)

    def path_for(self, symbol: str, timeframe: Any) -> str:
        """Return the directory holding ``symbol``/``timeframe`` (it may not exist).

        :raises InvalidSymbolError: (a ``ValueError``) for an invalid symbol.
        :raises InvalidTimeframeError: for an invalid timeframe.
        """
        return self._key(symbol, timeframe).path

    # -- low level reads ----------------------------------------------------------------------------------

    def _load(self, key: CacheKey, path: str, header_only: bool = False, strict: bool = False) -> Optional[PartFile]:
        """``None`` for a miss (missing, or corrupt and moved aside). An existing file that cannot be read
        now (I/O error, Parquet without pyarrow) is a miss too, or, when ``strict``, raises ``OSError``."""
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
            if exc.errno == errno.ENOTSUP:
                logger.debug("cache: skipping %s: %s", path, exc.strerror)
            else:
                logger.warning("cache: cannot read %s: %s; treating it as a miss", path, exc)
            return None

    def _quarantine(self, key: CacheKey, path: str, why: str) -> None:
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
                os.replace(path, quarantine_name(path, time.time_ns()))
        except OSError as exc:
            logger.debug("cache: could not quarantine %s: %s", path, exc)

    def _read_parts(self, key: CacheKey, start_ms: Optional[int], end_ms: Optional[int],
                    header_only: bool = False) -> List[PartFile]:
        parts = []
        for label, path in partition_files(key).items():
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

    # -- public reads -------------------------------------------------------------------------------------

    def read_arrays_with_coverage(
        self, symbol: str, timeframe: Any, start: TimeLike = None, end: TimeLike = None
    ) -> Tuple[BarArrays, List[Interval], Optional[str]]:
        """Like :meth:`read_with_coverage` but return :class:`~polygon.markets.frames.BarArrays` (no DataFrame).

        :returns: ``(arrays, coverage, stored_tz)``; ``stored_tz`` is ``None`` when nothing was read.
        """
        key = self._key(symbol, timeframe)
        self._before_read(key)
        s_ms = None if start is None else cov.to_ms(start, self.tz)
        e_ms = None if end is None else cov.to_ms(end, self.tz)
        parts = self._read_parts(key, s_ms, e_ms)
        # partitions are ordered and disjoint: one allocation, each decoded straight into its slice
        arrays = allocate(sum(p.rows for p in parts))
        at = 0
        for part in parts:
            part.fill(arrays, at)
            at += part.rows
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
        :param start: first instant (inclusive), anything :func:`polygon.markets.coverage.to_ms` accepts; naive
            values are in the manager's timezone. :param end: last instant (exclusive).
        :param tz: timezone of the returned index (default: the one recorded with the data).
        :returns: ``(frame, coverage)``; coverage is clipped to ``[start, end)`` when given.
        :raises InvalidSymbolError: (a ``ValueError``) for an invalid symbol.
        """
        arrays, covered, stored_tz = self.read_arrays_with_coverage(symbol, timeframe, start, end)
        frame = arrays_to_frame(arrays, tz or stored_tz or self.tz)
        frame.attrs.update({"symbol": str(validate_symbol(symbol)), "timeframe": parse_timeframe(timeframe).name,
                            "source": "cache"})
        return frame, covered

    def read(
        self, symbol: str, timeframe: Any, start: TimeLike = None, end: TimeLike = None, tz: Optional[str] = None
    ) -> pd.DataFrame:
        """Read cached bars in ``[start, end)`` as a frame of the :mod:`polygon.markets.frames` contract.

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

    # -- writes -------------------------------------------------------------------------------------------

    def write(self, symbol: str, timeframe: Any, df: Optional[pd.DataFrame], covered: Any = None) -> bool:
        """Merge bars into the cache and record coverage, atomically per partition.

        Old bars are never dropped; a bar with the same timestamp as an old one replaces it.

        :param symbol: ticker. :param timeframe: e.g. ``'1min'``.
        :param df: bars (any frame :func:`polygon.markets.frames.conform_bars_frame` accepts; ``None`` = no bars).
        :param covered: the requested range(s) these bars complete: one ``(start, end)`` pair or a list of
            them (epoch ms or anything :func:`polygon.markets.coverage.to_ms` accepts; end exclusive). ``None``
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
                     tz: Optional[str] = None, sync: bool = True) -> bool:
        """:meth:`write` for sorted, unique :class:`~polygon.markets.frames.BarArrays` (no DataFrame round trip).

        :param tz: timezone recorded with the data (default the manager's).
        :param sync: ``False`` skips the fsyncs of this write (still atomic: a killed process leaves the old file
            or the new one); a bulk writer then calls :func:`polygon.storage.files.sync_all` once, before it
            records the writes anywhere (flat-file sync does, before its manifest).
        """
        key = self._key(symbol, timeframe)
        return self._write_arrays(key, arrays, self._covered_list(covered), tz or self.tz, sync)

    def _covered_list(self, covered: Any) -> List[Interval]:
        if covered is None:
            return []
        if isinstance(covered, tuple) and len(covered) == 2 and not isinstance(covered[0], (tuple, list)):
            covered = [covered]
        return cov.normalize((cov.to_ms(s, self.tz), cov.to_ms(e, self.tz)) for s, e in covered)

    def _write_arrays(self, key: CacheKey, arrays: BarArrays, covered: List[Interval], tz: str,
                      sync: bool = True) -> bool:
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
                remove_stale_temps(key.path)
                existing = partition_files(key)
                for label in sorted(wanted):
                    if not self._write_partition(key, label, existing.get(label), new_parts.get(label), covered, tz,
                                                 sync):
                        written = False
                if sync:
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

    def _write_partition(self, key: CacheKey, label: int, old_path: Optional[str], bars: Optional[BarArrays],
                         covered: List[Interval], tz: str, sync: bool = True) -> bool:
        """Merge into one partition; ``False`` (nothing written, no coverage) when the old file is unreadable."""
        lo, hi = label_bounds_ms(label, key.kind)
        part_cov = cov.clip(covered, lo, hi)
        try:
            old = self._load(key, old_path, strict=True) if old_path else None
        except OSError as exc:  # never replace what cannot be read now; no coverage for this partition
            logger.warning("cache: cannot read %s (%s); left as it is, bars not cached", old_path, exc)
            return False
        old_arrays = old.arrays if old is not None else None
        old_cov = self._part_coverage(old) if old is not None else []
        merged_cov = cov.add(old_cov, part_cov)
        if (bars is None or bars.rows == 0) and old is not None and merged_cov == old_cov:
            return True
        merged = merge_arrays(old_arrays if old_arrays is not None else empty_arrays(),
                              bars if bars is not None else empty_arrays())
        meta = {
            "symbol": key.symbol, "timeframe": key.timeframe.name, "partition": label_name(label, key.kind),
            "tz": tz, "coverage": cov.to_json(merged_cov),
            "first_ns": int(merged.t_ns[0]) if merged.rows else None,
            "last_ns": int(merged.t_ns[-1]) if merged.rows else None,
            "written_at": _dt.datetime.now(_dt.timezone.utc).isoformat(),
        }
        final = write_part(key, label, merged, meta, self.format, sync)
        if old_path and old_path != final:
            try:
                os.remove(old_path)
            except OSError:
                pass
        return True

    # -- maintenance --------------------------------------------------------------------------------------

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
        files = key_files(key)
        rows = sum(p.rows for p in parts)
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
            "pending": self._pending_rows(key),
        }

    def list_cached(self) -> List[Dict[str, Any]]:
        """List every cached symbol/timeframe with ``market``, ``symbol``, ``timeframe``, ``partitions``,
        ``rows``, ``first``, ``last`` and ``size_bytes`` (sorted by market, symbol, timeframe)."""
        out = []
        for key in iter_keys(self.cache_dir, layout=self.layout):
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
        return sum(e.stat().st_size for key in iter_keys(self.cache_dir, symbol, timeframe, self.layout)
                   for e in key_files(key))

    def clear(self, symbol: Optional[str] = None, timeframe: Any = None) -> int:
        """Delete cached data: everything, one symbol (all timeframes), one timeframe (all symbols), or both.

        Pending streamed bars of the cleared keys are discarded too, and so are the records of flat-file days
        synced into the cleared timeframes (``<cache_dir>/.flatfiles/<market>/minute_aggs.json`` for ``1min``,
        ``day_aggs.json`` for ``1day``), so that a sync after the clear restores them.

        :returns: the number of files removed.
        :raises InvalidSymbolError: (a ``ValueError``) for an invalid symbol.
        """
        removed = 0
        keys = iter_keys(self.cache_dir, symbol, timeframe, self.layout)
        _forget_synced_days(self.cache_dir, None if timeframe is None else parse_timeframe(timeframe).name)
        self._discard_pending(keys, symbol is None and timeframe is None)
        for key in keys:
            if not os.path.isdir(key.path):
                continue
            # Only data files go, under the key lock. The directory and its ``.lock`` stay: unlinking a
            # lock file another thread or process waits on (or the directory a waiting writer is about to
            # use) would break mutual exclusion and fail that write.
            with KeyLock(key.path):
                for entry in key_files(key):
                    if entry.name == ".lock":
                        continue
                    try:
                        os.remove(entry.path)
                        removed += 1
                    except OSError as exc:
                        logger.warning("cache: could not remove %s: %s", entry.path, exc)
        return removed


#: the flat-file kinds (polygon.flatfiles) that fill each timeframe, whose manifests record synced days
#: (futures fill ``1day`` from their session aggregates)
_SYNCED_KINDS = {"1min": ("minute_aggs",), "1day": ("day_aggs", "session_aggs")}


def _forget_synced_days(cache_dir: str, timeframe: Optional[str]) -> None:
    """Remove the flat-file manifests of the cleared timeframe(s) (all when ``None``)."""
    kinds = ([kind for names in _SYNCED_KINDS.values() for kind in names] if timeframe is None
             else list(_SYNCED_KINDS.get(timeframe, ())))
    root = os.path.join(cache_dir, ".flatfiles")
    for market in sorted(os.listdir(root)) if os.path.isdir(root) else ():
        for kind in kinds:
            try:
                os.remove(os.path.join(root, market, kind + ".json"))
            except OSError:
                pass
