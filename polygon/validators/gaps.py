"""Gap analysis of a frame under check: expected bars from the market's sessions against the bars present.

Split from :mod:`polygon.validators.checks` (the per-bar checks); both work on a
:class:`~polygon.validators.checks.CheckedFrame` and a :class:`~polygon.validators.checks.Context`.
"""

import math
from typing import Any, Dict, List, NamedTuple, Optional

import numpy as np

from polygon import markets
from polygon.markets import futures_calendar, sessions
from polygon.validators.checks import (
    DAY_MS,
    MAX_CALENDAR_SPAN_DAYS,
    MAX_RANGES,
    MINUTE_MS,
    CheckedFrame,
    CheckResult,
    Context,
    bar_day,
    date_range_of,
    finding,
    iso_times,
    local_day,
    runs,
    skipped,
)

__all__ = ["GapAnalysis", "analyse_gaps"]


class GapAnalysis(NamedTuple):
    """Expected bars versus present bars, and the missing ranges by kind."""

    status: str  # 'done' or 'skipped'
    reason: str
    expected: Optional[int]
    present: Optional[int]
    ranges: List[Dict[str, Any]]  # at most MAX_RANGES: sessions and long gaps first, then illiquid; by time
    ranges_total: int
    results: List[CheckResult]  # missing_sessions, long_gaps, illiquid_gaps
    no_trade_rate: Optional[float]


def _gap_skip(reason: str) -> GapAnalysis:
    return GapAnalysis("skipped", reason, None, None, [], 0,
                       [skipped(n, reason) for n in ("missing_sessions", "long_gaps", "illiquid_gaps")], None)


def _range_dicts(records: List[tuple], tz: str, daily: bool) -> List[Dict[str, Any]]:
    """``(start_ms, end_ms, bars, kind, severity)`` records -> the report's range dicts, at most MAX_RANGES.

    Sessions and long gaps come first, then illiquid runs, each group by time.
    """
    records = sorted(records, key=lambda r: (r[3] == "illiquid", r[0]))[:MAX_RANGES]
    if not records:
        return []
    edges = np.array([(r[0], r[1] - 1 if daily else r[1]) for r in records], dtype=np.int64).ravel()
    if daily:
        texts = [str(d) for d in local_day(edges)]
    else:
        texts = iso_times(edges, tz, limit=len(edges))
    return [{"start": texts[2 * i], "end": texts[2 * i + 1], "bars": int(r[2]), "kind": r[3], "severity": r[4]}
            for i, r in enumerate(records)]


