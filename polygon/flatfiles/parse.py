"""One aggregate day file (gzipped CSV bytes) -> columns grouped by symbol (pure: bytes in, arrays out).

Two engines give the same result: pyarrow's multithreaded CSV reader when pyarrow is installed (the
``parquet`` extra), else ``pandas.read_csv``. Both read the whole decompressed day at once (a full-market
minute file is about 90 MB of text; memory per day in flight stays bounded whatever the number of days).

With ``wanted`` symbols, only their lines are handed to the CSV parser: the provider's files hold each
ticker's rows together, so the lines of a ticker lie between the first and the last occurrence of
``\\n<TICKER>,``, found by two byte searches (rows of other tickers that fall in that slice, in a file not
grouped by ticker, are dropped after parsing; the result is the same either way).

The result, :class:`DayColumns`, holds every kept row sorted by symbol then time, unique per symbol
(a repeated ``window_start`` keeps the last row, as a re-fetch would), with ``starts``/``ends`` per symbol.
Futures files carry ``dollar_volume``: their bars get ``vwap = dollar_volume / volume`` (rounded to 4 places), as
the futures REST bars do; the other markets' files carry none, so their ``vwap`` is NaN.
Tickers that are not valid symbols (:func:`polygon.markets.symbols.validate_symbol` would change or reject them:
lower-case suffixes such as ``ABRpD``, spaces, slashes, over-long names) are never stored: they are counted
in ``skipped`` for the sync report.
"""

import gzip
import io
import zlib
from dataclasses import dataclass
from typing import Any, Dict, List, Optional, Set

import numpy as np

from polygon.exceptions import InvalidSymbolError, PolygonResponseError
from polygon.flatfiles.layout import AGG_COLUMNS
from polygon.markets.symbols import validate_symbol

__all__ = ["DayColumns", "ENGINES", "arrow_available", "decompress", "parse_day_bars", "select_lines"]

ENGINES = ("auto", "pyarrow", "pandas")
#: above this many wanted symbols, parsing the whole file and filtering costs less than the byte searches
_SELECT_MAX = 64
_FLOATS = ("open", "high", "low", "close", "volume")
_DOLLARS = "dollar_volume"
_VALID: Dict[str, bool] = {}


def arrow_available() -> bool:
    """``True`` when pyarrow's CSV reader can be imported."""
    try:
        import pyarrow.csv  # noqa: F401
    except ImportError:
        return False
    return True


@dataclass
class DayColumns:
    """The bars of one day file, grouped by symbol.

    :ivar symbols: kept symbols, sorted. :ivar starts: first row of each symbol. :ivar ends: end row (exclusive).
    :ivar t_ns: bar start times (UTC epoch ns). :ivar values: ``(6, n)`` float64: open, high, low, close,
        volume, vwap (dollar volume / volume where the file has ``dollar_volume``, else NaN).
    :ivar transactions: int64. :ivar tx_mask: ``True`` where transactions is missing.
    :ivar rows: rows in the file. :ivar skipped: tickers not stored (invalid).
    """

    symbols: List[str]
    starts: np.ndarray
    ends: np.ndarray
    t_ns: np.ndarray
    values: np.ndarray
    transactions: np.ndarray
    tx_mask: np.ndarray
    rows: int
    skipped: Set[str]

    @property
    def kept(self) -> int:
        """Rows kept."""
        return int(self.t_ns.shape[0])


def decompress(data: bytes, key: str = "") -> bytes:
    """The CSV text of a gzipped file (several gzip members allowed).

    :raises PolygonResponseError: for bytes that are not gzip.
    """
    try:
        if data[:2] == b"\x1f\x8b":
            one = zlib.decompressobj(31)
            text = one.decompress(data)
            if not one.unused_data and one.eof:
                return text
        return gzip.decompress(data)
    except (OSError, EOFError, zlib.error) as exc:
        raise PolygonResponseError("flat file %s is not a readable gzipped CSV (%s)" % (key, exc)) from None


def select_lines(text: bytes, wanted: Set[str]) -> bytes:
    """The header line and the lines of ``wanted`` tickers (a superset when the file is not grouped by ticker)."""
    head_end = text.find(b"\n") + 1
    if head_end <= 0:
        return text
    if text[head_end:head_end + 1] == b'"':  # quoted fields: the byte search does not apply
        return text
    pieces = [text[:head_end]]
    for symbol in sorted(wanted):
        needle = b"\n" + symbol.encode("ascii") + b","
        first = text.find(needle, head_end - 1)
        if first < 0:
            continue
        last = text.rfind(needle, first)
        end = text.find(b"\n", last + 1)
        piece = text[first + 1:] if end < 0 else text[first + 1:end + 1]
        pieces.append(piece if piece.endswith(b"\n") else piece + b"\n")
    return b"".join(pieces)


