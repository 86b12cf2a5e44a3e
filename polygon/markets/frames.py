"""The one bars DataFrame contract of polygon-kit.

Every function of the library that returns bars returns a frame of this shape:

- **Index**: a tz-aware :class:`pandas.DatetimeIndex` named ``timestamp``, in the configured timezone
  (default ``America/New_York``; a ``tz=`` argument overrides), holding bar *start* times, sorted
  ascending, unique, at nanosecond resolution (``datetime64[ns, tz]`` on every pandas version, also on
  pandas 3 where other code paths may produce ``us`` or ``s`` units).
- **Columns**, in this order: ``open``, ``high``, ``low``, ``close``, ``volume``, ``vwap``,
  ``transactions``. Prices, volume and vwap are ``float64`` (missing = ``NaN``); ``transactions``
  is the pandas nullable ``Int64`` (missing = ``pd.NA``).
- **Empty** results are :func:`empty_bars_frame` (same columns, dtypes and index type), never ``None``.

``df.attrs`` carries metadata set by the layer that produced the frame (``symbol``, ``timeframe``,
``source``...); the functions here do not rely on it.

Internally bars also travel as :class:`BarArrays` (plain numpy arrays, timestamps as UTC epoch
nanoseconds) so that merging and storage never pay pandas overhead; :func:`frame_to_arrays` and
:func:`arrays_to_frame` convert without copying where possible.
"""

import datetime as _dt
import logging
from typing import Any, Mapping, NamedTuple, Optional, Sequence

import numpy as np
import pandas as pd

from polygon._generated.models import Agg
from polygon.exceptions import InvalidInputError

__all__ = [
    "BAR_COLUMNS",
    "BAR_DTYPES",
    "COLUMN_TO_WIRE",
    "DEFAULT_TZ",
    "FLOAT_COLUMNS",
    "INDEX_NAME",
    "OHLC_COLUMNS",
    "PRICE_COLUMNS",
    "WIRE_COLUMNS",
    "WIRE_TO_COLUMN",
    "BarArrays",
    "arrays_to_frame",
    "arrays_from_columns",
    "arrays_from_wire_columns",
    "bars_frame_from_columns",
    "concat_arrays",
    "conform_bars_frame",
    "empty_arrays",
    "empty_bars_frame",
    "frame_to_arrays",
    "merge_arrays",
    "merge_bars",
    "tz_name",
]

logger = logging.getLogger(__name__)

DEFAULT_TZ = "America/New_York"
# The bar vocabulary of the whole library. Names are the generated Agg model's python field names (checked
# below); the order and dtypes are this contract's. Every other module imports them from here.
INDEX_NAME = "timestamp"
#: The float64 columns, in order.
FLOAT_COLUMNS = ("open", "high", "low", "close", "volume", "vwap")
#: All columns, in order.
BAR_COLUMNS = FLOAT_COLUMNS + ("transactions",)
#: The columns every bar has (the rest may be missing).
OHLC_COLUMNS = FLOAT_COLUMNS[:4]
#: The columns that hold prices (OHLC and vwap).
PRICE_COLUMNS = tuple(name for name in FLOAT_COLUMNS if name != "volume")
#: dtype of each column of a contract frame.
BAR_DTYPES = dict({name: "float64" for name in FLOAT_COLUMNS}, transactions="Int64")
#: Contract name (``timestamp`` or a column) of each provider wire name of a bar, from ``Agg.WIRE_TO_PYTHON``.
WIRE_TO_COLUMN = {wire: name for wire, name in Agg.WIRE_TO_PYTHON.items() if name in BAR_COLUMNS + (INDEX_NAME,)}
#: Provider wire name of ``timestamp`` and of each column.
COLUMN_TO_WIRE = {name: wire for wire, name in WIRE_TO_COLUMN.items()}
#: Wire names in column order, time first: ``('t', 'o', 'h', 'l', 'c', 'v', 'vw', 'n')``.
WIRE_COLUMNS = tuple(COLUMN_TO_WIRE[name] for name in (INDEX_NAME,) + BAR_COLUMNS)
_UNIT_TO_NS = {"s": 1_000_000_000, "ms": 1_000_000, "us": 1_000, "ns": 1}


