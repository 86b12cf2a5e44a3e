"""The file cache's files: partition naming, the native and Parquet bar file formats, and locking.

Used by :mod:`polygon.storage` only; nothing here touches the directory layout above one
``<market>/<symbol>/<timeframe>`` directory. Functions raise :class:`polygon.exceptions.CacheError`
when a file fails verification (the storage layer quarantines it and treats it as a miss).

Partitions: ``YYYY-MM`` (second bars), ``YYYY`` (minute and hour bars) or ``all`` (daily and longer),
by UTC bar start. Each file stores its bars and the coverage of its time span.

Native format (``.pkb``, dependency-free, no pickle)::

    b"PKBARS\\x00\\x01"  uint32 header_len  uint32 crc32(header)  header (JSON, UTF-8)  zero padding
    payload at header["data_offset"] (64-byte aligned), little-endian, each array 8-byte aligned:
      values (float64, shape (6, rows): open, high, low, close, volume, vwap), t_ns (int64, UTC epoch ns),
      transactions (int64), tx_mask (uint8, 1 = missing) padded to 8 bytes.

The header records symbol, timeframe, timezone, rows, coverage, array offsets, the payload length
and a ``sum64`` checksum of the payload (sum of its little-endian uint64 words modulo 2**64, which
costs a tenth of a CRC-32 and still catches truncation, zeroed pages and changed words). The header
itself is protected by its CRC-32, and the file length must equal ``data_offset + payload_bytes``.

Parquet format (``.parquet``, needs pyarrow): the same columns with ``timestamp`` as
``timestamp[ns, UTC]`` and the header JSON in the schema metadata under ``polygon_kit``.

Locks: :class:`KeyLock` is a per-directory ``threading.RLock`` plus an OS lock on ``<dir>/.lock``
(``fcntl.flock``; ``msvcrt.locking`` on Windows; none elsewhere), re-entrant within a thread.
"""

import json
import logging
import os
import struct
import threading
import zlib
from typing import Any, Dict, Iterable, List, NamedTuple, Optional, Tuple

import numpy as np

from polygon.exceptions import CacheError
from polygon.frames import BarArrays
from polygon.timeframes import Timeframe

__all__ = [
    "EXTENSIONS",
    "FAR_MS",
    "FORMATS",
    "KeyLock",
    "PartFile",
    "fsync_dir",
    "label_bounds_ms",
    "label_name",
    "labels_of_interval",
    "labels_of_ns",
    "native_encode",
    "native_read",
    "parquet_available",
    "parquet_read",
    "parquet_write",
    "parse_label",
    "partition_kind",
    "read_part",
    "require_pyarrow",
    "sum64",
    "thread_lock",
]

logger = logging.getLogger(__name__)

#: Partition file formats: ``native`` (default, no dependency) and ``parquet`` (pyarrow).
FORMATS = ("native", "parquet")
#: File name extension of each format.
EXTENSIONS = {"native": ".pkb", "parquet": ".parquet"}
_MAGIC = b"PKBARS\x00\x01"
_PREFIX = struct.Struct("<II")
_ALIGN = 64
_HEADER_PROBE = 16384
#: "Unbounded" in epoch ms: the bounds of the single ``all`` partition.
FAR_MS = 2 ** 62
_PARQUET_META_KEY = b"polygon_kit"

Interval = Tuple[int, int]


class PartFile(NamedTuple):
    """One partition file as read: its header dict, its bars (``None`` for header-only reads), its path and
    ``(st_ino, st_mtime_ns)`` at read time."""

    header: Dict[str, Any]
    arrays: Optional[BarArrays]
    path: str
    stat: Tuple[int, int]


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


def sum64(parts: Iterable[np.ndarray]) -> int:
    """Sum of the little-endian uint64 words of the concatenated parts (each zero-padded to 8 bytes), mod 2**64."""
    total = 0
    for part in parts:
        raw = np.ascontiguousarray(part).reshape(-1).view(np.uint8)
        if raw.size % 8:
            raw = np.concatenate([raw, np.zeros(8 - raw.size % 8, np.uint8)])
        total += int(raw.view("<u8").sum(dtype=np.uint64))
    return total % (1 << 64)


# ---------------------------------------------------------------------------------------------------------------
# native format

