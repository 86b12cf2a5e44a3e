"""Splits and cash dividends per symbol, and the price adjustment applied when cached bars are read.

The cache stores bars as traded (unadjusted): the provider never revises those for corporate actions, so a
split announced after bars were cached cannot leave a cliff between old and new bars. The adjustment is applied
when a frame is built, from the symbol's splits and dividends (``/v3/reference/splits`` and
``/v3/reference/dividends``), vectorised over the bars:

- **split-adjusted** (``adjusted=True``, the provider's adjusted bars): a bar of day ``d`` is multiplied by
  ``S(d) = prod(split_from / split_to)`` over the splits executed after ``d`` (and by today); volume is divided
  by ``S(d)``, the trade count is left alone;
- **total return** (``adjusted='total_return'``): prices are also multiplied by
  ``D(d) = prod(1 - cash_amount / close_before_ex)`` over the cash dividends whose ex-date is after ``d`` (and by
  today), ``close_before_ex`` being the as-traded close of the last trading day before the ex-date. These are
  backward multiplicative factors, as in CRSP's cumulative adjustment factors and yfinance's "Adj Close": the
  newest prices are unchanged and a buy-and-hold return that reinvests dividends is the ratio of two prices;
- **raw** (``adjusted=False``): as traded.

Actions are kept per symbol in memory and on disk (``<cache dir>/.reference/actions/<symbol>.json``) and
refreshed when older than :data:`ACTIONS_TTL_MS` (a day) or when a request reaches past the last refresh. Only
stocks have actions; other markets read as traded whatever ``adjusted`` says.
"""

import datetime as _dt
import logging
import os
import threading
from typing import Any, Callable, Dict, List, Optional, Tuple

import numpy as np

from polygon.core import json_codec
from polygon.core.ticker_reference import as_dict, results_of
from polygon.exceptions import InvalidParameterError, PolygonError
from polygon.markets.dates import get_zone
from polygon.markets.symbols import market_of, symbol_to_filename, validate_symbol

__all__ = [
    "ACTIONS_TTL_MS",
    "ADJUST_MODES",
    "CorporateActions",
    "CorporateActionsStore",
    "adjust_mode",
    "cutoff_ms",
    "get_actions_store",
    "suffix_factors",
]

logger = logging.getLogger(__name__)

#: How long fetched actions are trusted (ms).
ACTIONS_TTL_MS = 86_400_000
#: ``adjusted`` values -> mode name.
ADJUST_MODES = {True: "splits", False: "raw", "splits": "splits", "raw": "raw", "total_return": "total_return"}
_EXCHANGE_TZ = "America/New_York"
_DIR = os.path.join(".reference", "actions")


def adjust_mode(adjusted: Any) -> str:
    """``'splits'``, ``'raw'`` or ``'total_return'`` for an ``adjusted`` argument.

    :raises InvalidParameterError: for anything else.
    """
    try:
        return ADJUST_MODES[adjusted]
    except (KeyError, TypeError):
        raise InvalidParameterError("invalid adjusted %r: use True (split-adjusted, the default), False (as traded) "
                                    "or 'total_return' (splits and dividends)" % (adjusted,)) from None


def cutoff_ms(day: str) -> int:
    """New York midnight (UTC ms) of ``'YYYY-MM-DD'``: bars before it get the factor of an action that day."""
    d = _dt.date.fromisoformat(day[:10])
    return int(_dt.datetime(d.year, d.month, d.day, tzinfo=get_zone(_EXCHANGE_TZ)).timestamp() * 1000)


def suffix_factors(t_ms: np.ndarray, cutoffs: np.ndarray, factors: np.ndarray) -> np.ndarray:
    """For each time in ``t_ms``, the product of ``factors`` whose cutoff is after it (vectorised).

    :param cutoffs: ascending UTC ms; :param factors: one per cutoff.
    """
    if not len(cutoffs):
        return np.ones(len(t_ms))
    suffix = np.ones(len(cutoffs) + 1)
    suffix[:-1] = np.cumprod(factors[::-1])[::-1]
    return suffix[np.searchsorted(cutoffs, t_ms, side="right")]