class BarArrays(NamedTuple):
    """Bars as numpy arrays (the storage and merge representation).

    :ivar t_ns: ``int64`` bar start times, UTC epoch nanoseconds, sorted and unique.
    :ivar values: ``float64`` array of shape ``(6, n)``: open, high, low, close, volume, vwap.
    :ivar transactions: ``int64`` transaction counts (0 where missing).
    :ivar tx_mask: ``bool``, ``True`` where transactions is missing.
    """

    t_ns: np.ndarray
    values: np.ndarray
    transactions: np.ndarray
    tx_mask: np.ndarray

    def __len__(self) -> int:  # type: ignore[override]
        return int(self.t_ns.shape[0])

    @property
    def rows(self) -> int:
        """Number of bars."""
        return int(self.t_ns.shape[0])

    def slice_ns(self, start_ns: Optional[int] = None, end_ns: Optional[int] = None) -> "BarArrays":
        """Return the bars with ``start_ns <= t < end_ns`` (views, no copy)."""
        lo = 0 if start_ns is None else int(np.searchsorted(self.t_ns, start_ns, side="left"))
        hi = self.rows if end_ns is None else int(np.searchsorted(self.t_ns, end_ns, side="left"))
        hi = max(lo, hi)
        return BarArrays(self.t_ns[lo:hi], self.values[:, lo:hi], self.transactions[lo:hi], self.tx_mask[lo:hi])

    def take(self, positions: np.ndarray) -> "BarArrays":
        """Return the bars at ``positions`` (index array or boolean mask)."""
        return BarArrays(self.t_ns[positions], self.values[:, positions], self.transactions[positions],
                         self.tx_mask[positions])


def tz_name(tz: Any) -> str:
    """Return an IANA-style name for a tz object or string (``'UTC'``, ``'America/New_York'``...).

    Works for ``zoneinfo``, ``pytz`` and ``dateutil`` zones and for :class:`datetime.timezone.utc`.
    """
    if tz is None:
        return "UTC"
    if isinstance(tz, str):
        return tz
    for attr in ("key", "zone"):
        name = getattr(tz, attr, None)
        if isinstance(name, str) and name:
            return name
    if tz is _dt.timezone.utc:
        return "UTC"
    text = str(tz)
    if text.startswith("tzfile("):  # dateutil: tzfile('/usr/share/zoneinfo/America/New_York')
        path = text[len("tzfile("):].strip("')\"")
        if "zoneinfo/" in path:
            return path.split("zoneinfo/", 1)[1]
    if text in ("tzutc()", "UTC", "utc"):
        return "UTC"
    return text


def empty_arrays() -> BarArrays:
    """Return a :class:`BarArrays` with no bars."""
    return BarArrays(np.empty(0, np.int64), np.empty((6, 0), np.float64), np.empty(0, np.int64),
                     np.empty(0, np.bool_))


def _index_from_ns_slow(t_ns: np.ndarray, tz: Any) -> pd.DatetimeIndex:
    utc = pd.DatetimeIndex(np.asarray(t_ns, dtype=np.int64).view("datetime64[ns]"), name=INDEX_NAME)
    return utc.tz_localize("UTC").tz_convert(tz)


def _index_from_ns_fast(t_ns: np.ndarray, tz: Any) -> pd.DatetimeIndex:
    # integers are epoch ns in UTC for a tz-aware dtype: ~10x faster than tz_localize + tz_convert
    return pd.DatetimeIndex(np.asarray(t_ns, dtype=np.int64), dtype=pd.DatetimeTZDtype("ns", tz), name=INDEX_NAME)


def _pick_index_builder():
    probe = np.array([1_688_391_000_000_000_000], dtype=np.int64)  # 2023-07-03 13:30 UTC (DST in New York)
    try:
        if _index_from_ns_fast(probe, DEFAULT_TZ).equals(_index_from_ns_slow(probe, DEFAULT_TZ)):
            return _index_from_ns_fast
    except (TypeError, ValueError):
        pass
    return _index_from_ns_slow  # pragma: no cover - a pandas version that reads ints as wall time


_index_from_ns = _pick_index_builder()


def _index_to_ns(index: pd.DatetimeIndex) -> np.ndarray:
    """UTC epoch ns of a tz-aware or naive (already UTC) DatetimeIndex, whatever its unit."""
    if index.tz is not None:
        index = index.tz_convert("UTC").tz_localize(None)
    if hasattr(index, "as_unit"):  # pandas >= 2: non-ns units exist
        index = index.as_unit("ns")
    return np.asarray(index.asi8, dtype=np.int64)


def arrays_to_frame(arrays: BarArrays, tz: Any = DEFAULT_TZ) -> pd.DataFrame:
    """Build a contract frame from :class:`BarArrays` (no copy of the float columns where pandas allows).

    :param arrays: sorted, unique bars.
    :param tz: timezone of the returned index.
    :returns: a frame following the module contract.
    """
    index = _index_from_ns(arrays.t_ns, tz)
    values = arrays.values
    data = {name: values[i] for i, name in enumerate(FLOAT_COLUMNS)}
    data["transactions"] = pd.arrays.IntegerArray(
        np.asarray(arrays.transactions, dtype=np.int64), np.asarray(arrays.tx_mask, dtype=np.bool_)
    )
    return pd.DataFrame(data, index=index, copy=False)


