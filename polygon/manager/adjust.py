"""How the manager turns cached as-traded bars into adjusted ones (a mixin of
:class:`polygon.manager.PolygonDataManager`): the corporate actions a plan needs, the provider's day that decides
whether a split has happened, dividend closes for total return, and the degraded path when an auxiliary
request fails (the provider's adjusted bars for that call, a warning once per process, ``df.attrs['degraded']``).
"""

import datetime
import logging
import threading
from typing import Any, Dict, Optional, Tuple
from urllib.parse import urlsplit

import numpy as np
import pandas as pd

from polygon.core.http import PROVIDER_HOSTS
from polygon.exceptions import PolygonError
from polygon.markets.dates import get_zone
from polygon.markets.frames import BarArrays
from polygon.storage.corporate_actions import AuxiliaryDataError

__all__ = ["AdjustingMixin", "last_t_ns"]

logger = logging.getLogger(__name__)

EXCHANGE_TZ = "America/New_York"


def last_t_ns(plan: Any) -> Optional[int]:
    """Start (ns) of the newest bar of the plan's range, cached or fetched (``None``: no bars)."""
    lo, hi = plan.start_ms * 1_000_000, plan.end_ms * 1_000_000
    last = None
    for arrays in [plan.arrays] + [bars for _, _, bars in plan.fresh]:
        if arrays is not None and len(arrays):
            inside = arrays.slice_ns(lo, hi)
            if len(inside):
                last = int(inside.t_ns[-1]) if last is None else max(last, int(inside.t_ns[-1]))
    return last


_warned_lock = threading.Lock()
_warned: set = set()


def _warn_once(endpoint: str, reason: str, message: str) -> None:
    """Log ``message`` as a warning the first time this endpoint fails for this reason in the process."""
    with _warned_lock:
        if (endpoint, reason) in _warned:
            logger.info("%s", message)
            return
        _warned.add((endpoint, reason))
    logger.warning("%s", message)