def parse_day_bars(data: bytes, wanted: Optional[Set[str]] = None, key: str = "", engine: str = "auto",
                   compressed: bool = True) -> DayColumns:
    """Parse an aggregate day file (``minute_aggs`` or ``day_aggs``).

    :param data: the file's bytes (gzip unless ``compressed=False``).
    :param wanted: keep only these (validated) symbols; ``None`` keeps every valid one.
    :param engine: ``'auto'`` (pyarrow when installed), ``'pyarrow'`` or ``'pandas'``.
    :raises PolygonResponseError: for a file that is not the documented gzipped CSV.
    """
    if engine not in ENGINES:
        raise PolygonResponseError("unknown CSV engine %r; allowed: %s" % (engine, ", ".join(ENGINES)))
    text = decompress(data, key) if compressed else data
    del data
    total = None
    if wanted is not None and len(wanted) <= _SELECT_MAX:
        total = text.count(b"\n") - 1 + (0 if text.endswith(b"\n") else 1)
        text = select_lines(text, wanted)
    use_arrow = engine == "pyarrow" or (engine == "auto" and arrow_available())
    try:
        cols = _read_arrow(text, key) if use_arrow else _read_pandas(text, key)
    except PolygonResponseError:
        raise
    except (ValueError, TypeError, KeyError, OSError, EOFError) as exc:
        raise PolygonResponseError("flat file %s is not the documented CSV (%s)" % (key, exc)) from None
    out = _group(cols, wanted)
    if total is not None:
        out.rows = max(total, 0)
    return out


def _read_arrow(text: bytes, key: str) -> Dict[str, Any]:
    import pyarrow as pa
    import pyarrow.compute as pc
    import pyarrow.csv as pacsv

    types = {"ticker": pa.string(), "window_start": pa.int64(), "transactions": pa.int64(),
             "session_end_date": pa.string(), _DOLLARS: pa.float64()}
    types.update({name: pa.float64() for name in _FLOATS})
    try:
        table = pacsv.read_csv(pa.py_buffer(text), read_options=pacsv.ReadOptions(use_threads=True,
                                                                                   block_size=1 << 22),
                               convert_options=pacsv.ConvertOptions(column_types=types, strings_can_be_null=False,
                                                                    null_values=[""]))
    except pa.ArrowInvalid as exc:
        raise PolygonResponseError("flat file %s is not the documented CSV (%s)" % (key, str(exc)[:200])) from None
    _check_columns(table.column_names, key)
    if table.num_rows == 0:
        return _empty_cols()
    ticker = table.column("ticker").combine_chunks()
    runs = pc.run_end_encode(ticker)
    tx = table.column("transactions").combine_chunks()
    return {"run_values": runs.values.to_pylist(), "run_ends": runs.run_ends.to_numpy().astype(np.int64),
            "ticker": None, "t_ns": _numpy(table.column("window_start")),
            "floats": [_numpy(table.column(name)) for name in _FLOATS],
            "transactions": tx.fill_null(0).to_numpy(zero_copy_only=False).astype(np.int64, copy=False),
            "tx_mask": tx.is_null().to_numpy(zero_copy_only=False),
            "dollars": (table.column(_DOLLARS).combine_chunks().to_numpy(zero_copy_only=False).astype(np.float64)
                        if _DOLLARS in table.column_names else None)}


def _numpy(column: Any) -> np.ndarray:
    array = column.combine_chunks()
    if array.null_count:
        raise ValueError("%d empty values in a column that needs one in every row" % array.null_count)
    return array.to_numpy(zero_copy_only=False)


def _read_pandas(text: bytes, key: str) -> Dict[str, Any]:
    import pandas as pd

    dtypes = {"ticker": "object", "window_start": "int64", "transactions": "float64", "session_end_date": "object",
              _DOLLARS: "float64"}
    dtypes.update({name: "float64" for name in _FLOATS})
    try:
        frame = pd.read_csv(io.BytesIO(text), dtype=dtypes, keep_default_na=False, na_values=[""])
    except pd.errors.ParserError as exc:
        raise PolygonResponseError("flat file %s is not the documented CSV (%s)" % (key, str(exc)[:200])) from None
    _check_columns(list(frame.columns), key)
    if frame.empty:
        return _empty_cols()
    tickers = frame["ticker"].to_numpy(dtype=object)
    floats = [frame[name].to_numpy(dtype=np.float64) for name in _FLOATS]
    tx = frame["transactions"].to_numpy(dtype=np.float64)
    mask = np.isnan(tx)
    change = np.flatnonzero(tickers[1:] != tickers[:-1]) + 1
    ends = np.r_[change, len(tickers)].astype(np.int64)
    starts = np.r_[0, change]
    return {"run_values": [tickers[i] for i in starts.tolist()], "run_ends": ends, "ticker": tickers,
            "t_ns": frame["window_start"].to_numpy(dtype=np.int64), "floats": floats,
            "transactions": np.where(mask, 0, tx).astype(np.int64), "tx_mask": mask,
            "dollars": frame[_DOLLARS].to_numpy(dtype=np.float64) if _DOLLARS in frame.columns else None}