def empty_bars_frame(tz: Any = DEFAULT_TZ) -> pd.DataFrame:
    """Return an empty frame with the contract's columns, dtypes and index type.

    :param tz: timezone of the (empty) index.
    """
    return arrays_to_frame(empty_arrays(), tz)


def _float_array(values: Any, n: int, name: str) -> np.ndarray:
    if values is None:
        return np.full(n, np.nan)
    try:
        arr = np.asarray(values, dtype=np.float64)
    except (TypeError, ValueError):
        # object arrays with None / pd.NA
        arr = pd.to_numeric(pd.Series(list(values), dtype=object), errors="coerce").to_numpy(np.float64)
    if arr.shape != (n,):
        raise InvalidInputError("column %r has %d values, expected %d" % (name, arr.size, n))
    return arr


def _transactions(values: Any, n: int):
    """Return ``(int64 values, bool mask)`` from ints, floats with NaN, objects with None, or Int64."""
    if values is None:
        return np.zeros(n, np.int64), np.ones(n, np.bool_)
    if isinstance(values, (pd.Series, pd.Index)):
        values = values.array
    if isinstance(values, pd.arrays.IntegerArray):
        if len(values) != n:
            raise InvalidInputError("column 'transactions' has %d values, expected %d" % (len(values), n))
        return (np.asarray(values.to_numpy(dtype=np.int64, na_value=0), dtype=np.int64),
                np.asarray(values.isna(), dtype=np.bool_))
    if (
        isinstance(values, pd.api.extensions.ExtensionArray) and values.dtype.kind in "iuf"
    ):  # other nullable ints, floats
        mask = np.asarray(pd.isna(values), dtype=np.bool_)
        filled = np.asarray(values.to_numpy(dtype=np.float64, na_value=0.0))
    else:
        arr = np.asarray(values)
        if arr.dtype.kind in "iu":
            if arr.shape != (n,):
                raise InvalidInputError("column 'transactions' has %d values, expected %d" % (arr.size, n))
            return arr.astype(np.int64, copy=False), np.zeros(n, np.bool_)
        filled = _float_array(arr, n, "transactions")
        mask = np.isnan(filled)
        filled = np.where(mask, 0.0, filled)
    if filled.shape != (n,):
        raise InvalidInputError("column 'transactions' has %d values, expected %d" % (filled.size, n))
    out = filled.astype(np.int64)
    if not np.array_equal(out, filled):
        raise InvalidInputError("column 'transactions' must hold whole numbers")
    return out, mask


def _sort_unique(arrays: BarArrays) -> BarArrays:
    """Sort by time (stable) and keep the LAST row of each duplicated timestamp."""
    t = arrays.t_ns
    if t.size < 2:
        return arrays
    diff = np.diff(t)
    if (diff > 0).all():
        return arrays
    order = np.argsort(t, kind="stable")
    ts = t[order]
    keep = np.empty(ts.size, np.bool_)
    keep[-1] = True
    np.not_equal(ts[1:], ts[:-1], out=keep[:-1])
    return arrays.take(order[keep])


def bars_frame_from_columns(
    t: Any,
    o: Any,
    h: Any,
    l: Any,  # noqa: E741  (the provider's name)
    c: Any,
    v: Any = None,
    vw: Any = None,
    n: Any = None,
    tz: Any = DEFAULT_TZ,
    unit: str = "ms",
) -> pd.DataFrame:
    """Build a contract frame from columns (lists or numpy arrays), vectorised.

    This is how the REST client's columnar pages become a frame: one array per wire field.
    Rows are sorted by time; for duplicated timestamps the last row wins.

    :param t: bar start times as epoch integers in ``unit`` (default milliseconds, as the provider sends).
    :param o: open prices. :param h: highs. :param l: lows. :param c: closes.
    :param v: volumes (``None`` -> NaN). :param vw: vwap (``None`` -> NaN).
    :param n: transaction counts; ints, floats with NaN, or objects with ``None`` (``None`` -> all NA).
    :param tz: timezone of the returned index.
    :param unit: unit of ``t``: ``'s'``, ``'ms'``, ``'us'`` or ``'ns'``.
    :returns: a frame following the module contract.
    :raises InvalidInputError: on mismatched lengths or an unknown unit.
    """
    return arrays_to_frame(arrays_from_columns(t, o, h, l, c, v, vw, n, unit=unit), tz)