class AdjustingMixin:
    """Adjustment stages of :class:`~polygon.manager.PolygonDataManager` (uses its ``actions``, ``client``,
    ``config``, ``_clock``, ``_clock_given``, ``_today``, ``_first_day``, ``_store``, ``_fetch_interval`` and
    ``fetch_data``)."""

    actions: Any
    client: Any
    config: Any
    _clock: Any
    _clock_given: bool

    def _plan_actions(self, plan: Any) -> Any:
        """The corporate actions that adjust the plan's bars (asked only when not known today). When a request
        for them fails, the call is served with the provider's adjusted bars instead (:meth:`_degrade`)."""
        if plan.actions is None and plan.degraded is None:
            try:
                plan.actions = self.actions.get(lambda: self.client, plan.symbol, self._clock(), plan.end_ms,
                                                dividends=plan.adjusted == "total_return",
                                                from_day=self._first_day(plan))
            except AuxiliaryDataError as exc:
                self._degrade(plan, exc)
        return plan.actions

    def _degrade(self, plan: Any, exc: AuxiliaryDataError) -> None:
        """Serve this call with the provider's adjusted bars (one request, never cached): the as-traded bars
        stay right in the cache, and the failure is warned about once per process and named in ``df.attrs``."""
        served = "the provider's split-adjusted bars for this call (not cached)"
        if plan.adjusted == "total_return":
            served += "; dividends are not applied"
        plan.degraded = {"endpoint": exc.endpoint, "reason": exc.reason, "served": served, "error": str(exc)}
        _warn_once(exc.endpoint, exc.reason, "%s; %s: serving %s" % (exc, plan.symbol, served))
        plan.fallback = self._fetch_interval(plan.symbol, plan.tf, plan.start_ms, plan.end_ms, adjusted=True)

    def _adjust(self, plan: Any, arrays: BarArrays) -> Tuple[BarArrays, Optional[str]]:
        """Apply the splits (and, for total return, the dividend factors) to as-traded bars (vectorised); prices
        are divided by the exact split ratio and rounded as the provider's adjusted bars are.

        :returns: the adjusted bars and when the actions used were known (ISO, UTC), or ``None`` for a market
            without corporate actions (or for the provider's bars served when the actions could not be asked).
        """
        actions = self._plan_actions(plan)
        if plan.degraded is not None:
            return plan.fallback.slice_ns(plan.start_ms * 1_000_000, plan.end_ms * 1_000_000), None
        if actions is None:
            return arrays, None
        today = self._provider_today(plan, actions, int(arrays.t_ns[-1]) if len(arrays) else None)
        t_ms = arrays.t_ns // 1_000_000
        values = actions.adjust_splits(t_ms, arrays.values, today)
        if plan.adjusted == "total_return":
            price = actions.dividend_factors(t_ms, today, self._close_before(plan, actions, today))
            if not bool((price == 1.0).all()):
                values = values.copy() if values is arrays.values else values
                values[[0, 1, 2, 3, 5]] *= price
        as_of = datetime.datetime.fromtimestamp(actions.refreshed_ms / 1000, datetime.timezone.utc).isoformat()
        if values is arrays.values:
            return arrays, as_of
        return BarArrays(arrays.t_ns, values, arrays.transactions, arrays.tx_mask), as_of

    def _day_undecided(self, actions: Any, last_t_ns: Optional[int]) -> bool:
        """``True`` when whether a split has happened depends on the server's day: the base URL is not the
        provider's own (a sandbox may run on a clock of its own), the manager's clock is the default one, and a
        split lies between the last bar and this machine's today."""
        if self._clock_given or actions is None or last_t_ns is None or \
                urlsplit(self.config.base_url).hostname in PROVIDER_HOSTS:
            return False
        last_day = datetime.datetime.fromtimestamp(last_t_ns / 1e9, get_zone(EXCHANGE_TZ)).date().isoformat()
        today = self._today()
        return any(last_day < d <= today for d, _, _ in actions.splits)

    def _provider_today(self, plan: Any, actions: Any, last_t_ns: Optional[int]) -> str:
        """The provider's New York day, which decides whether a split has happened (its adjusted bars apply
        the splits executed by its today): the manager's clock, or, when :meth:`_day_undecided`, the server's
        (``/v1/marketstatus/now``, asked only then, on the download's request slot)."""
        today = self._today()
        if plan.today is not None or not self._day_undecided(actions, last_t_ns):
            return plan.today or today
        try:
            server_time = self.client.get_market_status().server_time
            plan.today = min(today, pd.Timestamp(server_time).tz_convert(EXCHANGE_TZ).date().isoformat())
        except (PolygonError, TypeError, ValueError) as exc:
            logger.warning("could not ask the server's day (%s); splits are applied by this machine's date", exc)
            plan.today = today
        return plan.today

    def _close_before(self, plan: Any, actions: Any, today: str) -> Any:
        """``close_before(ex_date)``: the as-traded daily close of the last trading day before an ex-date, for
        the dividends that move this plan's bars (ex-date after its first day, by today), from one cached daily
        fetch spanning them."""
        first_day = datetime.datetime.fromtimestamp(plan.start_ms / 1000, get_zone(EXCHANGE_TZ)).date().isoformat()
        exes = [ex for ex, _ in actions.dividends if first_day < ex <= today]
        closes: Dict[str, Optional[float]] = {}

        def close_before(ex: Optional[str]) -> Optional[float]:
            if exes and not closes:
                start = (datetime.date.fromisoformat(min(exes)) - datetime.timedelta(days=10)).isoformat()
                daily = self.fetch_data(plan.symbol, "1day", start, max(exes), adjusted=False)
                days = np.array(daily.index.tz_convert(EXCHANGE_TZ).strftime("%Y-%m-%d").tolist(), dtype=object)
                values = daily["close"].to_numpy()
                for item in exes:
                    i = int(np.searchsorted(days, item, side="left")) if len(days) else 0
                    closes[item] = float(values[i - 1]) if i > 0 else None
            return closes.get(ex) if ex is not None else None

        return close_before
