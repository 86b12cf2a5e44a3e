"""Data-quality reports for bars, and symbol checks against the provider.

::

    from polygon.validators import generate_validation_summary, validate_symbol_detailed

    report = generate_validation_summary(df, 'AAPL', '5min')
    report['overall_quality'], report['score']     # e.g. ('excellent', 100.0)
    text = format_report(report)                   # a readable table

    validate_symbol_detailed('APPL')   # -> valid False, suggestions [{'ticker': 'AAPL', ...}, ...]

The checks themselves (pure, vectorised, never writing to the frame) are in
:mod:`polygon.validators.checks`. Expected bars come from :mod:`polygon.markets.sessions`:
exchange-calendars' XNYS calendar (holidays, early closes); futures from its CMES calendar
(:mod:`polygon.markets.futures_calendar`: CME holidays, early closes, the daily maintenance break).
Only for a year the calendar cannot answer is every weekday expected, and the report then says that
holidays are not known.
"""

import datetime as _dt
import logging
import math
import time
from typing import Any, Callable, Dict, List, Optional, Tuple

import numpy as np
import pandas as pd

from polygon.core.ticker_reference import check_symbol
from polygon.exceptions import DataValidationError
from polygon.markets import futures_calendar, sessions
from polygon.markets.symbols import market_of
from polygon.markets.timeframes import parse_timeframe
from polygon.validators import checks as vc
from polygon.validators import gaps as validation_gaps

__all__ = [
    "QUALITY_LEVELS",
    "format_report",
    "generate_validation_summary",
    "score_findings",
    "validate_bars",
    "validate_symbol_detailed",
]

logger = logging.getLogger(__name__)

#: Quality levels, best first, with the lowest score of each.
QUALITY_LEVELS = (("excellent", 95.0), ("good", 80.0), ("fair", 60.0), ("poor", 0.0))
#: Penalty weight of one finding by severity (see :func:`score_findings`).
SEVERITY_WEIGHTS = {"low": 8.0, "medium": 12.0, "high": 30.0, "critical": 60.0}
_EXCHANGE_TZ = "America/New_York"
#: Findings at or above this severity are failures for ``strict=True``.
STRICT_SEVERITIES = ("medium", "high", "critical")
SCORING_RULE = (
    "score = 100 - sum over findings of weight(severity) * (0.25 + 0.75 * min(1, share / 0.05)), "
    "weights low 8, medium 12, high 30, critical 60, share = affected bars / bars (gaps: / expected bars); "
    "clamped to 0-100, at most 40 with a critical finding, 0 without bars; "
    "excellent >= 95, good >= 80, fair >= 60, else poor"
)
_CHECKS: List[Callable[[vc.CheckedFrame, vc.Context], vc.CheckResult]] = [
    vc.check_duplicates,
    vc.check_alignment,
    vc.check_missing_values,
    vc.check_ohlc_consistency,
    vc.check_non_positive_prices,
    vc.check_negative_volume,
    vc.check_vwap_range,
    vc.check_zero_volume_price_change,
    vc.check_outside_session,
]
_AFTER_GAPS: List[Callable[[vc.CheckedFrame, vc.Context], vc.CheckResult]] = [
    vc.check_return_outliers, vc.check_stale_runs, vc.check_split_cliff]


# ---------------------------------------------------------------- scoring


def quality_for(score: float) -> str:
    """Map a 0-100 score to ``excellent``, ``good``, ``fair`` or ``poor``."""
    for name, floor in QUALITY_LEVELS:
        if score >= floor:
            return name
    return "poor"


