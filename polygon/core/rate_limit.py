"""Client-side rate limiting: block before sending a request the provider would refuse.

:class:`RateLimiter` enforces a per-minute and a per-day window (and an optional per-second
cap). :meth:`RateLimiter.acquire` blocks until a request is allowed; the client calls
:meth:`RateLimiter.release` when the response has arrived, so the slot counts from the later of
the two times (the provider counts a request when it *arrives*, which is somewhere in between).
That makes a free-tier user (5 requests/minute) paginating a long range never see a 429.

Usage is shared per process: :func:`get_shared_limiter` returns one limiter per
(API key hash, base URL), so counts survive across clients; if clients ask for different
limits, the strictest of each applies (a client without limits never loosens another's).
A request still in flight keeps its slot until answered, so concurrent threads cannot slip a
request into a window the provider has not closed yet. :func:`get_rate_limit_status`
reports (read-only) the limiter of the default configuration::

    {'minute': {'used': 3, 'limit': 5, 'remaining': 2, 'reset_in': 41.2},
     'daily':  {'used': 3, 'limit': None, 'remaining': None, 'reset_in': 86341.0},
     'families': {'aggregates': {'minute': 2, 'daily': 2}, 'splits': {'minute': 1, 'daily': 1}}}
"""

import collections
import hashlib
import logging
import threading
import time
from typing import Any, Callable, Deque, Dict, List, Optional, Tuple

from polygon.exceptions import PolygonRateLimitError

__all__ = [
    "FAMILIES",
    "RateLimiter",
    "endpoint_family",
    "get_rate_limit_status",
    "get_shared_limiter",
    "reset_shared_limiters",
]

logger = logging.getLogger(__name__)

MINUTE = 60.0
DAY = 86400.0
_LOG_WAIT_OVER = 1.0
_IN_FLIGHT_POLL = 1.0


class _SlidingLog:
    """Exact sliding window: at most ``limit`` slots whose time is within the last ``window`` s.

    A slot is ``[time, answered]``. While the request is in flight the provider may count it at
    any moment, so the slot cannot expire; once answered, its time is the answer time. After
    ``max_in_flight`` seconds an unanswered slot (a caller that never released) is taken as
    answered then, so a lost token cannot block forever. At most ``limit`` slots are kept.
    """

    def __init__(self, limit: int, window: float, max_in_flight: float) -> None:
        self.limit = limit
        self.window = window
        self.max_in_flight = max_in_flight
        self.slots: List[List[Any]] = []

    def _expiry(self, slot: List[Any]) -> float:
        return (slot[0] if slot[1] else slot[0] + self.max_in_flight) + self.window

    def prune(self, now: float) -> None:
        if any(self._expiry(slot) <= now for slot in self.slots):
            self.slots = [slot for slot in self.slots if self._expiry(slot) > now]

    def wait_time(self, now: float) -> Tuple[float, bool]:
        """``(seconds, in_flight)``: how long until a slot frees; ``in_flight`` when that depends on
        a request still in flight (its answer, signalled by release, may free it sooner)."""
        self.prune(now)
        if len(self.slots) < self.limit:
            return 0.0, False
        first = min(self.slots, key=self._expiry)
        in_flight = not first[1] and now < first[0] + self.max_in_flight
        return self._expiry(first) - now, in_flight

    def add(self, now: float) -> List[Any]:
        slot = [now, False]
        self.slots.append(slot)
        return slot

    def used(self, now: float) -> int:
        self.prune(now)
        return len(self.slots)

    def reset_in(self, now: float) -> float:
        self.prune(now)
        if not self.slots:
            return 0.0
        # an unanswered request counts as if answered now
        return max(0.0, min(slot[0] if slot[1] else now for slot in self.slots) + self.window - now)


