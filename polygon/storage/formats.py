"""The cache's bar file formats: encode and decode one partition file (no directory layout, no locking).

Native format, version 2 (``.pkb``, written by default; dependency-free, no pickle)::

    b"PKBARS\\x00\\x02"  uint32 header_len  uint32 crc32(header)  header (JSON, UTF-8)  zero padding
    payload at header["data_offset"] (64-byte aligned): one little-endian array per column, each padded
    to 8 bytes, described by header["columns"]

Each column is stored losslessly in the narrowest form that gives back the same bits:

- ``t_ns``: ``delta``: the first time (``base``), then the gaps divided by their common ``step`` as
  unsigned integers of the smallest width (a minute bar's gap fits 1-2 bytes);
- float columns: ``dec``: integers ``k`` with ``k / 10**exp`` bit-identical to every value (prices in
  cents, volumes in units; any value parsed from a decimal with at most ``exp`` decimals qualifies),
  stored as offsets from their minimum (``base``) in the smallest unsigned width (a year of one stock's
  cent prices fits 2 bytes); ``raw`` float64 when no such ``exp <= 8`` exists (NaN, infinities, long
  fractions);
- ``transactions``: ``int``, offsets from the minimum like ``dec``; ``tx_mask``: ``bits`` (``np.packbits``).

Offsets rather than deltas keep decoding to one or two vectorised passes per column (no running sum).

Decoding is a few vectorised numpy passes written straight into the caller's arrays, so a read of many
partitions fills one preallocated set of arrays. One-minute stock bars take about 20 bytes per bar against
65 in version 1.

Native format, version 1 (written by polygon-kit before version 2; still read): the same prefix with
``\\x00\\x01``, then ``values`` (float64, shape (6, rows)), ``t_ns``, ``transactions`` (int64) and
``tx_mask`` (uint8) as plain arrays.

Both versions record symbol, timeframe, timezone, rows and coverage in the header, protect the header by
its CRC-32 and the payload by ``sum64`` (the sum of its little-endian uint64 words modulo 2**64, a tenth of
the cost of a CRC-32, still catching truncation, zeroed pages and changed words), and require the file
length to equal ``data_offset + payload_bytes``.

Parquet format (``.parquet``, needs pyarrow): the columns with ``timestamp`` as ``timestamp[ns, UTC]`` and
the header JSON in the schema metadata under ``polygon_kit``.

Functions raise :class:`polygon.exceptions.CacheError` when a file fails verification.
"""

import json
import os
import struct
import zlib
from typing import Any, Callable, Dict, Iterable, List, NamedTuple, Optional, Tuple

import numpy as np

from polygon.exceptions import CacheError
from polygon.markets.frames import FLOAT_COLUMNS, BarArrays

__all__ = [
    "PartFile",
    "allocate",
    "arrow_table",
    "native_encode",
    "native_read",
    "parquet_available",
    "parquet_read",
    "parquet_write",
    "require_pyarrow",
    "sum64",
]

_MAGIC_V1 = b"PKBARS\x00\x01"
_MAGIC_V2 = b"PKBARS\x00\x02"
_PREFIX = struct.Struct("<II")
_ALIGN = 64
_HEADER_PROBE = 16384
_MAX_EXP = 8
_SMALL = 64  # partitions of at most this many bars keep plain float64 prices: nothing to gain, less to do
_EXACT = 2 ** 53
_PARQUET_META_KEY = b"polygon_kit"
_CODECS = dict({name: ("dec", "raw") for name in FLOAT_COLUMNS}, t_ns=("delta", "int"), transactions=("int",),
               tx_mask=("bits",))
_UNSIGNED = (np.uint8, np.uint16, np.uint32, np.uint64)


class PartFile(NamedTuple):
    """One partition file as read: its header, path and ``(st_ino, st_mtime_ns)``, and ``fill`` (``None``
    for header-only reads), which decodes the bars into ``dest`` at row ``at``: ``fill(dest, at)``."""

    header: Dict[str, Any]
    path: str
    stat: Tuple[int, int]
    fill: Optional[Callable[[BarArrays, int], None]]

    @property
    def rows(self) -> int:
        """Number of bars in the file."""
        return int(self.header.get("rows", 0))

    @property
    def arrays(self) -> Optional[BarArrays]:
        """The bars in fresh arrays (``None`` for a header-only read)."""
        if self.fill is None:
            return None
        dest = allocate(self.rows)
        self.fill(dest, 0)
        return dest


