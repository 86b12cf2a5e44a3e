"""PolygonDataManager and :func:`fetch_data`: bars as DataFrames, fetched once, then served from the cache.

Range rules (the same everywhere in the data layer):

- ``start``/``end`` accept dates, ``'YYYY-MM-DD'`` and ``'YYYYMMDD'`` strings, 8-digit int dates, datetimes
  (naive = the configured timezone), ISO strings and epoch milliseconds (exactly 8 digits is a date, see
  :mod:`polygon.markets.dates`). A calendar day as ``end`` includes that whole day.
- Internally a request is the half-open interval ``[start_ms, end_ms)``. The cache records, per symbol and
  timeframe, exactly which requested intervals were fetched completely; a later call fetches only the
  parts of its range that are not covered (and contain trading time), merges, and returns the slice.
- One convention for ``end``: every ``end`` reported for a *range* (``df.attrs['end']``,
  :meth:`PolygonDataManager.get_data_summary`'s ``end``, ``update_cache``'s ``end``) is inclusive, the last
  millisecond of the range; *interval lists* (covered and missing ranges) are half-open ``[start, end)`` pairs.
- The newest bars may still change (the provider revises recent minute bars for about 15 minutes, and
  today's daily bar until the day is over). That tail is returned but never recorded as covered, so the
  next call fetches it again. ``df.attrs['may_change']`` tells whether the frame reaches into it.

The frame contract is :mod:`polygon.markets.frames`: a tz-aware ``timestamp`` index and the columns open, high,
low, close, volume, vwap, transactions. ``df.attrs`` holds ``symbol``, ``timeframe``, ``start``, ``end``,
``source`` (``'cache'``, ``'api'`` or ``'mixed'``), ``may_change`` and, with ``validate=True``,
``validation``.
"""

import datetime
import logging
import os
import threading
import time
from typing import Any, Dict, List, Optional, Tuple

import pandas as pd

from polygon import markets
from polygon.config import PolygonConfig, get_config
from polygon.core import json_codec
from polygon.core.ticker_reference import get_ticker_reference
from polygon.exceptions import InvalidDateRangeError, InvalidParameterError, PolygonError, UnknownSymbolError
from polygon.manager.adjust import AdjustingMixin, last_t_ns
from polygon.manager.batch import BatchFetcher, BatchResult
from polygon.manager.futures import futures_bar_columns
from polygon.markets import coverage as cov
from polygon.markets.dates import get_zone, is_calendar_day, to_epoch_ms
from polygon.markets.frames import (
    arrays_from_wire_columns,
    arrays_to_frame,
    empty_bars_frame,
    frame_to_arrays,
    merge_arrays,
)
from polygon.markets.futures import SESSION_SHIFT_MS
from polygon.markets.symbols import market_of, validate_symbol
from polygon.markets.timeframes import Timeframe, parse_timeframe
from polygon.storage.corporate_actions import adjust_mode, get_actions_store

try:  # the pure "no bars, knowably" check (helper "fresh", issue 21 item 7), merged on its own branch
    from polygon.markets.empty_range import empty_range_reason
except ImportError:  # pragma: no cover - until both branches are in
    empty_range_reason = None

__all__ = [
    "DEFAULT_LOOKBACK_DAYS",
    "EXCHANGE_TZ",
    "FetchPlan",
    "REVISION_WINDOW_MS",
    "PolygonDataManager",
    "ensure_as_traded_cache",
    "fetch_data",
    "get_default_manager",
]

logger = logging.getLogger(__name__)

#: Default range of :meth:`PolygonDataManager.fetch_data` when ``start`` is not given.
DEFAULT_LOOKBACK_DAYS = 30
#: The provider may revise minute bars this long after they start.
REVISION_WINDOW_MS = 15 * 60 * 1000
_DAY_MS = 86_400_000
#: Daily and coarser bars start at midnight in the exchange's timezone.
EXCHANGE_TZ = "America/New_York"
_MAX_PERIOD_DAYS = {"month": 32, "quarter": 93, "year": 367}


def _has_extended_bars(df: pd.DataFrame, tf: Timeframe, symbol: str) -> bool:
    """``True`` when intraday stock bars reach outside 09:30-16:00 New York time (the provider sends pre- and
    post-market bars for stocks; the sandbox only with its ``extended_hours`` option)."""
    if not tf.is_intraday or not len(df) or market_of(symbol) != "stocks":
        return False
    local = df.index.tz_convert(EXCHANGE_TZ)
    minutes = local.hour * 60 + local.minute
    return bool(((minutes < 9 * 60 + 30) | (minutes >= 16 * 60)).any())


def _now_ms() -> int:
    return int(time.time() * 1000)