class _BucketWindow:
    """Counting window in ``window / buckets`` wide buckets (bounded memory for a day of traffic).

    A bucket expires only once its *end* is a full window old, so the limit is never exceeded.
    """

    def __init__(self, limit: Optional[int], window: float, buckets: int = 1440) -> None:
        self.limit = limit
        self.window = window
        self.width = window / buckets
        self.counts: Deque[List[Any]] = collections.deque()  # [bucket_index, count]
        self.total = 0

    def prune(self, now: float) -> None:
        while self.counts and (self.counts[0][0] + 1) * self.width <= now - self.window:
            self.total -= self.counts.popleft()[1]

    def wait_time(self, now: float) -> float:
        self.prune(now)
        if self.limit is None or self.total < self.limit:
            return 0.0
        return (self.counts[0][0] + 1) * self.width + self.window - now

    def add(self, now: float) -> None:
        index = int(now // self.width)
        if self.counts and self.counts[-1][0] >= index:
            self.counts[-1][1] += 1
        else:
            self.counts.append([index, 1])
        self.total += 1

    def used(self, now: float) -> int:
        self.prune(now)
        return self.total

    def reset_in(self, now: float) -> float:
        self.prune(now)
        if not self.counts:
            return 0.0
        return max(0.0, (self.counts[0][0] + 1) * self.width + self.window - now)


#: Endpoint families counted by :meth:`RateLimiter.status` (``families``): the first prefix a path starts with.
FAMILIES = (
    ("/v2/aggs/", "aggregates"),
    ("/v3/reference/splits", "splits"),
    ("/v3/reference/dividends", "dividends"),
    ("/v3/reference/", "reference"),
    ("/v1/meta/", "reference"),
    ("/v3/trades", "trades"),
    ("/v3/quotes", "quotes"),
    ("/v2/last/", "last trade/quote"),
    ("/v2/snapshot", "snapshots"),
    ("/v3/snapshot", "snapshots"),
    ("/v1/marketstatus/", "market status"),
    ("/v1/indicators/", "indicators"),
    ("/v1/open-close/", "daily open/close"),
    ("/v1/conversion/", "currency conversion"),
)


def endpoint_family(path: str) -> str:
    """The family of a request path (``'/v2/aggs/ticker/...'`` -> ``'aggregates'``; unknown: ``'other'``)."""
    for prefix, family in FAMILIES:
        if path.startswith(prefix):
            return family
    return "other"


def _carry_over(old: Any, new: Any, now: float) -> None:
    """Move the recorded minute usage of window ``old`` into ``new`` (a limit changed).

    Past requests keep their times, so nothing waits longer than one window for them: slots of
    a sliding log are kept as they are (in-flight ones stay tied to their tokens); bucket counts
    (an unlimited window keeps no in-flight state) become *answered* slots at their bucket's end.
    """
    old.prune(now)
    if isinstance(old, _SlidingLog):
        if isinstance(new, _SlidingLog):
            new.slots = old.slots[-new.limit:] if new.limit else []
        else:
            for when in sorted(slot[0] if slot[1] else now for slot in old.slots):
                new.add(when)
        return
    if isinstance(new, _SlidingLog):
        slots = [
            [min(now, (index + 1) * old.width), True] for index, count in old.counts for _ in range(count)
        ]
        new.slots = slots[-new.limit:] if new.limit else []
    else:
        new.counts, new.total = old.counts, old.total


class RateLimiter:
    """Thread-safe limiter with per-minute, per-day and optional per-second windows.

    :param per_minute: requests per rolling minute, ``None`` for unlimited.
    :param per_day: requests per rolling day, ``None`` for unlimited.
    :param per_second: optional cap per rolling second (paid plans).
    :param clock: monotonic clock (injectable for tests).
    :param sleep: sleep function (injectable for tests).
    :param minute_window: length of the "minute" window in seconds (60; shorter for tests).
    :param max_in_flight: seconds after which a request never released counts as answered.
    """

    def __init__(
        self,
        per_minute: Optional[int] = None,
        per_day: Optional[int] = None,
        per_second: Optional[float] = None,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
        minute_window: float = MINUTE,
        max_in_flight: float = 300.0,
    ) -> None:
        if minute_window <= 0:
            raise ValueError("minute_window must be positive seconds")
        self._minute_window = float(minute_window)
        self._clock = clock
        self._sleep = sleep
        self._lock = threading.Lock()
        self._cond = threading.Condition(self._lock)
        self._max_in_flight = float(max_in_flight)
        self._blocked_until = 0.0
        self._families: Dict[str, Tuple[_BucketWindow, _BucketWindow]] = {}  # family -> (minute, day) counts
        self.configure(per_minute, per_day, per_second)

    def configure(
        self, per_minute: Optional[int] = None, per_day: Optional[int] = None, per_second: Optional[float] = None
    ) -> None:
        """Change the limits, keeping the usage already recorded."""
        for name, value in (("per_minute", per_minute), ("per_day", per_day), ("per_second", per_second)):
            if value is not None and value < 0:
                raise ValueError("%s must be >= 0 or None, got %r" % (name, value))
        with self._lock:
            now = self._clock()
            old_minute = getattr(self, "_minute", None)
            old_day = getattr(self, "_day", None)
            minute_limit = int(per_minute) if per_minute else None
            # the minute window is exact when limited; counting buckets otherwise (only for status)
            span = self._minute_window
            if minute_limit:
                minute: Any = _SlidingLog(minute_limit, span, self._max_in_flight)
            else:
                minute = _BucketWindow(None, span, 60)
            if old_minute is not None:
                _carry_over(old_minute, minute, now)
            day = _BucketWindow(int(per_day) if per_day else None, DAY)
            if old_day is not None:
                day.counts, day.total = old_day.counts, old_day.total
            self._minute = minute
            self._day = day
            if per_second:
                # a fractional rate (0.5/s) becomes 1 request per 2 s
                count, window = (int(per_second), 1.0) if per_second >= 1 else (1, 1.0 / per_second)
                second = _SlidingLog(count, window, self._max_in_flight)
                old_second = getattr(self, "_second", None)
                if old_second is not None:
                    _carry_over(old_second, second, now)
                self._second: Optional[_SlidingLog] = second
            else:
                self._second = None
            self.per_minute = minute_limit
            self.per_day = day.limit
            self.per_second = per_second or None

    def _wait_locked(self, now: float) -> Tuple[float, str, bool]:
        waits = [(self._blocked_until - now, "the provider's Retry-After", False)]
        if isinstance(self._minute, _SlidingLog):
            wait, in_flight = self._minute.wait_time(now)
            waits.append((wait, "the per-minute limit (%d/min)" % self._minute.limit, in_flight))
        waits.append((self._day.wait_time(now), "the per-day limit (%s/day)" % self._day.limit, False))
        if self._second is not None:
            wait, in_flight = self._second.wait_time(now)
            waits.append((wait, "the per-second limit (%s/s)" % self.per_second, in_flight))
        return max(waits)

    def acquire(self, timeout: Optional[float] = None, family: Optional[str] = None) -> Any:
        """Block until one request is allowed, and count it.

        :param timeout: maximum seconds to wait; ``None`` waits as long as needed.
        :param family: the endpoint family the request belongs to (:func:`endpoint_family`), counted apart too.
        :returns: a token to pass to :meth:`release` once the response has arrived.
        :raises PolygonRateLimitError: when the wait would exceed ``timeout`` (nothing is counted).
        """
        start = self._clock()
        real_deadline = None if timeout is None else time.monotonic() + timeout
        logged = False
        for _ in range(1000000):  # bounded: every pass waits for a window to move on or a release
            with self._cond:
                now = self._clock()
                wait, reason, in_flight = self._wait_locked(now)
                if wait <= 0:
                    minute_slot = self._minute.add(now)
                    second_slot = self._second.add(now) if self._second is not None else None
                    self._day.add(now)
                    if family is not None:
                        windows = self._families.get(family)
                        if windows is None:
                            windows = self._families[family] = (_BucketWindow(None, self._minute_window, 60),
                                                                _BucketWindow(None, DAY, 288))
                        windows[0].add(now)
                        windows[1].add(now)
                    return (minute_slot, second_slot)
                if in_flight:
                    # every slot of the window belongs to a request still in flight: wait for an
                    # answer (release() notifies), in real time
                    if real_deadline is not None and time.monotonic() >= real_deadline:
                        raise PolygonRateLimitError(
                            "local rate limit: %s is used by requests still in flight after the %.1fs timeout"
                            % (reason, timeout)
                        )
                    pause = _IN_FLIGHT_POLL if real_deadline is None else min(
                        _IN_FLIGHT_POLL, max(0.0, real_deadline - time.monotonic()))
                    self._cond.wait(pause)
                    continue
            if timeout is not None and (now - start) + wait > timeout:
                raise PolygonRateLimitError(
                    "local rate limit: waiting for %s would take %.1fs, over the %.1fs timeout"
                    % (reason, (now - start) + wait, timeout),
                    retry_after=wait,
                )
            if wait > _LOG_WAIT_OVER and not logged:
                logger.info("rate limit: waiting %.1fs for %s", wait, reason)
                logged = True
            self._sleep(wait)
        raise PolygonRateLimitError("local rate limit: gave up waiting")  # pragma: no cover

    def release(self, token: Any) -> None:
        """Mark the request of ``token`` as answered: its slots count from now."""
        if not token:
            return
        with self._cond:
            now = self._clock()
            for slot in token:
                if slot is not None and not slot[1]:
                    slot[0] = max(slot[0], now)
                    slot[1] = True
            self._cond.notify_all()

    def block_for(self, seconds: float) -> None:
        """Hold every caller for ``seconds`` (the provider answered 429 with ``Retry-After``)."""
        if seconds and seconds > 0:
            with self._lock:
                self._blocked_until = max(self._blocked_until, self._clock() + seconds)

    def status(self) -> Dict[str, Dict[str, Any]]:
        """Return ``{'minute': {...}, 'daily': {...}, 'families': {...}}``: ``used``, ``limit``, ``remaining``,
        ``reset_in`` of each window, and per endpoint family the requests of this minute and this day
        (``{'aggregates': {'minute': 3, 'daily': 40}, 'splits': {...}}``, families with none today left out)."""
        with self._lock:
            now = self._clock()
            out = {}
            for key, window in (("minute", self._minute), ("daily", self._day)):
                used = window.used(now)
                limit = window.limit
                out[key] = {
                    "used": used,
                    "limit": limit,
                    "remaining": None if limit is None else max(0, limit - used),
                    "reset_in": round(window.reset_in(now), 3),
                }
            families: Dict[str, Any] = {}
            for family, (minute, day) in sorted(self._families.items()):
                if day.used(now):
                    families[family] = {"minute": minute.used(now), "daily": day.used(now)}
            out["families"] = families
            return out

    def __repr__(self) -> str:
        return "RateLimiter(per_minute=%r, per_day=%r, per_second=%r)" % (
            self.per_minute,
            self.per_day,
            self.per_second,
        )


_registry_lock = threading.Lock()
_registry: Dict[Tuple[str, str], RateLimiter] = {}


def _registry_key(api_key: Optional[str], base_url: str) -> Tuple[str, str]:
    digest = hashlib.sha256((api_key or "").encode("utf-8")).hexdigest()[:16]
    return digest, base_url.rstrip("/")


def _limits(config: Any) -> Tuple[Optional[int], Optional[int], Optional[float]]:
    return (
        config.rate_limit_per_minute or None,
        config.rate_limit_per_day or None,
        config.rate_limit_per_second or None,
    )


def _stricter(current: Optional[Any], wanted: Optional[Any]) -> Optional[Any]:
    """The stricter of two limits, ``None`` meaning unlimited."""
    if current is None:
        return wanted
    if wanted is None:
        return current
    return min(current, wanted)


def get_shared_limiter(config: Any) -> RateLimiter:
    """Return the process-wide limiter for ``config``'s key and base URL, created on first use.

    One limiter per (API key, base URL) keeps the usage counts shared by every client of the
    process. When clients ask for different limits, the limiter enforces the *strictest* of
    each (per minute, per day, per second): a config without limits (or with looser ones)
    never loosens a limit another client set, since the provider counts the requests of all of
    them. Recorded usage is kept when the limits tighten.
    """
    key = _registry_key(config.api_key, config.base_url)
    limits = _limits(config)
    with _registry_lock:
        limiter = _registry.get(key)
        if limiter is None:
            limiter = _registry[key] = RateLimiter(*limits)
            return limiter
        current = (limiter.per_minute, limiter.per_day, limiter.per_second)
        merged = tuple(_stricter(have, want) for have, want in zip(current, limits))
        if merged != current:
            logger.debug("shared rate limiter %s tightened to %r", key[1], merged)
            limiter.configure(*merged)
    return limiter


def reset_shared_limiters() -> None:
    """Forget all shared limiters (tests; a new process starts empty anyway)."""
    with _registry_lock:
        _registry.clear()


def get_rate_limit_status(config: Any = None) -> Dict[str, Dict[str, Any]]:
    """Usage of the shared limiter of the default configuration (or of ``config``).

    Read-only: the limits reported are those the shared limiter enforces; nothing is changed.
    With no limiter yet for that key and base URL, the usage is zero under ``config``'s limits.

    :returns: ``{'minute': {'used', 'limit', 'remaining', 'reset_in'}, 'daily': {...}, 'families': {family:
        {'minute', 'daily'}}}`` (requests per endpoint family, :func:`endpoint_family`);
        ``limit`` and ``remaining`` are ``None`` when unlimited, ``reset_in`` is in seconds.
    """
    if config is None:
        from polygon.config import get_config

        config = get_config()
    with _registry_lock:
        limiter = _registry.get(_registry_key(config.api_key, config.base_url))
    if limiter is None:
        limiter = RateLimiter(*_limits(config))
    return limiter.status()