def native_encode(arrays: BarArrays, meta: Dict[str, Any]) -> List[Any]:
    """Return the chunks of a native file (prefix + header bytes, then the payload arrays) to write in order."""
    n = arrays.rows
    values = np.ascontiguousarray(arrays.values, dtype="<f8")
    t_ns = np.ascontiguousarray(arrays.t_ns, dtype="<i8")
    tx = np.ascontiguousarray(arrays.transactions, dtype="<i8")
    mask = np.zeros(n + (-n) % 8, np.uint8)
    mask[:n] = arrays.tx_mask
    payload = [values, t_ns, tx, mask]
    layout, offset = [], 0
    for name, arr, dtype, shape in (("values", values, "<f8", [6, n]), ("t_ns", t_ns, "<i8", [n]),
                                     ("transactions", tx, "<i8", [n]), ("tx_mask", mask, "|u1", [n])):
        layout.append({"name": name, "dtype": dtype, "shape": shape, "offset": offset})
        offset += arr.nbytes
    header = dict(meta)
    header.update({"format": "polygon-kit-bars", "version": 1, "rows": n, "arrays": layout,
                   "payload_bytes": offset, "checksum": "sum64:%016x" % sum64(payload)})
    # data_offset depends on the header length, which depends on data_offset: iterate to a fixed point
    data_offset = _ALIGN
    while True:
        header["data_offset"] = data_offset
        raw = json.dumps(header, separators=(",", ":"), sort_keys=True).encode("utf-8")
        need = len(_MAGIC) + _PREFIX.size + len(raw)
        if need <= data_offset:
            break
        data_offset = need + (-need) % _ALIGN
    prefix = _MAGIC + _PREFIX.pack(len(raw), zlib.crc32(raw)) + raw
    return [prefix + b"\x00" * (data_offset - len(prefix))] + payload


def native_read(path: str, header_only: bool) -> PartFile:
    """Read and verify a native file. :raises CacheError: on any mismatch. :raises OSError: on I/O errors."""
    with open(path, "rb", buffering=0) as fh:
        st = os.fstat(fh.fileno())
        head = fh.read(_HEADER_PROBE)
        if len(head) < len(_MAGIC) + _PREFIX.size or head[: len(_MAGIC)] != _MAGIC:
            raise CacheError("bad magic or too short")
        hlen, hcrc = _PREFIX.unpack_from(head, len(_MAGIC))
        start = len(_MAGIC) + _PREFIX.size
        raw = head[start:start + hlen]
        if len(raw) < hlen:
            raw += fh.read(hlen - len(raw))
        if len(raw) != hlen or zlib.crc32(raw) != hcrc:
            raise CacheError("header checksum mismatch")
        try:
            header = json.loads(raw.decode("utf-8"))
            data_offset = int(header["data_offset"])
            payload_bytes = int(header["payload_bytes"])
        except (ValueError, KeyError, TypeError) as exc:
            raise CacheError("unreadable header: %s" % exc) from None
        if st.st_size != data_offset + payload_bytes:
            raise CacheError("length %d, expected %d (truncated?)" % (st.st_size, data_offset + payload_bytes))
        stat = (st.st_ino, st.st_mtime_ns)
        if header_only:
            return PartFile(header, None, path, stat)
        buf = np.empty(payload_bytes, np.uint8)
        have = len(head) - data_offset
        if have > 0:
            take = min(have, payload_bytes)
            buf[:take] = np.frombuffer(head, np.uint8, take, data_offset)
        else:
            take = 0
            fh.seek(data_offset)
        view = memoryview(buf)[take:]
        while take < payload_bytes:
            got = fh.readinto(view)
            if not got:
                raise CacheError("short read")
            take += got
            view = view[got:]
    try:
        expected = header["checksum"]
        if expected != "sum64:%016x" % sum64([buf]):
            raise CacheError("payload checksum mismatch")
        arrays = {}
        for spec in header["arrays"]:
            dtype = np.dtype(spec["dtype"])
            count = 1
            for dim in spec["shape"]:
                count *= int(dim)
            arr = buf[spec["offset"]:spec["offset"] + count * dtype.itemsize].view(dtype).reshape(spec["shape"])
            arrays[spec["name"]] = arr if dtype.isnative else arr.astype(dtype.newbyteorder("="))
        n = int(header["rows"])
        bars = BarArrays(arrays["t_ns"], arrays["values"], arrays["transactions"],
                         arrays["tx_mask"][:n].view(np.bool_))
    except (KeyError, ValueError, TypeError) as exc:
        raise CacheError("inconsistent layout: %s" % exc) from None
    return PartFile(header, bars, path, stat)


