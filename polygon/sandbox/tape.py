"""Trades, quotes and per-second/per-minute aggregates derived from the sandbox's minute bars.

For each minute bar (as traded, i.e. not split-adjusted) a small tape of trades is generated
deterministically: the first trade is at the bar's open, the last at its close, two others at its
high and low, and the sizes sum to the bar's volume. Every trade has a quote around it (bid <= price
<= ask). The ``A`` and ``AM`` events are computed *from those trades*, so a minute aggregate always
equals the aggregation of that minute's trades (and matches the REST minute bar's o/h/l/c/v).
"""

import datetime as _dt
import functools
from typing import Dict, List, NamedTuple, Optional

import numpy as np

from polygon.sandbox.market import MINUTE_MS, Bars, MarketModel, et_date
from polygon.sandbox.universe import stable_seed

__all__ = ["MinuteTape", "TapeSource", "MAX_TRADES_PER_MINUTE"]

MAX_TRADES_PER_MINUTE = 40
_EXCHANGES = np.array([4, 7, 10, 11, 12, 19, 21], dtype=np.int64)
_TAPES = {"XNYS": 1, "ARCX": 2, "XNAS": 3}


class MinuteTape(NamedTuple):
    """The trades (and their quotes) of one symbol-minute, plus the day context for AM/A events."""

    start: int  # minute start, epoch ms
    t: np.ndarray  # trade times (ms), strictly increasing
    p: np.ndarray  # prices
    s: np.ndarray  # sizes
    x: np.ndarray  # exchange ids
    bid: np.ndarray
    ask: np.ndarray
    bid_size: np.ndarray
    ask_size: np.ndarray
    seq0: int  # first sequence number
    day_open: float  # today's official open
    acc_volume: int  # day volume before this minute
    acc_pv: float  # day price x volume before this minute
    tape: int
    decimals: int


def _decimals(price: float) -> int:
    return 2 if price >= 1.0 else 4


