"""Trades and quotes as DataFrames: ``fetch_trades`` and ``fetch_quotes``, by day, through two stores.

For each day of the range, the ticks come from the first place that has the whole day:

1. the tick store filled by flat-file sync (:mod:`polygon.flatfiles`; every symbol of a day in one file);
2. this module's own per-symbol day files (``<cache>/.ticks/<market>/<kind>/by_symbol/<SYMBOL>/<day>.parquet``),
   written after a REST download of a finished day (``use_cache=True``, needs pyarrow);
3. the REST API (``list_trades`` / ``list_quotes``, or ``list_futures_trades`` / ``list_futures_quotes`` for a
   futures contract such as ``ESZ5``; every page of the day, ascending).

Days are New York calendar days for stocks, options and indices, UTC days for crypto and forex (the provider's
day boundaries) and trading dates for futures (``session_end_date``: the Globex session from 18:00 New York the
evening before to 18:00, :func:`day_bounds_ms`). Days without a session for the symbol
(:func:`polygon.markets.trading_days`: exchange holidays and weekends, an option's days after its expiry, the CME
calendar's holidays for futures, Saturdays for forex) are skipped without a request. A day counts
only when it is over (a day still in progress is always fetched, never stored). The frame has ``ticker`` first,
then the columns of the generated ``list_trades_df`` / ``list_quotes_df`` tables (futures: of
``list_futures_trades_df`` / ``list_futures_quotes_df``; nanosecond timestamps exact, tz-aware in the configured
timezone), ordered by ``sip_timestamp`` (futures: ``timestamp``); a column a stored file adds follows them.
``df.attrs`` holds ``symbol``, ``kind``, ``start``, ``end`` and ``source`` per day. Stocks, options, crypto and
futures have trades; stocks, options, forex and futures have quotes. Futures ticks synced from flat files are
stored per venue; the tick store's ``futures`` spans the four.
"""

import datetime as _dt
import itertools
import logging
import os
import time
from typing import Any, Dict, List, Optional

import numpy as np
import pandas as pd

from polygon.exceptions import InvalidDateRangeError, InvalidParameterError
from polygon.flatfiles.layout import day_bounds_ms, day_zone
from polygon.markets import trading_days
from polygon.markets.dates import format_date
from polygon.markets.symbols import market_of, symbol_to_filename, validate_symbol
from polygon.storage.files import replace_atomically

__all__ = ["day_bounds_ms", "day_zone", "fetch_quotes", "fetch_ticks", "fetch_trades"]

logger = logging.getLogger(__name__)
#: market_of() name -> flat-file market name; kinds each market has
_MARKETS = {"stocks": "stocks", "options": "options", "crypto": "crypto", "fx": "forex", "indices": "indices",
            "futures": "futures"}
_KINDS = {"trades": ("stocks", "options", "crypto", "futures"), "quotes": ("stocks", "options", "forex", "futures")}

#: records a REST page: the endpoints' maximum (a day in the fewest requests)
_PAGE = 50_000


def _endpoint(kind: str, market: str) -> str:
    return ("list_futures_" if market == "futures" else "list_") + kind


def _time_column(market: str) -> str:
    return "timestamp" if market == "futures" else "sip_timestamp"


def _days(start: Any, end: Any) -> List[_dt.date]:
    first = _dt.date.fromisoformat(format_date(start, "start"))
    last = _dt.date.fromisoformat(format_date(end, "end")) if end is not None else first
    if last < first:
        raise InvalidDateRangeError("end %s is before start %s" % (last, first))
    if (last - first).days > 366:
        raise InvalidDateRangeError("tick requests are by day: at most 367 days at once (asked %d)"
                                    % ((last - first).days + 1))
    return [first + _dt.timedelta(days=i) for i in range((last - first).days + 1)]


def _table_dtypes(kind: str, market: str, tz: str) -> Dict[str, str]:
    from polygon._generated.endpoints import ENDPOINTS
    from polygon.core.tables import column_dtypes

    return column_dtypes(ENDPOINTS[_endpoint(kind, market)].table, tz)


def _ticker_first(frame: pd.DataFrame, symbol: str) -> pd.DataFrame:
    """``ticker`` as the first column (the futures tables have one of their own, the others get ``symbol``)."""
    if "ticker" in frame.columns:
        frame.insert(0, "ticker", frame.pop("ticker"))
    else:
        frame.insert(0, "ticker", symbol)
    return frame


