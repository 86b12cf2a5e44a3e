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

from polygon.exceptions import InvalidDateRangeError, PolygonError, PolygonResponseError
from polygon.flatfiles.layout import (
    BAR_KINDS,
    check_dataset,
    columns_of,
    day_bounds_ms,
    day_of_key,
    day_zone,
    is_futures,
    markets_of,
    prefix,
    timeframe_of,
)
from polygon.flatfiles.manifest import Manifest
from polygon.flatfiles.parse import parse_day_bars
from polygon.flatfiles.reader import read_day_ticks
from polygon.flatfiles.s3 import FlatFilesSource, ObjectInfo
from polygon.flatfiles.staging import STAGED_ROW_BYTES, Stage
from polygon.flatfiles.tickstore import TickStore
from polygon.markets.dates import format_date
from polygon.markets.symbols import validate_symbols
from polygon.storage.files import CAN_SYNC_ALL, sync_all

__all__ = ["SyncReport", "sync_flatfiles"]

logger = logging.getLogger(__name__)


@dataclass
class SyncReport:
    """What a sync did.

    :ivar days_synced: days stored now. :ivar days_skipped: days already current in the manifest.
    :ivar days_resynced: days stored again because the provider republished them.
    :ivar days_missing: days of the range the bucket has no file for, with the reason when known.
    :ivar days_failed: days whose file could not be read, with the reason (nothing stored for them; the other
        days are stored).
    :ivar rows: rows read. :ivar symbols: symbols written. :ivar bytes: compressed bytes downloaded.
    :ivar skipped_tickers: tickers in the files that are not valid symbols (never stored anywhere).
    :ivar days_resumed: days (also in ``days_synced``) a killed sync had parsed: taken from its stage, not
        downloaded again.
    :ivar seconds: wall-clock time. :ivar covered_empty: ``{symbol: [days]}`` recorded as listed without bars.
    :ivar parts: for ``futures``, each venue's own report (``{'futures_cme': SyncReport, ...}``); the lists above
        then hold each day once (synced when any venue's file of it was) and the reasons name the venue.
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
    days_failed: Dict[str, str] = field(default_factory=dict)
    days_resumed: List[str] = field(default_factory=list)
    bytes: int = 0
    seconds: float = 0.0
    parts: Dict[str, "SyncReport"] = field(default_factory=dict)

    def summary(self) -> str:
        """One line for people (then one line per failed day and one for skipped tickers, when any)."""
        text = ("%s %s: %d days synced (%d re-synced after republication), %d already current, %d missing; "
                "%d rows, %d symbols, %.1f MB in %.1f s" % (
                    self.market, self.kind, len(self.days_synced), len(self.days_resynced),
                    len(self.days_skipped), len(self.days_missing), self.rows, len(self.symbols),
                    self.bytes / 1e6, self.seconds))
        for name, part in sorted(self.parts.items()):
            text += "\n  %s: %d days synced, %d already current, %d missing; %d rows" % (
                name, len(part.days_synced), len(part.days_skipped), len(part.days_missing), part.rows)
        for day, why in sorted(self.days_failed.items()):
            text += "\n  failed %s (not stored; the next sync tries it again): %s" % (day, why)
        if self.skipped_tickers:
            shown = sorted(self.skipped_tickers)
            text += ("\n  %d tickers not stored (not valid symbols: letters A-Z, digits, '.' or '-'): %s%s"
                     % (len(shown), ", ".join(repr(t) for t in shown[:10]), ", ..." if len(shown) > 10 else ""))
        return text


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
    batch_rows: Optional[int] = None,
    engine: str = "auto",
) -> SyncReport:
    """Sync the provider's flat files of ``market``/``kind`` for ``start``..``end`` (days, inclusive).

    :param market: ``stocks``, ``options``, ``crypto``, ``forex``, ``indices``, a futures venue (``futures_cme``,
        ``futures_cbot``, ``futures_nymex``, ``futures_comex``) or ``futures`` (all four venues).
    :param kind: ``minute_aggs`` / ``day_aggs`` (futures: ``session_aggs``, one bar per Globex session) into the
        bar cache as ``1min`` / ``1day``, or ``trades`` / ``quotes`` into the tick store.
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
    :param batch_rows: bars staged on disk (57 bytes each, 65 with a vwap: futures; in
        ``<cache_dir>/.flatfiles/staging``) before they are committed to the cache. Each commit writes every
        touched cache partition once, so a sync is linear in days up to this size; the days of a commit are
        recorded in the manifest after it. Default: what a quarter of the free disk space holds (at least 5M
        bars), so that one commit at the end is the usual case (a year of the full US market is about 380M bars,
        22 GB staged).
    :param engine: CSV parser: ``'auto'`` (pyarrow's multithreaded reader when installed, else pandas),
        ``'pyarrow'`` or ``'pandas'``.
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
    parts = [_sync_one(one, kind, first, last, wanted, config, storage, cache_dir, source, client, max_workers,
                       progress, on_day, batch_rows, engine) for one in markets_of(market)]
    report = parts[0] if len(parts) == 1 else _combined(market, kind, parts)
    report.seconds = time.monotonic() - began
    logger.info("flat files: %s", report.summary())
    return report


def _combined(market: str, kind: str, parts: List[SyncReport]) -> SyncReport:
    """One report for the venues of ``futures``: days once each (a day is synced when any venue's file of it
    was), reasons prefixed by the venue, the venues' own reports in :attr:`SyncReport.parts`."""
    out = SyncReport(market, kind, parts={part.market: part for part in parts})
    for name in ("days_synced", "days_skipped", "days_resynced", "days_resumed"):
        setattr(out, name, sorted({day for part in parts for day in getattr(part, name)}))
    for part in parts:
        for name in ("days_missing", "days_failed"):
            reasons = getattr(out, name)
            for day, why in getattr(part, name).items():
                reasons[day] = (reasons[day] + "; " if day in reasons else "") + "%s: %s" % (part.market, why)
        out.rows += part.rows
        out.bytes += part.bytes
        out.symbols |= part.symbols
        out.skipped_tickers |= part.skipped_tickers
        for symbol, days in part.covered_empty.items():
            out.covered_empty.setdefault(symbol, []).extend(days)
    return out


def _sync_one(market, kind, first, last, wanted, config, storage, cache_dir, source, client, max_workers, progress,
              on_day, batch_rows, engine) -> SyncReport:
    """Sync one market's folder (``futures`` is four of them)."""
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
        if manifest.is_current(day.isoformat(), info.etag, info.size, wanted):
            report.days_skipped.append(day.isoformat())
        else:
            if manifest.entry(day.isoformat()):
                report.days_resynced.append(day.isoformat())
            todo.append((day, info))
    _note_missing(report, market, first, last, listing)

    bar = _progress_bar(len(todo), progress, "%s %s" % (market, kind))
    # futures have no ticker reference: a requested contract absent from a file is simply not recorded
    lister = _Listing(client, config) if wanted and kind in BAR_KINDS and not is_futures(market) else None
    try:
        _run(todo, source, kind, market, wanted, storage, manifest, report, max_workers, lister, bar, on_day,
             cache_dir, int(batch_rows) if batch_rows is not None else _stage_budget(cache_dir), engine)
    finally:
        if bar is not None:
            bar.close()
    if kind in BAR_KINDS and market == "stocks" and report.symbols:
        _prefetch_splits(report, client, config, cache_dir, first)
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
    from polygon.markets.futures import session_days

    if market == "stocks" or market == "options" or market == "indices":
        expected = sessions.trading_days(first, last)
    elif is_futures(market):
        expected = [_dt.date.fromisoformat(str(d)) for d in session_days(first, last)]
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
         cache_dir, stage_rows, engine) -> None:
    if not todo:
        return
    workers = max(1, min(int(max_workers), len(todo)))
    ticks = TickStore(cache_dir) if kind not in BAR_KINDS else None
    stage = _new_stage(cache_dir, market, kind) if kind in BAR_KINDS else None
    stop = threading.Event()
    staged: Dict[str, ObjectInfo] = {}  # day -> the file it was parsed from, until committed

    def work(day: _dt.date, info: ObjectInfo):
        """Download, parse and stage (or store, for ticks) one day; a bad file is a result, not an error."""
        if stop.is_set():
            return None
        opened, stream = source.open(info.key)
        try:
            if kind in BAR_KINDS:
                data = b"".join(source.iter_chunks(stream))
                parsed = parse_day_bars(data, wanted, key=info.key, engine=engine)
                del data
                stage.add(day.isoformat(), parsed, {"etag": opened.etag, "size": opened.size, "key": opened.key,
                                                    "wanted": sorted(wanted) if wanted else None})
                logger.debug("flat files: staged %s (%d rows)", day, parsed.rows)
                return opened, parsed.rows, parsed.skipped, parsed.symbols
            keep = _tick_symbols(ticks, market, kind, day, wanted)
            writer = ticks.writer(market, kind, day, None if keep is None else sorted(keep))
            try:
                rows = read_day_ticks(source.iter_chunks(stream), kind, writer.append, keep, key=info.key,
                                      columns=columns_of(market, kind))
                writer.commit()
            except BaseException:
                writer.abort()
                raise
            return opened, rows, set(), None
        except PolygonResponseError as exc:
            return opened, exc, None, None

    manifest_values: Dict[str, Dict[str, Any]] = {}

    def commit() -> None:
        if stage is not None and staged:
            _commit(stage, timeframe_of(kind), market, storage, report, wanted, lister)
            stage.reset()
        days = sorted(staged)
        if not days:
            return
        for day in days:
            staged.pop(day)
        manifest.record_many({day: manifest_values.pop(day) for day in days})
        for day in days:
            report.days_synced.append(day)
            if bar is not None:
                bar.update(1)
            if on_day is not None:
                on_day(day)

    def accept(day: _dt.date, result) -> bool:
        """Take one finished day into the report and the days to commit; ``False`` for a bad file."""
        opened, rows, skipped, _symbols = result
        if isinstance(rows, PolygonResponseError):  # store the good days, report the bad one
            report.days_failed[day.isoformat()] = str(rows)
            logger.warning("flat files: %s", rows)
            return False
        report.rows += rows
        report.bytes += opened.size
        report.skipped_tickers |= skipped
        staged[day.isoformat()] = opened
        manifest_values[day.isoformat()] = {"etag": opened.etag, "size": opened.size, "rows": rows,
                                            "key": opened.key, "symbols": sorted(wanted) if wanted else None}
        return True

    todo = _resume(todo, stage, wanted, report, staged, manifest_values) if stage is not None else todo
    # a sliding window: at most `workers` days in flight (downloaded, parsed, staged)
    pending: List[Tuple[_dt.date, concurrent.futures.Future]] = []
    try:
        with concurrent.futures.ThreadPoolExecutor(workers, thread_name_prefix="polygon-flatfiles") as pool:
            queue = list(todo)
            try:
                while queue or pending:
                    while queue and len(pending) < workers:
                        day, info = queue.pop(0)
                        pending.append((day, pool.submit(work, day, info)))
                    day, future = pending.pop(0)
                    if accept(day, future.result()) and (stage is None or stage.rows >= stage_rows):
                        commit()
            except BaseException:
                stop.set()
                for _day, future in pending:
                    future.cancel()
                raise
    except Exception:
        # a day could not be downloaded: the days already parsed, and those the other workers finished meanwhile
        # (the pool has waited for them), are still stored and recorded
        for day, future in pending:
            if future.done() and not future.cancelled() and future.exception() is None and future.result():
                accept(day, future.result())
        try:
            commit()
        except Exception as exc:  # the first error is the one to report
            logger.warning("flat files: the days parsed before the error were not stored: %s", exc)
        raise
    else:
        commit()
    finally:
        if stage is not None:
            stage.clear()