def allocate(rows: int) -> BarArrays:
    """Uninitialised :class:`BarArrays` for ``rows`` bars (to be filled by :attr:`PartFile.fill`)."""
    return BarArrays(np.empty(rows, np.int64), np.empty((6, rows), np.float64), np.empty(rows, np.int64),
                     np.empty(rows, np.bool_))


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
# native format: shared frame (prefix, header, payload)

def _frame(header: Dict[str, Any], magic: bytes) -> bytes:
    """Prefix + header + zero padding up to ``header['data_offset']`` (chosen here, 64-byte aligned)."""
    data_offset = _ALIGN
    while True:  # data_offset depends on the header length, which depends on data_offset
        header["data_offset"] = data_offset
        raw = json.dumps(header, separators=(",", ":"), sort_keys=True).encode("utf-8")
        need = len(magic) + _PREFIX.size + len(raw)
        if need <= data_offset:
            break
        data_offset = need + (-need) % _ALIGN
    prefix = magic + _PREFIX.pack(len(raw), zlib.crc32(raw)) + raw
    return prefix + b"\x00" * (data_offset - len(prefix))


def _read_native(path: str, header_only: bool) -> Tuple[Dict[str, Any], Optional[np.ndarray], bytes, Tuple[int, int]]:
    """``(header, payload or None, magic, stat)`` of a verified native file."""
    with open(path, "rb", buffering=0) as fh:
        st = os.fstat(fh.fileno())
        head = fh.read(_HEADER_PROBE)
        magic = head[: len(_MAGIC_V1)]
        if len(head) < len(_MAGIC_V1) + _PREFIX.size or magic not in (_MAGIC_V1, _MAGIC_V2):
            raise CacheError("bad magic or too short")
        hlen, hcrc = _PREFIX.unpack_from(head, len(magic))
        start = len(magic) + _PREFIX.size
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
        if data_offset < 0 or payload_bytes < 0 or st.st_size != data_offset + payload_bytes:
            raise CacheError("length %d, expected %d (truncated?)" % (st.st_size, data_offset + payload_bytes))
        stat = (st.st_ino, st.st_mtime_ns)
        if header_only:
            return header, None, magic, stat
        buf = np.empty(payload_bytes + (-payload_bytes) % 8, np.uint8)
        buf[payload_bytes:] = 0
        have = len(head) - data_offset
        if have > 0:
            take = min(have, payload_bytes)
            buf[:take] = np.frombuffer(head, np.uint8, take, data_offset)
        else:
            take = 0
            fh.seek(data_offset)
        view = memoryview(buf)[take:payload_bytes]
        while take < payload_bytes:
            got = fh.readinto(view)
            if not got:
                raise CacheError("short read")
            take += got
            view = view[got:]
    if header.get("checksum") != "sum64:%016x" % int(buf.view("<u8").sum(dtype=np.uint64)):
        raise CacheError("payload checksum mismatch")
    return header, buf, magic, stat


def native_read(path: str, header_only: bool = False) -> PartFile:
    """Read and verify a native file of either version. :raises CacheError: on any mismatch.
    :raises OSError: on I/O errors."""
    header, buf, magic, stat = _read_native(path, header_only)
    if buf is None:
        return PartFile(header, path, stat, None)
    try:
        fill = _v1_filler(header, buf) if magic == _MAGIC_V1 else _v2_filler(header, buf)
    except (KeyError, ValueError, TypeError, IndexError) as exc:
        raise CacheError("inconsistent layout: %s" % exc) from None
    return PartFile(header, path, stat, fill)


def _segment(buf: np.ndarray, spec: Dict[str, Any], count: int) -> np.ndarray:
    dtype = np.dtype(spec["dtype"])
    offset = int(spec["offset"])
    if offset < 0 or offset + count * dtype.itemsize > buf.size:
        raise ValueError("array %r lies outside the payload" % spec.get("name"))
    arr = buf[offset:offset + count * dtype.itemsize].view(dtype)
    return arr if dtype.isnative else arr.astype(dtype.newbyteorder("="))


# -- version 1 (read only) ----------------------------------------------------------------------------------

def _v1_filler(header: Dict[str, Any], buf: np.ndarray) -> Callable[[BarArrays, int], None]:
    n = int(header["rows"])
    specs = {spec["name"]: spec for spec in header["arrays"]}
    values = _segment(buf, specs["values"], 6 * n).reshape(6, n)
    t_ns = _segment(buf, specs["t_ns"], n)
    tx = _segment(buf, specs["transactions"], n)
    mask = _segment(buf, specs["tx_mask"], n).view(np.bool_)

    def fill(dest: BarArrays, at: int) -> None:
        dest.t_ns[at:at + n] = t_ns
        dest.values[:, at:at + n] = values
        dest.transactions[at:at + n] = tx
        dest.tx_mask[at:at + n] = mask

    return fill


