"""Flat-file sync: the provider's daily files into the bar cache (with coverage) and the tick store.

For each day of the range the bucket holds, the file is streamed (never buffered whole), split per
symbol and stored: bars through the cache's public write with the day as covered, ticks into the tick
store. Downloads run in parallel (at most ``max_workers`` at once); storing runs in the calling thread
in day order. A manifest entry is written after a day is stored, so a killed sync resumes where it
stopped, and a republished file (other ETag or size) is synced again. Bars of a re-synced day replace
the earlier ones with the same timestamps.

Coverage rules: a day file covers that day for every symbol listed on it. A requested symbol absent
from a trading day's file is recorded as covered-empty only when the reference data says it was listed
that day; otherwise nothing is recorded for it (the next ``fetch_data`` asks the REST API).
"""

import concurrent.futures
import datetime as _dt
import logging
import threading
import time
from dataclasses import dataclass, field
from typing import Any, Callable, Dict, Iterable, List, Optional, Sequence, Set, Tuple

from polygon.exceptions import InvalidDateRangeError, PolygonError
from polygon.flatfiles.layout import BAR_KINDS, check_dataset, day_bounds_ms, day_of_key, day_zone, prefix, timeframe_of
from polygon.flatfiles.manifest import Manifest
from polygon.flatfiles.reader import read_day_bars, read_day_ticks
from polygon.flatfiles.s3 import FlatFilesSource, ObjectInfo
from polygon.flatfiles.tickstore import TickStore
from polygon.markets.dates import format_date
from polygon.markets.symbols import validate_symbols

__all__ = ["SyncReport", "sync_flatfiles"]

logger = logging.getLogger(__name__)


@dataclass
class SyncReport:
    """What a sync did.

    :ivar days_synced: days stored now. :ivar days_skipped: days already current in the manifest.
    :ivar days_resynced: days stored again because the provider republished them.
    :ivar days_missing: days of the range the bucket has no file for, with the reason when known.
    :ivar rows: rows read. :ivar symbols: symbols written. :ivar bytes: compressed bytes downloaded.
    :ivar seconds: wall-clock time. :ivar covered_empty: ``{symbol: [days]}`` recorded as listed without bars.
    """

    market: str
    kind: str
    days_synced: List[str] = field(default_factory=list)
    days_skipped: List[str] = field(default_factory=list)
    days_resynced: List[str] = field(default_factory=list)
    days_missing: Dict[str, str] = field(default_factory=dict)
    rows: int = 0
    symbols: Set[str] = field(default_factory=set)
    skipped_tickers: Set[str] = field(default_factory=set)
    covered_empty: Dict[str, List[str]] = field(default_factory=dict)
    bytes: int = 0
    seconds: float = 0.0

    def summary(self) -> str:
        """One line for people."""
        return ("%s %s: %d days synced (%d re-synced after republication), %d already current, %d missing; "
                "%d rows, %d symbols, %.1f MB in %.1f s" % (
                    self.market, self.kind, len(self.days_synced), len(self.days_resynced),
                    len(self.days_skipped), len(self.days_missing), self.rows, len(self.symbols),
                    self.bytes / 1e6, self.seconds))


def _months(start: _dt.date, end: _dt.date) -> Iterable[Tuple[int, int]]:
    year, month = start.year, start.month
    while (year, month) <= (end.year, end.month):
        yield year, month
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)


def _listed_on(details: Dict[str, Any], day: _dt.date) -> Optional[bool]:
    listed = details.get("list_date")
    delisted = details.get("delisted_utc")
    if not listed:
        return None
    if day.isoformat() < str(listed)[:10]:
        return False
    if delisted and day.isoformat() >= str(delisted)[:10]:
        return False
    return True