def _conform(frame: pd.DataFrame, kind: str, market: str, tz: str, symbol: str) -> pd.DataFrame:
    """A stored day (raw integer timestamps, conditions as text) in the REST table's columns and dtypes; the
    columns a stored file adds follow them, as stored (no field dropped)."""
    out = {}
    n = len(frame)
    dtypes = _table_dtypes(kind, market, tz)
    for column, dtype in dtypes.items():
        values = frame[column] if column in frame else pd.Series([None] * n, dtype=object)
        if dtype.startswith("datetime64"):
            ints = pd.to_numeric(values, errors="coerce").astype("Int64")
            stamps = pd.to_datetime(ints.to_numpy(dtype=np.int64, na_value=np.iinfo(np.int64).min), unit="ns",
                                    utc=True)
            out[column] = pd.Series(stamps, index=frame.index).dt.tz_convert(tz)
        elif column in ("conditions", "indicators"):
            out[column] = values.map(_int_list)
        elif dtype == "object" or dtype == "str":
            text = [None if v is None or (isinstance(v, float) and np.isnan(v)) else str(v) for v in values]
            out[column] = pd.Series(text, index=frame.index, dtype=None if n else object)  # as the REST table
        else:
            out[column] = pd.to_numeric(values, errors="coerce").astype(dtype)
    for column in frame.columns:  # what a file adds beyond the REST table (not the ticker: set below)
        if column not in out and column != "ticker":
            out[column] = frame[column]
    result = pd.DataFrame(out).reset_index(drop=True)
    result = _ticker_first(result.drop(columns="ticker", errors="ignore"), symbol)
    # a file is by ticker, then time (futures: a day spans the venues' files); the frame is by time
    return result.sort_values(_time_column(market), kind="stable", ignore_index=True)


def _int_list(value: Any) -> List[int]:
    if isinstance(value, (list, tuple, np.ndarray)):
        return [int(v) for v in value]
    if value is None or (isinstance(value, float) and np.isnan(value)) or value == "":
        return []
    return [int(v) for v in str(value).replace("[", "").replace("]", "").split(",") if v.strip()]


def _own_path(cache_dir: str, market: str, kind: str, symbol: str, day: _dt.date) -> str:
    return os.path.join(cache_dir, ".ticks", market, kind, "by_symbol", symbol_to_filename(symbol),
                        day.isoformat() + ".parquet")


def _pyarrow():
    try:
        import pyarrow  # noqa: F401
        import pyarrow.parquet as pq
    except ImportError:
        return None
    return pq


def fetch_ticks(kind: str, symbol: str, start: Any, end: Any = None, config: Any = None, client: Any = None,
                use_cache: bool = True, limit_per_day: Optional[int] = None) -> pd.DataFrame:
    """Trades or quotes of ``symbol`` for the days ``start`` .. ``end`` (inclusive; days per :func:`day_zone`).

    :param kind: ``'trades'`` or ``'quotes'``.
    :param symbol: e.g. ``'AAPL'``, ``'O:SPY251219C00500000'``, ``'X:BTCUSD'`` (trades), ``'C:EURUSD'`` (quotes),
        ``'ESZ5'`` (a futures contract; its days are trading dates).
    :param use_cache: read and write stored days (a finished day fetched by REST is stored when pyarrow is there).
    :param limit_per_day: at most this many ticks per day (the first ones); such a partial day is never stored.
    :returns: a DataFrame ordered by ``sip_timestamp`` (futures: ``timestamp``); ``attrs['source']`` maps each day to
        ``'flatfiles'``, ``'cache'`` or ``'api'``.
    :raises InvalidParameterError: for a kind the symbol's market does not have.
    """
    if kind not in _KINDS:
        raise InvalidParameterError("kind must be 'trades' or 'quotes', got %r" % (kind,))
    sym = validate_symbol(symbol)
    market = _MARKETS[market_of(sym)]
    if market not in _KINDS[kind]:
        raise InvalidParameterError("the %s market has no %s (%s have)" % (market, kind, ", ".join(_KINDS[kind])))
    days = _days(start, end)
    if config is None:
        from polygon.config import get_config

        config = get_config()
    tz = config.timezone
    pq = _pyarrow() if use_cache else None
    now_ms = int(time.time() * 1000)
    frames: List[pd.DataFrame] = []
    sources: Dict[str, str] = {}
    open_days = set(trading_days(sym, days[0], days[-1]))
    for day in days:
        if day not in open_days:
            continue  # no session: nothing to ask for
        frame, source = None, None
        if pq is not None:
            frame, source = _stored(config.cache_dir, market, kind, sym, day, tz, pq)
        if frame is None:
            if client is None:
                from polygon.core import PolygonClient

                client = PolygonClient(config=config)
            lo, hi = day_bounds_ms(day, market)
            frame = _ticker_first(_rest_day(client, kind, market, sym, lo, hi, limit_per_day, tz), sym)
            source = "api"
            finished = hi <= now_ms
            if pq is not None and finished and limit_per_day is None:
                _store(pq, _own_path(config.cache_dir, market, kind, sym, day), frame)
        sources[day.isoformat()] = source
        frames.append(frame)
    result = (pd.concat(frames, ignore_index=True) if frames
              else _conform(pd.DataFrame(), kind, market, tz, sym))
    result.attrs.update({"symbol": sym, "kind": kind, "start": days[0].isoformat(), "end": days[-1].isoformat(),
                         "source": sources})
    return result


