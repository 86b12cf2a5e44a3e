"""Decoding one day's flat file as it streams in: gzip -> CSV chunks -> bars per symbol, or tick tables.

Nothing holds the whole file: the gzip stream is parsed in chunks of ``chunk_rows`` rows. Aggregate
files become :class:`~polygon.markets.frames.BarArrays` per symbol (the flat files carry no VWAP: it is NaN);
trade and quote files become pyarrow tables appended to the day's tick file by the caller.
"""

import gzip
import io
import logging
from typing import Any, Callable, Dict, Iterator, List, Optional, Set, Tuple

import numpy as np
import pandas as pd

from polygon.exceptions import InvalidSymbolError, PolygonResponseError
from polygon.flatfiles.layout import AGG_COLUMNS, QUOTE_COLUMNS, TRADE_COLUMNS
from polygon.markets.frames import BarArrays, arrays_from_columns, concat_arrays
from polygon.markets.symbols import validate_symbol

__all__ = ["DayBars", "read_day_bars", "read_day_ticks"]

logger = logging.getLogger(__name__)

_AGG_DTYPES = {"ticker": "object", "volume": "float64", "open": "float64", "close": "float64", "high": "float64",
               "low": "float64", "window_start": "int64", "transactions": "float64"}


class _ChunkReader(io.RawIOBase):
    """A file object over an iterator of byte chunks (what gzip reads from)."""

    def __init__(self, chunks: Iterator[bytes]) -> None:
        self._chunks = chunks
        self._buffer = b""

    def readable(self) -> bool:
        return True

    def readinto(self, target) -> int:
        while not self._buffer:
            try:
                self._buffer = next(self._chunks)
            except StopIteration:
                return 0
        n = min(len(target), len(self._buffer))
        target[:n] = self._buffer[:n]
        self._buffer = self._buffer[n:]
        return n


def _text_stream(chunks: Iterator[bytes]) -> Any:
    raw = io.BufferedReader(_ChunkReader(chunks), buffer_size=1 << 20)
    return gzip.GzipFile(fileobj=raw, mode="rb")


class DayBars:
    """The bars of one day file, by symbol.

    :ivar bars: ``{symbol: BarArrays}`` (sorted, unique). :ivar rows: rows read.
    :ivar skipped: tickers that are not valid symbols (never written anywhere).
    """

    def __init__(self) -> None:
        self.bars: Dict[str, BarArrays] = {}
        self.rows = 0
        self.skipped: Set[str] = set()


def read_day_bars(chunks: Iterator[bytes], wanted: Optional[Set[str]] = None, chunk_rows: int = 200_000,
                  key: str = "") -> DayBars:
    """Parse an aggregate day file (``minute_aggs`` or ``day_aggs``) into bars per symbol.

    :param chunks: the file's bytes (gzip), as they arrive.
    :param wanted: keep only these symbols (``None``: every valid symbol).
    :raises PolygonResponseError: for a file that is not the documented CSV.
    """
    out = DayBars()
    parts: Dict[str, List[BarArrays]] = {}
    valid: Dict[str, bool] = {}
    try:
        reader = pd.read_csv(_text_stream(chunks), dtype=_AGG_DTYPES, chunksize=chunk_rows,
                             keep_default_na=False, na_values=[""])
        for frame in reader:
            _check_columns(frame, AGG_COLUMNS, key)
            out.rows += len(frame)
            _split_bars(frame, wanted, valid, parts, out.skipped)
    except (OSError, EOFError, ValueError, pd.errors.ParserError) as exc:
        raise PolygonResponseError("flat file %s is not a readable gzipped CSV (%s)" % (key, exc)) from None
    for symbol, pieces in parts.items():
        out.bars[symbol] = pieces[0] if len(pieces) == 1 else concat_arrays(pieces)
    return out


def _check_columns(frame: pd.DataFrame, expected: Tuple[str, ...], key: str) -> None:
    missing = [c for c in expected if c not in frame.columns]
    if missing:
        raise PolygonResponseError("flat file %s lacks columns %s (has %s)" % (key, missing, list(frame.columns)))


def _split_bars(frame: pd.DataFrame, wanted: Optional[Set[str]], valid: Dict[str, bool],
                parts: Dict[str, List[BarArrays]], skipped: Set[str]) -> None:
    tickers = frame["ticker"].to_numpy(dtype=object)
    if wanted is not None:
        keep = frame["ticker"].isin(wanted).to_numpy()
        if not keep.any():
            return
        frame, tickers = frame[keep], tickers[keep]
    # rows are grouped by ticker in the provider's files; a stable sort keeps any other order correct too
    order = np.argsort(tickers, kind="stable")
    tickers = tickers[order]
    starts = np.flatnonzero(np.r_[True, tickers[1:] != tickers[:-1]])
    ends = np.r_[starts[1:], len(tickers)]
    cols = {name: frame[name].to_numpy()[order] for name in AGG_COLUMNS[1:]}
    for a, b in zip(starts.tolist(), ends.tolist()):
        symbol = tickers[a]
        ok = valid.get(symbol)
        if ok is None:
            ok = valid[symbol] = _valid(symbol)
        if not ok:
            skipped.add(symbol)
            continue
        parts.setdefault(symbol, []).append(arrays_from_columns(
            cols["window_start"][a:b], cols["open"][a:b], cols["high"][a:b], cols["low"][a:b], cols["close"][a:b],
            cols["volume"][a:b], None, cols["transactions"][a:b], unit="ns"))


def _valid(symbol: Any) -> bool:
    try:
        return isinstance(symbol, str) and validate_symbol(symbol) == symbol
    except InvalidSymbolError:
        return False


def read_day_ticks(chunks: Iterator[bytes], kind: str, sink: Callable[[pd.DataFrame], None],
                   wanted: Optional[Set[str]] = None, chunk_rows: int = 500_000, key: str = "") -> int:
    """Parse a ``trades`` or ``quotes`` day file, handing each chunk (a DataFrame) to ``sink``.

    Timestamps stay exact ``int64`` nanoseconds; sizes are float (the provider allows fractional sizes).

    :returns: rows kept.
    """
    columns = TRADE_COLUMNS if kind == "trades" else QUOTE_COLUMNS
    dtypes = {name: "int64" for name in columns if name.endswith("_timestamp")}
    dtypes.update({"ticker": "object", "conditions": "object", "indicators": "object", "id": "object",
                   "trf_id": "object", "price": "float64", "size": "float64", "ask_price": "float64",
                   "bid_price": "float64", "ask_size": "float64", "bid_size": "float64"})
    kept = 0
    try:
        reader = pd.read_csv(_text_stream(chunks), dtype={k: v for k, v in dtypes.items() if v != "int64"},
                             chunksize=chunk_rows, keep_default_na=False, na_values=[""])
        for frame in reader:
            _check_columns(frame, columns, key)
            if wanted is not None:
                frame = frame[frame["ticker"].isin(wanted)]
            if frame.empty:
                continue
            for name in columns:
                if name.endswith("_timestamp"):  # exact int64 ns; a column with gaps (trf_timestamp) is nullable
                    values = pd.to_numeric(frame[name], errors="coerce")
                    frame[name] = values.astype("Int64" if values.isna().any() else np.int64)
            kept += len(frame)
            sink(frame.reset_index(drop=True))
    except (OSError, EOFError, ValueError, pd.errors.ParserError) as exc:
        raise PolygonResponseError("flat file %s is not a readable gzipped CSV (%s)" % (key, exc)) from None
    return kept