def sync_flatfiles(
    market: str = "stocks",
    kind: str = "minute_aggs",
    start: Any = None,
    end: Any = None,
    symbols: Optional[Sequence[str]] = None,
    config: Any = None,
    storage: Any = None,
    source: Optional[FlatFilesSource] = None,
    client: Any = None,
    max_workers: int = 4,
    progress: Optional[bool] = None,
    on_day: Optional[Callable[[str], None]] = None,
    batch_rows: int = 3_000_000,
) -> SyncReport:
    """Sync the provider's flat files of ``market``/``kind`` for ``start``..``end`` (days, inclusive).

    :param market: ``stocks``, ``options``, ``crypto``, ``forex`` or ``indices``.
    :param kind: ``minute_aggs`` / ``day_aggs`` (into the bar cache as ``1min`` / ``1day``) or ``trades`` /
        ``quotes`` (into the tick store).
    :param start: first day; :param end: last day (default ``start``). Any date form ``fetch_data`` accepts.
    :param symbols: keep only these symbols (default: every symbol in the files).
    :param config: a :class:`~polygon.config.PolygonConfig` (S3 endpoint, bucket and keys; cache dir).
    :param storage: the bar cache (default ``get_storage_manager(config.cache_dir)``).
    :param source: a :class:`FlatFilesSource` (default built from ``config``).
    :param client: a REST client for listing dates of absent symbols (default one from ``config`` when an API
        key is set; without one, absent symbols are simply not recorded as covered).
    :param max_workers: parallel downloads (bounded; storing stays in this thread, in day order).
    :param progress: a progress bar (tqdm) on stderr; default when stderr is a terminal.
    :param on_day: called with each day (``'YYYY-MM-DD'``) once it is stored and recorded.
    :param batch_rows: bars held in memory (about 70 bytes each) before they are written: consecutive days are
        written with one write per symbol, then recorded in the manifest together.
    :returns: a :class:`SyncReport`.
    :raises InvalidParameterError: for an unknown market or kind. :raises InvalidDateRangeError: for bad days.
    :raises PolygonAuthenticationError: keys refused. :raises PolygonNotEntitledError: plan does not include it.
    """
    began = time.monotonic()
    check_dataset(market, kind)
    if start is None:
        raise InvalidDateRangeError("sync needs a start day (e.g. start='2024-01-02')")
    first = _dt.date.fromisoformat(format_date(start, "start"))
    last = _dt.date.fromisoformat(format_date(end, "end")) if end is not None else first
    if last < first:
        raise InvalidDateRangeError("end %s is before start %s" % (last, first))
    wanted = set(validate_symbols(list(symbols))) if symbols else None
    if config is None:
        from polygon.config import get_config

        config = get_config()
    if storage is None and kind in BAR_KINDS:
        from polygon.storage import get_storage_manager

        storage = get_storage_manager(config.cache_dir)
    cache_dir = storage.cache_dir if storage is not None else config.cache_dir
    if storage is not None:  # flat files hold as-traded bars: the cache must say it holds only those
        from polygon.manager import ensure_as_traded_cache

        ensure_as_traded_cache(storage)
    source = source or FlatFilesSource.from_config(config, max_connections=max_workers)
    manifest = Manifest(cache_dir, market, kind)
    report = SyncReport(market, kind)

    listing: Dict[_dt.date, ObjectInfo] = {}
    for year, month in _months(first, last):
        for key, info in source.list_days("%s%04d/%02d/" % (prefix(market, kind), year, month)).items():
            day = day_of_key(key)
            if day is not None and first <= day <= last:
                listing[day] = info
    todo: List[Tuple[_dt.date, ObjectInfo]] = []
    for day in sorted(listing):
        info = listing[day]
        if manifest.is_current(day.isoformat(), info.etag, info.size):
            report.days_skipped.append(day.isoformat())
        else:
            if manifest.entry(day.isoformat()):
                report.days_resynced.append(day.isoformat())
            todo.append((day, info))
    _note_missing(report, market, first, last, listing)

    bar = _progress_bar(len(todo), progress, "%s %s" % (market, kind))
    lister = _Listing(client, config) if wanted and kind in BAR_KINDS else None
    try:
        _run(todo, source, kind, market, wanted, storage, manifest, report, max_workers, lister, bar, on_day,
             cache_dir, int(batch_rows))
    finally:
        if bar is not None:
            bar.close()
    if kind in BAR_KINDS and market == "stocks" and report.symbols:
        _prefetch_splits(report, client, config, cache_dir, first)
    report.seconds = time.monotonic() - began
    logger.info("flat files: %s", report.summary())
    return report


