"""Pure interval arithmetic for cache coverage (no I/O).

An interval is a half-open ``(start, end)`` pair of UTC epoch **milliseconds** with ``start < end``;
``[start, end)`` contains ``start`` and not ``end``. A *coverage* is a list of intervals in normal
form: sorted, non-empty, non-overlapping and non-touching (``[a, b)`` and ``[b, c)`` merge into
``[a, c)``). Every function accepts any iterable of pairs and returns normal form.

Coverage records what was *requested and fetched completely*, never what bars exist: a weekend
inside a fetched range is covered even though it has no bars.

:func:`to_ms` converts user inputs (ints, strings, dates, datetimes, pandas Timestamps) to epoch ms.
"""

from typing import Any, Iterable, List, Optional, Sequence, Tuple

__all__ = [
    "Interval",
    "add",
    "bounds",
    "clip",
    "contains",
    "covered_ms",
    "from_json",
    "intersect",
    "normalize",
    "percentage",
    "subtract",
    "to_json",
    "to_ms",
    "to_timestamps",
]

Interval = Tuple[int, int]


def _pair(item: Any) -> Interval:
    try:
        start, end = item
    except (TypeError, ValueError):
        raise ValueError("an interval is a (start, end) pair, got %r" % (item,)) from None
    return to_ms(start), to_ms(end)


def normalize(intervals: Iterable[Any]) -> List[Interval]:
    """Return ``intervals`` in normal form: sorted, merged (overlapping or touching), empty ones dropped.

    :param intervals: iterable of ``(start, end)`` pairs (ms or anything :func:`to_ms` accepts).
    :returns: list of ``(start_ms, end_ms)`` tuples.
    """
    pairs = sorted(p for p in (_pair(i) for i in intervals) if p[0] < p[1])
    out: List[Interval] = []
    for start, end in pairs:
        if out and start <= out[-1][1]:
            if end > out[-1][1]:
                out[-1] = (out[-1][0], end)
        else:
            out.append((start, end))
    return out


def add(intervals: Iterable[Any], *more: Iterable[Any]) -> List[Interval]:
    """Union of one or more interval lists."""
    items = list(intervals)
    for extra in more:
        items.extend(extra)
    return normalize(items)


def subtract(intervals: Iterable[Any], remove: Iterable[Any]) -> List[Interval]:
    """Return the parts of ``intervals`` not in ``remove`` (e.g. ``missing = subtract(requested, covered)``)."""
    base = normalize(intervals)
    cut = normalize(remove)
    out: List[Interval] = []
    j = 0
    for start, end in base:
        cur = start
        while j < len(cut) and cut[j][1] <= cur:
            j += 1
        k = j
        while k < len(cut) and cut[k][0] < end:
            c_start, c_end = cut[k]
            if c_start > cur:
                out.append((cur, c_start))
            cur = max(cur, c_end)
            if cur >= end:
                break
            k += 1
        if cur < end:
            out.append((cur, end))
    return out


def intersect(a: Iterable[Any], b: Iterable[Any]) -> List[Interval]:
    """Intersection of two interval lists."""
    left, right = normalize(a), normalize(b)
    out: List[Interval] = []
    i = j = 0
    while i < len(left) and j < len(right):
        start = max(left[i][0], right[j][0])
        end = min(left[i][1], right[j][1])
        if start < end:
            out.append((start, end))
        if left[i][1] < right[j][1]:
            i += 1
        else:
            j += 1
    return out


def clip(intervals: Iterable[Any], start: Any, end: Any) -> List[Interval]:
    """The parts of ``intervals`` inside ``[start, end)``."""
    return intersect(intervals, [(start, end)])


def covered_ms(intervals: Iterable[Any]) -> int:
    """Total length in ms."""
    return sum(e - s for s, e in normalize(intervals))


def contains(intervals: Iterable[Any], start: Any, end: Any) -> bool:
    """``True`` when ``[start, end)`` is entirely covered by ``intervals`` (an empty request always is)."""
    return not subtract([(start, end)], intervals)


def percentage(covered: Iterable[Any], start: Any, end: Any) -> float:
    """Share of ``[start, end)`` covered, in percent (0.0 .. 100.0); an empty request is 100.0.

    :param covered: the coverage.
    :param start: request start. :param end: request end (exclusive).
    """
    s, e = to_ms(start), to_ms(end)
    if e <= s:
        return 100.0
    inside = covered_ms(clip(covered, s, e))
    return 100.0 * inside / (e - s)


def to_json(intervals: Iterable[Any]) -> List[List[int]]:
    """JSON-friendly form: ``[[start_ms, end_ms], ...]`` in normal form."""
    return [[s, e] for s, e in normalize(intervals)]


def from_json(data: Any) -> List[Interval]:
    """Parse :func:`to_json` output (validating it).

    :raises ValueError: when ``data`` is not a list of integer pairs.
    """
    if not isinstance(data, list):
        raise ValueError("coverage must be a list of [start_ms, end_ms] pairs")
    out = []
    for item in data:
        if (not isinstance(item, (list, tuple)) or len(item) != 2
                or not all(isinstance(x, int) and not isinstance(x, bool) for x in item)):
            raise ValueError("coverage entry %r is not a [start_ms, end_ms] pair of integers" % (item,))
        out.append((item[0], item[1]))
    return normalize(out)


def to_ms(value: Any, tz: Optional[str] = None) -> int:
    """Convert a point in time to UTC epoch milliseconds.

    :param value: an ``int`` (already epoch ms), a float (epoch ms, truncated), a ``str`` (parsed by
        pandas, e.g. ``'2023-01-03'`` or ``'2023-01-03 09:30'``), a :class:`datetime.date`, a
        :class:`datetime.datetime`, a :class:`pandas.Timestamp` or a :class:`numpy.datetime64`.
    :param tz: timezone for naive values (dates, naive datetimes, strings without offset);
        default UTC.
    :returns: epoch milliseconds.
    :raises ValueError: when the value cannot be understood.
    """
    if isinstance(value, bool):
        raise ValueError("cannot use a bool as a time")
    if isinstance(value, int):
        return value
    if hasattr(value, "dtype") and getattr(value, "shape", None) == () and value.dtype.kind in "iu":
        return int(value)
    if isinstance(value, float):
        if value != value or value in (float("inf"), float("-inf")):
            raise ValueError("cannot use %r as a time" % value)
        return int(value)
    import pandas as pd

    try:
        stamp = pd.Timestamp(value)
    except (TypeError, ValueError) as exc:
        raise ValueError("cannot understand %r as a time: %s" % (value, exc)) from None
    if stamp is pd.NaT or pd.isna(stamp):
        raise ValueError("cannot use a missing time (NaT)")
    if stamp.tzinfo is None:
        stamp = stamp.tz_localize(tz or "UTC")
    return int(stamp.value) // 1_000_000  # .value is always ns, whatever the stamp's unit


def to_timestamps(intervals: Iterable[Any], tz: str = "UTC") -> List[Tuple[Any, Any]]:
    """Return intervals as pairs of tz-aware :class:`pandas.Timestamp` (for display and reports)."""
    import pandas as pd

    return [(pd.Timestamp(s, unit="ms", tz="UTC").tz_convert(tz), pd.Timestamp(e, unit="ms", tz="UTC").tz_convert(tz))
            for s, e in normalize(intervals)]


def bounds(intervals: Sequence[Interval]) -> Optional[Interval]:
    """``(first start, last end)`` of a normalised coverage, or ``None`` when empty."""
    return (intervals[0][0], intervals[-1][1]) if intervals else None
