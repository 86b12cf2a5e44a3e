"""The stream's storage sink: :class:`StorageSink` receives normalised events from the dispatcher (never
blocking it) and, on its own thread, appends A/AM aggregates to the storage manager's cache as
``1sec``/``1min`` bars and, when asked, hands trades and quotes to the journal
(:class:`~polygon.websocket.journal.TickJournal`).
"""

import collections
import logging
import threading
import time
from typing import Any, Dict, List, Optional, Tuple

from polygon.websocket.journal import TickJournal

__all__ = ["BAR_CHANNELS", "StorageSink"]

logger = logging.getLogger(__name__)

#: per market: the aggregate channels kept as bars, and their timeframe
BAR_CHANNELS = {
    "stocks": {"A": "1sec", "AM": "1min"},
    "options": {"A": "1sec", "AM": "1min"},
    "indices": {"A": "1sec", "AM": "1min"},
    "forex": {"CAS": "1sec", "CA": "1min"},
    "crypto": {"XAS": "1sec", "XA": "1min"},
    "futures": {"A": "1sec", "AM": "1min"},
}


class StorageSink:
    """Buffer normalised events and write them on a background thread.

    :param storage: the storage manager; bars go through its ``append_bars(symbol, timeframe, events)`` and
        are made durable by its ``flush()`` on :meth:`close`.
    :param market: used in journal paths.
    :param journal: also journal trades and quotes (JSON lines) under ``<storage.cache_dir>/journal``.
    :param flush_interval: seconds between writes.
    :param max_pending: events buffered for the writer at most; past it the oldest are dropped (counted in
        :attr:`dropped`, logged), so a storage slower than the stream never grows memory without limit.
    """

    def __init__(
        self,
        storage: Any,
        market: str = "stocks",
        journal: bool = False,
        flush_interval: float = 1.0,
        max_pending: int = 100_000,
    ):
        self.storage = storage
        self.market = market
        self.journal = journal
        self.flush_interval = flush_interval
        self.max_pending = max(1, int(max_pending))
        self.bars_written = 0
        self._errors = 0
        self.received = 0
        self.dropped = 0
        self.pending_events = 0
        self._last_drop_log = 0.0
        self._pending: "collections.deque[List[Tuple[str, Dict[str, Any]]]]" = collections.deque()
        self._lock = threading.Lock()
        self._wake = threading.Event()
        self._closed = False
        root = getattr(storage, "cache_dir", None) or storage.config.cache_dir
        self._journal = TickJournal(str(root), market)
        self._timeframes = BAR_CHANNELS.get(market, BAR_CHANNELS["stocks"])
        self._thread = threading.Thread(target=self._run, name="polygon-ws-storage", daemon=True)
        self._thread.start()

    @property
    def errors(self) -> int:
        """Failed writes (cache and journal); each is logged."""
        return self._errors + self._journal.errors

    def wants(self, channel: str) -> bool:
        """Whether events of ``channel`` are kept: aggregates (A/AM, CA/CAS, XA/XAS) as bars, and trades and
        quotes when journaling."""
        return channel in self._timeframes or (self.journal and channel in self._journal.channels)

    def add(self, events: List[Tuple[str, Dict[str, Any]]]) -> None:
        """Queue ``(channel, event)`` pairs (called by the dispatcher; never blocks on I/O). Beyond
        ``max_pending`` queued events the oldest are dropped."""
        dropped = 0
        with self._lock:
            self.received += len(events)
            pending = self._pending
            pending.append(events)
            self.pending_events += len(events)
            while self.pending_events > self.max_pending:
                excess = self.pending_events - self.max_pending
                oldest = pending[0]
                if len(oldest) <= excess:
                    pending.popleft()
                    cut = len(oldest)
                else:
                    pending[0] = oldest[excess:]
                    cut = excess
                self.pending_events -= cut
                dropped += cut
            self.dropped += dropped
        if dropped:
            now = time.monotonic()
            if now - self._last_drop_log >= 5.0:
                self._last_drop_log = now
                logger.warning(
                    "storage slower than the stream: %d events dropped so far (buffer of %d events full)",
                    self.dropped,
                    self.max_pending,
                )

    def flush(self) -> None:
        """Write everything queued so far (on the calling thread)."""
        with self._lock:
            batches, self._pending = self._pending, collections.deque()
            self.pending_events = 0
        if not batches:
            return
        bars: Dict[Tuple[str, str], List[Dict[str, Any]]] = {}
        ticks: Dict[str, List[Dict[str, Any]]] = {}
        for batch in batches:
            for channel, event in batch:
                timeframe = self._timeframes.get(channel)
                if timeframe is not None:
                    bars.setdefault((event["symbol"], timeframe), []).append(event)
                elif self.journal and channel in self._journal.channels:
                    ticks.setdefault(channel, []).append(event)
        for (symbol, timeframe), events in sorted(bars.items()):
            try:
                self.storage.append_bars(symbol, timeframe, events)
                self.bars_written += len(events)
            except Exception:
                self._errors += 1
                logger.exception("could not append %d %s bars of %s to the cache", len(events), timeframe, symbol)
        if ticks:
            self._journal.write(ticks)

    def journal_path(self, channel: str, day: Optional[str] = None) -> str:
        """Path of the journal file of ``channel`` ('T' or 'Q') for ``day`` (UTC, default today)."""
        return self._journal.path(channel, day)

    @property
    def journaled(self) -> int:
        """Trades and quotes written to the journal."""
        return self._journal.journaled

    def _run(self) -> None:
        while not self._closed:
            self._wake.wait(self.flush_interval)
            try:
                self.flush()
            except Exception:  # never let the writer thread die silently
                self._errors += 1
                logger.exception("stream storage flush failed")

    def close(self) -> None:
        """Stop the writer thread after a final flush."""
        self._closed = True
        self._wake.set()
        self._thread.join(30)
        self.flush()
        flush = getattr(self.storage, "flush", None)
        if flush is not None:
            try:
                flush()
            except Exception:
                self._errors += 1
                logger.exception("storage flush failed")