def score_findings(findings: List[Dict[str, Any]], bar_count: int) -> float:
    """Score findings from 0 (unusable) to 100 (no finding).

    The rule: each finding costs ``weight * (0.25 + 0.75 * min(1, share / 0.05))`` points, where
    ``weight`` is 8 (low), 12 (medium), 30 (high) or 60 (critical) and ``share`` is the part of
    the bars it affects (for gaps: of the expected bars). A single bad bar thus costs a quarter of
    the weight and 5% of bad bars costs all of it. The sum is taken from 100 and clamped to 0-100;
    a critical finding caps the score at 40 and a frame without bars scores 0. Quality:
    excellent >= 95, good >= 80, fair >= 60, otherwise poor. So an illiquid symbol whose only
    finding is minutes without trades (low) stays at 92 or better ("good").

    :param findings: finding dicts with ``severity`` and ``share``.
    :param bar_count: number of bars validated.
    :returns: the score, rounded to one decimal.
    """
    if bar_count <= 0:
        return 0.0
    penalty = 0.0
    for item in findings:
        weight = SEVERITY_WEIGHTS.get(item.get("severity"), 0.0)
        share = float(item.get("share") or 0.0)
        if not math.isfinite(share):
            share = 1.0
        penalty += weight * (0.25 + 0.75 * min(1.0, max(share, 0.0) / 0.05))
    score = max(0.0, min(100.0, 100.0 - penalty))
    if any(item.get("severity") == "critical" for item in findings):
        score = min(score, 40.0)
    return round(score, 1)


# ---------------------------------------------------------------- reports


def _as_bound(value: Any) -> Tuple[Optional[_dt.date], Optional[int]]:
    """``(exchange-local date, epoch ms or None)``: dates and 'YYYY-MM-DD' are whole days, datetimes and
    ISO datetime strings are instants (naive ones read in New York time). Unreadable -> ``(None, None)``."""
    if value is None:
        return None, None
    if isinstance(value, _dt.date) and not isinstance(value, _dt.datetime):
        return value, None
    try:
        if isinstance(value, str) and len(value.strip()) == 10:
            return _dt.date.fromisoformat(value.strip()), None
        stamp = pd.Timestamp(value)
        if stamp is pd.NaT:
            return None, None
        stamp = stamp.tz_localize(_EXCHANGE_TZ) if stamp.tzinfo is None else stamp.tz_convert(_EXCHANGE_TZ)
        return stamp.date(), int(round(stamp.timestamp() * 1000))
    except (ValueError, TypeError, OverflowError):
        return None, None


def _attr(df: Any, key: str) -> Any:
    try:
        return df.attrs.get(key)
    except Exception:
        return None


def _run_check(func: Callable[[vc.CheckedFrame, vc.Context], vc.CheckResult], name: str, bars: vc.CheckedFrame,
               ctx: vc.Context) -> vc.CheckResult:
    try:
        with np.errstate(all="ignore"):  # inf/NaN arithmetic is expected on bad data; np.errstate is thread-local
            return func(bars, ctx)
    except Exception as exc:  # a bug in a check must not hide the others' results
        logger.warning("validation check %s failed to run: %r", name, exc, exc_info=True)
        return vc.CheckResult(name, "error", "the check could not run: %s" % type(exc).__name__, [])


