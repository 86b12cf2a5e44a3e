"""Trades, quotes and per-second/per-minute aggregates derived from the sandbox's minute bars.

For each minute bar (as traded, i.e. not split-adjusted) a small tape of trades is generated
deterministically: the first trade is at the bar's open, the last at its close, two others at its
high and low, and the sizes sum to the bar's volume; their number is the bar's ``n``. Every trade
has a quote 1 ms before it around it (bid <= price <= ask). The ``A`` and ``AM`` events, the REST
trades and quotes (:func:`day_trades`, :func:`day_quotes`) and the second bars are all computed
*from those trades*, so a bar always equals the aggregation of its trades.

Timestamps: the stream's are epoch ms; REST's are epoch ns, the SIP timestamp being the trade's
millisecond plus a deterministic sub-millisecond part, and the participant (exchange) timestamp a
few hundred microseconds earlier.
"""

import datetime as _dt
import functools
from typing import TYPE_CHECKING, Dict, List, NamedTuple, Optional, Tuple

import numpy as np

from polygon.sandbox.bars import MAX_TRADES_PER_MINUTE, MINUTE_MS, Bars, _decimals, aggregate_groups, concat
from polygon.sandbox.universe import futures_contract, stable_seed

if TYPE_CHECKING:  # pragma: no cover - annotations only: market.py uses this module
    from polygon.sandbox.market import MarketModel

__all__ = ["MAX_TRADES_PER_MINUTE", "DayQuotes", "DayTrades", "MinuteTape", "TapeSource", "day_quotes", "day_tapes",
           "day_trades", "second_bars", "sub_ms", "tape_source", "trade_ns"]

_EXCHANGES = np.array([4, 7, 10, 11, 12, 19, 21], dtype=np.int64)
#: venue ids of the other markets (crypto: Coinbase, Bitfinex, Bitstamp, Kraken; forex: the bank aggregate;
#: options: NYSE American, Cboe, Nasdaq options)
_VENUES = {"crypto": np.array([1, 2, 6, 23], dtype=np.int64), "fx": np.array([48], dtype=np.int64),
           "options": np.array([300, 302, 312], dtype=np.int64), "futures": np.array([1], dtype=np.int64)}
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


def _venues(market: str, draws: np.ndarray) -> np.ndarray:
    venues = _VENUES.get(market, _EXCHANGES)
    return venues[draws % len(venues)]


def build_minute(ticker: str, bars: Bars, i: int, day_open: float, acc_v: int, acc_pv: float,
                 tape: int, market: str = "stocks") -> MinuteTape:
    """Trades of minute ``i`` of ``bars`` (one day's as-traded minute bars)."""
    start = int(bars.t[i])
    o, h, low, c = float(bars.o[i]), float(bars.h[i]), float(bars.l[i]), float(bars.c[i])
    v, n = max(int(bars.v[i]), 1), int(bars.n[i])
    dec = _decimals(c, market) if market != "stocks" else (2 if c >= 1.0 else 4)
    tick = 10.0 ** -dec
    if market == "futures":  # prices on the product's tick grid (1/64 for notes)
        tick, dec = futures_contract(ticker).product.tick, 6
    rng = np.random.default_rng(stable_seed("tape", ticker, start))
    k = max(1, min(max(n, 4), MAX_TRADES_PER_MINUTE, v))
    offsets = np.sort(rng.choice(60_000, size=k, replace=False)).astype(np.int64)
    prices = np.clip(np.round(np.round(rng.uniform(low, h, k) / tick) * tick, dec), low, h)
    prices[0] = o
    prices[-1] = c
    if k < 4:  # too few trades for both extremes: the bar spans only its open and close
        prices[1:-1] = o
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
    spread_lo = rng.integers(0, 3, k)
    spread_hi = rng.integers(1, 4, k)
    bid = np.round(prices - tick * spread_lo, dec)
    ask = np.round(prices + tick * spread_hi, dec)
    return MinuteTape(
        start=start, t=start + offsets, p=prices, s=sizes, x=_venues(market, rng.integers(0, len(_EXCHANGES), k)),
        bid=bid, ask=ask, bid_size=rng.integers(1, 20, k), ask_size=rng.integers(1, 20, k),
        seq0=int(stable_seed("seq", ticker, start) % 1_000_000) * 1000, day_open=day_open, acc_volume=acc_v,
        acc_pv=acc_pv, tape=tape, decimals=dec,
    )