def _rest_day(client: Any, kind: str, market: str, symbol: str, lo: int, hi: int, limit: Optional[int],
              tz: str) -> pd.DataFrame:
    """One day ``[lo, hi)`` (epoch ms) from REST in the generated table, ascending, in the largest pages."""
    from polygon._generated.endpoints import ENDPOINTS
    from polygon.core.tables import records_frame

    name = _endpoint(kind, market)
    if market == "futures":  # epoch nanoseconds; ``sort`` carries the order
        params = {"timestamp_gte": lo * 1_000_000, "timestamp_lt": hi * 1_000_000, "sort": "timestamp.asc"}
    else:
        params = {"timestamp_gte": lo, "timestamp_lt": hi, "sort": "timestamp", "order": "asc"}
    records = client.iter_records(name, page_size=min(limit or _PAGE, _PAGE), ticker=symbol, **params)
    return records_frame(ENDPOINTS[name].table, list(itertools.islice(records, limit)), tz)


def _stored(cache_dir: str, market: str, kind: str, symbol: str, day: _dt.date, tz: str, pq):
    from polygon.flatfiles.tickstore import TickStore

    store = TickStore(cache_dir)
    if store.has(market, kind, day, symbol):
        raw = store.read(market, kind, day, symbol)
        return _conform(raw, kind, market, tz, symbol), "flatfiles"
    path = _own_path(cache_dir, market, kind, symbol, day)
    if os.path.exists(path):
        raw = pq.read_table(path).to_pandas()
        return _conform(raw, kind, market, tz, symbol), "cache"
    return None, None


def _store(pq, path: str, frame: pd.DataFrame) -> None:
    """Store a REST day with raw int64 timestamps (exact) and conditions as text, atomically."""
    import pyarrow as pa

    raw = {}
    for column in frame.columns:
        values = frame[column]
        if str(values.dtype).startswith("datetime64"):
            naive = values.dt.tz_convert("UTC").dt.tz_localize(None).to_numpy("datetime64[ns]")
            raw[column] = pd.arrays.IntegerArray(naive.view(np.int64), np.isnat(naive))
        elif column in ("conditions", "indicators"):
            raw[column] = values.map(lambda v: ",".join(str(x) for x in (v or [])))
        else:
            raw[column] = values
    table = pa.Table.from_pandas(pd.DataFrame(raw), preserve_index=False)
    replace_atomically(path, lambda tmp: pq.write_table(table, tmp, compression="zstd"))


def fetch_trades(symbol: str, start: Any, end: Any = None, **kwargs: Any) -> pd.DataFrame:
    """Trades of ``symbol`` for the days ``start`` .. ``end`` (see :func:`fetch_ticks`)."""
    return fetch_ticks("trades", symbol, start, end, **kwargs)


def fetch_quotes(symbol: str, start: Any, end: Any = None, **kwargs: Any) -> pd.DataFrame:
    """Quotes of ``symbol`` for the days ``start`` .. ``end`` (see :func:`fetch_ticks`)."""
    return fetch_ticks("quotes", symbol, start, end, **kwargs)