def generate_validation_summary(
    df: Any,
    symbol: str,
    timeframe: Any,
    start: Any = None,
    end: Any = None,
    extended_hours: Optional[bool] = None,
    outlier_threshold: float = 10.0,
    stale_min_bars: Optional[int] = None,
    now: Optional[float] = None,
) -> Dict[str, Any]:
    """Validate a bars DataFrame and return a JSON-serialisable report. The frame is never modified.

    The report has ``overall_quality`` (excellent, good, fair, poor), ``score`` (0-100; the rule is
    in :func:`score_findings` and in ``report['scoring_rule']``), ``checks`` (every check with
    ``passed``, ``status`` passed/failed/skipped/error, ``severity``, ``count`` and ``details``),
    ``bar_count``, ``expected_bar_count`` and ``completeness`` (% of the calendar's expected bars
    present; ``None`` when not computed), ``missing_ranges`` (at most 100: whole sessions and long
    gaps first, then runs of minutes without trades; ``missing_ranges_total`` says how many),
    ``issues`` (the findings, worst first), ``calendar_source`` and ``calendar_note``.

    :param df: bars with columns open, high, low, close, volume (vwap, transactions optional) and a
        tz-aware DatetimeIndex of bar starts.
    :param symbol: the ticker (sets the market and its sessions, :mod:`polygon.markets`: crypto around the
        clock, fx from Sunday 17:00 to Friday 17:00 New York, options until expiry, futures in CME Globex
        sessions without the CME holidays and the minutes after an early close; no volume checks for indices).
    :param timeframe: e.g. ``'1min'``, ``'5min'``, ``'1day'``.
    :param start: first day expected (default ``df.attrs['start']``, else the first bar's day); a datetime
        (or ISO datetime string) also drops the expected bars before that instant.
    :param end: last day expected, inclusive (default ``df.attrs['end']``, else the last bar's day); a
        datetime also drops the expected bars after it.
    :param extended_hours: expect 04:00-20:00 bars; default ``df.attrs['extended_hours']`` or ``False``.
    :param outlier_threshold: robust z-score above which a return is an outlier.
    :param stale_min_bars: identical closes in a row that make a stale run (default 30 intraday, 5 daily).
    :param now: epoch seconds treated as "now" (sessions not finished by then are not expected).
    :returns: the report dict.
    :raises InvalidTimeframeError: when ``timeframe`` is not understood (nothing about ``df`` raises).
    """
    tf = parse_timeframe(timeframe)
    try:
        market = market_of(symbol)
    except Exception:
        market = "stocks"
    if extended_hours is None:
        attr = _attr(df, "extended_hours")
        extended_hours = attr if isinstance(attr, bool) else False
    first, start_ms = _as_bound(start if start is not None else _attr(df, "start"))
    last, end_ms = _as_bound(end if end is not None else _attr(df, "end"))
    now_s = time.time() if now is None else float(now)
    ctx = vc.Context(str(symbol), market, tf, bool(extended_hours), first, last, int(now_s * 1000),
                     float(outlier_threshold), stale_min_bars, start_ms=start_ms, end_ms=end_ms)

    if market == "indices" and isinstance(df, pd.DataFrame) and "volume" not in df.columns:
        df = df.assign(volume=0.0)  # index values carry no volume: a new frame, the caller's is untouched
    try:
        with np.errstate(all="ignore"):
            bars, results = vc.prepare_bars(df, tf)
    except Exception as exc:  # never seen in property tests; still, a report beats an exception
        logger.warning("bars could not be read for validation: %r", exc, exc_info=True)
        bars, results = vc.prepare_bars(None, tf)
    for func in _CHECKS:
        results.append(_run_check(func, func.__name__[len("check_"):], bars, ctx))
    try:
        with np.errstate(all="ignore"):
            gaps = validation_gaps.analyse_gaps(bars, ctx)
    except Exception as exc:
        logger.warning("gap analysis failed to run: %r", exc, exc_info=True)
        gaps = validation_gaps.GapAnalysis("error", type(exc).__name__, None, None, [], 0, [
            vc.CheckResult(n, "error", "the check could not run: %s" % type(exc).__name__, [])
            for n in ("missing_sessions", "long_gaps", "illiquid_gaps")], None)
    results.extend(gaps.results)
    for func in _AFTER_GAPS:
        results.append(_run_check(func, func.__name__[len("check_"):], bars, ctx))

    findings = [f for r in results for f in r.findings]
    bar_count = int(len(bars.t)) if bars.has_time else (len(df) if isinstance(df, pd.DataFrame) else 0)
    if bar_count == 0:
        findings.append({"check": "bar_count", "severity": "critical", "count": 0, "timestamps": [],
                         "explanation": "no bars to validate", "share": 1.0})
    score = score_findings(findings, bar_count)
    order = {s: i for i, s in enumerate(vc.SEVERITIES)}
    findings.sort(key=lambda f: (-order.get(f["severity"], 0), f["check"]))
    checks = {}
    for r in results:
        worst = max((f["severity"] for f in r.findings), key=order.get, default=None)
        checks[r.name] = {
            "passed": r.status in ("passed", "skipped"),
            "status": r.status,
            "severity": worst,
            "count": sum(f["count"] for f in r.findings),
            "details": r.details,
        }
    calendar = futures_calendar if market == "futures" else sessions  # CMES for futures, XNYS otherwise
    source = calendar.calendar_source(first, last) if first and last else calendar.calendar_source()
    if source == "exchange_calendars":
        note = "exchange-calendars %s: holidays and early closes known" % (
            "CMES" if market == "futures" else "XNYS")
    else:
        note = ("weekday calendar for years exchange-calendars cannot answer (%s): holidays not known; "
                "a single missing weekday is reported as a possible holiday with low severity"
                % (", ".join(str(y) for y in calendar.fallback_years()) or "forced"))
    completeness = None
    if gaps.expected:
        completeness = round(100.0 * gaps.present / gaps.expected, 2)
    elif gaps.expected == 0:
        completeness = 100.0
    span_first = vc.iso_times(bars.t[:1], bars.tz) if bars.has_time else []
    span_last = vc.iso_times(bars.t[-1:], bars.tz) if bars.has_time else []
    return {
        "symbol": str(symbol),
        "timeframe": tf.name,
        "market": market,
        "extended_hours": bool(extended_hours),
        "start": first.isoformat() if first else None,
        "end": last.isoformat() if last else None,
        "first_bar": span_first[0] if span_first else None,
        "last_bar": span_last[0] if span_last else None,
        "overall_quality": quality_for(score) if bar_count else "poor",
        "score": score,
        "scoring_rule": SCORING_RULE,
        "bar_count": bar_count,
        "expected_bar_count": gaps.expected,
        "completeness": completeness,
        "no_trade_rate": None if gaps.no_trade_rate is None else round(gaps.no_trade_rate, 4),
        "missing_ranges": gaps.ranges,
        "missing_ranges_total": gaps.ranges_total,
        "checks": checks,
        "issues": findings,
        "calendar_source": source,
        "calendar_note": note,
    }