# -- version 2 ----------------------------------------------------------------------------------------------

def _narrowest(lo: int, hi: int, kinds: Tuple[Any, ...]) -> np.dtype:
    for kind in kinds:
        info = np.iinfo(kind)
        if info.min <= lo and hi <= info.max:
            return np.dtype(kind).newbyteorder("<")
    return np.dtype(kinds[-1]).newbyteorder("<")


def _int_column(k: np.ndarray) -> Tuple[Dict[str, Any], np.ndarray]:
    """``k`` (int64) as offsets from its minimum (``base``) in the narrowest unsigned type."""
    if not k.size:
        return {"base": 0, "dtype": "|u1"}, k.astype(np.uint8)
    base = int(k.min())
    span = int(k.max()) - base
    if span > np.iinfo(np.int64).max:
        return {"base": 0, "dtype": "<i8", "signed": True}, k.astype("<i8")
    dtype = _narrowest(0, span, _UNSIGNED)
    return {"base": base, "dtype": dtype.str}, (k - base).astype(dtype) if base else k.astype(dtype)


def _exact_decimals(x: np.ndarray, exp: int) -> Optional[np.ndarray]:
    """``k`` (int64) with ``k / 10**exp`` bit-identical to ``x``, or ``None``."""
    scale = 10.0 ** exp
    k = np.rint(x * scale)
    if not float(np.abs(k).max()) < _EXACT:
        return None
    k = k.astype(np.int64)
    return k if np.array_equal(np.divide(k, scale).view(np.int64), x.view(np.int64)) else None


def _float_column(x: np.ndarray) -> Tuple[Dict[str, Any], np.ndarray]:
    if x.size > _SMALL and np.isfinite(x).all() and float(np.abs(x).max()) < _EXACT:
        sample = x[:_SMALL]
        for exp in range(_MAX_EXP + 1):
            if _exact_decimals(sample, exp) is None:  # cheap rejection on the first bars
                continue
            k = _exact_decimals(x, exp)
            if k is None:
                continue
            if float(k.max()) - float(k.min()) < _EXACT:
                spec, data = _int_column(k)
                if data.itemsize < 8:
                    spec.update(codec="dec", exp=exp)
                    return spec, data
            break
    return {"codec": "raw", "dtype": "<f8"}, np.ascontiguousarray(x, dtype="<f8")


def _encoded_columns(arrays: BarArrays) -> List[Tuple[Dict[str, Any], np.ndarray]]:
    n = arrays.rows
    t_ns = np.ascontiguousarray(arrays.t_ns, "<i8")
    tx = np.ascontiguousarray(arrays.transactions, "<i8")
    mask = ({"name": "tx_mask", "codec": "bits", "dtype": "|u1"}, np.packbits(np.asarray(arrays.tx_mask, np.bool_)))
    if n <= _SMALL:  # plain arrays: nothing to gain on a few bars, and less to do
        return ([({"name": "t_ns", "codec": "int", "base": 0, "dtype": "<i8"}, t_ns)]
                + [({"name": name, "codec": "raw", "dtype": "<f8"}, arrays.values[i])
                   for i, name in enumerate(FLOAT_COLUMNS)]
                + [({"name": "transactions", "codec": "int", "base": 0, "dtype": "<i8"}, tx), mask])
    gaps = np.diff(t_ns)
    step = int(np.gcd.reduce(gaps)) or 1
    units = gaps // step
    dtype = _narrowest(0, int(units.max()), _UNSIGNED)
    columns = [({"name": "t_ns", "codec": "delta", "base": int(t_ns[0]), "step": step, "dtype": dtype.str},
                units.astype(dtype))]
    for i, name in enumerate(FLOAT_COLUMNS):
        spec, data = _float_column(np.ascontiguousarray(arrays.values[i]))
        columns.append((dict(spec, name=name), data))
    spec, data = _int_column(tx)
    columns.append((dict(spec, name="transactions", codec="int"), data))
    columns.append(mask)
    return columns