class CorporateActions:
    """One symbol's splits and dividends as last fetched.

    :ivar splits: ``[(execution_date 'YYYY-MM-DD', split_from, split_to)]`` ascending.
    :ivar dividends: ``[(ex_dividend_date, cash_amount)]`` ascending (cash dividends).
    :ivar refreshed_ms: when the splits were fetched (the manager's clock).
    :ivar dividends_refreshed_ms: when the dividends were fetched (``None``: never; they are fetched only for
        total-return frames).
    :ivar splits_from: ``''`` when ``splits`` is the symbol's whole history, else the day after which it is
        complete (a batch's market-wide prefetch); bars on or before that day need a per-symbol refresh.
    """

    __slots__ = ("symbol", "splits", "dividends", "refreshed_ms", "dividends_refreshed_ms", "splits_from")

    def __init__(self, symbol: str, splits: List[Tuple[str, float, float]], dividends: List[Tuple[str, float]],
                 refreshed_ms: int, dividends_refreshed_ms: Optional[int] = None, splits_from: str = "") -> None:
        self.symbol, self.refreshed_ms = symbol, int(refreshed_ms)
        self.splits_from = splits_from  # the splits are complete for execution dates after this day ('' = all)
        self.dividends_refreshed_ms = None if dividends_refreshed_ms is None else int(dividends_refreshed_ms)
        self.splits = sorted((str(d)[:10], float(f), float(t)) for d, f, t in splits)
        self.dividends = sorted((str(d)[:10], float(c)) for d, c in dividends)

    def to_dict(self) -> Dict[str, Any]:
        return {"symbol": self.symbol, "splits": self.splits, "dividends": self.dividends,
                "refreshed_ms": self.refreshed_ms, "dividends_refreshed_ms": self.dividends_refreshed_ms,
                "splits_from": self.splits_from}

    def split_factors(self, t_ms: np.ndarray, today: str) -> np.ndarray:
        """``S`` of each bar start (see the module docstring), counting splits executed by ``today``."""
        done = [(cutoff_ms(d), f / t) for d, f, t in self.splits if d <= today and t > 0 and f > 0]
        return suffix_factors(t_ms, np.array([c for c, _ in done], dtype=np.int64),
                              np.array([f for _, f in done], dtype=float))

    def split_volume_factors(self, t_ms: np.ndarray, today: str) -> np.ndarray:
        """``1 / S`` of each bar start, computed as ``prod(split_to / split_from)`` (exact for whole ratios)."""
        done = [(cutoff_ms(d), t / f) for d, f, t in self.splits if d <= today and t > 0 and f > 0]
        return suffix_factors(t_ms, np.array([c for c, _ in done], dtype=np.int64),
                              np.array([f for _, f in done], dtype=float))

    def dividend_factors(self, t_ms: np.ndarray, today: str, close_before: Callable[[str], Optional[float]]
                         ) -> np.ndarray:
        """``D`` of each bar start; ``close_before(ex_date)`` gives the as-traded close before an ex-date."""
        cutoffs, factors = [], []
        first = int(t_ms.min()) if len(t_ms) else 0
        for ex, cash in self.dividends:
            if ex > today or cutoff_ms(ex) <= first:
                continue  # not yet effective, or before every bar (factor 1 for all of them)
            close = close_before(ex)
            if close is None or not close > cash:
                logger.warning("%s: no usable close before the %s dividend; it is left out of the total return",
                               self.symbol, ex)
                continue
            cutoffs.append(cutoff_ms(ex))
            factors.append(1.0 - cash / close)
        return suffix_factors(t_ms, np.array(cutoffs, dtype=np.int64), np.array(factors, dtype=float))


def _rows(response: Any) -> List[Dict[str, Any]]:
    return [as_dict(item) for item in (results_of(response) or [])]


