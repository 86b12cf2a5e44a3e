"""The cache's directory layout: keys, partitions, partition files, atomic writes and locks.

The one room below :mod:`polygon.storage.cache`: a cache read or write asks this module where a key's files are,
reads or writes one partition file (formats in :mod:`polygon.storage.formats`, whose ``PartFile``, ``allocate``
and ``require_pyarrow`` it passes on) and takes the key's lock; the cache never builds a path or opens a
file itself. Layout (every path component is validated; no input can leave the cache
directory)::

    <cache_dir>/<market>/<symbol as file name>/<timeframe>/<partition>.pkb      (or .parquet)

Partitions: ``YYYY-MM`` (second bars), ``YYYY`` (minute and hour bars) or ``all`` (daily and longer),
by UTC bar start. Each file stores its bars and the coverage of its time span.

Writes go to a temporary file in the same directory, are ``fsync``'d and ``os.replace``'d over the old one.
Locks: :class:`KeyLock` is a per-directory ``threading.RLock`` plus an OS lock on ``<dir>/.lock``
(``fcntl.flock``; ``msvcrt.locking`` on Windows; none elsewhere), re-entrant within a thread.
"""

import errno
import logging
import os
import threading
from typing import Any, Callable, Dict, List, NamedTuple, Optional, Tuple

import numpy as np

from polygon.exceptions import InvalidSymbolError
from polygon.markets.frames import BarArrays
from polygon.markets.symbols import filename_to_symbol, market_of, symbol_to_filename, validate_symbol
from polygon.markets.timeframes import Timeframe, parse_timeframe
from polygon.storage.formats import (
    PartFile,
    allocate,
    native_encode,
    native_read,
    parquet_available,
    parquet_read,
    parquet_write,
    require_pyarrow,
)

__all__ = [
    "EXTENSIONS",
    "FAR_MS",
    "FORMATS",
    "CacheKey",
    "KeyLock",
    "PartFile",
    "allocate",
    "fsync_dir",
    "iter_keys",
    "key_files",
    "key_for",
    "label_bounds_ms",
    "label_name",
    "labels_of_interval",
    "labels_of_ns",
    "parquet_available",
    "parse_label",
    "partition_files",
    "partition_kind",
    "read_part",
    "remove_stale_temps",
    "replace_atomically",
    "require_pyarrow",
    "thread_lock",
    "write_part",
]

logger = logging.getLogger(__name__)

#: Partition file formats: ``native`` (default, no dependency) and ``parquet`` (pyarrow).
FORMATS = ("native", "parquet")
#: File name extension of each format.
EXTENSIONS = {"native": ".pkb", "parquet": ".parquet"}
#: "Unbounded" in epoch ms: the bounds of the single ``all`` partition.
FAR_MS = 2 ** 62

Interval = Tuple[int, int]


class CacheKey(NamedTuple):
    """One symbol and timeframe in one cache directory: where its partition files live."""

    symbol: str
    timeframe: Timeframe
    market: str
    path: str
    kind: str  # 'month' | 'year' | 'all'


# ---------------------------------------------------------------------------------------------------------------
# partitions (pure)

def partition_kind(tf: Timeframe) -> str:
    """``'month'`` for second bars, ``'year'`` for minute/hour bars, ``'all'`` for daily and longer."""
    if tf.timespan == "second":
        return "month"
    if tf.timespan in ("minute", "hour"):
        return "year"
    return "all"


def labels_of_ns(t_ns: np.ndarray, kind: str) -> np.ndarray:
    """Partition label of each UTC epoch-ns time (year number, months since 1970-01, or 0), vectorised."""
    if kind == "all":
        return np.zeros(t_ns.shape[0], np.int64)
    unit = "M" if kind == "month" else "Y"
    labels = t_ns.view("datetime64[ns]").astype("datetime64[%s]" % unit).astype(np.int64)
    return labels + 1970 if kind == "year" else labels


def label_of_ms(ms: int, kind: str) -> int:
    """Partition label of one epoch-ms instant."""
    return int(labels_of_ns(np.array([ms * 1_000_000], np.int64), kind)[0])


