"""Bars builders for the validator tests: clean frames on the exchange calendar, defects added by hand."""

import numpy as np
import pandas as pd
import pytest

from polygon.markets import sessions

_STEP_MS = {"1min": 60_000, "5min": 300_000, "1hour": 3_600_000}


def build_bars(start="2024-03-04", end="2024-03-08", timeframe="1min", extended=False, seed=1, tz="America/New_York",
               keep=None):
    """A clean bars frame (polygon.markets.frames contract) covering every expected bar of the sessions in range.

    :param keep: optional boolean mask over the expected bars (False = no bar, like a minute without trades).
    """
    minutes = sessions.expected_minutes(start, end, extended=extended)
    if timeframe == "1day":
        opens, _ = sessions.session_bounds(start, end)
        days = pd.to_datetime(opens, unit="ms", utc=True).tz_convert("America/New_York").normalize()
        t_ms = np.asarray(days.tz_convert("UTC").tz_localize(None).values.astype("datetime64[ms]").astype(np.int64))
    else:
        step = _STEP_MS[timeframe]
        t_ms = np.unique(minutes // step * step)
    if keep is not None:
        t_ms = t_ms[np.asarray(keep)]
    n = len(t_ms)
    rng = np.random.default_rng(seed)
    close = 100.0 * np.exp(np.cumsum(rng.normal(0, 0.0008, n)))
    close = np.round(close, 2)
    open_ = np.round(np.concatenate(([100.0], close[:-1])), 2)
    high = np.round(np.maximum(open_, close) + rng.uniform(0, 0.05, n), 2)
    low = np.round(np.minimum(open_, close) - rng.uniform(0, 0.05, n), 2)
    volume = rng.integers(100, 5000, n).astype(float)
    vwap = np.round((high + low + close) / 3, 4)
    index = pd.DatetimeIndex(pd.to_datetime(t_ms, unit="ms", utc=True), name="timestamp").tz_convert(tz)
    return pd.DataFrame({
        "open": open_, "high": high, "low": low, "close": close, "volume": volume, "vwap": vwap,
        "transactions": pd.array(rng.integers(1, 50, n), dtype="Int64"),
    }, index=index)


@pytest.fixture
def make_bars():
    """``make_bars(start, end, timeframe='1min', extended=False, seed=1, tz=..., keep=None) -> DataFrame``."""
    return build_bars
