"""Live state shared by the sandbox's REST handlers and WebSocket sessions: options, stats, model."""

import collections
import threading
from typing import Any, Dict, Hashable, Optional, Tuple

from polygon.exceptions import PolygonConfigError
from polygon.markets import futures_calendar, sessions
from polygon.sandbox.clock import SandboxClock
from polygon.sandbox.faults import FaultState
from polygon.sandbox.market import MarketModel
from polygon.sandbox.universe import Universe

__all__ = ["DEFAULT_OPTIONS", "SandboxState"]

#: Every option of the sandbox and its default (faults and limits are off by default).
DEFAULT_OPTIONS: Dict[str, Any] = {
    "latency": 0.0,  # seconds added to every REST request
    "rate_limit_per_minute": None,  # e.g. 5 for the free tier -> 429 + Retry-After
    "rate_limit_window": 60.0,  # seconds of the rate-limit window (shorten it in tests)
    "error_rate": 0.0,  # share of REST requests answered with a 5xx (seeded by fault_seed)
    "error_burst": 0,  # the next N REST requests get a 5xx
    "error_status": 500,  # the status used for injected server errors
    "truncate_rate": 0.0,  # share of REST bodies cut mid-JSON
    "truncate_next": 0,  # cut the next N REST bodies
    "fault_seed": 0,
    "ws_drop_after_messages": None,  # drop each WebSocket after N frames
    "ws_drop_after_seconds": None,  # drop each WebSocket after S seconds
    "ws_stall": False,  # True: go silent after auth (no frames, no pongs); N: after N frames
    "max_connections": 1,  # simultaneous WebSockets per key on each market's socket of each feed
    "auth_timeout": 10.0,  # seconds a socket may stay unauthenticated
    "illiquid_fraction": 0.1,  # share of synthetic symbols with mostly empty minutes
    "extended_hours": False,  # bars and stream cover 04:00-20:00
    "stream_rate": None,  # events/s firehose instead of the market-paced stream
    "clock": "auto",  # 'realtime', 'auto' (replay the last session while closed) or 'YYYY-MM-DD'
    "speed": 1.0,  # replay speed factor
    "strict_params": False,  # True: 400 on query parameters an endpoint does not know (the provider ignores them)
}
_MODEL_OPTIONS = ("illiquid_fraction", "extended_hours")
_CLOCK_OPTIONS = ("clock", "speed", "extended_hours")


class SandboxState:
    """Options, statistics, market model and clock of one sandbox (thread-safe)."""

    def __init__(self, api_key: str, options: Dict[str, Any]) -> None:
        self.api_key = api_key
        self.options: Dict[str, Any] = dict(DEFAULT_OPTIONS)
        self.lock = threading.RLock()
        self.stopping = threading.Event()
        self.faults = FaultState(self.options)
        self.ws_sessions: set = set()
        self.ws_by_key: Dict[Tuple[str, Hashable], int] = collections.Counter()
        self.model: MarketModel
        self.clock: SandboxClock
        self.reset_stats()
        self.configure(_initial=True, **options)

    # -- options ------------------------------------------------------------------------------
    def configure(self, _initial: bool = False, **options: Any) -> None:
        """Change options at run time; unknown names raise :class:`PolygonConfigError`."""
        unknown = sorted(set(options) - set(DEFAULT_OPTIONS))
        if unknown:
            raise PolygonConfigError(
                "unknown sandbox option(s) %s; known: %s" % (", ".join(unknown), ", ".join(sorted(DEFAULT_OPTIONS)))
            )
        for name in ("latency", "error_rate", "truncate_rate", "rate_limit_window"):
            if name in options and (options[name] is None or float(options[name]) < 0):
                raise PolygonConfigError("%s must be a number >= 0" % name)
        if "speed" in options and float(options["speed"]) <= 0:
            raise PolygonConfigError("speed must be > 0")
        with self.lock:
            clock = self._make_clock(options) if (_initial or set(options) & set(_CLOCK_OPTIONS)) else None
            self.options.update(options)
            if _initial or set(options) & set(_MODEL_OPTIONS):
                universe = Universe(float(self.options["illiquid_fraction"]))
                self.model = MarketModel(universe, bool(self.options["extended_hours"]))
            if clock is not None:
                self.clock = clock
            if "fault_seed" in options:
                self.faults.reseed()

    def _make_clock(self, options: Dict[str, Any]) -> SandboxClock:
        merged = dict(self.options, **options)
        try:
            return SandboxClock(merged["clock"], float(merged["speed"]), bool(merged["extended_hours"]))
        except ValueError as exc:
            raise PolygonConfigError("invalid sandbox clock: %s" % exc) from None

    def option(self, name: str) -> Any:
        return self.options.get(name)

    # -- stats ----------------------------------------------------------------------------------
    def reset_stats(self) -> None:
        with self.lock:
            self.requests: Dict[str, int] = collections.Counter()
            self.status_counts: Dict[int, int] = collections.Counter()
            self.ws_connections = 0
            self.ws_messages_sent = 0
            self.ws_events_sent = 0
            self.rest_in_flight_peak = self.rest_in_flight = getattr(self, "rest_in_flight", 0)

    def count_request(self, template: str, status: int) -> None:
        with self.lock:
            self.requests[template] += 1
            self.status_counts[status] += 1

    def rest_started(self) -> None:
        """A REST request is being served (counts towards ``rest_in_flight_peak``)."""
        with self.lock:
            self.rest_in_flight += 1
            self.rest_in_flight_peak = max(self.rest_in_flight_peak, self.rest_in_flight)

    def rest_finished(self) -> None:
        with self.lock:
            self.rest_in_flight -= 1

    def count_ws(self, messages: int = 0, events: int = 0, connections: int = 0) -> None:
        with self.lock:
            self.ws_messages_sent += messages
            self.ws_events_sent += events
            self.ws_connections += connections

    def stats(self) -> Dict[str, Any]:
        with self.lock:
            return {
                "requests": dict(self.requests),
                "requests_total": sum(self.requests.values()),
                "status_counts": dict(self.status_counts),
                "rest_in_flight_peak": self.rest_in_flight_peak,
                "ws_connections": self.ws_connections,
                "ws_active": len(self.ws_sessions),
                "ws_messages_sent": self.ws_messages_sent,
                "ws_events_sent": self.ws_events_sent,
                "calendar": sessions.calendar_source(),
                "futures_calendar": futures_calendar.calendar_source(),
                "clock": self.clock.mode,
            }

    # -- websocket connection accounting ----------------------------------------------------------
    def claim_connection(self, key: str, socket: Hashable = "stocks") -> bool:
        """Register one authenticated socket of ``key`` on ``socket`` (a ``(feed, market)``: the provider's
        limit is per market's socket); ``False`` when that socket is at ``max_connections``."""
        with self.lock:
            limit: Optional[int] = self.options.get("max_connections")
            if limit is not None and self.ws_by_key[(key, socket)] >= int(limit):
                return False
            self.ws_by_key[(key, socket)] += 1
            return True

    def release_connection(self, key: str, socket: Hashable = "stocks") -> None:
        with self.lock:
            self.ws_by_key[(key, socket)] -= 1
            if self.ws_by_key[(key, socket)] <= 0:
                del self.ws_by_key[(key, socket)]