def label_name(label: int, kind: str) -> str:
    """File stem of a partition: ``'2023'``, ``'2023-01'`` or ``'all'``."""
    if kind == "all":
        return "all"
    if kind == "year":
        return "%04d" % label
    return "%04d-%02d" % (1970 + label // 12, label % 12 + 1)


def parse_label(name: str, kind: str) -> Optional[int]:
    """Inverse of :func:`label_name`; ``None`` for a name that is not a partition of ``kind``."""
    try:
        if kind == "all":
            return 0 if name == "all" else None
        if kind == "year":
            return int(name) if len(name) == 4 and name.isdigit() else None
        year, month = name.split("-")
        if len(year) != 4 or len(month) != 2 or not (1 <= int(month) <= 12):
            return None
        return (int(year) - 1970) * 12 + int(month) - 1
    except ValueError:
        return None


def label_bounds_ms(label: int, kind: str) -> Interval:
    """``[start_ms, end_ms)`` spanned by a partition (UTC)."""
    if kind == "all":
        return (-FAR_MS, FAR_MS)
    if kind == "year":
        start = np.datetime64("%04d-01-01" % label, "ms").astype(np.int64)
        end = np.datetime64("%04d-01-01" % (label + 1), "ms").astype(np.int64)
    else:
        start = np.datetime64(label_name(label, kind), "ms").astype(np.int64)
        end = np.datetime64(label_name(label + 1, kind), "ms").astype(np.int64)
    return int(start), int(end)


def labels_of_interval(start_ms: int, end_ms: int, kind: str) -> range:
    """Labels of the partitions that ``[start_ms, end_ms)`` touches."""
    if kind == "all":
        return range(0, 1)
    lo = label_of_ms(max(start_ms, -(2 ** 62) // 1_000_000 + 1), kind)
    hi = label_of_ms(min(end_ms - 1, 2 ** 62 // 1_000_000), kind)
    return range(lo, hi + 1)


# ---------------------------------------------------------------------------------------------------------------
# locks

_KEY_LOCKS: Dict[str, threading.RLock] = {}
_KEY_LOCKS_GUARD = threading.Lock()


def thread_lock(path: str) -> threading.RLock:
    """The process-wide re-entrant lock of one key directory."""
    with _KEY_LOCKS_GUARD:
        lock = _KEY_LOCKS.get(path)
        if lock is None:
            lock = _KEY_LOCKS[path] = threading.RLock()
        return lock


class KeyLock:
    """Thread lock + OS file lock on ``<key dir>/.lock``, re-entrant within a thread (no OS lock where
    neither fcntl nor msvcrt exists)."""

    _held: Dict[str, List[Any]] = {}  # path -> [depth, file handle]; only touched by the RLock's owner

    def __init__(self, directory: str) -> None:
        self.directory = directory
        self.thread_lock = thread_lock(directory)

    def __enter__(self) -> "KeyLock":
        self.thread_lock.acquire()
        state = self._held.get(self.directory)
        if state is not None:
            state[0] += 1
            return self
        fh = None
        try:
            os.makedirs(self.directory, exist_ok=True)
            fh = open(os.path.join(self.directory, ".lock"), "a+b")
            _os_lock(fh)
        except OSError as exc:
            logger.debug("cache: no file lock in %s: %s", self.directory, exc)
            if fh is not None:
                fh.close()
                fh = None
        self._held[self.directory] = [1, fh]
        return self

    def __exit__(self, *exc_info: Any) -> None:
        try:
            state = self._held[self.directory]
            state[0] -= 1
            if state[0] == 0:
                del self._held[self.directory]
                if state[1] is not None:
                    try:
                        _os_unlock(state[1])
                    finally:
                        state[1].close()
        finally:
            self.thread_lock.release()


try:
    import fcntl

    def _os_lock(fh: Any) -> None:
        fcntl.flock(fh.fileno(), fcntl.LOCK_EX)

    def _os_unlock(fh: Any) -> None:
        fcntl.flock(fh.fileno(), fcntl.LOCK_UN)

except ImportError:  # pragma: no cover - Windows or exotic platforms
    try:
        import msvcrt

        def _os_lock(fh: Any) -> None:
            fh.seek(0)
            msvcrt.locking(fh.fileno(), msvcrt.LK_LOCK, 1)

        def _os_unlock(fh: Any) -> None:
            fh.seek(0)
            msvcrt.locking(fh.fileno(), msvcrt.LK_UNLCK, 1)

    except ImportError:
        def _os_lock(fh: Any) -> None:
            return None

        def _os_unlock(fh: Any) -> None:
            return None


def fsync_dir(directory: str) -> None:
    """Make renames in ``directory`` durable (POSIX; a no-op where directories cannot be opened)."""
    if not hasattr(os, "O_DIRECTORY"):
        return
    try:
        fd = os.open(directory, os.O_RDONLY | os.O_DIRECTORY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)




# ---------------------------------------------------------------------------------------------------------------
# keys and files

def key_for(cache_dir: str, symbol: str, timeframe: Any) -> CacheKey:
    """The key of ``symbol``/``timeframe`` under ``cache_dir`` (an absolute path).

    :raises InvalidSymbolError: (a ``ValueError``) for an invalid symbol or one that would leave the directory.
    :raises InvalidTimeframeError: for an invalid timeframe.
    """
    sym = validate_symbol(symbol)
    tf = parse_timeframe(timeframe)
    market = market_of(sym)
    path = os.path.join(cache_dir, market, symbol_to_filename(sym), tf.name)
    if not os.path.abspath(path).startswith(os.path.join(cache_dir, "")):
        raise InvalidSymbolError("invalid symbol %r: it would leave the cache directory" % (symbol,))
    return CacheKey(sym, tf, market, path, partition_kind(tf))


def iter_keys(cache_dir: str, symbol: Optional[str] = None, timeframe: Any = None) -> List[CacheKey]:
    """Keys present under ``cache_dir`` (sorted), optionally only one symbol and/or timeframe."""
    if symbol is not None and timeframe is not None:
        return [key_for(cache_dir, symbol, timeframe)]
    want_sym = validate_symbol(symbol) if symbol is not None else None
    want_tf = parse_timeframe(timeframe).name if timeframe is not None else None
    keys = []
    try:
        markets = sorted(e.name for e in os.scandir(cache_dir) if e.is_dir() and not e.name.startswith("."))
    except OSError:
        return []
    for market in markets:
        for sym_entry in sorted(os.scandir(os.path.join(cache_dir, market)), key=lambda e: e.name):
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
                key = key_for(cache_dir, sym, tf)
                if key.market == market:
                    keys.append(key)
    return keys


def partition_files(key: CacheKey) -> Dict[int, str]:
    """label -> path of the key's partition files, by label; when both formats exist for a label, the newer
    file wins."""
    found: Dict[int, Tuple[int, str]] = {}
    try:
        entries = list(os.scandir(key.path))
    except OSError:
        return {}
    for entry in entries:
        name = entry.name
        stem, ext = os.path.splitext(name)
        if name.startswith(".") or ext not in EXTENSIONS.values():
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


def key_files(key: CacheKey) -> List[os.DirEntry]:
    """Every file in the key's directory (data, ``.lock``, quarantined files)."""
    try:
        return [e for e in os.scandir(key.path) if e.is_file()]
    except OSError:
        return []


def remove_stale_temps(directory: str) -> None:
    """Remove temporary files; call under the key lock, where every temp file is left over from a killed writer."""
    try:
        for entry in os.scandir(directory):
            if entry.name.startswith(".") and ".tmp-" in entry.name:
                os.remove(entry.path)
    except OSError:
        pass


def read_part(path: str, header_only: bool = False) -> PartFile:
    """Read and verify one partition file of either format (by extension).

    :param header_only: read only the header (length and header CRC are still checked).
    :raises CacheError: when the file fails verification. :raises OSError: when it cannot be read,
        with ``errno.ENOTSUP`` for Parquet without pyarrow.
    """
    if path.endswith(EXTENSIONS["parquet"]):
        if not parquet_available():
            raise OSError(errno.ENOTSUP, "reading Parquet needs pyarrow")
        return parquet_read(path, header_only)
    return native_read(path, header_only)


def write_part(key: CacheKey, label: int, arrays: BarArrays, meta: Dict[str, Any], format: str) -> str:
    """Write one partition file atomically (temp file, ``fsync``, ``os.replace``); call under the key lock.

    :returns: the path written. :raises OSError: when the write fails (the temp file is removed).
    """
    final = os.path.join(key.path, label_name(label, key.kind) + EXTENSIONS[format])

    def write(tmp: str) -> None:
        if format == "parquet":
            parquet_write(tmp, arrays, meta)
            return
        with open(tmp, "wb") as fh:
            for chunk in native_encode(arrays, meta):
                data = chunk if isinstance(chunk, bytes) else chunk.reshape(-1).view(np.uint8)
                if len(data):
                    fh.write(data)

    return replace_atomically(final, write)


def replace_atomically(final: str, write: Callable[[str], None]) -> str:
    """Write a file under a temporary name beside ``final`` with ``write(tmp_path)``, fsync it, then rename it over
    ``final`` (readers see the old file or the new one, never a part); the temporary file is removed on failure.

    :returns: ``final``.
    """
    directory = os.path.dirname(final)
    os.makedirs(directory, exist_ok=True)
    tmp = os.path.join(directory, ".%s.tmp-%d-%d" % (os.path.basename(final), os.getpid(), threading.get_ident()))
    try:
        write(tmp)
        with open(tmp, "rb+") as fh:
            os.fsync(fh.fileno())
        os.replace(tmp, final)
    except BaseException:
        try:
            os.remove(tmp)
        except OSError:
            pass
        raise
    return final