class CorporateActionsStore:
    """Actions per symbol, cached in memory and on disk, refreshed daily and when a range reaches past the last
    refresh (thread-safe).

    :param cache_dir: the cache directory, or ``None`` for memory only.
    :param ttl_ms: how long fetched actions are trusted.
    """

    def __init__(self, cache_dir: Optional[str] = None, ttl_ms: int = ACTIONS_TTL_MS) -> None:
        self.directory = os.path.join(cache_dir, _DIR) if cache_dir else None
        self.ttl_ms = int(ttl_ms)
        self._lock = threading.Lock()
        self._memory: Dict[str, CorporateActions] = {}
        self.requests = 0  # reference requests sent, for measurements

    def _path(self, symbol: str) -> Optional[str]:
        return os.path.join(self.directory, symbol_to_filename(symbol) + ".json") if self.directory else None

    def _read(self, symbol: str) -> Optional[CorporateActions]:
        path = self._path(symbol)
        if path is None:
            return None
        try:
            with open(path, "rb") as handle:
                data = json_codec.loads(handle.read())
            return CorporateActions(symbol, data["splits"], data["dividends"], data["refreshed_ms"],
                                    data.get("dividends_refreshed_ms"), data.get("splits_from") or "")
        except FileNotFoundError:
            return None
        except (OSError, ValueError, KeyError, TypeError) as exc:
            logger.debug("corporate actions file %s unreadable (%r); refetching", path, exc)
            return None

    def _write(self, actions: CorporateActions) -> None:
        path = self._path(actions.symbol)
        if path is None:
            return
        tmp = "%s.%d.%d.tmp" % (path, os.getpid(), threading.get_ident())
        try:
            os.makedirs(os.path.dirname(path), exist_ok=True)
            with open(tmp, "wb") as handle:
                handle.write(json_codec.dumps(actions.to_dict()))
            os.replace(tmp, path)
        except OSError as exc:
            logger.debug("corporate actions not persisted to %s: %r", path, exc)
            try:
                os.unlink(tmp)
            except OSError:
                pass

    def cached(self, symbol: str) -> Optional[CorporateActions]:
        """What is held for ``symbol`` (memory, else disk), fresh or not; never asks the provider."""
        sym = validate_symbol(symbol)
        with self._lock:
            actions = self._memory.get(sym)
        if actions is None:
            actions = self._read(sym)
            if actions is not None:
                with self._lock:
                    self._memory.setdefault(sym, actions)
        return actions

    def stale(self, refreshed_ms: Optional[int], now_ms: int, until_ms: int) -> bool:
        """``True`` when actions fetched at ``refreshed_ms`` are too old for a range ending at ``until_ms``."""
        # a range cannot reach past "now": a refresh at now_ms serves every range, even one ending later today
        return refreshed_ms is None or now_ms - refreshed_ms >= self.ttl_ms or min(until_ms, now_ms) > refreshed_ms

    def fresh_for(self, held: Optional[CorporateActions], now_ms: int, from_day: str, until_ms: int,
                  dividends: bool = False) -> bool:
        """``True`` when ``held`` answers a range from ``from_day`` (``'YYYY-MM-DD'``) to ``until_ms`` without a
        request."""
        if held is None or self.stale(held.refreshed_ms, now_ms, until_ms):
            return False
        if held.splits_from and from_day < held.splits_from:
            return False
        return not (dividends and self.stale(held.dividends_refreshed_ms, now_ms, until_ms))

    def prefetch_splits(self, client: Any, symbols: List[str], from_day: str, now_ms: int, until_ms: int) -> int:
        """One market-wide splits request (``execution_date > from_day``) for the symbols whose actions are not
        fresh for the range: a batch pays one request instead of one per symbol.

        :returns: how many symbols it filled (0 when every symbol was fresh: no request).
        """
        wanted = [s for s in dict.fromkeys(validate_symbol(x) for x in symbols) if market_of(s) == "stocks"
                  and not self.fresh_for(self.cached(s), now_ms, from_day, until_ms)]
        if len(wanted) < 2:
            return 0  # one symbol: its own (complete) request is as cheap
        real = client() if callable(client) and not hasattr(client, "list_splits") else client
        with self._lock:
            self.requests += 1
        rows = _rows(real.list_splits(execution_date_gt=from_day))
        by_ticker: Dict[str, List[List[Any]]] = {}
        for r in rows:
            if r.get("execution_date") and r.get("ticker"):
                by_ticker.setdefault(r["ticker"], []).append(
                    [r["execution_date"], r.get("split_from") or 1.0, r.get("split_to") or 1.0])
        for sym in wanted:
            held = self.cached(sym)
            fresh = CorporateActions(sym, by_ticker.get(sym, []), held.dividends if held else [], now_ms,
                                     held.dividends_refreshed_ms if held else None, splits_from=from_day)
            with self._lock:
                self._memory[sym] = fresh
            self._write(fresh)
        return len(wanted)

    def get(self, client: Any, symbol: str, now_ms: int, until_ms: int, dividends: bool = False,
            from_day: str = "") -> Optional[CorporateActions]:
        """The actions of ``symbol`` (``None`` for markets without them), refreshed when older than the TTL or
        when the range ends after the last refresh (an action may have been announced since).

        :param client: a :class:`polygon.core.PolygonClient`, or a callable returning one (called only when a
            refresh is needed).
        :param now_ms: the manager's "now"; :param until_ms: the end of the requested range.
        :param dividends: also make sure the dividends are fresh (total return); splits always are.
        :param from_day: the range's first day (``'YYYY-MM-DD'``): a batch-prefetched split list must cover it.
        :raises PolygonError: when a refresh is needed and the provider cannot be asked (stale actions are then
            used instead, with a warning, when there are any).
        """
        sym = validate_symbol(symbol)
        if market_of(sym) != "stocks":
            return None
        held = self.cached(sym)
        need_splits = held is None or self.stale(held.refreshed_ms, now_ms, until_ms) or bool(
            held.splits_from and from_day < held.splits_from)
        need_dividends = dividends and (held is None or self.stale(held.dividends_refreshed_ms, now_ms, until_ms))
        if not (need_splits or need_dividends):
            return held
        splits = [list(x) for x in held.splits] if held is not None else []
        divs = [list(x) for x in held.dividends] if held is not None else []
        split_time = held.refreshed_ms if held is not None else None
        div_time = held.dividends_refreshed_ms if held is not None else None
        try:
            real = client() if callable(client) and not hasattr(client, "list_splits") else client
            if need_splits:
                with self._lock:
                    self.requests += 1
                rows = _rows(real.list_splits(ticker=sym))
                splits = [[r["execution_date"], r.get("split_from") or 1.0, r.get("split_to") or 1.0]
                          for r in rows if r.get("execution_date") and r.get("ticker", sym) == sym]
                split_time = now_ms
            if need_dividends:
                with self._lock:
                    self.requests += 1
                rows = _rows(real.list_dividends(ticker=sym))
                divs = [[r["ex_dividend_date"], r["cash_amount"]] for r in rows
                        if r.get("ex_dividend_date") and r.get("cash_amount") and r.get("ticker", sym) == sym
                        and r.get("dividend_type", "CD") in ("CD", "SC", "LT", "ST")]
                div_time = now_ms
        except PolygonError as exc:
            if held is None or (dividends and held.dividends_refreshed_ms is None):
                raise
            logger.warning("%s: corporate actions could not be refreshed (%s); using those of %s", sym, exc,
                           _dt.datetime.fromtimestamp(held.refreshed_ms / 1000, _dt.timezone.utc).isoformat())
            return held
        fresh = CorporateActions(sym, splits, divs, split_time or now_ms, div_time,
                                 "" if need_splits else (held.splits_from if held is not None else ""))
        with self._lock:
            self._memory[sym] = fresh
        self._write(fresh)
        return fresh

    def forget(self, symbol: Optional[str] = None) -> None:
        """Drop the in-memory actions (one symbol or all)."""
        with self._lock:
            if symbol is None:
                self._memory.clear()
            else:
                self._memory.pop(validate_symbol(symbol), None)


_registry_lock = threading.Lock()
_registry: Dict[str, CorporateActionsStore] = {}


def get_actions_store(cache_dir: Optional[str]) -> CorporateActionsStore:
    """The process-wide :class:`CorporateActionsStore` of a cache directory."""
    key = os.path.abspath(cache_dir) if cache_dir else ""
    with _registry_lock:
        store = _registry.get(key)
        if store is None:
            store = _registry[key] = CorporateActionsStore(cache_dir or None)
        return store
