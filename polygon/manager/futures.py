"""Futures bars for the cache: the provider's futures aggregates (``/futures/v1/aggs/{ticker}``) as the bar
columns of every other market (``t`` window start in ms, ``o h l c v``, ``vw`` = dollar volume / volume, ``n``).

Futures have their own aggregates endpoint (a ``resolution`` such as ``1min`` or ``1session`` and a
``window_start`` range in nanoseconds) instead of ``/v2/aggs``; a daily bar is the Globex session, starting at
its open, 18:00 New York the evening before its trading date (:mod:`polygon.markets.futures`).

The fields of a futures aggregate that are not bar columns (``session_end_date``, a session's
``settlement_price``) are not in ``fetch_data``'s frame, which has the same columns for all six markets: the
generated ``list_futures_aggregates`` / ``list_futures_aggregates_df`` return every field, and the
``session_aggs`` flat files keep ``settlement_price`` in each row.
"""

from typing import Any, Dict

import numpy as np

from polygon.exceptions import InvalidParameterError
from polygon.markets.futures import resolution
from polygon.markets.timeframes import Timeframe

__all__ = ["futures_bar_columns"]


def futures_bar_columns(client: Any, symbol: str, tf: Timeframe, start_ms: int, end_ms: int) -> Dict[str, np.ndarray]:
    """Bars of ``symbol`` whose window starts in ``[start_ms, end_ms]``, ascending, as wire columns.

    :param client: a :class:`~polygon.core.PolygonClient` (its generated ``list_futures_aggregates``).
    :raises InvalidParameterError: for a timeframe the futures aggregates do not offer.
    :raises PolygonAPIError: the provider refused.
    """
    res = resolution(tf.multiplier, tf.timespan)
    if res is None:
        raise InvalidParameterError("timeframe %s has no futures resolution" % tf.name)
    bars = list(client.list_futures_aggregates(symbol, resolution=res, window_start_gte=start_ms * 1_000_000,
                                               window_start_lte=end_ms * 1_000_000, sort="window_start.asc"))
    volume = np.array([b.volume or 0.0 for b in bars], dtype=np.float64)
    dollars = np.array([b.dollar_volume if b.dollar_volume is not None else np.nan for b in bars], dtype=np.float64)
    with np.errstate(invalid="ignore", divide="ignore"):
        vwap = np.where(volume > 0, dollars / np.where(volume > 0, volume, 1.0), np.nan)
    return {
        "t": np.array([b.window_start // 1_000_000 for b in bars], dtype=np.int64),
        "o": np.array([b.open for b in bars], dtype=np.float64),
        "h": np.array([b.high for b in bars], dtype=np.float64),
        "l": np.array([b.low for b in bars], dtype=np.float64),
        "c": np.array([b.close for b in bars], dtype=np.float64),
        "v": volume,
        "vw": np.round(vwap, 4),
        "n": np.array([b.transactions if b.transactions is not None else np.nan for b in bars], dtype=np.float64),
    }