def build_minute(ticker: str, bars: Bars, i: int, day_open: float, acc_v: int, acc_pv: float,
                 tape: int) -> MinuteTape:
    """Trades of minute ``i`` of ``bars`` (one day's as-traded minute bars)."""
    start = int(bars.t[i])
    o, h, low, c = float(bars.o[i]), float(bars.h[i]), float(bars.l[i]), float(bars.c[i])
    v, n = int(bars.v[i]), int(bars.n[i])
    dec = _decimals(c)
    rng = np.random.default_rng(stable_seed("tape", ticker, start))
    k = max(1, min(max(n, 4), MAX_TRADES_PER_MINUTE, v))
    offsets = np.sort(rng.choice(60_000, size=k, replace=False)).astype(np.int64)
    prices = np.clip(np.round(rng.uniform(low, h, k), dec), low, h)
    prices[0] = o
    prices[-1] = c
    if k >= 4:
        hi_pos, lo_pos = rng.choice(np.arange(1, k - 1), size=2, replace=False)
        prices[hi_pos], prices[lo_pos] = h, low
    weights = rng.random(k) + 0.2
    sizes = np.floor(weights / weights.sum() * v).astype(np.int64)
    sizes = np.maximum(sizes, 1)
    sizes[-1] += v - int(sizes.sum())
    if sizes[-1] < 1:  # rounding pushed the last one under 1: spread evenly instead
        sizes = np.full(k, v // k, dtype=np.int64)
        sizes[-1] += v - int(sizes.sum())
    tick = 10.0 ** -dec
    spread_lo = rng.integers(0, 3, k)
    spread_hi = rng.integers(1, 4, k)
    bid = np.round(prices - tick * spread_lo, dec)
    ask = np.round(prices + tick * spread_hi, dec)
    return MinuteTape(
        start=start, t=start + offsets, p=prices, s=sizes, x=_EXCHANGES[rng.integers(0, len(_EXCHANGES), k)],
        bid=bid, ask=ask, bid_size=rng.integers(1, 20, k), ask_size=rng.integers(1, 20, k),
        seq0=int(stable_seed("seq", ticker, start) % 1_000_000) * 1000, day_open=day_open, acc_volume=acc_v,
        acc_pv=acc_pv, tape=tape, decimals=dec,
    )


class TapeSource:
    """Cached tapes of every symbol-minute, served from one :class:`MarketModel`."""

    def __init__(self, model: MarketModel) -> None:
        self.model = model
        self._minute = functools.lru_cache(maxsize=8192)(self._build)
        self._day = functools.lru_cache(maxsize=256)(self._day_context)

    def _day_context(self, ticker: str, day: _dt.date):
        bars = self.model.day_minutes(ticker, day, adjusted=False)
        cum_v = np.concatenate(([0], np.cumsum(bars.v)))
        cum_pv = np.concatenate(([0.0], np.cumsum(bars.pv)))
        day_open = float(bars.o[0]) if len(bars) else 0.0
        return bars, cum_v, cum_pv, day_open

    def _build(self, ticker: str, minute_start: int) -> Optional[MinuteTape]:
        day = et_date(minute_start)
        bars, cum_v, cum_pv, day_open = self._day(ticker, day)
        i = int(np.searchsorted(bars.t, minute_start))
        if i >= len(bars) or int(bars.t[i]) != minute_start:
            return None  # no trades in that minute (closed, or an illiquid gap)
        sec = self.model.universe.get(ticker)
        return build_minute(ticker, bars, i, day_open, int(cum_v[i]), float(cum_pv[i]),
                            _TAPES.get(sec.primary_exchange, 3))

    def minute(self, ticker: str, minute_start: int) -> Optional[MinuteTape]:
        """The tape of ``ticker`` for the minute starting at ``minute_start`` (``None`` if no trades)."""
        if ticker not in self.model.universe:
            return None
        return self._minute(ticker, minute_start)


def trade_events(sym: str, tape: MinuteTape, lo: int, hi: int) -> List[Dict[str, object]]:
    """``T`` events with ``lo < t <= hi``."""
    idx = np.flatnonzero((tape.t > lo) & (tape.t <= hi))
    return [{"ev": "T", "sym": sym, "x": int(tape.x[j]), "i": str(tape.seq0 + j), "z": tape.tape,
             "p": float(tape.p[j]), "s": int(tape.s[j]), "c": [], "t": int(tape.t[j]), "q": tape.seq0 + j}
            for j in idx.tolist()]


def quote_events(sym: str, tape: MinuteTape, lo: int, hi: int) -> List[Dict[str, object]]:
    """``Q`` events (one just before each trade) with ``lo < t <= hi``."""
    qt = tape.t - 1
    idx = np.flatnonzero((qt > lo) & (qt <= hi))
    return [{"ev": "Q", "sym": sym, "bx": int(tape.x[j]), "bp": float(tape.bid[j]), "bs": int(tape.bid_size[j]),
             "ax": int(tape.x[(j + 1) % len(tape.x)]), "ap": float(tape.ask[j]), "as": int(tape.ask_size[j]),
             "c": 0, "i": [], "t": int(qt[j]), "q": tape.seq0 + j, "z": tape.tape}
            for j in idx.tolist()]


def _agg_event(ev: str, sym: str, tape: MinuteTape, sel: np.ndarray, start: int, end: int) -> Dict[str, object]:
    p, s = tape.p[sel], tape.s[sel]
    v = int(s.sum())
    before = tape.acc_volume + int(tape.s[tape.t < tape.t[sel][0]].sum()) if ev == "A" else tape.acc_volume
    pv_before = tape.acc_pv + float((tape.p * tape.s)[tape.t < tape.t[sel][0]].sum()) if ev == "A" else tape.acc_pv
    pv = float((p * s).sum())
    return {"ev": ev, "sym": sym, "v": v, "av": before + v, "op": tape.day_open,
            "vw": round(pv / v, 4), "o": float(p[0]), "c": float(p[-1]), "h": float(p.max()), "l": float(p.min()),
            "a": round((pv_before + pv) / (before + v), 4), "z": v // len(p), "s": start, "e": end}


def minute_aggregate(sym: str, tape: MinuteTape) -> Dict[str, object]:
    """The ``AM`` event: the aggregation of all of the minute's trades."""
    return _agg_event("AM", sym, tape, np.arange(len(tape.t)), tape.start, tape.start + MINUTE_MS)


def second_aggregates(sym: str, tape: MinuteTape, lo: int, hi: int) -> List[Dict[str, object]]:
    """``A`` events for the seconds that end in ``(lo, hi]`` and had trades."""
    seconds = tape.t - tape.t % 1000
    out = []
    for sec in np.unique(seconds).tolist():
        if lo < sec + 1000 <= hi:
            out.append(_agg_event("A", sym, tape, np.flatnonzero(seconds == sec), sec, sec + 1000))
    return out
