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
from typing import Dict, List, Optional, Tuple

import numpy as np

from polygon.sandbox import calendars
from polygon.sandbox.bars import (  # noqa: F401  (re-exported: the market's vocabulary lives in bars.py)
    _POST_MINUTES,
    _PRE_MINUTES,
    _UNIT_MS,
    CALENDAR_UNITS,
    MAX_TRADES_PER_MINUTE,
    MINUTE_MS,
    PROFILES,
    Bars,
    Profile,
    _anchor_log,
    _Day,
    _decimals,
    _round_prices,
    aggregate_groups,
    anchor_price,
    concat,
    empty_bars,
    et_date,
    fit_to_trades,
    midnight_ms,
    trade_count,
)
from polygon.sandbox.options import option_days
from polygon.sandbox.universe import Security, Universe, futures_contract, futures_weight, stable_seed

__all__ = ["Bars", "MarketModel", "Profile", "PROFILES", "futures_days", "midnight_ms"]

#: futures trade around the clock (one 23-hour session per trading date, no extended hours)
_FUTURES_PROFILE = Profile(0, 0, 0.011, 0.8, True)


def _profile(market: str) -> Profile:
    return _FUTURES_PROFILE if market == "futures" else PROFILES.get(market, PROFILES["stocks"])


def generate_days(sec: Security, days, open_ms: np.ndarray, close_ms: np.ndarray, illiquid: bool):
    """Generate the minute bars of several symbol-days at once (a list of :class:`_Day`).

    Each day is a row of a 2-D array and uses only its own seeded draws and row-wise operations,
    so a day's numbers do not depend on which other days share the batch.
    """
    k = len(days)
    prof = _profile(sec.market)
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


def futures_days(sec: Security, days, open_ms: np.ndarray, close_ms: np.ndarray) -> List[_Day]:
    """Minute bars of a futures contract: its product's one path (so every contract month moves together),
    priced along the term structure (the product's yearly carry to the contract's last trade day) on the
    product's tick grid, with the contract's share of the volume (:func:`futures_weight`: the front month
    trades most, and the roll moves the volume to the next contract before expiry)."""
    contract = futures_contract(sec.ticker)
    product = contract.product
    base = Security(product.code, product.name, "FUTURE", product.venue, product.price, product.volume,
                    "1970-01-01", market="futures")
    out = []
    for day, raw in zip(days, generate_days(base, days, open_ms, close_ms, False)):
        scale = math.exp(product.carry * (contract.last_trade_date - day).days / 365.0)
        o, h, low, c = (np.round(np.round(a * scale / product.tick) * product.tick, 6)
                        for a in (raw.o, raw.h, raw.l, raw.c))
        weight = futures_weight(contract, day)
        v = np.maximum(1, np.round(raw.v * weight)).astype(np.int64)
        n = trade_count(np.maximum(1, np.round(raw.n * weight)).astype(np.int64), v)
        vw = np.clip(np.round(raw.vw * scale, 6), low, h)
        o, h, low, c, vw = fit_to_trades(o, h, low, c, vw, n)
        present = raw.present
        if weight < 1.0:  # thinner months skip minutes
            rng = np.random.default_rng(stable_seed("futures-presence", sec.ticker, day.isoformat()))
            present = present & (rng.random(len(present)) < min(1.0, 0.1 + 3.0 * weight))
        out.append(_Day(raw.t, o, h, low, c, v, vw, n, raw.regular, present))
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
        """``'stocks'``, ``'options'``, ``'crypto'``, ``'fx'``, ``'indices'`` or ``'futures'`` (``'stocks'`` if
        unknown)."""
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
                generated = option_days(self, sec, chunk)
            elif sec.market == "futures":
                generated = futures_days(sec, chunk, *calendars.bounds(sec.market, chunk))
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