def _prefetch_splits(report: SyncReport, client: Any, config: Any, cache_dir: str, first: _dt.date) -> None:
    """Flat files hold as-traded prices; ``fetch_data`` adjusts them with each symbol's splits. One market-wide
    splits request here (when an API key is set) makes the synced symbols' splits fresh, so reading them back
    asks the REST API for nothing."""
    if client is None and not config.has_api_key:
        logger.info("flat files: no API key: splits are fetched when the bars are first read")
        return
    from polygon.storage.corporate_actions import get_actions_store

    def make_client():
        from polygon.core import PolygonClient

        return client if client is not None else PolygonClient(config=config)

    now_ms = int(time.time() * 1000)
    try:
        get_actions_store(cache_dir).prefetch_splits(make_client, sorted(report.symbols), first.isoformat(), now_ms,
                                                     now_ms)
    except PolygonError as exc:
        logger.warning("flat files: splits not prefetched (%s); they are fetched when the bars are first read", exc)


def _note_missing(report: SyncReport, market: str, first: _dt.date, last: _dt.date,
                  listing: Dict[_dt.date, ObjectInfo]) -> None:
    from polygon.markets import sessions

    if market == "stocks" or market == "options" or market == "indices":
        expected = sessions.trading_days(first, last)
    elif market == "crypto":
        expected = [first + _dt.timedelta(days=i) for i in range((last - first).days + 1)]
    else:  # forex: a file per weekday
        expected = [first + _dt.timedelta(days=i) for i in range((last - first).days + 1)
                    if (first + _dt.timedelta(days=i)).weekday() < 5]
    today = _dt.datetime.now(day_zone(market)).date()
    for day in expected:
        if day not in listing:
            report.days_missing[day.isoformat()] = (
                "not published yet (files appear the next morning)" if day >= today else "no file in the bucket")


def _run(todo, source, kind, market, wanted, storage, manifest, report, max_workers, lister, bar, on_day,
         cache_dir, batch_rows) -> None:
    if not todo:
        return
    workers = max(1, min(int(max_workers), len(todo)))
    ticks = TickStore(cache_dir) if kind not in BAR_KINDS else None
    stop = threading.Event()

    def download(day: _dt.date, info: ObjectInfo):
        if stop.is_set():
            return None
        opened, stream = source.open(info.key)
        if kind in BAR_KINDS:
            return opened, read_day_bars(source.iter_chunks(stream), wanted, key=info.key)
        writer = ticks.writer(market, kind, day)
        try:
            rows = read_day_ticks(source.iter_chunks(stream), kind, writer.append, wanted, key=info.key)
            writer.commit()
        except BaseException:
            writer.abort()
            raise
        return opened, rows

    batch: List[Tuple[_dt.date, ObjectInfo, Any]] = []

    def flush() -> None:
        if kind in BAR_KINDS:
            _store_bars(batch, timeframe_of(kind), market, storage, report, wanted, lister)
        for day, opened, parsed in batch:
            rows = parsed.rows if kind in BAR_KINDS else parsed
            if kind not in BAR_KINDS:
                report.rows += rows
            report.bytes += opened.size
            manifest.record(day.isoformat(), etag=opened.etag, size=opened.size, rows=rows, key=opened.key)
            report.days_synced.append(day.isoformat())
            if bar is not None:
                bar.update(1)
            if on_day is not None:
                on_day(day.isoformat())
        batch.clear()

    with concurrent.futures.ThreadPoolExecutor(workers, thread_name_prefix="polygon-flatfiles") as pool:
        # a sliding window: at most `workers` days downloaded ahead of the ones being stored
        pending: List[Tuple[_dt.date, concurrent.futures.Future]] = []
        queue = list(todo)
        try:
            while queue or pending:
                while queue and len(pending) < workers:
                    day, info = queue.pop(0)
                    pending.append((day, pool.submit(download, day, info)))
                day, future = pending.pop(0)
                opened, parsed = future.result()
                batch.append((day, opened, parsed))
                held = sum(p.rows for _d, _o, p in batch) if kind in BAR_KINDS else 0
                if held >= batch_rows or not (queue or pending) or kind not in BAR_KINDS:
                    flush()
        except BaseException:
            stop.set()
            for _day, future in pending:
                future.cancel()
            raise


