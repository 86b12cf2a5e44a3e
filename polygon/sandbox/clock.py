"""The sandbox clock: wall-clock time, a replay of a past session, or ``auto`` (the default).

``realtime``: the wall clock; the stream is silent while the exchange is closed, like the provider.
``YYYY-MM-DD``: replay that day's session (the next trading day on or after it), starting at its
open when the clock is (re)configured and running ``speed`` times faster than real time; past the
close it starts over, so a replayed stream never runs dry.
``auto``: the wall clock while a session is open, otherwise a replay of the latest complete session
at ``speed`` -- so streaming demos and tests get data at any hour. REST "now" (market status, last
trade, snapshot) stays on the wall clock in ``auto`` and ``realtime`` modes.
``YYYY-MM-DDTHH:MM[:SS][Z|+HH:MM]`` (an instant, UTC when no offset is given): a virtual wall
clock that starts there and runs at ``speed`` without looping; REST and the stream both use it.

The clock is the sandbox's "today" for everything that depends on the date: bars exist up to it,
adjusted bars apply the splits whose ex-date it has passed, splits and dividends are listed once
announced by then. Move it with ``sandbox.configure(clock=...)`` (a test caches bars with the clock
before a split, moves it past the split, and sees the adjusted history change).
"""

import datetime as _dt
import re
import time
from typing import Callable, Optional, Tuple, Union

from polygon.markets import sessions

__all__ = ["CLOCK_MODES", "SandboxClock"]

CLOCK_MODES = ("auto", "realtime")
_DAY_MS = 86_400_000
_INSTANT = re.compile(r"^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})?$")


def _parse_instant(text: str) -> int:
    """Epoch ms of an ISO instant (UTC when it has no offset); ``ValueError`` when malformed."""
    value = _dt.datetime.fromisoformat(text.replace("Z", "+00:00").replace(" ", "T"))
    if value.tzinfo is None:
        value = value.replace(tzinfo=_dt.timezone.utc)
    return int(value.timestamp() * 1000)


def _et_date(ms: int) -> _dt.date:
    import zoneinfo

    return _dt.datetime.fromtimestamp(ms / 1000.0, zoneinfo.ZoneInfo("America/New_York")).date()


class SandboxClock:
    """Source of "now" for streaming and market status.

    :param mode: ``'auto'``, ``'realtime'``, or a replay date (``date`` or ``'YYYY-MM-DD'``).
    :param speed: replay speed factor (``60`` plays a session minute per second).
    :param extended: sessions span 04:00-20:00 instead of the regular hours.
    :param wall: source of wall-clock seconds (tests pass a fake).
    :raises ValueError: for an unknown mode, a bad date or a speed <= 0.
    """

    def __init__(self, mode: Union[str, _dt.date, None] = "auto", speed: float = 1.0, extended: bool = False,
                 wall: Callable[[], float] = time.time) -> None:
        if speed <= 0:
            raise ValueError("speed must be > 0, got %r" % (speed,))
        self.speed = float(speed)
        self.extended = bool(extended)
        self._wall = wall
        self.kind = "auto" if mode is None else mode if mode in CLOCK_MODES else "replay"
        self.replay_day: Optional[_dt.date] = None
        self.bounds: Optional[Tuple[int, int]] = None
        self.start_ms: Optional[int] = None
        self._auto_cache: Optional[Tuple[_dt.date, Optional[Tuple[int, int]], Tuple[int, int]]] = None
        if isinstance(mode, _dt.datetime) or (isinstance(mode, str) and _INSTANT.match(mode)):
            self.kind = "at"
            if isinstance(mode, _dt.datetime):
                aware = mode if mode.tzinfo is not None else mode.replace(tzinfo=_dt.timezone.utc)
                self.start_ms = int(aware.timestamp() * 1000)
            else:
                self.start_ms = _parse_instant(mode)
        elif self.kind == "replay":
            day = mode if isinstance(mode, _dt.date) else _dt.date.fromisoformat(str(mode))
            days = sessions.trading_days(day, day + _dt.timedelta(days=10))
            if not days:
                raise ValueError("no trading day within 10 days of %s" % day)
            self.replay_day = days[0]
            self.bounds = self._bounds(days[0])
        self._t0 = time.monotonic()

    def _bounds(self, day: _dt.date) -> Tuple[int, int]:
        open_ms, close_ms = sessions.session_bounds(day, day, self.extended)
        return int(open_ms[0]), int(close_ms[0])

    @property
    def is_replay(self) -> bool:
        """``True`` when replaying a chosen past session."""
        return self.kind == "replay"

    @property
    def mode(self) -> str:
        """``'realtime'``, ``'auto'``, ``'replay YYYY-MM-DD xSPEED'`` or ``'at ISO-INSTANT xSPEED'``."""
        if self.kind == "replay":
            return "replay %s x%g" % (self.replay_day.isoformat(), self.speed)
        if self.kind == "at":
            start = _dt.datetime.fromtimestamp(self.start_ms / 1000.0, _dt.timezone.utc)
            return "at %s x%g" % (start.isoformat(), self.speed)
        return self.kind

    def wall_ms(self) -> int:
        """Wall-clock epoch milliseconds."""
        return int(self._wall() * 1000)

    def _loop(self, bounds: Tuple[int, int]) -> int:
        start, end = bounds
        elapsed = int((time.monotonic() - self._t0) * 1000 * self.speed)
        return start + elapsed % max(end - start, 1)

    def _auto(self, real: int) -> Tuple[Optional[Tuple[int, int]], Tuple[int, int]]:
        """Today's session bounds (if any) and the latest session that has closed."""
        today = _et_date(real)
        cached = self._auto_cache
        if cached is None or cached[0] != today:
            days = sessions.trading_days(today - _dt.timedelta(days=14), today)
            current = self._bounds(today) if days and days[-1] == today else None
            previous = [self._bounds(d) for d in days[-2:]]
            cached = (today, current, previous)
            self._auto_cache = cached  # type: ignore[assignment]
        _, current, previous = cached
        closed = [b for b in previous if b[1] <= real]
        return current, (closed[-1] if closed else previous[0])

    def now_ms(self) -> int:
        """Current sandbox time (epoch ms) for the stream."""
        if self.bounds is not None:
            return self._loop(self.bounds)
        if self.start_ms is not None:
            return self.start_ms + int((time.monotonic() - self._t0) * 1000 * self.speed)
        real = self.wall_ms()
        if self.kind == "realtime":
            return real
        current, latest = self._auto(real)
        if current is not None and current[0] <= real < current[1]:
            return real
        return self._loop(latest)

    def rest_now_ms(self) -> int:
        """"Now" for REST answers: the replayed (or set) time when one was chosen, else the wall clock."""
        return self.now_ms() if self.bounds is not None or self.start_ms is not None else self.wall_ms()
