"""Deterministic synthetic market: minute bars per symbol and day, and exact aggregation.

Every (symbol, trading day) gets its own numpy generator seeded from a stable hash of the two, so
any range is served without stored data and the same request gives the same numbers in every
process. The daily price anchor is a smooth function of the day number (random access, no chain
through earlier days); within a day the log-price follows a Brownian bridge from the open to the
close target, with lower volatility and volume outside regular hours.

One minute is the base. Coarser bars are exact aggregations of the minute bars: open of the first,
close of the last, max high, min low, summed volume and transactions, and vwap from the summed
price x volume (kept unrounded as ``pv`` so every level agrees).
"""

import collections
import datetime as _dt
import functools
import math
import threading
from typing import Dict, List, NamedTuple, Optional, Tuple

import numpy as np

from polygon.sandbox import calendars
from polygon.sandbox.universe import Security, Universe, stable_seed

__all__ = ["Bars", "MarketModel", "Profile", "PROFILES", "midnight_ms"]

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


def generate_days(sec: Security, days, open_ms: np.ndarray, close_ms: np.ndarray, illiquid: bool):
    """Generate the minute bars of several symbol-days at once (a list of :class:`_Day`).

    Each day is a row of a 2-D array and uses only its own seeded draws and row-wise operations,
    so a day's numbers do not depend on which other days share the batch.
    """
    k = len(days)
    prof = PROFILES.get(sec.market, PROFILES["stocks"])
    pre_n = prof.pre
    regular_n = ((np.asarray(close_ms) - np.asarray(open_ms)) // MINUTE_MS).astype(np.int64)
    totals = pre_n + regular_n + prof.post
    width = int(totals.max())
    steps = np.zeros((k, width))
    wick_hi, wick_lo = np.zeros((k, width)), np.zeros((k, width))
    vol_noise, presence = np.ones((k, width)), np.ones((k, width))
    gap, drift_noise, size_noise = np.empty(k), np.empty(k), np.empty(k)
    for j, day in enumerate(days):
        total = int(totals[j])
        rng = np.random.default_rng(stable_seed("day", sec.ticker, day.isoformat()))
        # Fixed draw order: never reorder or make a draw conditional, or every symbol-day changes.
        gap[j], drift_noise[j] = rng.standard_normal(2)
        steps[j, :total] = rng.standard_normal(total)
        wicks = np.abs(rng.standard_normal((2, total)))
        wick_hi[j, :total], wick_lo[j, :total] = wicks[0], wicks[1]
        vol_noise[j, :total] = rng.lognormal(0.0, 0.45, total)
        presence[j, :total] = rng.random(total)
        size_noise[j] = rng.random()

    day_number = np.array([(d - _dt.date(1970, 1, 1)).days for d in days], dtype=np.float64)
    scale = 1.0 if sec.market == "stocks" else prof.day_vol / 0.012
    log_open = _anchor_log(sec, day_number) + 0.004 * scale * gap
    log_close = _anchor_log(sec, day_number + 1) + 0.011 * scale * drift_noise

    pos = np.arange(width)[None, :]
    regular = (pos >= pre_n) & (pos < (pre_n + regular_n)[:, None])
    per_minute = prof.day_vol / np.sqrt(np.maximum(regular_n, 1).astype(np.float64))[:, None]
    if sec.market == "stocks":  # the historical constant, so the stocks' numbers never change
        per_minute = prof.day_vol / math.sqrt(390.0)
    sigma = np.where(regular, per_minute, 0.0015 / math.sqrt(60.0))
    walk = np.cumsum(steps * sigma, axis=1)
    last = walk[np.arange(k), totals - 1]
    walk -= (pos + 1) / totals[:, None].astype(np.float64) * (last - (log_close - log_open))[:, None]
    close_log = log_open[:, None] + walk
    open_log = np.empty((k, width))
    open_log[:, 0] = log_open
    open_log[:, 1:] = close_log[:, :-1]
    high_log = np.maximum(open_log, close_log) + wick_hi * sigma * 0.6
    low_log = np.minimum(open_log, close_log) - wick_lo * sigma * 0.6

    dec = _decimals(sec.base_price, sec.market)
    o = _round_prices(np.exp(open_log), dec)
    c = _round_prices(np.exp(close_log), dec)
    h = np.maximum(_round_prices(np.exp(high_log), dec), np.maximum(o, c))
    low = np.minimum(_round_prices(np.exp(low_log), dec), np.minimum(o, c))
    vw = np.clip(np.round((o + h + low + c) / 4.0, 4), low, h)

    # U-shaped intraday volume profile; extended hours trade a few percent of that
    x = (pos - pre_n) / np.maximum(regular_n - 1, 1)[:, None].astype(np.float64)
    if sec.market == "stocks":
        profile = np.where(regular, 0.6 + 2.4 * (x - 0.5) ** 2, 0.04)
        per_day = 390.0
    else:  # 24-hour and index markets: a gentle daily wave, no open/close rush
        profile = np.where(regular, 0.7 + 0.6 * np.sin(math.pi * x) ** 2, 0.0)
        per_day = np.maximum(regular_n, 1).astype(np.float64)[:, None]
    v = np.maximum(1, np.round(sec.base_volume / per_day * profile * vol_noise)).astype(np.int64)
    avg_size = (60.0 + 200.0 * size_noise)[:, None]
    if sec.market in ("crypto", "fx"):
        avg_size = avg_size / 100.0
    n = trade_count(np.maximum(1, np.round(v / avg_size)).astype(np.int64), v)
    if illiquid:
        v = np.maximum(1, v // 200)
        n = trade_count(np.maximum(1, n // 50), v)
    if prof.volume:
        o, h, low, c, vw = fit_to_trades(o, h, low, c, vw, n)
    else:  # an index: values, no trades
        v = np.zeros_like(v)
        n = np.zeros_like(n)
    if illiquid:
        present = presence < np.where(regular, 0.2, 0.02)
    else:
        present = regular | (presence < 0.55)
    t = (np.asarray(open_ms, dtype=np.int64) - pre_n * MINUTE_MS)[:, None] + pos * MINUTE_MS
    out = []
    for j in range(k):
        m = int(totals[j])
        out.append(_Day(t[j, :m], o[j, :m], h[j, :m], low[j, :m], c[j, :m], v[j, :m], vw[j, :m], n[j, :m],
                        regular[j, :m], present[j, :m]))
    return out


def generate_day(sec: Security, day: _dt.date, open_ms: int, close_ms: int, illiquid: bool) -> _Day:
    """Generate the minute bars of one symbol-day (deterministic; pure function of its inputs)."""
    return generate_days(sec, [day], np.array([open_ms]), np.array([close_ms]), illiquid)[0]


class MarketModel:
    """Minute bars and their aggregations for every symbol of a :class:`Universe`.

    Prices are stored split-adjusted (as of every split); ``adjusted=False`` multiplies them back
    to as-traded values. ``as_of`` (a day, the sandbox clock's today) limits adjustment to the
    splits whose ex-date has passed by then, as the provider's adjusted bars on that day.

    :param universe: the securities served.
    :param extended_hours: include 04:00-09:30 and close-20:00 minutes in stock bars.
    """

    def __init__(self, universe: Universe, extended_hours: bool = False) -> None:
        self.universe = universe
        self.extended_hours = bool(extended_hours)
        self._days: "collections.OrderedDict[Tuple[str, _dt.date, bool], _Day]" = collections.OrderedDict()
        self._days_lock = threading.Lock()
        self._rows_cache = functools.lru_cache(maxsize=512)(self._encode_day)
        self._summary_cache: Dict[Tuple[str, _dt.date, float, bool, float], Bars] = {}

    # -- calendar ------------------------------------------------------------------------------
    def market(self, ticker: str) -> str:
        """``'stocks'``, ``'options'``, ``'crypto'``, ``'fx'`` or ``'indices'`` (``'stocks'`` if unknown)."""
        sec = self.universe.get(ticker)
        return sec.market if sec is not None else "stocks"

    def session_days(self, ticker: str, first: _dt.date, last: _dt.date) -> List[_dt.date]:
        """Days from ``first`` to ``last`` on which ``ticker`` trades: its market's sessions, from its
        listing date to its delisting (or expiry) date."""
        sec = self.universe.get(ticker)
        if sec is None:
            return []
        first = max(first, _dt.date.fromisoformat(sec.list_date))
        if sec.delisted:
            last = min(last, _dt.date.fromisoformat(sec.delisted))
        return calendars.market_days(sec.market, first, last)

    def day_start(self, ticker: str, day: _dt.date) -> int:
        """Epoch ms where ``ticker``'s day bar of ``day`` starts."""
        return calendars.day_start_ms(self.market(ticker), day)

    def day_of(self, ticker: str, ms: int) -> _dt.date:
        """The market day of ``ticker`` that contains the instant ``ms``."""
        return calendars.day_of(self.market(ticker), ms)

    # -- minute level -----------------------------------------------------------------------
    _MAX_DAYS = 1536  # about 60 KB each: bounded memory for long-lived test sessions

    def _day_cache(self, ticker: str, day: _dt.date, illiquid: bool) -> _Day:
        key = (ticker, day, illiquid)
        with self._days_lock:
            raw = self._days.get(key)
            if raw is not None:
                self._days.move_to_end(key)
                return raw
        self.prefetch(ticker, [day])
        with self._days_lock:
            return self._days[key]

    def prefetch(self, ticker: str, days) -> None:
        """Generate (in one vectorised batch) the days of ``ticker`` not cached yet."""
        illiquid = self.universe.is_illiquid(ticker)
        with self._days_lock:
            missing = [d for d in days if (ticker, d, illiquid) not in self._days]
        if not missing:
            return
        sec = self.universe.get(ticker)
        for i in range(0, len(missing), 256):
            chunk = missing[i:i + 256]
            if sec.market == "options":
                from polygon.sandbox.options import option_days

                generated = option_days(self, sec, chunk)
            else:
                opens, closes = calendars.bounds(sec.market, chunk)
                generated = generate_days(sec, chunk, opens, closes, illiquid)
            with self._days_lock:
                for day, raw in zip(chunk, generated):
                    self._days[(ticker, day, illiquid)] = raw
                while len(self._days) > self._MAX_DAYS:
                    self._days.popitem(last=False)

    def raw_day(self, ticker: str, day: _dt.date) -> _Day:
        """Every generated minute of one day (split-adjusted, extended hours and presence masks)."""
        return self._day_cache(ticker, day, self.universe.is_illiquid(ticker))

    def factor(self, ticker: str, day: _dt.date, adjusted: bool = True, as_of: Optional[_dt.date] = None) -> float:
        """Multiplier from the stored prices to the requested ones on ``day``.

        ``adjusted=False``: every split after ``day`` undone (as traded). ``adjusted=True``: only
        the splits after ``as_of`` undone (none when ``as_of`` is ``None``).
        """
        if not adjusted:
            return self.universe.split_factor(ticker, day.isoformat())
        if as_of is None or as_of <= day:
            return self.universe.split_factor(ticker, day.isoformat()) if as_of is not None else 1.0
        return self.universe.split_factor(ticker, as_of.isoformat())

    def day_minutes(self, ticker: str, day: _dt.date, adjusted: bool = True, as_of: Optional[_dt.date] = None) -> Bars:
        """Minute bars of one trading day (regular or extended hours per the model's setting).

        :param adjusted: split-adjusted prices and volumes (``False``: as traded).
        :param as_of: the day the adjustment is made on (splits after it are not applied).
        """
        return self._minutes(ticker, day, self.factor(ticker, day, adjusted, as_of))

    def _minutes(self, ticker: str, day: _dt.date, factor: float) -> Bars:
        raw = self._day_cache(ticker, day, self.universe.is_illiquid(ticker))
        mask = raw.present if self.extended_hours else (raw.present & raw.regular)
        o, h, low, c, v, vw, n = (a[mask] for a in (raw.o, raw.h, raw.l, raw.c, raw.v, raw.vw, raw.n))
        if factor != 1.0:
            sec = self.universe.get(ticker)
            dec = _decimals(sec.base_price * factor, sec.market)
            o, h, low, c = (_round_prices(a * factor, dec) for a in (o, h, low, c))
            vw = np.clip(np.round(vw * factor, 4), low, h)
            v = np.maximum(1, np.round(v / factor)).astype(np.int64)
            if sec.market != "indices":
                n = trade_count(n, v)
                o, h, low, c, vw = fit_to_trades(o, h, low, c, vw, n)
        ones = np.ones(len(o), dtype=np.int64)
        return Bars(raw.t[mask], o, h, low, c, v, vw, n, vw * v, ones)

    def _encode_day(self, ticker: str, day: _dt.date, factor: float):
        from polygon.sandbox.wire import bar_rows

        return bar_rows(self._minutes(ticker, day, factor))

    def minute_rows(self, ticker: str, first_ms: int, last_ms: int, adjusted: bool = True,
                    as_of: Optional[_dt.date] = None):
        """JSON rows (``{"v":...}`` strings, cached per day) of the minute bars in ``[first_ms, last_ms]``."""
        out = []
        for day in self.session_days(ticker, self.day_of(ticker, first_ms), self.day_of(ticker, last_ms)):
            factor = self.factor(ticker, day, adjusted, as_of)
            t = self._minutes(ticker, day, factor).t
            a, b = np.searchsorted(t, first_ms, "left"), np.searchsorted(t, last_ms, "right")
            if b > a:
                out.extend(self._rows_cache(ticker, day, factor)[a:b])
        return out

    def minutes(self, ticker: str, first: _dt.date, last: _dt.date, adjusted: bool = True,
                as_of: Optional[_dt.date] = None) -> Bars:
        """Minute bars of every trading day from ``first`` to ``last`` inclusive."""
        days = self.session_days(ticker, first, last)
        self.prefetch(ticker, days)
        return concat([self.day_minutes(ticker, d, adjusted, as_of) for d in days])

    # -- day level ---------------------------------------------------------------------------
    def day_bar(self, ticker: str, day: _dt.date, adjusted: bool = True, until_ms: Optional[int] = None,
                as_of: Optional[_dt.date] = None) -> Bars:
        """The day bar (aggregation of the day's minutes, ``t`` = the market's day start), maybe partial."""
        factor = self.factor(ticker, day, adjusted, as_of)
        minutes = self._minutes(ticker, day, factor)
        label = np.array([self.day_start(ticker, day)], dtype=np.int64)
        if until_ms is not None and len(minutes) and minutes.t[-1] + MINUTE_MS > until_ms:
            minutes = minutes.take(minutes.t + MINUTE_MS <= until_ms)
            return aggregate_groups(minutes, np.zeros(len(minutes), dtype=np.int64), label)
        key = (ticker, day, factor, self.extended_hours, self.universe.illiquid_fraction)
        bar = self._summary_cache.get(key)
        if bar is None:
            bar = aggregate_groups(minutes, np.zeros(len(minutes), dtype=np.int64), label)
            if len(self._summary_cache) > 20_000:
                self._summary_cache.clear()
            self._summary_cache[key] = bar
        return bar

    def days(self, ticker: str, first: _dt.date, last: _dt.date, adjusted: bool = True,
             until_ms: Optional[int] = None, as_of: Optional[_dt.date] = None) -> Bars:
        """Day bars from ``first`` to ``last``; nothing after ``until_ms`` (the sandbox's now)."""
        days = [d for d in self.session_days(ticker, first, last)
                if until_ms is None or self.day_start(ticker, d) <= until_ms]
        self.prefetch(ticker, days)
        return concat([self.day_bar(ticker, day, adjusted, until_ms, as_of) for day in days])

    # -- any timespan -------------------------------------------------------------------------
    def aggregates(self, ticker: str, multiplier: int, timespan: str, from_ms: int, to_ms: int,
                   adjusted: bool = True, until_ms: Optional[int] = None, as_of: Optional[_dt.date] = None) -> Bars:
        """Bars of ``multiplier`` x ``timespan`` whose start lies in ``[from_ms, to_ms]``, ascending.

        Intraday bars are aligned on the epoch (so on New York clock boundaries for minutes and
        hours); day bars start at the market's day start (midnight New York, or UTC for crypto and
        forex); weeks on Sunday, months/quarters/years on their first day. Groups of ``multiplier``
        days count trading days from the first bar. Seconds come from the tape
        (:func:`polygon.sandbox.tape.second_bars`).
        """
        first, last = self.day_of(ticker, from_ms), self.day_of(ticker, to_ms)
        if timespan == "second":
            from polygon.sandbox.tape import second_bars

            bars = second_bars(self, ticker, first, last, adjusted, as_of)
            keep = (bars.t >= from_ms) & (bars.t <= to_ms)
            if until_ms is not None:
                keep &= bars.t + 1000 <= until_ms
            bars = bars.take(keep)
            size = 1000 * multiplier
            return bars if size == 1000 else aggregate_groups(bars, bars.t - bars.t % size, None)
        if timespan in ("minute", "hour"):
            bars = self.minutes(ticker, first, last, adjusted, as_of)
            keep = (bars.t >= from_ms) & (bars.t <= to_ms)
            if until_ms is not None:
                keep &= bars.t + MINUTE_MS <= until_ms
            bars = bars.take(keep)
            size = _UNIT_MS[timespan] * multiplier
            if size == MINUTE_MS:
                return bars
            starts = bars.t - bars.t % size
            return aggregate_groups(bars, starts, None)
        if timespan not in CALENDAR_UNITS:
            raise ValueError("unsupported timespan %r" % (timespan,))
        days = self.days(ticker, first, last, adjusted, until_ms, as_of)
        if not len(days):
            return days
        if timespan == "day":
            if multiplier == 1:
                return days.take((days.t >= from_ms) & (days.t <= to_ms))
            group = np.arange(len(days), dtype=np.int64) // multiplier
            starts = days.t[group * multiplier]
            lo = from_ms
        else:
            # a period that began before ``from`` still counts (partial) when ``from`` falls inside it
            lo = min(from_ms, self.day_start(ticker, _period_start(first, timespan, multiplier)))
            starts = np.array([self.day_start(ticker, _period_start(self.day_of(ticker, int(t)), timespan, multiplier))
                               for t in days.t.tolist()], dtype=np.int64)
        bars = aggregate_groups(days, starts, None)
        return bars.take((bars.t >= lo) & (bars.t <= to_ms))


def _period_start(day: _dt.date, timespan: str, multiplier: int) -> _dt.date:
    if timespan == "week":
        sunday = day - _dt.timedelta(days=(day.weekday() + 1) % 7)
        index = (sunday - _dt.date(1969, 12, 28)).days // 7  # 1969-12-28 was a Sunday
        return _dt.date(1969, 12, 28) + _dt.timedelta(days=7 * (index - index % multiplier))
    months = {"month": 1, "quarter": 3, "year": 12}[timespan] * multiplier
    index = (day.year - 1970) * 12 + day.month - 1
    index -= index % months
    return _dt.date(1970 + index // 12, index % 12 + 1, 1)


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