def _empty_cols() -> Dict[str, Any]:
    return {"run_values": [], "run_ends": np.empty(0, np.int64), "ticker": None, "t_ns": np.empty(0, np.int64),
            "floats": [np.empty(0) for _ in _FLOATS], "transactions": np.empty(0, np.int64),
            "tx_mask": np.empty(0, np.bool_), "dollars": None}


def _check_columns(names: List[str], key: str) -> None:
    missing = [c for c in AGG_COLUMNS if c not in names]
    if missing:
        raise PolygonResponseError("flat file %s lacks columns %s (has %s)" % (key, missing, list(names)[:20]))


def _valid(symbol: Any) -> bool:
    ok = _VALID.get(symbol)
    if ok is None:
        try:
            ok = isinstance(symbol, str) and validate_symbol(symbol) == symbol
        except InvalidSymbolError:
            ok = False
        if len(_VALID) < 1_000_000:
            _VALID[symbol] = ok
    return ok


def _group(cols: Dict[str, Any], wanted: Optional[Set[str]]) -> DayColumns:
    """Runs of tickers -> kept symbols sorted, rows sorted by (symbol, time) and unique."""
    run_values, run_ends = cols["run_values"], cols["run_ends"]
    n = int(run_ends[-1]) if len(run_ends) else 0
    run_starts = np.r_[0, run_ends[:-1]].astype(np.int64) if len(run_ends) else np.empty(0, np.int64)
    skipped: Set[str] = set()
    keep_runs: Dict[str, List[int]] = {}
    for i, name in enumerate(run_values):
        if not _valid(name):
            skipped.add(str(name)[:80])
            continue
        if wanted is not None and name not in wanted:
            continue
        keep_runs.setdefault(name, []).append(i)
    symbols = sorted(keep_runs)
    # the row order: symbols sorted, each symbol's runs in file order (one run per symbol in grouped files)
    pieces = [(run_starts[i], run_ends[i]) for s in symbols for i in keep_runs[s]]
    if pieces and len(pieces) == len(run_values) and all(pieces[k][0] == (pieces[k - 1][1] if k else 0)
                                                         for k in range(len(pieces))):
        order = None  # every run kept, already in order: no copy
    else:
        order = (np.concatenate([np.arange(a, b) for a, b in pieces]) if pieces else np.empty(0, np.int64))
    counts = np.array([sum(int(run_ends[i] - run_starts[i]) for i in keep_runs[s]) for s in symbols], np.int64)
    t_ns = cols["t_ns"] if order is None else cols["t_ns"][order]
    values = np.empty((6, t_ns.shape[0]), np.float64)
    for j, column in enumerate(cols["floats"]):
        values[j] = column if order is None else column[order]
    dollars = cols.get("dollars")
    if dollars is None:
        values[5] = np.nan
    else:  # futures: the REST bars' vwap, dollar volume / volume
        dollars = dollars if order is None else dollars[order]
        with np.errstate(invalid="ignore", divide="ignore"):
            values[5] = np.round(np.where(values[4] > 0, dollars / np.where(values[4] > 0, values[4], 1.0), np.nan), 4)
    tx = cols["transactions"] if order is None else cols["transactions"][order]
    mask = np.asarray(cols["tx_mask"] if order is None else cols["tx_mask"][order], np.bool_)
    ends = np.cumsum(counts)
    starts = ends - counts
    out = DayColumns(symbols, starts, ends, np.ascontiguousarray(t_ns, np.int64), values,
                     np.ascontiguousarray(tx, np.int64), mask, n, skipped)
    return _sorted_unique(out)


def _sorted_unique(day: DayColumns) -> DayColumns:
    """Sort each symbol's rows by time and keep the last of equal times (a no-op check for the usual file)."""
    t = day.t_ns
    if t.shape[0] < 2:
        return day
    first_row = np.zeros(t.shape[0], np.bool_)
    first_row[day.starts[day.starts < t.shape[0]]] = True
    if bool(np.all((np.diff(t) > 0) | first_row[1:])):
        return day
    group = np.repeat(np.arange(len(day.symbols)), day.ends - day.starts)
    order = np.lexsort((np.arange(t.shape[0]), t, group))  # stable: equal times keep file order
    t, group = t[order], group[order]
    last = np.ones(t.shape[0], np.bool_)
    last[:-1] = (t[1:] != t[:-1]) | (group[1:] != group[:-1])
    take = order[last]
    counts = np.bincount(group[last], minlength=len(day.symbols))
    ends = np.cumsum(counts)
    return DayColumns(day.symbols, ends - counts, ends, day.t_ns[take], day.values[:, take],
                      day.transactions[take], day.tx_mask[take], day.rows, day.skipped)
