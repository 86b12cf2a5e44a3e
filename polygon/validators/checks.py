"""Data-quality checks on a bars DataFrame: pure, vectorised, no I/O.

:func:`prepare_bars` reads a frame once into sorted numpy arrays (the frame itself is never
written to); every ``check_*`` function then looks at those arrays and returns a
:class:`CheckResult` with zero or more findings. :mod:`polygon.validators` runs them all,
scores the findings and builds the report.

A finding is a plain dict::

    {"check": "ohlc_consistency", "severity": "high", "count": 3,
     "timestamps": ["2024-01-02T10:01:00-05:00", ...],   # the first few offending bars
     "explanation": "3 bars where high < max(open, close), low > min(open, close) or high < low",
     "share": 0.0001}                                     # affected bars / bars (or / expected slots)

Severities, weakest first: ``low``, ``medium``, ``high``, ``critical``.
"""

import datetime
import logging
import math
from typing import Any, Callable, Dict, List, NamedTuple, Optional, Tuple

import numpy as np
import pandas as pd

from polygon import markets
from polygon.markets import futures, futures_calendar
from polygon.markets.dates import get_zone
from polygon.markets.frames import BAR_COLUMNS, FLOAT_COLUMNS
from polygon.markets.timeframes import Timeframe

__all__ = [
    "CHECK_NAMES",
    "SEVERITIES",
    "CheckedFrame",
    "CheckResult",
    "Context",
    "check_alignment",
    "check_duplicates",
    "check_missing_values",
    "check_negative_volume",
    "check_non_positive_prices",
    "check_ohlc_consistency",
    "check_outside_session",
    "check_return_outliers",
    "check_stale_runs",
    "check_vwap_range",
    "check_zero_volume_price_change",
    "prepare_bars",
]

logger = logging.getLogger(__name__)

SEVERITIES = ("low", "medium", "high", "critical")
#: Every check the report lists, in report order.
CHECK_NAMES = (
    "columns",
    "dtypes",
    "index",
    "duplicates",
    "alignment",
    "missing_values",
    "ohlc_consistency",
    "non_positive_prices",
    "negative_volume",
    "vwap_range",
    "zero_volume_price_change",
    "outside_session",
    "missing_sessions",
    "long_gaps",
    "illiquid_gaps",
    "return_outliers",
    "stale_runs",
)
REQUIRED_COLUMNS = FLOAT_COLUMNS[:5]  # open, high, low, close, volume
OPTIONAL_COLUMNS = BAR_COLUMNS[5:]  # vwap, transactions
MAX_TIMESTAMPS = 5
#: At most this many missing ranges are listed in a report (the total is reported too).
MAX_RANGES = 100
MINUTE_MS = 60_000
DAY_MS = 86_400_000
_EXCHANGE_TZ = "America/New_York"
_UNIT_MS = {"second": 1_000, "minute": MINUTE_MS, "hour": 3_600_000}
# Calendar look-ups are bounded: a frame whose timestamps span more than this is not gap-checked.
MAX_CALENDAR_SPAN_DAYS = 366 * 30


class CheckedFrame(NamedTuple):
    """The validator's view of a frame it was given, read once: arrays sorted by time, rows without a valid
    timestamp dropped. Not :class:`polygon.markets.frames.BarArrays`: a frame under check may break the bar contract
    (duplicates, NaN prices, missing columns), which the checks must see and report."""

    t: np.ndarray  # int64 epoch ms, ascending
    open: np.ndarray  # float64, NaN where missing or not numeric
    high: np.ndarray
    low: np.ndarray
    close: np.ndarray
    volume: np.ndarray
    vwap: Optional[np.ndarray]
    tz: str  # zone used for ISO timestamps in findings
    has_time: bool  # False when no usable timestamps exist
    has_prices: bool  # False when a required column is missing


