"""The tick store: trades and quotes by day, one Parquet file per market, kind and day.

Layout under the cache directory: ``.ticks/<market>/<kind>/<YYYY>/<YYYY-MM-DD>.parquet`` with the flat
file's columns (timestamps ``int64`` nanoseconds, exact). A day file exists only when the whole day was
stored (written to a temporary name, renamed at the end), so its presence is its coverage: of every symbol,
or, for a day synced with ``symbols``, of those recorded in the file (:meth:`TickStore.symbols`). Rows keep
the file's order (by ticker, then time), and row groups are small, so reading one symbol reads little.

Futures are stored per venue (``futures_cme``...) as the provider publishes them; ``futures`` in :meth:`has`,
:meth:`days` and :meth:`read` spans the four venues (a day is stored for ``futures`` when every venue's is).
"""

import datetime as _dt
import json
import os
import tempfile
from typing import List, Optional

import pandas as pd

from polygon.exceptions import CacheError, InvalidParameterError
from polygon.flatfiles.layout import TICK_KINDS, check_dataset, markets_of

__all__ = ["TickStore"]

_SYMBOLS_KEY = b"polygon_kit_symbols"


def _pyarrow():
    try:
        import pyarrow as pa
        import pyarrow.parquet as pq
    except ImportError:
        raise CacheError("the tick store needs pyarrow: pip install 'polygon-kit[parquet]'") from None
    return pa, pq


class TickStore:
    """Trades and quotes by day under ``cache_dir/.ticks``."""

    def __init__(self, cache_dir: str) -> None:
        self.root = os.path.join(os.path.abspath(cache_dir), ".ticks")

    def path(self, market: str, kind: str, day: _dt.date) -> str:
        """The file of one day.

        :raises InvalidParameterError: for ``futures`` (a file per venue: name one, ``futures_cme``...).
        """
        check_dataset(market, kind)
        if len(markets_of(market)) > 1:
            raise InvalidParameterError("%s ticks are stored per venue: name one of %s"
                                        % (market, ", ".join(markets_of(market))))
        if kind not in TICK_KINDS:
            raise CacheError("the tick store holds %s, not %r" % (" and ".join(TICK_KINDS), kind))
        return os.path.join(self.root, market, kind, "%04d" % day.year, day.isoformat() + ".parquet")

    def has(self, market: str, kind: str, day: _dt.date, symbol: Optional[str] = None) -> bool:
        """``True`` when the whole day is stored (for ``symbol``, when given: a day synced with ``symbols``
        holds only those)."""
        venues = markets_of(market)
        if len(venues) > 1:
            return all(self.has(venue, kind, day, symbol) for venue in venues)
        path = self.path(market, kind, day)
        if not os.path.exists(path):
            return False
        if symbol is None:
            return True
        held = self.symbols(market, kind, day)
        return held is None or symbol in held

    def symbols(self, market: str, kind: str, day: _dt.date) -> Optional[List[str]]:
        """The symbols a stored day was synced for, or ``None`` (every symbol of the provider's file)."""
        _pa, pq = _pyarrow()
        try:
            meta = pq.read_schema(self.path(market, kind, day)).metadata or {}
        except (OSError, _pa.ArrowException):
            return []
        raw = meta.get(_SYMBOLS_KEY)
        return None if raw is None else list(json.loads(raw.decode("utf-8")))

    def days(self, market: str, kind: str) -> List[_dt.date]:
        """Every stored day, ascending."""
        venues = markets_of(market)
        if len(venues) > 1:
            held = [set(self.days(venue, kind)) for venue in venues]
            return sorted(set.intersection(*held))
        base = os.path.dirname(os.path.dirname(self.path(market, kind, _dt.date(2000, 1, 1))))
        out = []
        for year in sorted(os.listdir(base)) if os.path.isdir(base) else ():
            for name in sorted(os.listdir(os.path.join(base, year))):
                if name.endswith(".parquet") and not name.startswith("."):
                    try:
                        out.append(_dt.date.fromisoformat(name[:-8]))
                    except ValueError:
                        continue
        return out

    def writer(self, market: str, kind: str, day: _dt.date, symbols: Optional[List[str]] = None) -> "_DayWriter":
        """A writer for one day: ``append(frame)`` chunks, then ``commit()`` (or ``abort()``).

        :param symbols: the symbols kept from the file (recorded in the file), ``None`` for all.
        """
        return _DayWriter(self.path(market, kind, day), symbols)

    def read(self, market: str, kind: str, day: _dt.date, symbol: Optional[str] = None) -> pd.DataFrame:
        """One stored day (only ``symbol``'s rows when given).

        :raises CacheError: when the day is not stored (for ``futures``: by no venue).
        """
        venues = markets_of(market)
        if len(venues) > 1:
            frames = [self.read(venue, kind, day, symbol) for venue in venues
                      if os.path.exists(self.path(venue, kind, day))]
            if not frames:
                raise CacheError("no %s %s stored for %s" % (market, kind, day))
            return pd.concat(frames, ignore_index=True)
        _pa, pq = _pyarrow()
        path = self.path(market, kind, day)
        if not os.path.exists(path):
            raise CacheError("no %s %s stored for %s" % (market, kind, day))
        filters = [("ticker", "=", symbol)] if symbol is not None else None
        return pq.read_table(path, filters=filters).to_pandas()


class _DayWriter:
    def __init__(self, path: str, symbols: Optional[List[str]] = None) -> None:
        self.pa, self.pq = _pyarrow()
        self.path = path
        self._meta = None if symbols is None else {_SYMBOLS_KEY: json.dumps(sorted(symbols)).encode("utf-8")}
        os.makedirs(os.path.dirname(path), exist_ok=True)
        fd, self.tmp = tempfile.mkstemp(prefix=".part-", suffix=".parquet", dir=os.path.dirname(path))
        os.close(fd)
        self._writer = None
        self._schema = None
        self.rows = 0

    def append(self, frame: pd.DataFrame) -> None:
        table = self.pa.Table.from_pandas(frame, preserve_index=False)
        if self._writer is None:
            self._schema = table.schema.with_metadata(self._meta) if self._meta else table.schema
            table = table.cast(self._schema)
            self._writer = self.pq.ParquetWriter(self.tmp, self._schema, compression="zstd")
        else:
            table = table.cast(self._schema)
        self._writer.write_table(table, row_group_size=65_536)
        self.rows += len(frame)

    def commit(self) -> str:
        if self._writer is None:  # an empty day: an empty file records that it was stored
            self._writer = self.pq.ParquetWriter(self.tmp, self.pa.schema([("ticker", self.pa.string())],
                                                                          metadata=self._meta))
        self._writer.close()
        os.replace(self.tmp, self.path)
        return self.path

    def abort(self) -> None:
        if self._writer is not None:
            self._writer.close()
        try:
            os.remove(self.tmp)
        except OSError:
            pass