def arrays_from_columns(t: Any, o: Any, h: Any, l: Any, c: Any, v: Any = None, vw: Any = None,  # noqa: E741
                        n: Any = None, unit: str = "ms") -> BarArrays:
    """Like :func:`bars_frame_from_columns` but return sorted, unique :class:`BarArrays`."""
    if unit not in _UNIT_TO_NS:
        raise InvalidInputError("unknown time unit %r; use one of %s" % (unit, ", ".join(_UNIT_TO_NS)))
    t_arr = np.asarray(t)
    if t_arr.dtype.kind == "M":
        t_ns = t_arr.astype("datetime64[ns]").view(np.int64)
    else:
        if t_arr.dtype.kind == "f" and t_arr.size and not np.isfinite(t_arr).all():
            raise InvalidInputError("timestamps must be finite numbers")
        t_ns = t_arr.astype(np.int64) * _UNIT_TO_NS[unit]
    t_ns = np.ascontiguousarray(t_ns, dtype=np.int64).reshape(-1)
    size = t_ns.shape[0]
    values = np.empty((6, size), np.float64)
    for i, (name, col) in enumerate(zip(FLOAT_COLUMNS, (o, h, l, c, v, vw))):
        values[i] = _float_array(col, size, name)
    tx, mask = _transactions(n, size)
    return _sort_unique(BarArrays(t_ns, values, tx, mask))


def arrays_from_wire_columns(cols: Mapping[str, Any], unit: str = "ms") -> BarArrays:
    """:func:`arrays_from_columns` of columns keyed by the provider's wire names (``{'t': ..., 'o': ...,
    'vw': ..., 'n': ...}``, as :func:`polygon.core.pages.columns_from_pages` returns them): the one place the
    wire names meet the argument order."""
    return arrays_from_columns(*(cols[key] for key in WIRE_COLUMNS), unit=unit)


def frame_to_arrays(df: pd.DataFrame, tz: Any = None) -> BarArrays:
    """Return the :class:`BarArrays` of a frame (conformed first when it does not follow the contract).

    :param df: bars frame.
    :param tz: timezone used for a naive index (default :data:`DEFAULT_TZ`).
    """
    if not _follows_contract(df):
        df = conform_bars_frame(df, tz=tz)
    t_ns = _index_to_ns(df.index)
    values = np.empty((6, len(df)), np.float64)
    for i, name in enumerate(FLOAT_COLUMNS):
        values[i] = df[name].to_numpy(dtype=np.float64)
    tx, mask = _transactions(df["transactions"], len(df))
    return BarArrays(t_ns, values, tx, mask)


def _follows_contract(df: pd.DataFrame) -> bool:
    if not isinstance(df, pd.DataFrame) or tuple(df.columns) != BAR_COLUMNS:
        return False
    idx = df.index
    if not isinstance(idx, pd.DatetimeIndex) or idx.tz is None or idx.name != INDEX_NAME:
        return False
    if any(df[c].dtype != np.float64 for c in FLOAT_COLUMNS) or str(df["transactions"].dtype) != "Int64":
        return False
    return bool(idx.is_monotonic_increasing and idx.is_unique)


def conform_bars_frame(df: Any, tz: Any = None) -> pd.DataFrame:
    """Coerce a bars-like frame to the contract, or raise.

    Accepted input: a DataFrame whose index is a DatetimeIndex (naive = wall time in ``tz``) or that
    has a ``timestamp``/``t`` column (datetimes, or epoch milliseconds when integer); columns by
    contract name or provider wire name (``o``, ``h``, ``l``, ``c``, ``v``, ``vw``, ``n``). ``open``,
    ``high``, ``low`` and ``close`` are required; ``volume``/``vwap``/``transactions`` default to missing.
    Other columns are dropped. Rows are sorted; for duplicated timestamps the last row wins.

    :param df: the frame to conform (``None`` gives an empty frame).
    :param tz: timezone of the result; default the index's own timezone, else :data:`DEFAULT_TZ`.
    :returns: a new frame following the module contract.
    :raises InvalidInputError: when required columns are missing or values cannot be coerced.
    """
    if df is None:
        return empty_bars_frame(tz or DEFAULT_TZ)
    if not isinstance(df, pd.DataFrame):
        raise InvalidInputError("expected a pandas DataFrame of bars, got %s" % type(df).__name__)
    frame = df.rename(columns={k: v for k, v in WIRE_TO_COLUMN.items() if k in df.columns and v not in df.columns})
    if INDEX_NAME in frame.columns:
        times = frame[INDEX_NAME]
        if times.dtype.kind in "iuf":
            index = pd.DatetimeIndex(pd.to_datetime(times.to_numpy(), unit="ms", utc=True))
        else:
            index = pd.DatetimeIndex(pd.to_datetime(times))
    elif isinstance(frame.index, pd.DatetimeIndex):
        index = frame.index
    elif len(frame) == 0:
        index = pd.DatetimeIndex([], tz="UTC")
    else:
        raise InvalidInputError("bars need a DatetimeIndex or a 'timestamp' column")
    out_tz = tz if tz is not None else (index.tz if index.tz is not None else DEFAULT_TZ)
    if index.tz is None:
        index = index.tz_localize(out_tz, ambiguous="NaT", nonexistent="NaT")
    if index.hasnans:
        raise InvalidInputError("bars have missing or ambiguous timestamps")
    missing = [name for name in OHLC_COLUMNS if name not in frame.columns]
    if missing and len(frame):
        raise InvalidInputError("bars frame lacks required column(s): %s" % ", ".join(missing))
    size = len(frame)

    def col(name: str) -> Any:
        return frame[name].to_numpy() if name in frame.columns else None

    tx = frame["transactions"] if "transactions" in frame.columns else None
    arrays = arrays_from_columns(_index_to_ns(index), col("open"), col("high"), col("low"), col("close"),
                                 col("volume"), col("vwap"), tx, unit="ns") if size else empty_arrays()
    return arrays_to_frame(arrays, out_tz)