def validate_bars(
    df: Any,
    symbol: str,
    timeframe: Any,
    extended_hours: bool = False,
    strict: bool = False,
    **options: Any,
) -> Dict[str, Any]:
    """Validate bars for :func:`polygon.manager.fetch_data` (``validate=True``).

    Logs a warning when the quality is fair or poor. The caller attaches the report to
    ``df.attrs['validation']``; this function never modifies ``df``.

    :param strict: raise when any finding is medium, high or critical severity.
    :param options: passed to :func:`generate_validation_summary` (``start``, ``end``, ...).
    :returns: the report of :func:`generate_validation_summary`.
    :raises DataValidationError: with ``strict=True`` and failures; ``.failures`` lists the findings
        and ``.report`` holds the whole report.
    """
    report = generate_validation_summary(df, symbol, timeframe, extended_hours=extended_hours, **options)
    if report["overall_quality"] in ("fair", "poor"):
        logger.warning("%s %s data quality is %s (score %.1f): %s", report["symbol"], report["timeframe"],
                       report["overall_quality"], report["score"],
                       "; ".join(f["explanation"] for f in report["issues"][:3]))
    if strict:
        failures = [f for f in report["issues"] if f["severity"] in STRICT_SEVERITIES]
        if failures:
            listing = "; ".join("%s (%s, %d): %s" % (f["check"], f["severity"], f["count"], f["explanation"])
                                for f in failures)
            raise DataValidationError(
                "%s %s failed validation (%s, score %.1f): %s" % (
                    report["symbol"], report["timeframe"], report["overall_quality"], report["score"], listing),
                failures=failures, report=report)
    return report


