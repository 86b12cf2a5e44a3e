"""``POST /api/v1/bars`` answers of any size with bounded memory: streamed window by window, paged on request.

The answer keeps one shape whatever its size (``schema/server/bars_response.json``)::

    {"symbol", "timeframe", "start", "end", "bars": [...], "source", "may_change", "count", "next_cursor"?}

* A range that fits one window (:data:`WINDOW_BARS` bars at most, every daily or coarser range) is fetched
  and answered whole, as it always was.
* A longer range is fetched :data:`WINDOW_BARS` bars at a time (``fetch_data`` on each window, through the
  cache) and written as it comes: ``Transfer-Encoding: chunked``, members after ``bars`` last, so memory per
  request stays about one window (some tens of MB) however many years are asked for. The first window is
  fetched before the status line, so a bad symbol or an unreachable provider is still a 4xx/5xx answer; a
  later failure cuts the connection (the chunked body never ends, which every HTTP client reports as an error)
  rather than ending the JSON with a partial list that looks complete.
* At most ``max_bars`` bars per answer (the server's setting, default :data:`DEFAULT_MAX_BARS`): a request
  without ``limit`` whose range may hold more (an upper bound: the range over the bar length) is refused with
  422 ``too_many_bars``, which gives the limit and how to page; with ``"limit": n`` (``n <= max_bars``) an
  answer holds at most ``n`` bars and, when the range goes on, ``next_cursor``: send the same request with
  ``"cursor"`` set to it for the next page, until an answer has no ``next_cursor``.
"""

import datetime
import functools
import json
import logging
from typing import Any, Callable, Dict, Iterator, List, Optional, Tuple

from polygon.exceptions import InvalidInputError, PolygonError
from polygon.markets.timeframes import Timeframe

__all__ = ["DEFAULT_MAX_BARS", "ENCODE_ROWS", "WINDOW_BARS", "bar_bound", "iso_time", "parse_cursor",
           "release_memory", "stream_answer", "too_many_bars", "windows"]

logger = logging.getLogger(__name__)

#: Bars per answer at most, unless the server is started with another ``max_bars``.
DEFAULT_MAX_BARS = 1_000_000
#: Bars fetched per window of a streamed answer (an upper bound: the window's span over the bar length).
WINDOW_BARS = 20_000
#: Bars encoded per write of a streamed answer.
ENCODE_ROWS = 10_000
_DAY_MS = 86_400_000
#: Shortest length of calendar bars, in days (an upper bound of their count needs the shortest).
_CALENDAR_DAYS = {"day": 1, "week": 7, "month": 28, "quarter": 89, "year": 365}


