"""The sandbox market's vocabulary: bar columns, day profiles, price anchors and exact aggregation.

Pure functions and types shared by the market model (``market.py``), the tape (``tape.py``) and options
(``options.py``); it imports none of them, so they form no import circle.
"""

import datetime as _dt
import functools
import math
from typing import NamedTuple, Optional

import numpy as np

from polygon.sandbox.universe import Security, stable_seed

MINUTE_MS = 60_000
_PRE_MINUTES = 330  # 04:00 -> 09:30
_POST_MINUTES = 240  # close -> close + 4h
_UNIT_MS = {"second": 1000, "minute": MINUTE_MS, "hour": 60 * MINUTE_MS}
CALENDAR_UNITS = ("day", "week", "month", "quarter", "year")
MAX_TRADES_PER_MINUTE = 40  # the tape's cap: a minute bar's ``n`` is its number of trades


class Profile(NamedTuple):
    """How one market's minutes are drawn."""

    pre: int  # minutes before the regular open (stocks' pre-market)
    post: int  # minutes after the regular close
    day_vol: float  # regular-session log-price volatility per day
    level: float  # amplitude of the slow anchor waves (log units)
    volume: bool  # False: values only (indices)


PROFILES = {
    "stocks": Profile(_PRE_MINUTES, _POST_MINUTES, 0.012, 1.0, True),
    "crypto": Profile(0, 0, 0.035, 2.2, True),
    "fx": Profile(0, 0, 0.005, 0.25, True),
    "indices": Profile(0, 0, 0.009, 0.8, False),
}


class Bars(NamedTuple):
    """Columns of bars, ascending by ``t`` (numpy arrays of equal length)."""

    t: np.ndarray  # int64 epoch ms, bar start
    o: np.ndarray
    h: np.ndarray
    l: np.ndarray  # noqa: E741  (the provider's field name)
    c: np.ndarray
    v: np.ndarray  # int64 shares
    vw: np.ndarray  # rounded vwap
    n: np.ndarray  # int64 transactions
    pv: np.ndarray  # unrounded sum of price x volume (for exact re-aggregation)
    base: np.ndarray  # int64 number of minute bars in each bar (queryCount)

    def __len__(self) -> int:  # type: ignore[override]
        return len(self.t)

    def take(self, index) -> "Bars":
        """Rows selected by a slice, mask or index array."""
        return Bars(*(col[index] for col in self))


def empty_bars() -> Bars:
    i, f = np.empty(0, dtype=np.int64), np.empty(0, dtype=np.float64)
    return Bars(i, f, f, f, f, i, f, i, f, i)


def concat(parts) -> Bars:
    parts = [p for p in parts if len(p)]
    if not parts:
        return empty_bars()
    if len(parts) == 1:
        return parts[0]
    return Bars(*(np.concatenate(cols) for cols in zip(*parts)))


@functools.lru_cache(maxsize=65536)
def midnight_ms(day: _dt.date) -> int:
    """Epoch ms of midnight America/New_York at the start of ``day``."""
    import zoneinfo

    local = _dt.datetime(day.year, day.month, day.day, tzinfo=zoneinfo.ZoneInfo("America/New_York"))
    return int(local.timestamp() * 1000)


def et_date(ms: int) -> _dt.date:
    """The America/New_York calendar date of an epoch-ms instant."""
    import zoneinfo

    return _dt.datetime.fromtimestamp(ms / 1000.0, zoneinfo.ZoneInfo("America/New_York")).date()


def _round_prices(values: np.ndarray, decimals: int) -> np.ndarray:
    return np.round(values, decimals)


def _decimals(price: float, market: str = "stocks") -> int:
    if market == "fx":
        return 3 if price >= 20.0 else 5
    if market == "crypto":
        return 2 if price >= 100.0 else 4 if price >= 1.0 else 6
    return 2 if price >= 1.0 else 4


def trade_count(n: np.ndarray, v: np.ndarray) -> np.ndarray:
    """Trades per minute as the tape makes them: at least 4 (to hold o/h/l/c), at most the cap and ``v``."""
    return np.maximum(1, np.minimum(np.minimum(np.maximum(n, 4), MAX_TRADES_PER_MINUTE), v)).astype(np.int64)


def fit_to_trades(o, h, low, c, vw, n):
    """Bars of fewer than 4 trades hold only what those trades can: one trade is o=h=l=c, two or
    three trades span just the open and the close (the tape puts a middle trade at the open)."""
    few = n < 4
    if not few.any():
        return o, h, low, c, vw
    one = n == 1
    c = np.where(one, o, c)
    h = np.where(few, np.maximum(o, c), h)
    low = np.where(few, np.minimum(o, c), low)
    return o, h, low, c, np.clip(vw, low, h)


class _Day(NamedTuple):
    """All extended-session minutes of one symbol-day (adjusted), with presence masks."""

    t: np.ndarray
    o: np.ndarray
    h: np.ndarray
    l: np.ndarray  # noqa: E741
    c: np.ndarray
    v: np.ndarray
    vw: np.ndarray
    n: np.ndarray
    regular: np.ndarray  # bool: inside 09:30-close
    present: np.ndarray  # bool: the minute had trades


def _anchor_log(sec: Security, day_number: np.ndarray) -> np.ndarray:
    """Smooth, random-access log-price level of ``sec`` on days ``day_number`` (days since epoch)."""
    seed = stable_seed("anchor", sec.ticker)
    phases = [((seed >> (16 * k)) & 0xFFFF) / 65536.0 * 2 * math.pi for k in range(3)]
    x = np.asarray(day_number, dtype=np.float64)
    level = PROFILES.get(sec.market, PROFILES["stocks"]).level
    return (
        math.log(sec.base_price)
        + level * 0.22 * np.sin(2 * math.pi * x / 730.0 + phases[0])
        + level * 0.08 * np.sin(2 * math.pi * x / 97.0 + phases[1])
        + level * 0.03 * np.sin(2 * math.pi * x / 19.0 + phases[2])
    )


def anchor_price(sec: Security, day: _dt.date) -> float:
    """The smooth (split-adjusted) price level of ``sec`` on ``day``."""
    return float(np.exp(_anchor_log(sec, np.array([(day - _dt.date(1970, 1, 1)).days]))[0]))


def aggregate_groups(bars: Bars, keys: np.ndarray, labels: Optional[np.ndarray]) -> Bars:
    """Aggregate consecutive rows with equal ``keys`` (ascending) into one bar each.

    :param bars: rows sorted by time.
    :param keys: one group key per row, non-decreasing.
    :param labels: ``t`` of each group; ``None`` uses the key itself.
    """
    if not len(bars):
        return empty_bars()
    change = np.flatnonzero(np.diff(keys)) + 1
    starts = np.concatenate(([0], change))
    ends = np.concatenate((change, [len(keys)])) - 1
    v = np.add.reduceat(bars.v, starts)
    pv = np.add.reduceat(bars.pv, starts)
    h = np.maximum.reduceat(bars.h, starts)
    low = np.minimum.reduceat(bars.l, starts)
    vw = np.clip(np.round(pv / np.maximum(v, 1), 4), low, h)
    t = keys[starts] if labels is None else labels
    return Bars(t.astype(np.int64), bars.o[starts], h, low, bars.c[ends], v, vw,
                np.add.reduceat(bars.n, starts), pv, np.add.reduceat(bars.base, starts))