def native_encode(arrays: BarArrays, meta: Dict[str, Any]) -> List[Any]:
    """Return the chunks of a version-2 native file (prefix + header bytes, then the payload) to write in
    order."""
    columns = _encoded_columns(arrays)
    offset = 0
    for spec, data in columns:
        spec["offset"] = offset
        spec["count"] = int(data.size)
        offset += data.nbytes + (-data.nbytes) % 8  # each array padded to 8 bytes
    payload = np.zeros(offset, np.uint8)
    for spec, data in columns:
        payload[spec["offset"]:spec["offset"] + data.nbytes] = np.ascontiguousarray(data).reshape(-1).view(np.uint8)
    header = dict(meta)
    header.update({"format": "polygon-kit-bars", "version": 2, "rows": arrays.rows,
                   "columns": [c[0] for c in columns], "payload_bytes": offset,
                   "checksum": "sum64:%016x" % int(payload.view("<u8").sum(dtype=np.uint64))})
    return [_frame(header, _MAGIC_V2), payload]


def _decode_ints(buf: np.ndarray, spec: Dict[str, Any], n: int, out: np.ndarray) -> None:
    """Write the values of an ``int``/``dec``/``delta`` column into ``out`` (int64, or float64 for ``dec``,
    which the caller then divides by ``10**exp``)."""
    if spec["codec"] == "delta":  # timestamps: base + cumulative gaps * step
        if n:
            out[0] = 0
            out[1:] = _segment(buf, spec, n - 1)
            if spec["step"] != 1:
                out[1:] *= int(spec["step"])
            np.cumsum(out, out=out)
            out += int(spec["base"])
        return
    offsets = _segment(buf, spec, n)
    if out.dtype.kind == "f":  # the sum of two integers below 2**53 is exact in float64
        np.add(offsets, np.float64(spec["base"]), out=out)
    else:
        out[:] = offsets
        if spec["base"]:
            out += int(spec["base"])


def _v2_filler(header: Dict[str, Any], buf: np.ndarray) -> Callable[[BarArrays, int], None]:
    n = int(header["rows"])
    specs = {spec["name"]: spec for spec in header["columns"]}
    if set(specs) != {"t_ns", "transactions", "tx_mask"} | set(FLOAT_COLUMNS):
        raise ValueError("unexpected columns %s" % sorted(specs))
    # everything fill() relies on is checked here, so a bad layout is a CacheError at read time
    expected = {name: n for name in specs}
    expected["t_ns"] = max(n - 1, 0) if specs["t_ns"]["codec"] == "delta" else n
    expected["tx_mask"] = (n + 7) // 8
    for name, spec in specs.items():
        if int(spec["count"]) != expected[name]:
            raise ValueError("column %r has %s values for %d rows" % (name, spec["count"], n))
        _segment(buf, spec, expected[name])
        codec = spec["codec"]
        if codec not in _CODECS[name]:
            raise ValueError("column %r: unknown codec %r" % (name, codec))
        if not all(isinstance(spec.get(field, 0), int) for field in ("base", "exp", "step")):
            raise ValueError("column %r: parameters must be integers" % name)

    def fill(dest: BarArrays, at: int) -> None:
        _decode_ints(buf, specs["t_ns"], n, dest.t_ns[at:at + n])
        for i, name in enumerate(FLOAT_COLUMNS):
            spec = specs[name]
            out = dest.values[i, at:at + n]
            if spec["codec"] == "raw":
                out[:] = _segment(buf, spec, n)
                continue
            _decode_ints(buf, spec, n, out)
            if spec["exp"]:
                np.divide(out, 10.0 ** int(spec["exp"]), out=out)
        _decode_ints(buf, specs["transactions"], n, dest.transactions[at:at + n])
        mask = _segment(buf, specs["tx_mask"], (n + 7) // 8)
        dest.tx_mask[at:at + n] = np.unpackbits(mask, count=n).view(np.bool_)

    return fill


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
    for i, name in enumerate(FLOAT_COLUMNS):
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


def parquet_read(path: str, header_only: bool = False) -> PartFile:
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
    stat = (st.st_ino, st.st_mtime_ns)
    if table is None:
        return PartFile(header, path, stat, None)
    if table.num_rows != int(header.get("rows", -1)):
        raise CacheError("row count does not match the header")

    def fill(dest: BarArrays, at: int) -> None:
        n = table.num_rows
        dest.t_ns[at:at + n] = table.column("timestamp").cast(pa.timestamp("ns", tz="UTC")).cast(pa.int64()).to_numpy()
        for i, name in enumerate(FLOAT_COLUMNS):
            dest.values[i, at:at + n] = table.column(name).to_numpy()
        tx_col = table.column("transactions")
        dest.tx_mask[at:at + n] = np.asarray(tx_col.is_null().to_numpy(zero_copy_only=False), dtype=np.bool_)
        dest.transactions[at:at + n] = tx_col.fill_null(0).to_numpy()

    return PartFile(header, path, stat, fill)