# ---------------------------------------------------------------- symbols


def validate_symbol_detailed(symbol: Any, client: Any = None) -> Dict[str, Any]:
    """Check a symbol's syntax and ask the provider whether it knows it.

    The network half lives on the client layer (:func:`polygon.core.ticker_reference.check_symbol`); this is its
    public name.

    :param symbol: the ticker to check.
    :param client: a :class:`polygon.core.PolygonClient` (default: one from the environment's config,
        closed afterwards).
    :returns: ``{'symbol', 'normalized', 'valid', 'syntax_valid', 'exists', 'active', 'market',
        'details': {name, market, type, active, primary_exchange, ...}, 'suggestions': [{ticker, name,
        active}], 'reason'}``. ``exists`` is ``None`` when the provider could not be asked; ``reason``
        says why a symbol is not valid (``None`` when it is).
    """
    return check_symbol(symbol, client)


# ---------------------------------------------------------------- text


def _table(rows: List[List[str]], headers: List[str], max_width: int = 70) -> List[str]:
    cells = [[str(c) if len(str(c)) <= max_width else str(c)[: max_width - 3] + "..." for c in row] for row in rows]
    widths = [max([len(h)] + [len(r[i]) for r in cells]) for i, h in enumerate(headers)]
    line = "  ".join("-" * w for w in widths)
    out = ["  ".join(h.ljust(w) for h, w in zip(headers, widths)).rstrip(), line]
    out += ["  ".join(c.ljust(w) for c, w in zip(row, widths)).rstrip() for row in cells]
    return out


def format_report(report: Dict[str, Any]) -> str:
    """Render a report of :func:`generate_validation_summary` (or :func:`validate_symbol_detailed`)
    as a readable text table for the ``polygon validate`` command."""
    if "syntax_valid" in report:
        lines = ["symbol %s: %s" % (report.get("symbol"), "valid" if report.get("valid") else "NOT valid")]
        for key, value in (report.get("details") or {}).items():
            lines.append("  %-18s %s" % (key, value))
        if report.get("reason"):
            lines.append("  reason: %s" % report["reason"])
        for item in report.get("suggestions") or []:
            lines.append("  suggestion: %s (%s)" % (item.get("ticker"), item.get("name")))
        return "\n".join(lines)
    expected = report.get("expected_bar_count")
    completeness = report.get("completeness")
    lines = [
        "%s %s  quality: %s  (score %s/100)" % (report.get("symbol"), report.get("timeframe"),
                                                str(report.get("overall_quality")).upper(), report.get("score")),
        "bars: %s  expected: %s  completeness: %s" % (
            report.get("bar_count"), "n/a" if expected is None else expected,
            "n/a" if completeness is None else "%.2f%%" % completeness),
        "range: %s .. %s  (%s hours)" % (report.get("first_bar"), report.get("last_bar"),
                                         "extended" if report.get("extended_hours") else "regular"),
        "calendar: %s" % report.get("calendar_note"),
        "",
    ]
    rows = []
    for name, check in (report.get("checks") or {}).items():
        rows.append([name, check.get("status", ""), check.get("severity") or "", str(check.get("count", "")),
                     check.get("details", "")])
    lines += _table(rows, ["check", "status", "severity", "count", "details"])
    ranges = report.get("missing_ranges") or []
    if ranges:
        lines += ["", "missing ranges (%d in total, first %d):" % (report.get("missing_ranges_total", len(ranges)),
                                                                   min(len(ranges), 10))]
        lines += _table([[r["start"], r["end"], str(r["bars"]), r["kind"], r["severity"]] for r in ranges[:10]],
                        ["start", "end", "bars", "kind", "severity"])
    for issue in (report.get("issues") or [])[:10]:
        if issue.get("timestamps"):
            lines.append("%s: e.g. %s" % (issue["check"], ", ".join(issue["timestamps"][:3])))
    return "\n".join(lines)
