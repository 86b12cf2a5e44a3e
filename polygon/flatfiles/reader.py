"""Decoding one day's trades or quotes file as it streams in: gzip -> CSV chunks -> tick tables.

Nothing holds the whole file: the gzip stream is parsed in chunks of ``chunk_rows`` rows, each handed to the
caller (the tick store's day writer). Aggregate files are parsed by :mod:`polygon.flatfiles.parse`.
"""

import gzip
import io
import logging
from typing import Any, Callable, Iterator, Optional, Set, Tuple

import numpy as np
import pandas as pd

from polygon.exceptions import PolygonResponseError
from polygon.flatfiles.layout import QUOTE_COLUMNS, TRADE_COLUMNS

__all__ = ["read_day_ticks"]

logger = logging.getLogger(__name__)


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


def _check_columns(frame: pd.DataFrame, expected: Tuple[str, ...], key: str) -> None:
    missing = [c for c in expected if c not in frame.columns]
    if missing:
        raise PolygonResponseError("flat file %s lacks columns %s (has %s)" % (key, missing, list(frame.columns)))


def _is_time(name: str) -> bool:
    return name == "timestamp" or name.endswith("_timestamp")


def read_day_ticks(chunks: Iterator[bytes], kind: str, sink: Callable[[pd.DataFrame], None],
                   wanted: Optional[Set[str]] = None, chunk_rows: int = 500_000, key: str = "",
                   columns: Optional[Tuple[str, ...]] = None) -> int:
    """Parse a ``trades`` or ``quotes`` day file, handing each chunk (a DataFrame) to ``sink``.

    Timestamps stay exact ``int64`` nanoseconds; sizes are float (the provider allows fractional sizes).

    :param columns: the columns the file must have (default the stocks-style trades or quotes columns; futures
        files have their own, :func:`polygon.flatfiles.layout.columns_of`). Every column of the file is kept.
    :returns: rows kept.
    """
    if columns is None:
        columns = TRADE_COLUMNS if kind == "trades" else QUOTE_COLUMNS
    dtypes = {name: "int64" for name in columns if _is_time(name)}
    dtypes.update({"ticker": "object", "conditions": "object", "indicators": "object", "id": "object",
                   "session_end_date": "object",
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
                if _is_time(name):  # exact int64 ns; a column with gaps (trf_timestamp) is nullable
                    values = pd.to_numeric(frame[name], errors="coerce")
                    frame[name] = values.astype("Int64" if values.isna().any() else np.int64)
            kept += len(frame)
            sink(frame.reset_index(drop=True))
    except (OSError, EOFError, ValueError, pd.errors.ParserError) as exc:
        raise PolygonResponseError("flat file %s is not a readable gzipped CSV (%s)" % (key, exc)) from None
    return kept