# ---------------------------------------------------------------------------------------------------------------
# parquet format

def parquet_available() -> bool:
    """``True`` when pyarrow can be imported."""
    try:
        import pyarrow.parquet  # noqa: F401
    except ImportError:
        return False
    return True


def require_pyarrow():
    """Return ``(pyarrow, pyarrow.parquet)``. :raises CacheError: when pyarrow is not installed."""
    try:
        import pyarrow as pa
        import pyarrow.parquet as pq
    except ImportError:
        raise CacheError("format 'parquet' needs pyarrow: pip install 'polygon-kit[parquet]'") from None
    return pa, pq


def arrow_table(arrays: BarArrays, tz: str, metadata: Optional[Dict[bytes, bytes]] = None):
    """Bars as a pyarrow Table (``timestamp`` tz-aware in ``tz``, nullable int64 ``transactions``)."""
    pa, _ = require_pyarrow()
    cols = {"timestamp": pa.array(arrays.t_ns, type=pa.int64()).cast(pa.timestamp("ns", tz=tz))}
    for i, name in enumerate(("open", "high", "low", "close", "volume", "vwap")):
        cols[name] = pa.array(arrays.values[i], type=pa.float64())
    cols["transactions"] = pa.array(arrays.transactions, type=pa.int64(), mask=np.asarray(arrays.tx_mask, bool))
    table = pa.table(cols)
    return table.replace_schema_metadata(metadata) if metadata else table


def parquet_write(path: str, arrays: BarArrays, meta: Dict[str, Any]) -> None:
    """Write a Parquet partition file with the header in the schema metadata."""
    _, pq = require_pyarrow()
    header = dict(meta, format="polygon-kit-bars", version=1, rows=arrays.rows)
    table = arrow_table(arrays, "UTC", {_PARQUET_META_KEY: json.dumps(header, sort_keys=True).encode("utf-8")})
    pq.write_table(table, path)


def parquet_read(path: str, header_only: bool) -> PartFile:
    """Read and verify a Parquet partition file. :raises CacheError: when unreadable or inconsistent."""
    pa, pq = require_pyarrow()
    st = os.stat(path)
    try:
        if header_only:
            schema = pq.read_schema(path)
            table = None
        else:
            table = pq.read_table(path)
            schema = table.schema
        header = json.loads((schema.metadata or {})[_PARQUET_META_KEY].decode("utf-8"))
    except (pa.ArrowException, OSError, KeyError, ValueError) as exc:
        raise CacheError("unreadable parquet file: %s" % exc) from None
    bars = None
    if table is not None:
        if table.num_rows != int(header.get("rows", -1)):
            raise CacheError("row count does not match the header")
        t_ns = table.column("timestamp").cast(pa.timestamp("ns", tz="UTC")).cast(pa.int64()).to_numpy()
        values = np.empty((6, table.num_rows), np.float64)
        for i, name in enumerate(("open", "high", "low", "close", "volume", "vwap")):
            values[i] = table.column(name).to_numpy()
        tx_col = table.column("transactions")
        mask = np.asarray(tx_col.is_null().to_numpy(zero_copy_only=False), dtype=np.bool_)
        tx = np.asarray(tx_col.fill_null(0).to_numpy(), dtype=np.int64)
        bars = BarArrays(np.asarray(t_ns, np.int64), values, tx, mask)
    return PartFile(header, bars, path, (st.st_ino, st.st_mtime_ns))


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


def read_part(path: str, header_only: bool = False) -> PartFile:
    """Read and verify one partition file of either format (by extension).

    :param header_only: read only the header (length and header CRC are still checked).
    :raises CacheError: when the file fails verification. :raises OSError: when it cannot be read.
    """
    if path.endswith(EXTENSIONS["parquet"]):
        return parquet_read(path, header_only)
    return native_read(path, header_only)
