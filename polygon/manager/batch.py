"""BatchFetcher: many symbols at once on a bounded thread pool, and aligned universes.

All workers share the manager's one REST client, so they share its connection pool and rate limiter:
a free-tier limit is respected across threads. A symbol that fails is reported in ``errors``; it never
aborts the others and is never dropped silently.

Ctrl+C (``KeyboardInterrupt`` in the calling thread) stops a batch at once: no symbol is started any more, the
symbols in flight are abandoned (their worker threads are daemons, so they never hold the process open), and
:class:`BatchInterrupted` is raised with the symbols that finished, which are cached with their coverage.
"""

import logging
import queue
import sys
import threading
import time
from typing import Any, Dict, Iterable, List, Optional, Tuple

import pandas as pd

from polygon.exceptions import InvalidInputError, InvalidParameterError, PolygonError
from polygon.markets.frames import BAR_COLUMNS, PRICE_COLUMNS
from polygon.markets.symbols import validate_symbol
from polygon.markets.timeframes import parse_timeframe

__all__ = ["BatchFetcher", "BatchInterrupted", "BatchResult"]

logger = logging.getLogger(__name__)


class BatchResult(dict):
    """``{symbol: DataFrame}`` of the symbols that succeeded.

    :ivar errors: ``{symbol: exception}`` of the symbols that failed (bad symbols included).
    :ivar elapsed: wall time in seconds.
    """

    def __init__(self) -> None:
        super().__init__()
        self.errors: Dict[str, BaseException] = {}
        self.elapsed = 0.0

    @property
    def ok(self) -> bool:
        """``True`` when every symbol succeeded."""
        return not self.errors

    def __repr__(self) -> str:
        return "BatchResult(ok=%s, errors=%s)" % (sorted(self), sorted(self.errors))


class BatchInterrupted(KeyboardInterrupt):
    """Ctrl+C stopped a batch. A :class:`KeyboardInterrupt` (code that stops on Ctrl+C still does).

    :ivar result: the :class:`BatchResult` of the symbols that finished (they are cached, coverage included).
    :ivar pending: the symbols not fetched (in flight or not started).
    """

    def __init__(self, result: "BatchResult", pending: List[str]) -> None:
        total = len(result) + len(result.errors) + len(pending)
        super().__init__("interrupted: %d of %d symbols fetched and cached" % (len(result), total))
        self.result = result
        self.pending = pending


_Outcome = Tuple[str, Any, Optional[BaseException]]


class _Progress:
    """tqdm when installed and wanted; otherwise an INFO log line at most every 5 seconds."""

    def __init__(self, total: int, label: str, enabled: Optional[bool]) -> None:
        self.total, self.label, self.done = total, label, 0
        self._bar = None
        self._last = time.monotonic()
        show_bar = enabled is True or (enabled is None and sys.stderr.isatty())
        self._log = enabled is not False
        if show_bar and total > 1:
            try:
                from tqdm import tqdm

                self._bar = tqdm(total=total, desc=label, unit="sym", leave=False)
            except ImportError:
                pass

    def step(self) -> None:
        self.done += 1
        if self._bar is not None:
            self._bar.update(1)
        elif self._log and (time.monotonic() - self._last >= 5.0 or self.done == self.total) and self.total > 1:
            self._last = time.monotonic()
            logger.info("%s: %d/%d symbols", self.label, self.done, self.total)

    def close(self) -> None:
        if self._bar is not None:
            self._bar.close()


_FETCH_OPTIONS = {"use_cache": True, "validate": False, "adjusted": True, "strict": False, "tz": None}


def _split_options(kwargs: Dict[str, Any]) -> Dict[str, Any]:
    """``fetch_data`` keyword arguments with their defaults; an unknown name is an error before any I/O."""
    unknown = sorted(set(kwargs) - set(_FETCH_OPTIONS))
    if unknown:
        raise InvalidParameterError(
            "unknown option(s) %s; allowed: %s" % (", ".join(unknown), ", ".join(_FETCH_OPTIONS)))
    return dict(_FETCH_OPTIONS, **kwargs)