def merge_arrays(old: BarArrays, new: BarArrays) -> BarArrays:
    """Union of two sorted bar sets; on equal timestamps the bar from ``new`` wins.

    :returns: sorted, unique bars.
    """
    if old.rows == 0:
        return new
    if new.rows == 0:
        return old
    if old.t_ns[-1] < new.t_ns[0]:  # pure append: the common streaming/update case
        return BarArrays(np.concatenate([old.t_ns, new.t_ns]), np.concatenate([old.values, new.values], axis=1),
                         np.concatenate([old.transactions, new.transactions]),
                         np.concatenate([old.tx_mask, new.tx_mask]))
    lo = int(np.searchsorted(old.t_ns, new.t_ns[0], side="left"))
    hi = int(np.searchsorted(old.t_ns, new.t_ns[-1], side="right"))
    inside = old.t_ns[lo:hi]
    if inside.size == 0 or np.array_equal(new.t_ns[np.searchsorted(new.t_ns, inside)], inside):
        # every old bar within new's span has a newer twin (a refetch): splice, no sort
        return concat_arrays([old.slice_ns(None, int(new.t_ns[0])), new, old.slice_ns(int(new.t_ns[-1]) + 1, None)])
    both = BarArrays(np.concatenate([old.t_ns, new.t_ns]), np.concatenate([old.values, new.values], axis=1),
                     np.concatenate([old.transactions, new.transactions]),
                     np.concatenate([old.tx_mask, new.tx_mask]))
    # stable sort keeps old before new for equal keys, and _sort_unique keeps the last one
    return _sort_unique(both)


def concat_arrays(parts: Sequence[BarArrays]) -> BarArrays:
    """Concatenate already ordered, non-overlapping parts (e.g. storage partitions)."""
    parts = [p for p in parts if p.rows]
    if not parts:
        return empty_arrays()
    if len(parts) == 1:
        return parts[0]
    return BarArrays(np.concatenate([p.t_ns for p in parts]), np.concatenate([p.values for p in parts], axis=1),
                     np.concatenate([p.transactions for p in parts]), np.concatenate([p.tx_mask for p in parts]))


def merge_bars(old: Optional[pd.DataFrame], new: Optional[pd.DataFrame], tz: Any = None) -> pd.DataFrame:
    """Union of two bars frames, sorted; on equal timestamps the row from ``new`` wins.

    No bar of ``old`` is dropped unless ``new`` has a bar with the same timestamp.

    :param old: existing bars (may be ``None`` or empty).
    :param new: newer bars (may be ``None`` or empty).
    :param tz: timezone of the result; default that of ``new``, else of ``old``, else :data:`DEFAULT_TZ`.
    :returns: a frame following the module contract.
    """
    if tz is None:
        for frame in (new, old):
            if isinstance(frame, pd.DataFrame) and isinstance(frame.index, pd.DatetimeIndex) and frame.index.tz:
                tz = frame.index.tz
                break
    tz = tz if tz is not None else DEFAULT_TZ
    a = frame_to_arrays(old, tz) if old is not None else empty_arrays()
    b = frame_to_arrays(new, tz) if new is not None else empty_arrays()
    return arrays_to_frame(merge_arrays(a, b), tz)