def analyse_gaps(bars: CheckedFrame, ctx: Context) -> GapAnalysis:
    """Compare the bars with the calendar's expected bars and classify what is missing.

    Whole sessions without a bar and runs longer than the symbol's plausible no-trade run are
    high severity; shorter runs are "no trade in that minute" (low severity). The plausible run
    length ``L`` comes from the symbol's own median share ``p`` of empty slots per session: with
    ``N`` expected slots, ``L = ceil(log(0.01 / N) / log(p))`` (runs that long happen by chance
    less than once in a hundred series), at least ``ctx.min_long_gap_bars``; it doubles when the
    bars around the gap trade under half the median volume (thin trading both sides).
    """
    if not bars.has_time:
        return _gap_skip("no usable timestamps")
    tf = ctx.timeframe
    daily = tf.timespan == "day" and tf.multiplier == 1
    if not daily and not (tf.is_intraday and ctx.bar_ms >= MINUTE_MS):
        return _gap_skip("gaps are checked for minute, hour and 1-day bars only")
    if not ctx.uses_exchange_calendar and len(bars.t) and tf.is_intraday:
        # around-the-clock markets without given bounds: expect bars from the first bar to the end of the last
        if ctx.start is None and ctx.start_ms is None:
            ctx = ctx._replace(start_ms=int(bars.t[0]))
        if ctx.end is None and ctx.end_ms is None:
            ctx = ctx._replace(end_ms=int(bars.t[-1]) + ctx.bar_ms - 1)
    span = date_range_of(bars, ctx)
    if span is None:
        return _gap_skip("no date range (no bars and no start/end) or a range wider than %d days"
                         % MAX_CALENDAR_SPAN_DAYS)
    first, last = span
    if ctx.market == "futures":  # the CME holidays and early closes
        fallback = futures_calendar.calendar_source(first, last) != "exchange_calendars"
    else:
        fallback = ctx.uses_exchange_calendar and sessions.calendar_source(first, last) != "exchange_calendars"
    opens, closes = markets.session_bounds(ctx.symbol, first, last, extended=ctx.extended_hours)
    done = closes <= ctx.now_ms
    if daily:
        slot_t = opens[done]  # one slot per finished session (its open)
        slot_day = np.arange(len(slot_t))
        key_expected = np.array(markets.trading_days(ctx.symbol, first, last), dtype="datetime64[D]")[done]
        key_present = np.unique(bar_day(bars.t, ctx.day_shift_ms))
        present_mask = np.isin(key_expected, key_present)
        bar_ms = DAY_MS
    else:
        bar_ms = ctx.bar_ms
        minutes = markets.expected_minutes(ctx.symbol, first, last, extended=ctx.extended_hours)
        counts = (closes - opens) // MINUTE_MS
        minute_day = np.repeat(np.arange(len(opens)), counts)
        phase = 0
        if bar_ms > MINUTE_MS and len(bars.t):
            values, freq = np.unique(bars.t % bar_ms, return_counts=True)
            phase = int(values[np.argmax(freq)])
        slots = (minutes - phase) // bar_ms
        keep = np.ones(len(slots), dtype=bool)
        keep[1:] = slots[1:] != slots[:-1]
        slot_t = slots[keep] * bar_ms + phase
        slot_day = minute_day[keep]
        finished = slot_t + bar_ms <= ctx.now_ms
        # with instant bounds, only bars wholly inside [start, end] are expected
        if ctx.start_ms is not None:
            finished &= slot_t >= ctx.start_ms
        if ctx.end_ms is not None:
            finished &= slot_t + bar_ms <= ctx.end_ms + 1
        slot_t, slot_day = slot_t[finished], slot_day[finished]
        t_unique = np.unique(bars.t)
        pos = np.searchsorted(slot_t, t_unique)
        hit = pos < len(slot_t)
        hit[hit] = slot_t[pos[hit]] == t_unique[hit]
        present_mask = np.zeros(len(slot_t), dtype=bool)
        present_mask[pos[hit]] = True
    expected = len(slot_t)
    present = int(present_mask.sum())
    if not expected:
        return GapAnalysis("done", "", 0, 0, [], 0, [
            CheckResult(n, "passed", "no finished session in range", [])
            for n in ("missing_sessions", "long_gaps", "illiquid_gaps")], None)

    n_days = len(opens)
    exp_per_day = np.bincount(slot_day, minlength=n_days)
    got_per_day = np.bincount(slot_day[present_mask], minlength=n_days)
    empty_day = (got_per_day == 0) & (exp_per_day > 0)
    traded = (got_per_day > 0) & (exp_per_day > 0)
    no_trade_rate = None
    if not daily and traded.any():
        no_trade_rate = float(np.median(1.0 - got_per_day[traded] / exp_per_day[traded]))

    ranges: List[tuple] = []
    results: List[CheckResult] = []
    tz = bars.tz

    # whole sessions without a bar, grouped into runs of consecutive trading days
    day_starts, day_lens = runs(empty_day if not daily else ~present_mask)
    session_runs = []
    first_slot = np.searchsorted(slot_day, day_starts)  # slot_day is sorted
    end_slot = np.searchsorted(slot_day, day_starts + day_lens)
    for s, n, a, b in zip(day_starts.tolist(), day_lens.tolist(), first_slot.tolist(), end_slot.tolist()):
        if daily:
            start_ms, end_ms, n_bars = int(slot_t[s]), int(slot_t[s + n - 1]) + 1, n
        else:
            start_ms, end_ms, n_bars = int(slot_t[a]), int(slot_t[b - 1] + bar_ms), b - a
        holiday_like = fallback and n == 1
        ranges.append((start_ms, end_ms, n_bars, "session", "low" if holiday_like else "high"))
        session_runs.append((start_ms, n, n_bars, holiday_like))
    if session_runs:
        n_sessions = sum(r[1] for r in session_runs)
        n_holiday = sum(r[1] for r in session_runs if r[3])
        severity = "low" if n_holiday == n_sessions else "high"
        text = "%d trading sessions without a single bar" % n_sessions
        if fallback:
            text += " (%d isolated weekdays may be exchange holidays: holidays not known)" % n_holiday
        n_bars = sum(r[2] for r in session_runs)
        results.append(CheckResult("missing_sessions", "failed", text, [finding(
            "missing_sessions", severity, n_sessions, np.array([r[0] for r in session_runs]), tz, text,
            n_bars / expected)]))
    else:
        results.append(CheckResult("missing_sessions", "passed", "every session has bars", []))

    if daily:
        results.append(skipped("long_gaps", "1-day bars: a missing day is a missing session"))
        results.append(skipped("illiquid_gaps", "1-day bars: a missing day is a missing session"))
    else:
        # runs of missing slots inside sessions that have bars; a run never spans two sessions
        idx = np.flatnonzero(~present_mask & ~empty_day[slot_day])
        cut = np.flatnonzero((np.diff(idx) != 1) | (np.diff(slot_day[idx]) != 0)) + 1
        starts_i = np.concatenate(([0], cut)) if len(idx) else np.empty(0, dtype=np.int64)
        run_start = idx[starts_i]
        run_len = np.diff(np.concatenate((starts_i, [len(idx)]))).astype(np.int64)
        plausible = float(ctx.min_long_gap_bars)
        p = no_trade_rate if no_trade_rate is not None else 0.0
        if 0.0 < p < 1.0:
            n_slots = max(int(exp_per_day[traded].sum()), 1)
            plausible = max(plausible, math.ceil(math.log(0.01 / n_slots) / math.log(min(p, 0.999))))
        threshold = np.full(len(run_start), plausible)
        if len(run_start):
            # volume context: up to 5 present bars each side of the run
            t_present = slot_t[present_mask]
            vol_by_t = _volume_by_time(bars, t_present)
            csum = np.concatenate(([0.0], np.cumsum(vol_by_t)))
            g0 = slot_t[run_start]
            g1 = slot_t[run_start + run_len - 1]
            i = np.searchsorted(t_present, g0)
            j = np.searchsorted(t_present, g1, side="right")
            lo_i, hi_j = np.maximum(i - 5, 0), np.minimum(j + 5, len(t_present))
            total = (csum[i] - csum[lo_i]) + (csum[hi_j] - csum[j])
            n_near = (i - lo_i) + (hi_j - j)
            positive = vol_by_t[vol_by_t > 0]
            median_vol = float(np.median(positive)) if len(positive) else 0.0
            with np.errstate(invalid="ignore", divide="ignore"):
                near = np.where(n_near > 0, total / np.maximum(n_near, 1), 0.0)
            thin = near < 0.5 * median_vol
            threshold = np.where(thin, threshold * 2, threshold)
        long_mask = run_len > threshold
        run_t0 = slot_t[run_start]
        run_t1 = slot_t[run_start + run_len - 1] + bar_ms
        kinds = np.where(long_mask, "long_gap", "illiquid")
        ranges.extend(zip(run_t0.tolist(), run_t1.tolist(), run_len.tolist(), kinds.tolist(),
                          np.where(long_mask, "high", "low").tolist()))
        n_long, bars_long = int(long_mask.sum()), int(run_len[long_mask].sum())
        n_ill, bars_ill = int((~long_mask).sum()), int(run_len[~long_mask].sum())
        rate = "%.1f%%" % (100 * p)
        if n_long:
            text = ("%d runs of missing bars (%d bars) longer than this symbol's plausible no-trade run "
                    "(%d bars; empty-slot rate %s)" % (n_long, bars_long, int(plausible), rate))
            results.append(CheckResult("long_gaps", "failed", text, [finding(
                "long_gaps", "high", n_long, slot_t[run_start[long_mask]], tz, text, bars_long / expected,
                bars=bars_long)]))
        else:
            results.append(CheckResult("long_gaps", "passed", "no run of missing bars beyond %d bars"
                                       % int(plausible), []))
        if n_ill:
            text = ("%d short runs (%d bars) with no bar: most likely minutes without trades (empty-slot rate %s)"
                    % (n_ill, bars_ill, rate))
            results.append(CheckResult("illiquid_gaps", "failed", text, [finding(
                "illiquid_gaps", "low", n_ill, slot_t[run_start[~long_mask]], tz, text, bars_ill / expected,
                bars=bars_ill)]))
        else:
            results.append(CheckResult("illiquid_gaps", "passed", "no short gaps", []))
    return GapAnalysis("done", "", expected, present, _range_dicts(ranges, tz, daily), len(ranges), results,
                       no_trade_rate)


def _volume_by_time(bars: CheckedFrame, t_present: np.ndarray) -> np.ndarray:
    """Volume of the first bar at each of the (sorted, unique) times in ``t_present``; NaN -> 0."""
    pos = np.searchsorted(bars.t, t_present)
    pos = np.clip(pos, 0, max(len(bars.t) - 1, 0))
    if not len(bars.t):
        return np.zeros(len(t_present))
    vol = bars.volume[pos] if len(bars.volume) else np.zeros(len(t_present))
    return np.where(np.isfinite(vol), vol, 0.0)


# ---------------------------------------------------------------- statistics