class TapeSource:
    """Cached tapes of every symbol-minute, served from one :class:`MarketModel`."""

    def __init__(self, model: "MarketModel") -> None:
        self.model = model
        self._minute = functools.lru_cache(maxsize=8192)(self._build)
        self._day = functools.lru_cache(maxsize=256)(self._day_context)

    def day_context(self, ticker: str, day: _dt.date):
        """``(as-traded minute bars, cumulative volume, cumulative pv, day open)`` of one day (cached)."""
        return self._day(ticker, day)

    def _day_context(self, ticker: str, day: _dt.date):
        bars = self.model.day_minutes(ticker, day, adjusted=False)
        cum_v = np.concatenate(([0], np.cumsum(bars.v)))
        cum_pv = np.concatenate(([0.0], np.cumsum(bars.pv)))
        day_open = float(bars.o[0]) if len(bars) else 0.0
        return bars, cum_v, cum_pv, day_open

    def _build(self, ticker: str, minute_start: int) -> Optional[MinuteTape]:
        day = self.model.day_of(ticker, minute_start)
        if not self.model.session_days(ticker, day, day) and self.model.market(ticker) == "futures":
            return None  # a contract trades from its first to its last trade date, in sessions only
        bars, cum_v, cum_pv, day_open = self._day(ticker, day)
        i = int(np.searchsorted(bars.t, minute_start))
        if i >= len(bars) or int(bars.t[i]) != minute_start:
            return None  # no trades in that minute (closed, or an illiquid gap)
        sec = self.model.universe.get(ticker)
        return build_minute(ticker, bars, i, day_open, int(cum_v[i]), float(cum_pv[i]),
                            _TAPES.get(sec.primary_exchange, 3), sec.market)

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


# -- whole days as columns (REST trades/quotes, flat files, second bars) -------------------------------
class DayTrades(NamedTuple):
    """One day's trades of one ticker, ascending by ``sip_timestamp`` (numpy columns)."""

    sip_timestamp: np.ndarray  # int64 epoch ns
    participant_timestamp: np.ndarray  # int64 epoch ns
    price: np.ndarray
    size: np.ndarray  # int64
    exchange: np.ndarray  # int64 exchange id
    id: np.ndarray  # int64 trade id (the stream's ``i``)
    sequence_number: np.ndarray  # int64 (the stream's ``q``)
    tape: np.ndarray  # int64 (1 NYSE, 2 ARCA/AMEX, 3 Nasdaq)

    def __len__(self) -> int:  # type: ignore[override]
        return len(self.sip_timestamp)

    def take(self, index) -> "DayTrades":
        """Rows selected by a slice, mask or index array."""
        return DayTrades(*(col[index] for col in self))


class DayQuotes(NamedTuple):
    """One day's quotes (NBBO updates) of one ticker, ascending by ``sip_timestamp``."""

    sip_timestamp: np.ndarray
    participant_timestamp: np.ndarray
    bid_price: np.ndarray
    bid_size: np.ndarray
    bid_exchange: np.ndarray
    ask_price: np.ndarray
    ask_size: np.ndarray
    ask_exchange: np.ndarray
    sequence_number: np.ndarray
    tape: np.ndarray

    def __len__(self) -> int:  # type: ignore[override]
        return len(self.sip_timestamp)

    def take(self, index) -> "DayQuotes":
        """Rows selected by a slice, mask or index array."""
        return DayQuotes(*(col[index] for col in self))


def tape_source(model: "MarketModel") -> TapeSource:
    """The :class:`TapeSource` of ``model`` (one per model, made on first use)."""
    source = getattr(model, "_tape_source", None)
    if source is None:
        source = TapeSource(model)
        model._tape_source = source  # type: ignore[attr-defined]
    return source


def day_tapes(model: "MarketModel", ticker: str, day: _dt.date) -> List[MinuteTape]:
    """The tapes of every minute of ``ticker`` with trades on ``day``, in time order."""
    if ticker not in model.universe:
        return []
    bars, cum_v, cum_pv, day_open = tape_source(model).day_context(ticker, day)
    sec = model.universe.get(ticker)
    tape = _TAPES.get(sec.primary_exchange, 3)
    return [build_minute(ticker, bars, i, day_open, int(cum_v[i]), float(cum_pv[i]), tape, sec.market)
            for i in range(len(bars))]


def sub_ms(ticker: str, seq):
    """Deterministic sub-millisecond nanoseconds (0..999_999) of the trades with sequence numbers ``seq``."""
    salt = stable_seed("ns", ticker) % 1_000_003
    return (seq * 7_919 + salt) % 1_000_000