def bar_bound(start_ms: int, end_ms: int, tf: Timeframe) -> int:
    """Most bars ``[start_ms, end_ms)`` can hold in ``tf`` (every minute of every day counted) (pure)."""
    step = tf.seconds * 1000 if tf.seconds else _CALENDAR_DAYS[tf.timespan] * tf.multiplier * _DAY_MS
    return max(0, -(-(end_ms - start_ms) // step))


def windows(start_ms: int, end_ms: int, tf: Timeframe, window_bars: Optional[int] = None) -> List[Tuple[int, int]]:
    """``[start_ms, end_ms)`` cut into consecutive windows of at most ``window_bars`` (default
    :data:`WINDOW_BARS`) bars of ``tf``; one window for daily and coarser bars (pure). Each bar lies in exactly
    one window (by its start time)."""
    if not tf.is_intraday:
        return [(start_ms, end_ms)]
    span = tf.seconds * 1000 * (window_bars or WINDOW_BARS)
    return [(lo, min(lo + span, end_ms)) for lo in range(start_ms, end_ms, span)]


def parse_cursor(cursor: Any, start_ms: int, end_ms: int) -> int:
    """The epoch ms a ``cursor`` from ``next_cursor`` stands for.

    :raises InvalidInputError: not a cursor of this request's range.
    """
    if isinstance(cursor, str) and cursor.isdigit() and len(cursor) <= 16 and start_ms <= int(cursor) < end_ms:
        return int(cursor)
    raise InvalidInputError("cursor %r is not a next_cursor of this request: send the next_cursor of the previous "
                            "answer with the same symbol, timeframe, start_date and end_date" % (str(cursor)[:40],))


def too_many_bars(bound: int, max_bars: int, timeframe: str) -> Tuple[str, Dict[str, Any]]:
    """The message and extra members of the 422 ``too_many_bars`` answer (pure)."""
    message = ("this range may hold up to %d %s bars, more than the %d bars this server sends in one answer: "
               'page it: add "limit": %d (or less) and send the request again with "cursor" set to the '
               "next_cursor of each answer until an answer has none; or ask for fewer days"
               % (bound, timeframe, max_bars, max_bars))
    return message, {"max_bars": max_bars, "bars_up_to": bound}


@functools.lru_cache(maxsize=None)
def _malloc_trim() -> Optional[Callable[[int], int]]:
    try:
        import ctypes

        return ctypes.CDLL(None).malloc_trim  # glibc
    except (OSError, AttributeError):  # another C library or platform: nothing to call
        return None


def release_memory() -> None:
    """Hand the heap memory freed by a window back to the system: glibc keeps freed memory in per-thread
    arenas, so without this the RSS of a server streaming long answers on many threads creeps up to the sum of
    every arena's high-water mark (no-op without glibc)."""
    trim = _malloc_trim()
    if trim is not None:
        trim(0)


def iso_time(ms: int, tz: str) -> str:
    """Epoch ms as ISO 8601 in ``tz``, as the frames' ``start`` / ``end`` attributes are written."""
    from polygon.markets.dates import get_zone

    return datetime.datetime.fromtimestamp(ms / 1000, get_zone(tz)).isoformat()


def stream_answer(fetch: Callable[[int, int], Any], encode: Callable[[Any], List[Dict[str, Any]]],
                  spans: List[Tuple[int, int]], head: Dict[str, Any], limit: Optional[int],
                  first: Any) -> Iterator[bytes]:
    """The body of a streamed answer, as chunks of bytes.

    :param fetch: ``fetch(lo_ms, hi_ms) -> frame`` of one window (``fetch_data`` on ``[lo, hi)``).
    :param encode: the answer's bar objects of a frame (or of a slice of one).
    :param spans: the windows (from :func:`windows`); ``first`` is the already fetched frame of ``spans[0]``.
    :param head: the members written before ``bars`` (symbol, timeframe, start, end).
    :param limit: bars at most in this answer; past it, ``next_cursor`` says where the next page starts.
    :raises ConnectionError: a window after the first failed (the caller's server drops the connection).
    """
    yield (json.dumps(head, separators=(",", ":"))[:-1] + ',"bars":[').encode()
    count, sources, may_change, cursor = 0, set(), False, None
    for i, (lo, hi) in enumerate(spans):
        if i == 0:
            df = first
        else:
            try:
                df = fetch(lo, hi)
            except PolygonError as exc:
                logger.warning("server: bars %s %s: a window failed after %d bars were sent; the answer is cut: %s",
                               head.get("symbol"), head.get("timeframe"), count, exc)
                raise ConnectionError("bars window failed: %s" % exc) from None
        sources.add(df.attrs.get("source"))
        may_change = may_change or bool(df.attrs.get("may_change"))
        rows = len(df)
        take = rows if limit is None else min(rows, limit - count)
        for at in range(0, take, ENCODE_ROWS):
            part = json.dumps(encode(df.iloc[at:min(at + ENCODE_ROWS, take)]), separators=(",", ":"),
                              allow_nan=False)[1:-1]
            yield ((b"," if count else b"") + part.encode())
            count += min(ENCODE_ROWS, take - at)
        if take < rows:  # the limit falls inside this window: the next page starts at the first bar not sent
            index = df.index[take:take + 1]
            cursor = str(int(index.as_unit("ns").asi8[0] // 1_000_000) if hasattr(index, "as_unit")
                         else int(index.asi8[0] // 1_000_000))
            break
        if limit is not None and count >= limit and i + 1 < len(spans):
            cursor = str(hi)
            break
        del df
        release_memory()
    source = sources.pop() if len(sources) == 1 else "mixed"
    tail: Dict[str, Any] = {"source": source, "may_change": may_change, "count": count}
    if cursor is not None:
        tail["next_cursor"] = cursor
    yield ("]," + json.dumps(tail, separators=(",", ":"))[1:]).encode()