def _resume(todo, stage: Stage, wanted, report, staged, manifest_values):
    """Days a killed sync already parsed (the stage took its runs over): used when their file is the same
    and they were parsed for the same symbols; the rest of ``todo`` is returned."""
    want = sorted(wanted) if wanted else None
    rest = []
    for day, info in todo:
        index = stage.adopted.get(day.isoformat())
        if index is None:
            rest.append((day, info))
            continue
        if index.get("etag") != info.etag or index.get("size") != info.size or index.get("wanted") != want:
            stage.drop(day.isoformat())
            rest.append((day, info))
            continue
        report.rows += int(index.get("file_rows") or 0)
        report.bytes += info.size
        report.skipped_tickers |= set(index.get("skipped") or ())
        report.days_resumed.append(day.isoformat())
        staged[day.isoformat()] = info
        manifest_values[day.isoformat()] = {"etag": info.etag, "size": info.size, "key": info.key,
                                            "rows": int(index.get("file_rows") or 0), "symbols": want}
    for day in set(stage.adopted) - {d.isoformat() for d, _i in todo}:
        stage.drop(day)  # a day outside this sync's range, or already current
    return rest


def _stage_budget(cache_dir: str) -> int:
    """Bars to stage before a commit: a quarter of the free disk space, at least 5M."""
    import shutil

    try:
        free = shutil.disk_usage(cache_dir).free
    except OSError:
        free = 0
    return max(5_000_000, free // 4 // STAGED_ROW_BYTES)


def _tick_symbols(ticks: TickStore, market: str, kind: str, day: _dt.date,
                  wanted: Optional[Set[str]]) -> Optional[Set[str]]:
    """The symbols a tick day file is rewritten with: ``wanted`` plus those a stored subset day already holds
    (the file is replaced whole); ``None`` for every symbol."""
    if wanted is None:
        return None
    held = ticks.symbols(market, kind, day) if ticks.has(market, kind, day) else []
    return None if held is None else set(wanted) | set(held)


def _new_stage(cache_dir: str, market: str, kind: str) -> Stage:
    """A fresh stage, holding the complete runs of the stages killed syncs of this dataset left (their process
    is gone; the directories are removed)."""
    import os

    root = os.path.join(cache_dir, ".flatfiles", "staging")
    os.makedirs(root, exist_ok=True)
    dead = []
    for entry in os.scandir(root):
        parts = entry.name.split("-")
        if len(parts) >= 4 and parts[0] == market and parts[1] == kind and parts[2].isdigit():
            if not _alive(int(parts[2])):
                dead.append(entry.path)
    stage = Stage(os.path.join(root, "%s-%s-%d-%d" % (market, kind, os.getpid(), time.time_ns())))
    for path in sorted(dead):
        stage.adopt(path)
    return stage


def _alive(pid: int) -> bool:
    import os

    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:
        return True
    return True


def _commit(stage: Stage, timeframe: str, market: str, storage, report, wanted, lister) -> None:
    """Write every staged day into the cache: one write per symbol (each partition written once). Writes of
    different symbols overlap (a few threads: each write waits on its fsyncs)."""
    from polygon.markets.frames import empty_arrays

    days = stage.days
    bounds = {day: day_bounds_ms(_dt.date.fromisoformat(day), market) for day in days}
    seen = set()
    with concurrent.futures.ThreadPoolExecutor(4, thread_name_prefix="polygon-flatfiles-commit") as pool:
        pending: List[concurrent.futures.Future] = []
        for symbol, arrays, present in stage.bars():
            covered = [bounds[d] for d in present] + _listed_empty(symbol, days, set(present), wanted, lister,
                                                                  report, bounds)
            pending.append(pool.submit(_write, storage, symbol, timeframe, arrays, covered))
            report.symbols.add(symbol)
            seen.add(symbol)
            while len(pending) >= 8:  # bounded: a few symbols' bars in memory
                pending.pop(0).result()
        for future in pending:
            future.result()
    for symbol in sorted((wanted or set()) - seen):
        covered = _listed_empty(symbol, days, set(), wanted, lister, report, bounds)
        if covered:
            _write(storage, symbol, timeframe, empty_arrays(), covered)
    sync_all()


def _listed_empty(symbol, days, present, wanted, lister, report, bounds) -> List[Tuple[int, int]]:
    """Days a requested symbol is absent from but was listed on (recorded as covered without bars)."""
    if lister is None or wanted is None or symbol not in wanted:
        return []
    out = []
    for day in days:
        if day not in present and lister.listed(symbol, _dt.date.fromisoformat(day)):
            out.append(bounds[day])
            report.covered_empty.setdefault(symbol, []).append(day)
    return out


def _write(storage, symbol: str, timeframe: str, arrays, covered) -> None:
    # no fsync per file: the commit makes every file durable at once (sync_all) before the manifest records them
    if not storage.write_arrays(symbol, timeframe, arrays, covered=covered, tz="America/New_York",
                                sync=not CAN_SYNC_ALL):
        raise PolygonError("flat files: the cache at %s refused the bars of %s" % (storage.cache_dir, symbol))


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