class BatchFetcher:
    """Concurrent multi-symbol fetching for a :class:`polygon.manager.PolygonDataManager`.

    :param manager: the manager whose cache and client are used.
    :param max_workers: requests in flight at once (the pool has up to twice as many threads, so that cache
        writes and frames of finished symbols overlap the requests).
    :param progress: see :class:`polygon.manager.PolygonDataManager`.
    """

    def __init__(self, manager: Any, max_workers: int = 8, progress: Optional[bool] = None) -> None:
        if max_workers < 1:
            raise InvalidInputError("max_workers must be >= 1, got %r" % (max_workers,))
        self.manager = manager
        self.max_workers = max_workers
        self.progress = progress
        self._lock = threading.Lock()

    def fetch(
        self, symbols: Iterable[str], timeframe: Any, start: Any = None, end: Any = None, **kwargs: Any
    ) -> BatchResult:
        """Fetch every symbol with :meth:`~polygon.manager.PolygonDataManager.fetch_data`.

        :param symbols: tickers (duplicates are fetched once).
        :param kwargs: passed to ``fetch_data`` (``use_cache``, ``validate``, ``adjusted``...).
        :returns: a :class:`BatchResult`.
        :raises InvalidInputError: for an invalid timeframe or range, or an empty symbol list.
        """
        if isinstance(symbols, str):
            symbols = [symbols]
        symbols = list(dict.fromkeys(s.strip().upper() if isinstance(s, str) else s for s in symbols))
        if not symbols:
            raise InvalidInputError("no symbols given: pass a list of tickers such as ['AAPL', 'MSFT']")
        tf = parse_timeframe(timeframe)
        self.manager.resolve_range(start, end)  # a bad range fails once, here, not once per symbol
        result = BatchResult()
        started = time.perf_counter()
        good: List[str] = []
        for sym in symbols:
            try:
                good.append(validate_symbol(sym))
            except InvalidInputError as exc:
                result.errors[str(sym)] = exc
        options = _split_options(kwargs)
        if len(good) > 1:
            try:  # one market-wide splits request instead of one per symbol (a failure leaves them per symbol)
                self.manager.prefetch_actions(good, start, end, options["adjusted"])
            except PolygonError as exc:
                logger.info("batch splits prefetch failed (%s); each symbol asks for its own", exc)
        progress = _Progress(len(good), "fetch %s" % tf.name, self.progress)
        jobs: "queue.SimpleQueue[str]" = queue.SimpleQueue()
        for sym in good:
            jobs.put(sym)
        done: "queue.SimpleQueue[_Outcome]" = queue.SimpleQueue()
        stop = threading.Event()
        slots = threading.BoundedSemaphore(self.max_workers)
        # up to twice as many threads as request slots: a thread that has its bars writes the cache and builds
        # the frame after giving its slot to the next symbol, so file system latency (fsync) and CPU work
        # overlap the requests instead of delaying them; at most ``max_workers`` requests fly. Daemon threads:
        # after Ctrl+C the symbols in flight are abandoned, they never hold the process open.
        for i in range(min(2 * self.max_workers, len(good))):
            threading.Thread(target=self._work, args=(jobs, done, stop, tf, start, end, options, slots),
                             name="polygon-batch-%d" % i, daemon=True).start()
        waiting = len(good)
        try:
            while waiting:
                try:
                    sym, frame, exc = done.get(timeout=0.25)  # a bounded wait: Ctrl+C lands here at once
                except queue.Empty:
                    continue
                waiting -= 1
                self._record(result, sym, frame, exc, tf.name)
                progress.step()
        except KeyboardInterrupt:
            stop.set()
            while True:  # what finished meanwhile is kept too
                try:
                    sym, frame, exc = done.get_nowait()
                except queue.Empty:
                    break
                self._record(result, sym, frame, exc, tf.name)
            partial = self._ordered(good, result, started)
            pending = [sym for sym in good if sym not in partial and sym not in partial.errors]
            logger.info("batch interrupted: %d of %d symbols fetched", len(partial), len(good))
            raise BatchInterrupted(partial, pending) from None
        finally:
            stop.set()
            progress.close()
        return self._ordered(good, result, started)

    @staticmethod
    def _record(result: BatchResult, sym: str, frame: Any, exc: Optional[BaseException], tf_name: str) -> None:
        if exc is None:
            result[sym] = frame
        elif isinstance(exc, PolygonError):
            logger.warning("fetch %s %s failed: %s", sym, tf_name, exc)
            result.errors[sym] = exc
        else:  # a bug or an unexpected failure: report it, keep the others
            logger.error("fetch %s %s failed unexpectedly", sym, tf_name, exc_info=exc)
            result.errors[sym] = exc

    @staticmethod
    def _ordered(good: List[str], result: BatchResult, started: float) -> BatchResult:
        """``result`` in the order the symbols were given."""
        ordered = BatchResult()
        for sym in good:
            if sym in result:
                ordered[sym] = result[sym]
        ordered.errors = result.errors
        ordered.elapsed = time.perf_counter() - started
        return ordered

    def _work(self, jobs: Any, done: Any, stop: threading.Event, tf: Any, start: Any, end: Any,
              options: Dict[str, Any], slots: Any) -> None:
        """A worker thread: fetch symbols from ``jobs`` until it is empty or the batch is stopped."""
        while not stop.is_set():
            try:
                sym = jobs.get_nowait()
            except queue.Empty:
                return
            try:
                outcome: _Outcome = (sym, self._fetch_one(sym, tf, start, end, options, slots, stop), None)
            except Exception as exc:
                outcome = (sym, None, exc)
            if outcome[1] is None and outcome[2] is None:
                return  # stopped while waiting for a request slot
            done.put(outcome)

    def _fetch_one(self, sym: str, tf: Any, start: Any, end: Any, options: Dict[str, Any], slots: Any,
                   stop: threading.Event) -> Any:
        """``fetch_data`` of one symbol, holding a request slot for the download only; ``None`` when the batch
        was stopped before the download began."""
        manager = self.manager
        plan = manager.plan_fetch(sym, tf, start, end, use_cache=options["use_cache"], adjusted=options["adjusted"],
                                  tz=options["tz"])
        if plan.needs_network:
            while not slots.acquire(timeout=0.2):
                if stop.is_set():
                    return None
            try:
                if stop.is_set():
                    return None
                manager.download(plan)
            finally:
                slots.release()
        return manager.finish(plan, options["validate"], options["strict"])

    def fetch_universe(
        self,
        symbols: Iterable[str],
        timeframe: Any,
        start: Any = None,
        end: Any = None,
        aligned: bool = True,
        fill: Optional[str] = None,
        **kwargs: Any,
    ) -> Any:
        """Fetch a universe of symbols as one DataFrame with ``(symbol, field)`` MultiIndex columns.

        :param aligned: ``True`` = one index, the union of all timestamps, with NaN where a symbol has no
            bar; ``False`` = return the :class:`BatchResult` dict unaligned.
        :param fill: ``None`` (default: leave gaps as NaN) or ``'ffill'`` to carry prices forward (volume
            and transactions stay missing).
        :returns: the aligned frame (``universe[('SPY', 'close')]``); ``attrs['errors']`` lists failed
            symbols as ``{symbol: message}``.
        :raises InvalidInputError: for a bad ``fill`` or inputs as in :meth:`fetch`.
        """
        if fill not in (None, "ffill"):
            raise InvalidInputError("fill must be None or 'ffill', got %r" % (fill,))
        result = self.fetch(symbols, timeframe, start, end, **kwargs)
        if not aligned:
            return result
        names = list(result)
        if names:
            universe = pd.concat([result[s] for s in names], axis=1, keys=names, names=["symbol", "field"], sort=True)
        else:
            empty = pd.MultiIndex.from_product([[], list(BAR_COLUMNS)], names=["symbol", "field"])
            universe = pd.DataFrame(columns=empty)
        if fill == "ffill":
            price_cols = [c for c in universe.columns if c[1] in PRICE_COLUMNS]
            universe[price_cols] = universe[price_cols].ffill()
        universe.attrs = {
            "symbols": names,
            "timeframe": parse_timeframe(timeframe).name,
            "errors": {s: str(e) for s, e in result.errors.items()},
        }
        return universe
