"""REST fault injection: latency, a per-minute rate limit, 5xx responses and truncated bodies.

Every fault is off by default. Decisions that look random (``error_rate``, ``truncate_rate``) come
from a generator seeded by ``fault_seed``, so a test run is reproducible.
"""

import collections
import math
import random
import threading
import time
from typing import Deque, Dict, Optional

__all__ = ["FaultState", "RATE_LIMIT_MESSAGE"]

RATE_LIMIT_MESSAGE = (
    "You've exceeded the maximum requests per minute, please wait or upgrade your subscription to "
    "continue. https://massive.com/pricing"
)


class FaultState:
    """Thread-safe counters behind the REST fault options (read from a live options dict)."""

    def __init__(self, options: Dict[str, object]) -> None:
        self._options = options
        self._lock = threading.Lock()
        self._hits: Dict[str, Deque[float]] = collections.defaultdict(collections.deque)
        self._rng = random.Random(int(options.get("fault_seed") or 0))

    def reseed(self) -> None:
        with self._lock:
            self._rng = random.Random(int(self._options.get("fault_seed") or 0))
            self._hits.clear()

    def latency(self) -> float:
        """Seconds to wait before answering."""
        return float(self._options.get("latency") or 0.0)

    def rate_limited(self, key: str, now: Optional[float] = None) -> Optional[int]:
        """Record a request for ``key``; return ``Retry-After`` seconds when over the limit."""
        limit = self._options.get("rate_limit_per_minute")
        if not limit:
            return None
        window = float(self._options.get("rate_limit_window") or 60.0)
        now = time.monotonic() if now is None else now
        with self._lock:
            hits = self._hits[key]
            while hits and now - hits[0] >= window:
                hits.popleft()
            if len(hits) >= int(limit):
                return max(1, int(math.ceil(window - (now - hits[0]))))
            hits.append(now)
        return None

    def server_error(self) -> bool:
        """``True`` when this request must fail with a 5xx (burst first, then the seeded rate)."""
        with self._lock:
            burst = int(self._options.get("error_burst") or 0)
            if burst > 0:
                self._options["error_burst"] = burst - 1
                return True
            rate = float(self._options.get("error_rate") or 0.0)
            return rate > 0 and self._rng.random() < rate

    def truncate(self) -> bool:
        """``True`` when this response body must be cut mid-JSON."""
        with self._lock:
            pending = int(self._options.get("truncate_next") or 0)
            if pending > 0:
                self._options["truncate_next"] = pending - 1
                return True
            rate = float(self._options.get("truncate_rate") or 0.0)
            return rate > 0 and self._rng.random() < rate