class Context(NamedTuple):
    """What the checks need besides the bars."""

    symbol: str
    market: str  # stocks, crypto, fx, indices, options, futures
    timeframe: Timeframe
    extended_hours: bool
    start: Optional[Any]  # datetime.date or None (then the data's first day)
    end: Optional[Any]
    now_ms: int
    outlier_threshold: float = 10.0
    stale_min_bars: Optional[int] = None
    min_long_gap_bars: int = 3
    start_ms: Optional[int] = None  # instants (epoch ms) bounding the expected intraday bars, when known
    end_ms: Optional[int] = None

    @property
    def bar_ms(self) -> Optional[int]:
        """Bar length in ms for intraday timeframes, else ``None``."""
        unit = _UNIT_MS.get(self.timeframe.timespan)
        return None if unit is None else unit * self.timeframe.multiplier

    @property
    def uses_exchange_calendar(self) -> bool:
        """Stocks, indices and options follow the exchange sessions; crypto and fx have their own
        (:mod:`polygon.markets`)."""
        return self.market in markets.SESSION_MARKETS

    @property
    def day_shift_ms(self) -> int:
        """How far before its trading date's midnight a session opens: futures sessions (and their daily bars)
        start at 18:00 New York the evening before (:mod:`polygon.markets.futures`); 0 elsewhere."""
        return futures.SESSION_SHIFT_MS if self.market == "futures" else 0

    @property
    def has_volume(self) -> bool:
        """``False`` for indices, whose values carry no volume."""
        return markets.has_volume(self.market)


class CheckResult(NamedTuple):
    """Outcome of one check: ``status`` is ``passed``, ``failed`` or ``skipped``."""

    name: str
    status: str
    details: str
    findings: List[Dict[str, Any]]


# ---------------------------------------------------------------- helpers


def iso_times(ms: np.ndarray, tz: str, limit: int = MAX_TIMESTAMPS) -> List[str]:
    """ISO-8601 strings (in ``tz``) of the first ``limit`` epoch-ms values."""
    values = np.asarray(ms, dtype=np.int64)[:limit]
    if not len(values):
        return []
    stamps = pd.to_datetime(values, unit="ms", utc=True)
    try:
        stamps = stamps.tz_convert(tz)
    except Exception:
        pass
    return [s.isoformat() for s in stamps]


def finding(check: str, severity: str, count: int, ms: np.ndarray, tz: str, explanation: str,
            share: float, **extra: Any) -> Dict[str, Any]:
    """Build one finding dict (JSON-serialisable)."""
    out = {
        "check": check,
        "severity": severity,
        "count": int(count),
        "timestamps": iso_times(ms, tz),
        "explanation": explanation,
        "share": round(float(min(max(share, 0.0), 1.0)), 6),
    }
    out.update(extra)
    return out


def skipped(name: str, reason: str) -> CheckResult:
    """A check that could not run (missing columns, no timestamps, not applicable)."""
    return CheckResult(name, "skipped", reason, [])


def _column(df: pd.DataFrame, name: str) -> Optional[pd.Series]:
    columns = list(df.columns)
    if name not in columns:
        return None
    return df.iloc[:, columns.index(name)]  # first of duplicated names


def _floats(series: Optional[pd.Series], n: int) -> np.ndarray:
    if series is None:
        return np.full(n, np.nan)
    try:
        values = pd.to_numeric(series, errors="coerce")
        return np.array(values.to_numpy(dtype="float64", na_value=np.nan), dtype=np.float64)
    except Exception:
        return np.full(n, np.nan)


def _epoch_ms(values: Any) -> Optional[np.ndarray]:
    """int64 epoch ms of a datetime-like or numeric (epoch ms) sequence; NaT -> int64 min."""
    index = pd.Index(values)
    if isinstance(index, pd.DatetimeIndex):
        if index.tz is not None:
            index = index.tz_convert("UTC").tz_localize(None)
        return np.asarray(index.values.astype("datetime64[ms]").astype(np.int64))
    if pd.api.types.is_numeric_dtype(index.dtype) and not pd.api.types.is_bool_dtype(index.dtype):
        floats = np.asarray(index.to_numpy(dtype="float64", na_value=np.nan))
        out = np.full(len(floats), np.iinfo(np.int64).min, dtype=np.int64)
        ok = np.isfinite(floats) & (np.abs(floats) < 2.5e14)
        out[ok] = floats[ok].astype(np.int64)
        return out
    return None


