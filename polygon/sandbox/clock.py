"""The sandbox clock: wall-clock time, or a replay of a past session at a speed factor.

In replay mode the clock starts at the replayed session's open when it is (re)configured and runs
``speed`` times faster than real time; past the session's close it starts over at the open, so a
replayed stream never runs dry whatever the hour.
"""

import datetime as _dt
import time
from typing import Optional, Tuple, Union

from polygon import sessions

__all__ = ["SandboxClock"]


class SandboxClock:
    """Source of "now" for streaming and market status.

    :param mode: ``'realtime'``, or a replay date (``date`` or ``'YYYY-MM-DD'``; the next trading
        day on or after it is replayed).
    :param speed: replay speed factor (``60`` plays a session minute per second).
    :param extended: replay 04:00-20:00 instead of the regular session.
    """

    def __init__(self, mode: Union[str, _dt.date, None] = "realtime", speed: float = 1.0,
                 extended: bool = False) -> None:
        if speed <= 0:
            raise ValueError("speed must be > 0, got %r" % (speed,))
        self.speed = float(speed)
        self.replay_day: Optional[_dt.date] = None
        self.bounds: Optional[Tuple[int, int]] = None
        if mode not in (None, "realtime"):
            day = mode if isinstance(mode, _dt.date) else _dt.date.fromisoformat(str(mode))
            days = sessions.trading_days(day, day + _dt.timedelta(days=10))
            if not days:
                raise ValueError("no trading day within 10 days of %s" % day)
            self.replay_day = days[0]
            open_ms, close_ms = sessions.session_bounds(days[0], days[0], extended)
            self.bounds = (int(open_ms[0]), int(close_ms[0]))
        self._t0 = time.monotonic()

    @property
    def is_replay(self) -> bool:
        """``True`` when replaying a past session."""
        return self.bounds is not None

    @property
    def mode(self) -> str:
        """``'realtime'`` or ``'replay YYYY-MM-DD xSPEED'``."""
        if self.replay_day is None:
            return "realtime"
        return "replay %s x%g" % (self.replay_day.isoformat(), self.speed)

    def now_ms(self) -> int:
        """Current sandbox time in epoch milliseconds."""
        if self.bounds is None:
            return int(time.time() * 1000)
        start, end = self.bounds
        elapsed = int((time.monotonic() - self._t0) * 1000 * self.speed)
        return start + elapsed % max(end - start, 1)