class FetchPlan:
    """One ``fetch_data`` call between its stages (:meth:`PolygonDataManager.plan_fetch`, ``download``,
    ``finish``): what the cache holds and what must be fetched.

    :ivar symbol: the normalised ticker. :ivar tf: the :class:`~polygon.markets.timeframes.Timeframe`.
    :ivar start_ms: first millisecond of the range. :ivar end_ms: end of the range (exclusive).
    :ivar todo: the ``[start, end)`` intervals the download stage fetches (empty: all from the cache).
    :ivar covered: the cached intervals inside the range.
    :ivar needs_network: ``True`` when :meth:`PolygonDataManager.download` has something to ask the provider
        (bars to fetch, corporate actions or a ticker's reference answer to refresh); ``False``: all cached.
    """

    __slots__ = ("symbol", "tf", "start_ms", "end_ms", "tz", "adjusted", "arrays", "covered", "todo", "fresh", "tail",
                 "stored", "needs_network", "provider_adjusted", "actions", "degraded", "fallback", "today",
                 "empty_reason")

    def __init__(self, symbol: str, tf: Timeframe, start_ms: int, end_ms: int, tz: str, adjusted: str) -> None:
        self.symbol, self.tf, self.start_ms, self.end_ms, self.tz, self.adjusted = (
            symbol, tf, start_ms, end_ms, tz, adjusted)
        self.arrays: Any = None
        self.covered: List[Tuple[int, int]] = []
        self.todo: List[Tuple[int, int]] = []
        self.fresh: List[Tuple[int, int, Any]] = []
        self.stored = 0  # how many of ``fresh`` are in the cache
        self.tail = 0  # bars from here on may still change; taken before the download, never after
        self.needs_network = True
        self.provider_adjusted = False  # the bars asked are the provider's adjusted ones (never cached)
        self.actions: Any = None  # the corporate actions the download fetched
        self.degraded: Optional[Dict[str, Any]] = None  # an auxiliary request failed: what and what was served
        self.fallback: Any = None  # the provider's adjusted bars served instead (degraded)
        self.today: Optional[str] = None  # the provider's day, when it had to be asked
        self.empty_reason: Optional[str] = None  # why the range has no bars, known before any request