def _store_bars(batch, timeframe: str, market: str, storage, report, wanted, lister) -> None:
    """Write the bars of several days with one write per symbol (the cache merges per partition)."""
    from polygon.markets.frames import concat_arrays

    by_symbol: Dict[str, List[Any]] = {}
    covered: Dict[str, List[Tuple[int, int]]] = {}
    for day, _opened, parsed in batch:
        bounds = day_bounds_ms(day, market)
        for symbol, arrays in parsed.bars.items():
            by_symbol.setdefault(symbol, []).append(arrays)
            covered.setdefault(symbol, []).append(bounds)
        report.rows += parsed.rows
        report.skipped_tickers |= parsed.skipped
        for symbol in sorted((wanted or set()) - set(parsed.bars)):
            if lister is not None and lister.listed(symbol, day):
                covered.setdefault(symbol, []).append(bounds)
                report.covered_empty.setdefault(symbol, []).append(day.isoformat())
    for symbol in sorted(covered):
        parts = by_symbol.get(symbol) or [_empty()]
        arrays = parts[0] if len(parts) == 1 else concat_arrays(parts)
        if not storage.write_arrays(symbol, timeframe, arrays, covered=covered[symbol], tz="America/New_York"):
            raise PolygonError("flat files: the cache at %s refused the bars of %s" % (storage.cache_dir, symbol))
        if symbol in by_symbol:
            report.symbols.add(symbol)


def _empty():
    from polygon.markets.frames import empty_arrays

    return empty_arrays()


class _Listing:
    """Listing dates of symbols absent from a file, from the reference API (one request per symbol)."""

    def __init__(self, client: Any, config: Any) -> None:
        self._client = client
        self._config = config
        self._details: Dict[str, Optional[Dict[str, Any]]] = {}

    def listed(self, symbol: str, day: _dt.date) -> bool:
        if symbol not in self._details:
            self._details[symbol] = self._fetch(symbol)
        details = self._details[symbol]
        return bool(details) and _listed_on(details, day) is True

    def _fetch(self, symbol: str) -> Optional[Dict[str, Any]]:
        client = self._client
        if client is None:
            if not self._config.has_api_key:
                return None
            from polygon.core import PolygonClient

            client = self._client = PolygonClient(config=self._config)
        try:
            response = client.get_ticker_details(ticker=symbol)
        except PolygonError as exc:
            logger.info("flat files: no listing dates for %s (%s); not recorded as covered", symbol, exc)
            return None
        results = getattr(response, "results", None)
        return results.to_dict() if results is not None and hasattr(results, "to_dict") else None


def _progress_bar(total: int, progress: Optional[bool], label: str):
    import sys

    if progress is None:
        progress = sys.stderr.isatty()
    if not progress or total == 0:
        return None
    try:
        from tqdm import tqdm
    except ImportError:
        logger.info("flat files: %d days to sync (install tqdm for a progress bar)", total)
        return None
    return tqdm(total=total, desc=label, unit="day", file=sys.stderr)