def latency_ns(seq):
    """Nanoseconds from a trade's participant timestamp to its SIP timestamp."""
    return 20_000 + (seq * 104_729) % 880_000


def trade_ns(ticker: str, minute: MinuteTape, j: int) -> Tuple[int, int]:
    """``(sip, participant)`` nanosecond timestamps of trade ``j`` of a minute's tape (as in :func:`day_trades`)."""
    seq = minute.seq0 + j
    sip = int(minute.t[j]) * 1_000_000 + sub_ms(ticker, seq)
    return sip, sip - latency_ns(seq)


@functools.lru_cache(maxsize=16)  # about 1 MB per liquid ticker-day
def _day_columns(model: "MarketModel", ticker: str, day: _dt.date):
    tapes = day_tapes(model, ticker, day)
    if not tapes:
        z, f = np.empty(0, dtype=np.int64), np.empty(0, dtype=np.float64)
        return tapes, DayTrades(z, z, f, z, z, z, z, z), DayQuotes(z, z, f, z, z, f, z, z, z, z)
    t_ms = np.concatenate([m.t for m in tapes])
    seq = np.concatenate([m.seq0 + np.arange(len(m.t), dtype=np.int64) for m in tapes])
    x = np.concatenate([m.x for m in tapes])
    tape = np.concatenate([np.full(len(m.t), m.tape, dtype=np.int64) for m in tapes])
    sip = t_ms * 1_000_000 + sub_ms(ticker, seq)
    latency = latency_ns(seq)
    trades = DayTrades(sip, sip - latency, np.concatenate([m.p for m in tapes]),
                       np.concatenate([m.s for m in tapes]).astype(np.int64), x, seq, seq, tape)
    ask_x = np.concatenate([np.roll(m.x, -1) for m in tapes])
    q_sip = sip - 1_000_000
    quotes = DayQuotes(q_sip, q_sip - latency, np.concatenate([m.bid for m in tapes]),
                       np.concatenate([m.bid_size for m in tapes]).astype(np.int64), x,
                       np.concatenate([m.ask for m in tapes]),
                       np.concatenate([m.ask_size for m in tapes]).astype(np.int64), ask_x, seq, tape)
    return tapes, trades, quotes


def day_trades(model: "MarketModel", ticker: str, day: _dt.date) -> DayTrades:
    """Every trade of ``ticker`` on ``day`` (as traded: never split-adjusted), as numpy columns.

    The minute bars (``adjusted=False``) are exactly their aggregation: per minute, the first and
    last prices are the bar's open and close, the extremes its high and low, the sizes sum to its
    volume and their count is its ``n``.
    """
    return _day_columns(model, ticker, day)[1]


def day_quotes(model: "MarketModel", ticker: str, day: _dt.date) -> DayQuotes:
    """Every quote of ``ticker`` on ``day``: one 1 ms before each trade, bracketing its price."""
    return _day_columns(model, ticker, day)[2]


def second_bars(model: "MarketModel", ticker: str, first: _dt.date, last: _dt.date, adjusted: bool = True,
                as_of: Optional[_dt.date] = None) -> Bars:
    """One-second bars (aggregations of the trades) of the days ``first`` to ``last``."""
    out = []
    for day in model.session_days(ticker, first, last):
        trades = day_trades(model, ticker, day)
        if not len(trades):
            continue
        t_ms = trades.sip_timestamp // 1_000_000
        keys = t_ms - t_ms % 1000
        p = trades.price
        s = trades.size
        ones = np.ones(len(p), dtype=np.int64)
        per_trade = Bars(keys, p, p, p, p, s, p, ones, p * s, ones)
        bars = aggregate_groups(per_trade, keys, None)
        scale = model.factor(ticker, day, adjusted, as_of) / model.factor(ticker, day, False)
        if scale != 1.0:
            sec = model.universe.get(ticker)
            dec = _decimals(sec.base_price, sec.market)
            o, h, low, c = (np.round(a * scale, dec) for a in (bars.o, bars.h, bars.l, bars.c))
            v = np.maximum(1, np.round(bars.v / scale)).astype(np.int64)
            vw = np.clip(np.round(bars.vw * scale, 4), low, h)
            bars = Bars(bars.t, o, h, low, c, v, vw, bars.n, vw * v, bars.base)
        out.append(bars)
    return concat(out)