class PolygonDataManager(AdjustingMixin):
    """Fetches bars through the file cache.

    :param config: settings (default :func:`polygon.config.get_config`).
    :param client: a :class:`polygon.core.PolygonClient`; created on first network use, so cached data is
        readable without an API key.
    :param storage: a :class:`polygon.storage.StorageManager` (default: one on ``config.cache_dir``).
    :param max_workers: concurrent requests of multi-symbol fetches (default ``config.max_workers``).
    :param progress: progress display for batch work: ``None`` = a tqdm bar on a terminal (plain log lines
        otherwise), ``False`` = off, ``True`` = always.
    :param clock: returns "now" in epoch ms (tests).
    """

    def __init__(
        self,
        config: Optional[PolygonConfig] = None,
        client: Any = None,
        storage: Any = None,
        max_workers: Optional[int] = None,
        progress: Optional[bool] = None,
        clock: Any = None,
    ) -> None:
        self.config = config if config is not None else get_config()
        self._client = client
        self._client_lock = threading.Lock()
        if storage is None:
            from polygon.storage import StorageManager

            storage = StorageManager(self.config.cache_dir, tz=self.config.timezone)
        self.storage = storage
        self._clock = clock or _now_ms
        self._clock_given = clock is not None
        own_dir = getattr(storage, "cache_dir", None) if getattr(storage, "writable", False) else None
        self.reference = get_ticker_reference(own_dir)
        self.actions = get_actions_store(own_dir)
        if own_dir:
            self._check_cache_format(own_dir)
        self.batch_fetcher = BatchFetcher(self, max_workers=max_workers or self.config.max_workers, progress=progress)

    # -- plumbing -------------------------------------------------------------------------------------------

    @property
    def created_client(self) -> Any:
        """The REST client when it has been created, else ``None`` (never creates it: no key needed)."""
        return self._client

    @property
    def client(self) -> Any:
        """The REST client (created on first use; raises PolygonAuthenticationError without a key)."""
        if self._client is None:
            with self._client_lock:
                if self._client is None:
                    from polygon.core import PolygonClient

                    self._client = PolygonClient(config=self.config)
        return self._client

    def close(self) -> None:
        """Release the HTTP session and flush pending cache appends."""
        if self._client is not None:
            self._client.close()
        flush = getattr(self.storage, "flush", None)
        if flush is not None:
            flush()

    def __enter__(self) -> "PolygonDataManager":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

    def __repr__(self) -> str:
        return "PolygonDataManager(cache_dir=%r, base_url=%r)" % (self.storage.cache_dir, self.config.base_url)

    # -- range arithmetic (pure) ----------------------------------------------------------------------------

    def resolve_range(self, start: Any = None, end: Any = None, tf: Optional[Timeframe] = None,
                      symbol: Optional[str] = None, market: Optional[str] = None) -> Tuple[int, int]:
        """Return the half-open ``[start_ms, end_ms)`` of a request (defaults: the last 30 days to now).

        Calendar days (``'YYYY-MM-DD'``, ``'YYYYMMDD'`` or :class:`datetime.date`) are days of the configured
        timezone for intraday bars; for daily and coarser bars they are the days whose midnight starts the
        provider's bars, whatever timezone they are shown in: New York days for stocks, options and indices,
        UTC days for crypto and fx (:func:`polygon.markets.day_zone`).

        :param tf: the timeframe the range is for (selects the day convention above).
        :param symbol: the ticker (selects the market's day for daily bars; default New York).
        :param market: ``symbol``'s market when the caller knows it already (``symbol`` is then not checked).
        :raises InvalidDateRangeError: for an unparsable bound or ``start >= end``.
        """
        tz = self.config.timezone
        if market is None:
            market = market_of(symbol) if symbol else "stocks"
        day_tz = tz if tf is None or tf.is_intraday else markets.day_zone(market)

        def zone(value: Any) -> str:
            return day_tz if is_calendar_day(value) else tz

        now = self._clock()
        end_ms = now if end is None else to_epoch_ms(end, zone(end), end=True, name="end") + 1
        if start is None:
            start_ms = end_ms - DEFAULT_LOOKBACK_DAYS * _DAY_MS
        else:
            start_ms = to_epoch_ms(start, zone(start), name="start")
        if symbol is not None and market == "futures":  # day D = the session ending on D
            start_ms -= SESSION_SHIFT_MS if start is not None and is_calendar_day(start) else 0
            end_ms -= SESSION_SHIFT_MS if end is not None and is_calendar_day(end) else 0
        if start_ms >= end_ms:
            raise InvalidDateRangeError(
                "invalid date range: start %r is not before end %r; pass start <= end (end day is inclusive)"
                % (start, end)
            )
        return start_ms, end_ms

    def changing_from(self, tf: Timeframe, symbol: Optional[str] = None, market: Optional[str] = None) -> int:
        """Epoch ms from which bars of ``tf`` (of ``symbol``'s market) may still be revised by the provider."""
        now = self._clock()
        if tf.is_intraday:
            step = tf.seconds * 1000
            return ((now - REVISION_WINDOW_MS) // step) * step
        if market is None and symbol:
            market = market_of(symbol)
        zone = markets.day_zone(market) if market else EXCHANGE_TZ
        if tf.timespan == "day":  # today's midnight (never a DST gap: New York switches at 2:00)
            local = datetime.datetime.fromtimestamp(now / 1000, get_zone(zone))
            return int(local.replace(hour=0, minute=0, second=0, microsecond=0).timestamp()) * 1000
        stamp = pd.Timestamp(now, unit="ms", tz="UTC").tz_convert(zone).normalize()
        stamp = stamp - tf.offset if not tf.offset.is_on_offset(stamp) else stamp
        return int(stamp.value // 1_000_000)

    @staticmethod
    def fetch_margin(tf: Timeframe) -> int:
        """How far (ms) each fetch is widened on both sides so that every bar starting inside the wanted
        interval is complete: the provider builds an edge bar only from the part of it inside the request."""
        if tf.seconds is not None:
            return tf.seconds * 1000 + (_DAY_MS if tf.timespan in ("day", "week") else 0)  # + a DST-proof day
        return _MAX_PERIOD_DAYS[tf.timespan] * tf.multiplier * _DAY_MS

    def trading_intervals(self, symbol: str, tf: Timeframe, start_ms: int, end_ms: int) -> List[Tuple[int, int]]:
        """Parts of ``[start_ms, end_ms)`` in which bars can exist, per market (:mod:`polygon.markets`): extended
        exchange sessions (whole session days for daily and coarser bars), the fx week from Sunday 17:00 to
        Friday 17:00 New York, all of it for crypto, nothing after an option's expiry day."""
        return markets.trading_intervals(symbol, start_ms, end_ms, tf.is_intraday)

    def _to_fetch(self, symbol: str, tf: Timeframe, start_ms: int, end_ms: int,
                  covered: List[Tuple[int, int]]) -> List[Tuple[int, int]]:
        """The uncovered parts of the request that contain trading time (whole uncovered spans)."""
        missing = cov.subtract([(start_ms, end_ms)], covered)
        if not tf.is_intraday and tf.timespan != "day":
            return missing  # week/month bars start before the range: let the provider decide
        trading = self.trading_intervals(symbol, tf, start_ms, end_ms)
        return [iv for iv in missing if cov.intersect([iv], trading)]

    # -- fetching -------------------------------------------------------------------------------------------

    def _fetch_interval(self, symbol: str, tf: Timeframe, start_ms: int, end_ms: int, adjusted: bool = False):
        """Complete as-traded bars (or the provider's adjusted ones) starting in ``[start_ms, end_ms)`` (fetched
        with a margin, then sliced). ``symbol`` is validated already: the client does not check it again."""
        margin = self.fetch_margin(tf)
        if market_of(symbol) == "futures":  # the futures family has its own aggregates endpoint
            cols = futures_bar_columns(self.client, symbol, tf, start_ms - margin, end_ms + margin - 1)
        else:
            cols = self.client.bars_columns(symbol, tf, start_ms - margin, end_ms + margin - 1, adjusted=adjusted)
        arrays = arrays_from_wire_columns(cols)
        return arrays.slice_ns(start_ms * 1_000_000, end_ms * 1_000_000)

    def fetch_data(
        self,
        symbol: str,
        timeframe: Any,
        start: Any = None,
        end: Any = None,
        use_cache: bool = True,
        validate: bool = False,
        adjusted: Any = True,
        strict: bool = False,
        tz: Optional[str] = None,
    ) -> pd.DataFrame:
        """Bars of ``symbol`` for ``[start, end]``, fetching only what the cache does not hold.

        :param symbol: ticker, e.g. ``'AAPL'``, ``'BRK.B'``, ``'X:BTCUSD'``.
        :param timeframe: ``'1min'``, ``'5min'``, ``'15min'``, ``'1hour'``, ``'1day'``, ``'1week'``... .
        :param start: first day/instant; default 30 days before ``end``.
        :param end: last day (inclusive) or instant; default now.
        :param use_cache: ``False`` skips reading the cache; split-adjusted stock bars are then the provider's
            adjusted bars (no splits request, and they are not cached); other bars are still written to it.
        :param validate: attach :func:`polygon.validators.generate_validation_summary` to
            ``df.attrs['validation']`` (warning logged for fair/poor data).
        :param adjusted: ``True`` (default): split-adjusted, as the provider's adjusted bars; ``False``: as traded;
            ``'total_return'``: splits and cash dividends (backward multiplicative factors, see
            :mod:`polygon.storage.corporate_actions`). The cache holds as-traded bars and the adjustment is applied when
            the frame is built, so a split announced after caching never leaves a cliff and costs no refetch.
        :param strict: with ``validate``, raise :class:`~polygon.exceptions.DataValidationError` on failures.
        :param tz: timezone of the returned index (default ``config.timezone``).
        :returns: a DataFrame following :mod:`polygon.markets.frames` (empty, never ``None``, when there are no bars).
        :raises InvalidInputError: bad symbol, timeframe or range (before any I/O).
        :raises UnknownSymbolError: the range is empty and the provider does not know the ticker (an
            :class:`~polygon.exceptions.InvalidSymbolError` with ``suggestions``); nothing is cached for it.
        :raises PolygonAPIError: the provider refused (after retries where they apply).

        An empty frame of a known ticker says why in ``df.attrs['empty_reason']`` (and ``listed`` /
        ``delisted`` dates when the provider gives them). When a splits or dividends request fails (401/403/404,
        5xx after retries, a timeout), the call is served with the provider's adjusted bars (not cached), a
        warning names the endpoint and the reason once per process, and ``df.attrs['degraded']`` says so.
        """
        plan = self.plan_fetch(symbol, timeframe, start, end, use_cache=use_cache, adjusted=adjusted, tz=tz)
        self.download(plan)
        return self.finish(plan, validate, strict)

    # -- the three stages of fetch_data: a public seam for the batch fetcher (which runs the download on its
    # -- request slots) and any caller that schedules its own network work ---------------------------------

    def plan_fetch(self, symbol: Any, timeframe: Any, start: Any = None, end: Any = None, use_cache: bool = True,
                   adjusted: Any = True, tz: Optional[str] = None) -> "FetchPlan":
        """Stage 1 of :meth:`fetch_data`: validate the request (before any I/O), read the cache, and list the
        intervals to fetch (``plan.todo``; empty when the cache holds everything).

        :returns: a :class:`FetchPlan` for :meth:`download` and :meth:`finish`.
        :raises InvalidInputError: bad symbol, timeframe, range or timezone.
        """
        sym = validate_symbol(symbol)
        tf = parse_timeframe(timeframe)
        mode = adjust_mode(adjusted)
        market = sym.market  # validate_symbol above was the one symbol check of the call
        start_ms, end_ms = self.resolve_range(start, end, tf, sym, market=market)
        out_tz = tz or self.config.timezone
        get_zone(out_tz)  # an unknown timezone is a typed error before any I/O
        plan = FetchPlan(sym, tf, start_ms, end_ms, out_tz, mode)
        plan.tail = self.changing_from(tf, sym, market=market)
        if use_cache:
            plan.arrays, plan.covered, _ = self.storage.read_arrays_with_coverage(sym, tf, start_ms, end_ms)
            plan.todo = self._to_fetch(sym, tf, start_ms, end_ms, plan.covered)
        else:
            plan.todo = [(start_ms, end_ms)]
            # nothing is read from the cache: the provider adjusts the bars, no splits request is needed
            plan.provider_adjusted = mode == "splits" and market == "stocks"
        if empty_range_reason is not None:  # the future, a holiday-only range...: no request is spent on it
            plan.empty_reason = empty_range_reason(sym, tf, start_ms, end_ms, self._clock())
            if plan.empty_reason is not None:
                plan.todo, plan.needs_network = [], False
                return plan
        plan.needs_network = bool(plan.todo) or self._stale_reference(plan)
        return plan

    def _stale_reference(self, plan: "FetchPlan") -> bool:
        """``True`` when finishing a plan whose bars are all cached would ask the provider for reference data."""
        if plan.arrays is not None and len(plan.arrays.slice_ns(plan.start_ms * 1_000_000, plan.end_ms * 1_000_000)):
            if plan.adjusted == "raw" or market_of(plan.symbol) != "stocks":
                return False
            return self.actions.needs_request(plan.symbol, self._clock(), self._first_day(plan),
                                              plan.adjusted == "total_return") or \
                self._day_undecided(self.actions.cached(plan.symbol), last_t_ns(plan))
        return self.reference.cached(plan.symbol) is None

    @staticmethod
    def _first_day(plan: "FetchPlan") -> str:
        """The New York day of the plan's first millisecond (the earliest day whose bars are adjusted)."""
        return datetime.datetime.fromtimestamp(plan.start_ms / 1000, get_zone(EXCHANGE_TZ)).date().isoformat()

    def prefetch_actions(self, symbols: List[str], start: Any = None, end: Any = None, adjusted: Any = True) -> int:
        """Fetch the splits of many symbols with one market-wide request (splits executed after the range's
        first day), so that a batch does not pay one splits request per symbol. Symbols whose actions are fresh
        are skipped; nothing is sent when all are. Used by :class:`~polygon.manager.batch.BatchFetcher`.

        :returns: how many symbols were filled.
        """
        if adjust_mode(adjusted) == "raw":
            return 0
        start_ms, end_ms = self.resolve_range(start, end)
        day = datetime.datetime.fromtimestamp(start_ms / 1000, get_zone(EXCHANGE_TZ)).date()
        from_day = (day - datetime.timedelta(days=1)).isoformat()  # any timezone's first day is covered
        return self.actions.prefetch_splits(lambda: self.client, symbols, from_day, self._clock(), end_ms)

    def _today(self) -> str:
        """The manager clock's day in New York, ``'YYYY-MM-DD'``."""
        return datetime.datetime.fromtimestamp(self._clock() / 1000, get_zone(EXCHANGE_TZ)).date().isoformat()

    def download(self, plan: "FetchPlan") -> None:
        """Stage 2 of :meth:`fetch_data`, the only one that talks to the provider: fetch every interval of
        ``plan.todo`` (as traded), then refresh what :meth:`finish` will need when it is stale: the symbol's
        corporate actions (and, for total return, the daily closes before its ex-dates), or, when there are no
        bars at all, whether the provider knows the ticker. Bars are written here only before a failure
        propagates (the intervals already fetched) and for total return (whose closes may come from them).

        :raises PolygonAPIError: the provider refused (after retries where they apply).
        """
        if plan.empty_reason is not None:
            return  # no bars, knowably: nothing to ask
        try:
            for lo, hi in plan.todo:
                logger.debug("fetch %s %s [%d, %d)", plan.symbol, plan.tf.name, lo, hi)
                plan.fresh.append((lo, hi, self._fetch_interval(plan.symbol, plan.tf, lo, hi,
                                                                adjusted=plan.provider_adjusted)))
            has_bars = bool((plan.arrays is not None and len(plan.arrays)) or any(len(b) for _, _, b in plan.fresh))
            if has_bars and plan.adjusted != "raw" and not plan.provider_adjusted:  # on the request slot
                actions = self._plan_actions(plan)
                if plan.degraded is None:
                    self._provider_today(plan, actions, last_t_ns(plan))
                if actions is not None and plan.adjusted == "total_return" and plan.degraded is None:
                    self._store(plan)  # the closes before ex-dates may come from the bars just fetched
                    self._close_before(plan, actions, self._today())(None)  # the daily closes, on this slot
            elif not has_bars and market_of(plan.symbol) != "futures":  # futures: no ticker reference
                self.reference.lookup(lambda: self.client, plan.symbol)
        except BaseException:
            try:
                self._store(plan)
            except Exception:  # never hide the download's own error behind a cache problem
                logger.exception("cache: storing the intervals fetched before the failure failed")
            raise

    def _store(self, plan: "FetchPlan") -> None:
        """Write the fetched intervals to the cache (coverage only up to the still-changing tail), once."""
        fresh, plan.stored = plan.fresh[plan.stored:], len(plan.fresh)
        if not self.storage.writable or plan.provider_adjusted:  # the cache holds as-traded bars only
            return
        for lo, hi, bars in fresh:
            done = (lo, min(hi, plan.tail))
            self.storage.write_arrays(plan.symbol, plan.tf, bars, covered=done if done[0] < done[1] else None,
                                      tz=self.config.timezone)

    def finish(self, plan: "FetchPlan", validate: bool = False, strict: bool = False) -> pd.DataFrame:
        """Stage 3 of :meth:`fetch_data`: merge the fetched bars with the cached ones and slice; an empty result
        is explained (or refused, for a ticker the provider does not know) before anything is stored; store;
        build the frame (and validate it when asked).

        :returns: the frame :meth:`fetch_data` returns.
        :raises UnknownSymbolError: see :meth:`fetch_data`.
        """
        sym, tf, tail = plan.symbol, plan.tf, plan.tail
        source = "cache" if not plan.todo else ("mixed" if plan.covered else "api")
        arrays = plan.arrays
        for _, _, fresh in plan.fresh:
            arrays = fresh if arrays is None else merge_arrays(arrays, fresh)
        if arrays is None:  # use_cache=False and nothing asked (an empty range, knowably)
            arrays = frame_to_arrays(empty_bars_frame(plan.tz))
        arrays = arrays.slice_ns(plan.start_ms * 1_000_000, plan.end_ms * 1_000_000)
        empty: Dict[str, Any] = {}
        if not len(arrays):
            cached = self.reference.cached(sym) if plan.empty_reason is not None else None
            if plan.empty_reason is not None and not (cached is not None and cached.known is False):
                empty = {"verified": True, "empty_reason": plan.empty_reason}
            else:  # a ticker the provider said it does not know is refused even when the range is knowably empty
                empty = self.explain_empty(plan)  # raises UnknownSymbolError: nothing is stored for it
        if empty.get("verified", True):
            self._store(plan)
        else:  # could not ask whether the ticker exists: the empty range is not recorded as covered
            plan.stored = len(plan.fresh)
        as_of = None
        if len(arrays) and plan.adjusted != "raw" and not plan.provider_adjusted:
            arrays, as_of = self._adjust(plan, arrays)
        df = arrays_to_frame(arrays, plan.tz) if len(arrays) else empty_bars_frame(plan.tz)
        self._annotate(df, sym, tf, plan.start_ms, plan.end_ms, source, plan.tz, tail)
        df.attrs["adjusted"] = plan.adjusted
        if plan.adjusted != "raw" and market_of(sym) == "stocks":
            df.attrs["adjusted_by"] = "provider" if plan.provider_adjusted or plan.degraded else "cache"
        if plan.degraded is not None:
            df.attrs["degraded"] = dict(plan.degraded)
            if plan.adjusted == "total_return":
                df.attrs["adjusted"] = "splits"
        if as_of is not None:
            df.attrs["corporate_actions_as_of"] = as_of
        for key in ("empty_reason", "listed", "delisted"):
            if empty.get(key) is not None:
                df.attrs[key] = empty[key]
        if validate:
            from polygon.validators import validate_bars

            df.attrs["validation"] = validate_bars(df, sym, tf.name, extended_hours=_has_extended_bars(df, tf, sym),
                                                   strict=strict)
        return df

    def _check_cache_format(self, cache_dir: str) -> None:
        ensure_as_traded_cache(self.storage)

    def explain_empty(self, plan: "FetchPlan") -> Dict[str, Any]:
        """Why a request has no bars: ask (once per day per ticker, cached in memory and on disk) whether the
        provider knows the ticker.

        :returns: ``{'verified': bool, 'empty_reason': str, 'listed': date str or None, 'delisted': ...}``.
        :raises UnknownSymbolError: when the provider does not know the ticker (with near-miss suggestions).
        """
        sym = plan.symbol
        status = self.reference.lookup(lambda: self.client, sym)
        if status.known is False:
            try:
                suggestions = self.reference.suggestions(self.client, status)
            except PolygonError as exc:  # e.g. an answer read from disk and no key to search with now
                logger.debug("no suggestions for %s: %s", sym, exc)
                suggestions = []
            hint = ", ".join(s["ticker"] for s in suggestions)
            raise UnknownSymbolError(
                "unknown symbol %r: the provider does not know it%s; nothing was cached"
                % (sym, "; did you mean %s?" % hint if hint else ""), symbol=sym, suggestions=suggestions)
        if status.known is None:
            logger.warning("%s: no bars, and whether the provider knows the ticker could not be checked (%s); "
                           "the empty range is not cached", sym, status.reason)
            return {"verified": False,
                    "empty_reason": "unverified: could not ask the provider whether it knows %s (%s)"
                                    % (sym, status.reason)}
        listed = status.details.get("list_date")
        delisted = status.details.get("delisted_utc")
        first_day = pd.Timestamp(plan.start_ms, unit="ms", tz="UTC").tz_convert(EXCHANGE_TZ).date().isoformat()
        last_day = pd.Timestamp(plan.end_ms - 1, unit="ms", tz="UTC").tz_convert(EXCHANGE_TZ).date().isoformat()
        if isinstance(listed, str) and last_day < listed[:10]:
            reason = "%s has no bars before its listing date %s" % (sym, listed[:10])
        elif isinstance(delisted, str) and first_day > delisted[:10]:
            reason = "%s has no bars after it was delisted on %s" % (sym, delisted[:10])
        else:
            reason = ("%s is known to the provider but has no bars in this range (no trading session, a halt or "
                      "no trades)" % sym)
        return {"verified": True, "empty_reason": reason, "listed": listed, "delisted": delisted}

    def _annotate(self, df: pd.DataFrame, sym: str, tf: Timeframe, start_ms: int, end_ms: int, source: str,
                  tz: str, tail: int) -> None:
        zone = get_zone(tz)
        last = int(df.index[-1].value // 1_000_000) if len(df) else None
        df.attrs.update({
            "symbol": str(sym),
            "timeframe": tf.name,
            "start": datetime.datetime.fromtimestamp(start_ms / 1000, zone).isoformat(),
            "end": datetime.datetime.fromtimestamp((end_ms - 1) / 1000, zone).isoformat(),
            "source": source,
            "may_change": last is not None and last >= tail,
        })

    def fetch_multiple_symbols(
        self, symbols: List[str], timeframe: Any, start: Any = None, end: Any = None, **kwargs: Any
    ) -> BatchResult:
        """Fetch several symbols concurrently (at most ``max_workers`` requests at once, sharing the rate limiter).

        :returns: a :class:`polygon.manager.batch.BatchResult`: a dict ``{symbol: DataFrame}`` of the successes
            whose ``errors`` attribute maps each failed symbol to its exception (nothing is dropped silently).
        :raises InvalidInputError: when the timeframe or range is invalid (checked once, before any I/O).
        """
        return self.batch_fetcher.fetch(symbols, timeframe, start, end, **kwargs)

    def update_cache(self, symbol: str, timeframe: Any) -> Dict[str, Any]:
        """Extend the cached range of ``symbol`` to now, fetching only what is missing plus the changing tail.

        With nothing cached yet, the default range (the last 30 days) is fetched.

        :returns: ``{'symbol', 'timeframe', 'bars', 'added', 'start', 'end'}``.
        """
        sym = validate_symbol(symbol)
        tf = parse_timeframe(timeframe)
        existing = self.storage.coverage(sym, tf)
        before = self.storage.info(sym, tf).get("bars", 0) if existing else 0
        start = existing[0][0] if existing else None
        df = self.fetch_data(sym, tf, start, None)
        after = self.storage.info(sym, tf).get("bars", len(df))
        return {"symbol": str(sym), "timeframe": tf.name, "bars": len(df), "added": max(0, after - before),
                "start": df.attrs["start"], "end": df.attrs["end"]}

    def fetch_latest(self, symbol: str, timeframe: Any, bars: int = 100) -> pd.DataFrame:
        """The last ``bars`` complete bars (the bar still forming is left out), from the cache when fresh.

        :raises InvalidParameterError: when ``bars`` < 1.
        """
        if not isinstance(bars, int) or bars < 1:
            raise InvalidParameterError("bars must be an int >= 1, got %r" % (bars,))
        tf = parse_timeframe(timeframe)
        now = self._clock()
        expiry_end = markets.contract_end_ms(validate_symbol(symbol))
        if expiry_end is not None:  # an expired option's last bars are those before its expiry
            now = min(now, expiry_end)
        step_ms = (tf.seconds or 31 * 86400) * 1000
        # trading hours are ~16 h (extended) of 24 on ~5 of 7 days: start with a window that usually suffices
        span = max(bars * step_ms * 3, 4 * _DAY_MS)
        df = empty_bars_frame(self.config.timezone)
        for _ in range(6):
            df = self.fetch_data(symbol, tf, now - span, now)
            if len(df):
                starts = frame_to_arrays(df).t_ns // 1_000_000
                complete = df[(starts + step_ms) <= now] if tf.seconds else df.iloc[:-1]
                if len(complete) >= bars:
                    out = complete.iloc[-bars:]
                    out.attrs = dict(df.attrs)
                    return out
                df = complete
            span *= 4
        return df

    def get_data_summary(self, symbol: str, timeframe: Any, start: Any = None, end: Any = None) -> Dict[str, Any]:
        """What the cache holds for a range, without fetching.

        :returns: ``{'symbol', 'timeframe', 'start', 'end', 'bar_count', 'first_bar', 'last_bar',
            'cache_coverage': {'percentage', 'covered_ranges', 'missing_ranges'}}``. ``start``/``end`` are the
            first and last instant of the range, both inclusive, exactly as ``df.attrs`` of
            :meth:`fetch_data` gives them. Coverage is measured over trading time: weekends, holidays and
            the market's closed hours are never "missing"; ranges are ``[start, end)`` pairs (end exclusive:
            where the next range would start) of ISO strings in the configured timezone.
        """
        sym = validate_symbol(symbol)
        tf = parse_timeframe(timeframe)
        start_ms, end_ms = self.resolve_range(start, end, tf, sym)
        df, covered = self.storage.read_with_coverage(sym, tf, start_ms, end_ms)
        trading = self.trading_intervals(sym, tf, start_ms, end_ms)
        need = cov.covered_ms(trading)
        have = cov.covered_ms(cov.intersect(trading, covered))
        missing = [iv for iv in cov.subtract([(start_ms, end_ms)], covered) if cov.intersect([iv], trading)]
        tz = self.config.timezone

        def iso(intervals: List[Tuple[int, int]]) -> List[List[str]]:
            return [[a.isoformat(), b.isoformat()] for a, b in cov.to_timestamps(intervals, tz)]

        return {
            "symbol": str(sym),
            "timeframe": tf.name,
            "start": pd.Timestamp(start_ms, unit="ms", tz="UTC").tz_convert(tz).isoformat(),
            "end": pd.Timestamp(end_ms - 1, unit="ms", tz="UTC").tz_convert(tz).isoformat(),  # inclusive
            "bar_count": int(len(df)),
            "first_bar": df.index[0].isoformat() if len(df) else None,
            "last_bar": df.index[-1].isoformat() if len(df) else None,
            "cache_coverage": {
                "percentage": round(100.0 * have / need, 2) if need else 100.0,
                "covered_ranges": iso(cov.clip(covered, start_ms, end_ms)),
                "missing_ranges": iso(missing),
            },
        }


_default_lock = threading.Lock()
_default: Dict[str, PolygonDataManager] = {}


def get_default_manager() -> PolygonDataManager:
    """The process-wide manager behind :func:`fetch_data` (rebuilt when the configuration changes)."""
    config = get_config()
    key = repr((config, config.api_key is not None and hash(config.api_key)))
    with _default_lock:
        manager = _default.get(key)
        if manager is None:
            manager = _default[key] = PolygonDataManager(config=config)
        return manager



def ensure_as_traded_cache(storage: Any) -> None:
    """Bars are cached as traded since this format; a cache written with split-adjusted bars by an older
    version is invalidated explicitly (its fetched entries removed, never mixed with as-traded bars).

    Every writer of bars (the manager, flat-file sync) calls it before writing into ``storage``; the marker
    ``.reference/bars-format.json`` then says the cache holds as-traded bars only.
    """
    cache_dir = storage.cache_dir
    marker = os.path.join(cache_dir, ".reference", "bars-format.json")
    if os.path.exists(marker):
        return
    removed = 0
    try:
        for entry in storage.list_cached():
            if storage.coverage(entry["symbol"], entry["timeframe"]):  # fetched (adjusted) bars
                removed += storage.clear(entry["symbol"], entry["timeframe"])
    except Exception as exc:  # a cache problem must not stop the manager; the marker is not written then
        logger.warning("cache format check failed (%r); cached bars may be split-adjusted", exc)
        return
    if removed:
        logger.warning("cache %s held split-adjusted bars written by an older polygon-kit: removed %d files; "
                       "bars are now cached as traded and adjusted when read", cache_dir, removed)
    try:
        os.makedirs(os.path.dirname(marker), exist_ok=True)
        with open(marker, "wb") as handle:
            handle.write(json_codec.dumps({"bars": "as_traded", "format": 2}))
    except OSError as exc:
        logger.debug("cache format marker not written: %r", exc)


def fetch_data(
    symbol: str,
    timeframe: Any,
    start: Any = None,
    end: Any = None,
    use_cache: bool = True,
    validate: bool = False,
    adjusted: Any = True,
    **kwargs: Any,
) -> pd.DataFrame:
    """Bars of ``symbol`` for ``[start, end]`` as a DataFrame, through the file cache: only what the cache does
    not hold is asked from the provider (:meth:`PolygonDataManager.fetch_data` on the default manager, see
    :func:`get_default_manager`; configuration from the environment, e.g. ``POLYGON_API_KEY``).

    :param symbol: ticker: ``'AAPL'``, ``'BRK.B'``, ``'X:BTCUSD'`` (crypto), ``'C:EURUSD'`` (forex), ``'I:SPX'``
        (index), ``'O:SPY251219C00500000'`` (option). Case and surrounding spaces do not matter.
    :param timeframe: ``'1min'``, ``'5min'``, ``'15min'``, ``'30min'``, ``'1hour'``, ``'4hour'``, ``'1day'``,
        ``'1week'``, ``'1month'``, or any ``<n><unit>`` (sec, min, hour, day, week, month, quarter, year).
    :param start: first day or instant: ``'YYYY-MM-DD'``, ``'YYYYMMDD'``, an 8-digit int, a date, a datetime
        (naive = the configured timezone), an ISO string or epoch milliseconds; default 30 days before ``end``.
    :param end: last day (the whole day is included) or instant, same forms; default now.
    :param use_cache: ``False``: read nothing from the cache and ask the provider; split-adjusted stock bars are
        then the provider's adjusted bars (one request, no splits request, nothing cached).
    :param validate: attach the data-quality report to ``df.attrs['validation']``.
    :param adjusted: ``True`` (default) split-adjusted as the provider's adjusted bars, ``False`` as traded,
        ``'total_return'`` splits and cash dividends.
    :param kwargs: ``strict`` (raise on validation failures), ``tz`` (timezone of the index).
    :returns: a DataFrame indexed by ``timestamp`` (tz-aware) with ``open, high, low, close, volume, vwap,
        transactions``; empty (never ``None``) when there are no bars. ``df.attrs`` holds ``symbol``,
        ``timeframe``, ``start``, ``end`` (inclusive), ``source`` (``'cache'``, ``'api'`` or ``'mixed'``),
        ``may_change``, ``adjusted``, ``adjusted_by`` (``'cache'`` or ``'provider'``), ``degraded`` (when an
        auxiliary request such as ``/v3/reference/splits`` failed and the provider's adjusted bars were served
        instead: ``endpoint``, ``reason``, ``served``), ``empty_reason`` for an empty frame.
    :raises InvalidInputError: a bad symbol, timeframe, range or timezone (before any request); an
        ``InvalidSymbolError`` is also a ``ValueError``.
    :raises UnknownSymbolError: the range is empty and the provider does not know the ticker (``suggestions``
        holds near misses); nothing is cached for it.
    :raises PolygonAuthenticationError: no API key is configured (and the cache cannot answer alone).
    :raises PolygonAPIError: the provider refused the bars request (after retries where they apply); the
        message names the endpoint. A failing splits, dividends or ticker-reference request never fails the call.
    :raises PolygonConnectionError: the provider could not be reached (the reason whole, the key never shown).

    Examples::

        >>> from polygon import fetch_data
        >>> df = fetch_data('AAPL', '1day', '2024-01-02', '2024-01-31')      # 21 daily bars
        >>> df.attrs['source']                                                # 'api', then 'cache' next time
        >>> fetch_data('X:BTCUSD', '1hour', '2024-01-06', '2024-01-07')       # crypto: weekends too
        >>> fetch_data('NVDA', '1day', '2024-06-03', '2024-06-14', adjusted=False)   # as traded
    """
    return get_default_manager().fetch_data(symbol, timeframe, start, end, use_cache=use_cache, validate=validate,
                                            adjusted=adjusted, **kwargs)