def local_day(t: np.ndarray) -> np.ndarray:
    """Exchange-local (New York) calendar day of each epoch-ms value, as datetime64[D]."""
    return (_local_ms(t) // DAY_MS).astype("datetime64[D]")


def bar_day(t: np.ndarray, shift_ms: int = 0) -> np.ndarray:
    """Trading day of daily-or-longer bars: the UTC date for bars at UTC midnight, else the New York date
    (of ``t + shift_ms``: a futures session bar opens the evening before its trading date)."""
    if shift_ms:
        return local_day(t + shift_ms)
    days = local_day(t)
    utc_midnight = t % DAY_MS == 0
    if utc_midnight.any():
        days = np.where(utc_midnight, (t // DAY_MS).astype("datetime64[D]"), days)
    return days


def _local_ms(t: np.ndarray) -> np.ndarray:
    if not len(t):
        return np.empty(0, dtype=np.int64)
    local = pd.DatetimeIndex(pd.to_datetime(t, unit="ms", utc=True)).tz_convert(_EXCHANGE_TZ).tz_localize(None)
    return np.asarray(local.values.astype("datetime64[ms]").astype(np.int64))


def runs(mask: np.ndarray):
    """Start indices and lengths of the runs of True in a boolean array."""
    if not len(mask):
        empty = np.empty(0, dtype=np.int64)
        return empty, empty
    padded = np.concatenate(([False], mask, [False])).astype(np.int8)
    edges = np.diff(padded)
    starts = np.flatnonzero(edges == 1)
    ends = np.flatnonzero(edges == -1)
    return starts, ends - starts


def date_range_of(bars: CheckedFrame, ctx: Context):
    """The (first, last) exchange days the calendar checks cover, or ``None`` when unknown/too wide."""
    first, last = ctx.start, ctx.end
    if ctx.market == "futures":  # trading dates: a session opens at 18:00 New York the evening before
        shift = ctx.day_shift_ms
        if ctx.start_ms is not None:
            first = local_day(np.array([ctx.start_ms + shift], dtype=np.int64))[0].item()
        if ctx.end_ms is not None:
            last = local_day(np.array([ctx.end_ms + shift], dtype=np.int64))[0].item()
        if (first is None or last is None) and len(bars.t):
            days = local_day(bars.t[[0, -1]] + shift)
            first = first if first is not None else days[0].item()
            last = last if last is not None else days[-1].item()
    elif not ctx.uses_exchange_calendar:  # crypto and fx days are UTC days (their daily bars start at 00:00 UTC)
        if ctx.start_ms is not None:
            first = (np.int64(ctx.start_ms) // DAY_MS).astype("datetime64[D]").item()
        if ctx.end_ms is not None:
            last = (np.int64(ctx.end_ms) // DAY_MS).astype("datetime64[D]").item()
    if (first is None or last is None) and len(bars.t):
        days = local_day(bars.t[[0, -1]]) if ctx.uses_exchange_calendar else (bars.t[[0, -1]] // DAY_MS).astype(
            "datetime64[D]")
        first = first if first is not None else days[0].item()
        last = last if last is not None else days[-1].item()
    # numpy gives a plain int for a day outside Python's dates (before year 1): no calendar covers it
    if not isinstance(first, datetime.date) or not isinstance(last, datetime.date) or last < first:
        return None
    if (last - first).days > MAX_CALENDAR_SPAN_DAYS:
        return None
    return first, last


# ---------------------------------------------------------------- structure


def prepare_bars(df: Any, timeframe: Timeframe) -> Tuple[CheckedFrame, List[CheckResult]]:
    """Read ``df`` into :class:`CheckedFrame` plus the structural check results (columns, dtypes, index).

    Nothing is written to ``df``: every array is a fresh copy.

    :returns: ``(bars, [CheckResult columns, dtypes, index])``.
    """
    results: List[CheckResult] = []
    if not isinstance(df, pd.DataFrame):
        reason = "expected a pandas DataFrame, got %s" % type(df).__name__
        bars = CheckedFrame(*(np.empty(0),) * 6, None, "UTC", False, False)  # type: ignore[arg-type]
        no_ms = np.empty(0, dtype=np.int64)
        for name in ("columns", "dtypes", "index"):
            found = [finding(name, "critical", 1, no_ms, "UTC", reason, 1.0)]
            results.append(CheckResult(name, "failed", reason, found))
        return bars, results
    n = len(df)
    columns = [c for c in df.columns if isinstance(c, str)]
    missing = [c for c in REQUIRED_COLUMNS if c not in columns]
    absent_optional = [c for c in OPTIONAL_COLUMNS if c not in columns]
    no_ms = np.empty(0, dtype=np.int64)
    if missing:
        text = "missing required column(s): %s" % ", ".join(missing)
        results.append(CheckResult("columns", "failed", text,
                                   [finding("columns", "critical", len(missing), no_ms, "UTC", text, 1.0)]))
    else:
        text = "all of %s present" % ", ".join(REQUIRED_COLUMNS)
        if absent_optional:
            text += " (optional %s absent)" % ", ".join(absent_optional)
        results.append(CheckResult("columns", "passed", text, []))

    bad_types = []
    for name in REQUIRED_COLUMNS + OPTIONAL_COLUMNS:
        series = _column(df, name)
        if series is not None and not (pd.api.types.is_numeric_dtype(series.dtype)
                                       and not pd.api.types.is_bool_dtype(series.dtype)):
            bad_types.append("%s (%s)" % (name, series.dtype))
    if bad_types:
        text = "non-numeric column(s): %s; values that are not numbers count as missing" % ", ".join(bad_types)
        results.append(CheckResult("dtypes", "failed", text,
                                   [finding("dtypes", "high", len(bad_types), no_ms, "UTC", text, 1.0)]))
    else:
        results.append(CheckResult("dtypes", "passed", "price, volume, vwap and transactions columns are numeric", []))

    # timestamps: the index, or a 'timestamp' column as a second best
    index_problems = []  # (severity, text)
    tz = "UTC"
    raw = df.index
    if not isinstance(raw, pd.DatetimeIndex):
        column = _column(df, "timestamp")
        if column is not None and _epoch_ms(column) is not None:
            index_problems.append(("medium", "timestamps are in a 'timestamp' column, not the index"))
            raw = column
        else:
            index_problems.append(("critical", "the index is a %s, not a DatetimeIndex" % type(raw).__name__))
            raw = None
    try:
        ms = None if raw is None else _epoch_ms(raw)
    except Exception as exc:  # out-of-bounds datetimes and the like
        index_problems.append(("critical", "timestamps cannot be read (%s)" % type(exc).__name__))
        ms = None
    if ms is None:
        ms = np.full(n, np.iinfo(np.int64).min, dtype=np.int64)
    else:
        dt_tz = getattr(getattr(raw, "dtype", None), "tz", None)
        if dt_tz is None:
            index_problems.append(("medium", "timestamps are timezone-naive (read as UTC)"))
        else:
            tz = str(dt_tz)
    valid = ms != np.iinfo(np.int64).min
    invalid = int(n - valid.sum())
    if invalid and not any(s == "critical" for s, _ in index_problems):
        index_problems.append(("high", "%d rows without a timestamp (ignored)" % invalid))
    t_valid = ms[valid]
    if len(t_valid) > 1 and bool(np.any(np.diff(t_valid) < 0)):
        index_problems.append(("medium", "the index is not sorted by time"))
    order = np.argsort(t_valid, kind="stable")
    t_sorted = t_valid[order]
    if index_problems:
        severity = max((s for s, _ in index_problems), key=SEVERITIES.index)
        text = "; ".join(text for _, text in index_problems)
        results.append(CheckResult("index", "failed", text,
                                   [finding("index", severity, len(index_problems), no_ms, tz, text, 1.0)]))
    else:
        results.append(CheckResult("index", "passed", "tz-aware DatetimeIndex (%s), sorted" % tz, []))

    def col(name: str) -> np.ndarray:
        return _floats(_column(df, name), n)[valid][order]

    has_time = not any(s == "critical" for s, _ in index_problems)
    vwap = col("vwap") if "vwap" in columns else None
    bars = CheckedFrame(t_sorted if has_time else t_sorted[:0], col("open"), col("high"), col("low"), col("close"),
                col("volume"), vwap, tz, has_time, not missing)
    if not has_time:
        bars = bars._replace(**{k: getattr(bars, k)[:0] for k in REQUIRED_COLUMNS},
                             vwap=None if vwap is None else vwap[:0])
    return bars, results


def _needs_prices(name: str, bars: CheckedFrame) -> Optional[CheckResult]:
    if not bars.has_prices:
        return skipped(name, "required columns are missing")
    if not bars.has_time:
        return skipped(name, "no usable timestamps")
    return None


def _bar_check(name: str, severity: str, bars: CheckedFrame, mask: Callable[[], np.ndarray], what: str,
               ok_text: str, needs_prices: bool = True) -> CheckResult:
    """A check that flags the bars where ``mask()`` is True; ``what`` completes "N bars ..."."""
    skip = _needs_prices(name, bars) if needs_prices else (
        None if bars.has_time else skipped(name, "no usable timestamps"))
    if skip:
        return skip
    with np.errstate(invalid="ignore", over="ignore"):
        bad = np.flatnonzero(mask())
    if not len(bad):
        return CheckResult(name, "passed", ok_text, [])
    text = "%d bars %s" % (len(bad), what)
    return CheckResult(name, "failed", text,
                       [finding(name, severity, len(bad), bars.t[bad], bars.tz, text, len(bad) / len(bars.t))])


def check_duplicates(bars: CheckedFrame, ctx: Context) -> CheckResult:
    """CheckedFrame sharing a timestamp (every repeat after the first is flagged)."""
    return _bar_check("duplicates", "medium", bars,
                      lambda: np.concatenate(([False], np.diff(bars.t) == 0))[:len(bars.t)],
                      "repeat an earlier bar's timestamp", "every timestamp is unique", needs_prices=False)


def check_alignment(bars: CheckedFrame, ctx: Context) -> CheckResult:
    """Bar start times on the timeframe's grid (intraday: UTC multiples; daily+: midnight)."""
    tf = ctx.timeframe
    if tf.is_intraday:
        unit = _UNIT_MS[tf.timespan]
        divides = (tf.timespan in ("second", "minute") and 60 % tf.multiplier == 0) or tf.multiplier == 1
        grid = unit * tf.multiplier if divides else unit
        return _bar_check("alignment", "medium", bars, lambda: bars.t % grid != 0,
                          "start off the %d-%s grid of %s bars" % (grid // unit, tf.timespan, tf.name),
                          "every bar starts on the %s grid" % tf.name, needs_prices=False)
    if ctx.day_shift_ms:  # futures: a session bar starts at its open, 18:00 New York
        return _bar_check("alignment", "medium", bars, lambda: (_local_ms(bars.t) + ctx.day_shift_ms) % DAY_MS != 0,
                          "of %s start elsewhere than a Globex session's 18:00 New York open" % tf.name,
                          "every bar starts at a session's open", needs_prices=False)
    return _bar_check("alignment", "medium", bars,
                      lambda: (_local_ms(bars.t) % DAY_MS != 0) & (bars.t % DAY_MS != 0),
                      "of %s start neither at New York nor at UTC midnight" % tf.name,
                      "every bar starts at midnight", needs_prices=False)


# ---------------------------------------------------------------- values


def check_missing_values(bars: CheckedFrame, ctx: Context) -> CheckResult:
    """NaN or infinite open/high/low/close/volume (volume not for indices, which have none)."""
    if not ctx.has_volume:
        return _bar_check("missing_values", "high", bars, lambda: ~(
            np.isfinite(bars.open) & np.isfinite(bars.high) & np.isfinite(bars.low) & np.isfinite(bars.close)),
            "with a missing or non-finite open/high/low/close", "no missing values (indices carry no volume)")
    return _bar_check("missing_values", "high", bars, lambda: ~(
        np.isfinite(bars.open) & np.isfinite(bars.high) & np.isfinite(bars.low) & np.isfinite(bars.close)
        & np.isfinite(bars.volume)), "with a missing or non-finite open/high/low/close/volume",
        "no missing prices or volumes")


def check_ohlc_consistency(bars: CheckedFrame, ctx: Context) -> CheckResult:
    """high >= max(open, close), low <= min(open, close), high >= low (relative tolerance 1e-9)."""
    o, h, lo, c = bars.open, bars.high, bars.low, bars.close

    def mask() -> np.ndarray:
        tol = 1e-9 * np.maximum(np.abs(h), 1.0)
        return (h + tol < np.maximum(o, c)) | (lo - tol > np.minimum(o, c)) | (h + tol < lo)

    return _bar_check("ohlc_consistency", "high", bars, mask,
                      "where high < max(open, close), low > min(open, close) or high < low",
                      "high/low bound open and close on every bar")


def check_non_positive_prices(bars: CheckedFrame, ctx: Context) -> CheckResult:
    """Any open/high/low/close <= 0."""
    return _bar_check("non_positive_prices", "high", bars,
                      lambda: (bars.open <= 0) | (bars.high <= 0) | (bars.low <= 0) | (bars.close <= 0),
                      "with a zero or negative price", "all prices are positive")


def check_negative_volume(bars: CheckedFrame, ctx: Context) -> CheckResult:
    """volume < 0 (skipped for indices)."""
    if not ctx.has_volume:
        return skipped("negative_volume", "%s carry no volume" % ctx.market)
    return _bar_check("negative_volume", "high", bars, lambda: bars.volume < 0, "with negative volume",
                      "no negative volume")


def check_vwap_range(bars: CheckedFrame, ctx: Context) -> CheckResult:
    """vwap within [low, high] (tolerance 1e-4 for the provider's 4-decimal rounding); NaN vwap is not checked."""
    if bars.vwap is None and bars.has_prices and bars.has_time:
        return skipped("vwap_range", "no vwap column")
    vw = bars.vwap

    def mask() -> np.ndarray:
        tol = 1e-4 + 1e-7 * np.abs(bars.high)
        return np.isfinite(vw) & ((vw < bars.low - tol) | (vw > bars.high + tol))

    return _bar_check("vwap_range", "medium", bars, mask, "whose vwap lies outside [low, high]",
                      "vwap within [low, high] wherever present")


def check_zero_volume_price_change(bars: CheckedFrame, ctx: Context) -> CheckResult:
    """volume == 0 while the bar's prices move (high != low or open != close); skipped for indices."""
    if not ctx.has_volume:
        return skipped("zero_volume_price_change", "%s carry no volume" % ctx.market)

    def mask() -> np.ndarray:
        finite = np.isfinite(bars.high) & np.isfinite(bars.low) & np.isfinite(bars.open) & np.isfinite(bars.close)
        return finite & (bars.volume == 0) & ((bars.high != bars.low) | (bars.open != bars.close))

    return _bar_check("zero_volume_price_change", "medium", bars, mask, "with zero volume whose prices still move",
                      "no zero-volume bar moves the price")


# ---------------------------------------------------------------- sessions and gaps


def _calendar_skip(name: str, bars: CheckedFrame, ctx: Context) -> Optional[CheckResult]:
    if not bars.has_time:
        return skipped(name, "no usable timestamps")
    return None


def check_outside_session(bars: CheckedFrame, ctx: Context) -> CheckResult:
    """CheckedFrame outside the trading sessions (regular, or extended when ``ctx.extended_hours``)."""
    name = "outside_session"
    skip = _calendar_skip(name, bars, ctx)
    if skip:
        return skip
    if not len(bars.t):
        return CheckResult(name, "passed", "no bars", [])
    tf = ctx.timeframe
    if not tf.is_intraday and tf.timespan != "day":
        return skipped(name, "%s bars start on calendar boundaries, not sessions" % tf.name)
    span = date_range_of(bars, ctx._replace(start=None, end=None))
    if span is None:
        return skipped(name, "timestamps span more than %d days" % MAX_CALENDAR_SPAN_DAYS)
    first, last = span
    if tf.is_intraday:
        bar_ms = ctx.bar_ms
        opens, closes = markets.session_bounds(ctx.symbol, first, last, extended=ctx.extended_hours)
        ok = _in_sessions(bars.t, bar_ms, opens, closes)
        bad = np.flatnonzero(~ok)
        if not len(bad):
            return CheckResult(name, "passed", "every bar overlaps a %s session"
                               % ("extended" if ctx.extended_hours else "regular"), [])
        severity, note = "medium", ""
        if not ctx.extended_hours and ctx.market == "stocks":
            eopens, ecloses = markets.session_bounds(ctx.symbol, first, last, extended=True)
            n_ext = int(_in_sessions(bars.t[bad], bar_ms, eopens, ecloses).sum())
            if n_ext == len(bad):
                severity = "low"
            note = " (%d in pre/post-market hours while regular hours were requested)" % n_ext
        if ctx.market == "futures":
            zone = get_zone(_EXCHANGE_TZ)
            n_break = int(futures.in_maintenance_break(bars.t[bad], zone).sum())
            n_early = int(futures.after_early_close(bars.t[bad], zone).sum())
            note = " (%d in the daily 17:00-18:00 New York maintenance break, %d after %s)" % (
                n_break, n_early, futures_calendar.EARLY_CLOSE_NOTE)
        text = "%d bars outside the %s trading sessions%s" % (
            len(bad), "extended" if ctx.extended_hours else "regular", note)
    else:
        days = bar_day(bars.t, ctx.day_shift_ms)
        trading = np.array(markets.trading_days(ctx.symbol, first, last), dtype="datetime64[D]")
        bad = np.flatnonzero(~np.isin(days, trading))
        if not len(bad):
            return CheckResult(name, "passed", "every bar falls on a trading day", [])
        severity = "medium"
        text = "%d bars dated on days the exchange is closed%s" % (
            len(bad), " (CME holidays and weekends)" if ctx.market == "futures" else "")
    return CheckResult(name, "failed", text,
                       [finding(name, severity, len(bad), bars.t[bad], bars.tz, text, len(bad) / len(bars.t))])


def _in_sessions(t: np.ndarray, bar_ms: int, opens: np.ndarray, closes: np.ndarray) -> np.ndarray:
    """True where the bar ``[t, t + bar_ms)`` overlaps a session ``[open, close)``."""
    if not len(opens):
        return np.zeros(len(t), dtype=bool)
    i = np.searchsorted(opens, t + bar_ms, side="left") - 1
    return (i >= 0) & (closes[np.maximum(i, 0)] > t)


def check_return_outliers(bars: CheckedFrame, ctx: Context) -> CheckResult:
    """Close-to-close log returns beyond ``ctx.outlier_threshold`` robust z-scores (median absolute deviation).

    Intraday, the overnight return (first bar of a day; of a futures session, after the maintenance break) is
    not tested and a return over ``k`` bar
    lengths (the bars between had no trades) is scaled by ``1 / sqrt(k)``. A return also has to exceed
    0.1% to count, so a nearly constant series does not flag every tick.
    """
    name = "return_outliers"
    skip = _needs_prices(name, bars)
    if skip:
        return skip
    c = bars.close
    idx = np.flatnonzero(np.isfinite(c) & (c > 0))
    if len(idx) < 10:
        return skipped(name, "fewer than 10 valid closes")
    with np.errstate(divide="ignore", invalid="ignore"):
        r = np.diff(np.log(c[idx]))
    ends = idx[1:]
    scaled = r
    if ctx.timeframe.is_intraday:
        # a return across k bar-lengths (minutes without trades) is compared as r / sqrt(k)
        elapsed = np.diff(bars.t[idx]) / float(ctx.bar_ms)
        scaled = r / np.sqrt(np.maximum(elapsed, 1.0))
        day = (_local_ms(bars.t[idx]) + ctx.day_shift_ms) // DAY_MS  # futures: the reopen after the break too
        same = day[1:] == day[:-1]
        r, scaled, ends = r[same], scaled[same], ends[same]
    if len(r) < 10:
        return skipped(name, "fewer than 10 returns")
    med = float(np.median(scaled))
    dev = np.abs(scaled - med)
    scale = 1.4826 * float(np.median(dev))
    if scale == 0.0:
        scale = 1.2533 * float(np.mean(dev))
    if scale == 0.0 or not math.isfinite(scale):
        return CheckResult(name, "passed", "closes never change: no returns to test", [])
    z = dev / scale
    bad_i = np.flatnonzero((z > ctx.outlier_threshold) & (np.abs(r) > 1e-3))
    if not len(bad_i):
        return CheckResult(name, "passed", "no return beyond %.0f robust z-scores" % ctx.outlier_threshold, [])
    bad = ends[bad_i]
    text = "%d bars whose return exceeds %.0f robust z-scores (median absolute deviation)" % (
        len(bad), ctx.outlier_threshold)
    extra = {"returns": [round(float(x), 6) for x in r[bad_i][:MAX_TIMESTAMPS]],
             "z_scores": [round(float(x), 1) for x in z[bad_i][:MAX_TIMESTAMPS]]}
    return CheckResult(name, "failed", text,
                       [finding(name, "medium", len(bad), bars.t[bad], bars.tz, text, len(bad) / len(bars.t), **extra)])


def stale_min_bars(ctx: Context) -> int:
    """Identical closes in a row that count as stale: 30 intraday bars, 5 daily-or-longer bars by default."""
    if ctx.stale_min_bars:
        return int(ctx.stale_min_bars)
    return 30 if ctx.timeframe.is_intraday else 5


def check_stale_runs(bars: CheckedFrame, ctx: Context) -> CheckResult:
    """Runs of at least :func:`stale_min_bars` consecutive bars with the identical close."""
    name = "stale_runs"
    skip = _needs_prices(name, bars)
    if skip:
        return skip
    min_bars = stale_min_bars(ctx)
    c = bars.close
    if len(c) < min_bars:
        return CheckResult(name, "passed", "fewer bars than a stale run (%d)" % min_bars, [])
    same = (c[1:] == c[:-1]) & np.isfinite(c[1:])
    starts, lens = runs(same)
    long_runs = lens >= min_bars - 1  # n equal steps = n + 1 bars
    if not long_runs.any():
        return CheckResult(name, "passed", "no run of %d identical closes" % min_bars, [])
    starts, lens = starts[long_runs], lens[long_runs] + 1
    text = "%d runs of >= %d bars with an identical close (longest %d)" % (len(starts), min_bars, int(lens.max()))
    return CheckResult(name, "failed", text, [finding(
        name, "medium", len(starts), bars.t[starts], bars.tz, text, float(lens.sum()) / len(c),
        longest=int(lens.max()))])


# ---------------------------------------------------------------- corporate actions

#: Split ratios (new shares per old) a price cliff is compared with; their inverses are reverse splits.
SPLIT_RATIOS = (1.5, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0, 10.0, 15.0, 20.0, 25.0, 30.0, 40.0, 50.0, 100.0)
_SPLIT_TOLERANCE = 0.02  # |log(ratio) - log(split)|: 2%


def check_split_cliff(bars: CheckedFrame, ctx: Context) -> CheckResult:
    """An overnight price ratio near a split ratio (2, 3, 1/2, 3/2 ...): bars with different split adjustments
    in one series, or as-traded prices across a split. High severity when the volume did not move the other
    way by about the same ratio (prices and volumes disagree), medium when it did (an unadjusted split: read
    with ``adjusted=True``). Stocks only."""
    name = "split_like_cliff"
    if not bars.has_time or not bars.has_prices:
        return skipped(name, "no usable timestamps or prices")
    if ctx.market != "stocks":
        return skipped(name, "%s have no splits" % ctx.market)
    if len(bars.t) < 2:
        return CheckResult(name, "passed", "fewer than two bars", [])
    days = local_day(bars.t)
    overnight = np.flatnonzero(days[1:] != days[:-1]) + 1  # first bar of each new day
    prev_close, next_open = bars.close[overnight - 1], bars.open[overnight]
    ok = np.isfinite(prev_close) & np.isfinite(next_open) & (prev_close > 0) & (next_open > 0)
    overnight, prev_close, next_open = overnight[ok], prev_close[ok], next_open[ok]
    log_r = np.log(next_open / prev_close)
    ratios = np.log(np.array(SPLIT_RATIOS))
    targets = np.concatenate((ratios, -ratios))
    dist = np.abs(log_r[:, None] - targets[None, :])
    near = dist.min(axis=1) < _SPLIT_TOLERANCE if len(log_r) else np.zeros(0, dtype=bool)
    hits = overnight[near]
    if not len(hits):
        return CheckResult(name, "passed", "no overnight price ratio near a split ratio", [])
    texts, severity = [], "medium"
    vol = np.where(np.isfinite(bars.volume), bars.volume, np.nan)
    for i, r in zip(hits.tolist(), np.exp(log_r[near]).tolist()):
        before, after = vol[max(0, i - 5):i], vol[i:i + 5]
        matched = False
        if np.isfinite(before).any() and np.isfinite(after).any():
            v0, v1 = np.nanmedian(before), np.nanmedian(after)
            matched = v0 > 0 and v1 > 0 and abs(np.log(v1 / v0) + np.log(r)) < np.log(2.0)
        if not matched:
            severity = "high"
        texts.append("%s (price x%.4g, volume %s)" % (str(days[i]), r, "moved inversely: as traded" if matched
                                                       else "did not move inversely"))
    text = ("%d split-like overnight price cliff(s): %s; mixed adjustments or as-traded prices across a split "
            "(read with adjusted=True)" % (len(hits), "; ".join(texts[:5])))
    return CheckResult(name, "failed", text, [finding(name, severity, len(hits), bars.t[hits], bars.tz, text,
                                                      len(hits) / len(bars.t))])
