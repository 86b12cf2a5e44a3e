"""Where stream data goes besides callbacks: raw-frame recordings, the bar cache, the trade/quote journal.

* :class:`FrameRecorder` writes every raw frame with its receive time, one JSON line each:
  ``{"t": 1701439845.123456, "frame": [...]}``. :func:`iter_recording` reads such a file back and
  :meth:`PolygonWebSocketClient.replay <polygon.websocket.PolygonWebSocketClient.replay>` feeds it
  through a client at the original or a faster pace.
* :class:`StorageSink` receives normalised events from the dispatcher (never blocking it) and, on its own
  thread, appends A/AM aggregates to the storage manager's cache as ``1sec``/``1min`` bars and, when
  asked, trades and quotes to an append-only journal (``<cache_dir>/journal/<market>/<date>/<T|Q>.jsonl``).
"""

import collections
import json
import logging
import os
import threading
import time
from datetime import datetime, timezone
from typing import Any, Dict, Iterator, List, Optional, Tuple, Union

__all__ = ["FrameRecorder", "StorageSink", "iter_recording"]

logger = logging.getLogger(__name__)

_TIMEFRAME = {"A": "1sec", "AM": "1min"}


class FrameRecorder:
    """Append raw frames with receive times to ``path`` (JSON lines). Written by the reader thread."""

    def __init__(self, path: str) -> None:
        self.path = path
        parent = os.path.dirname(os.path.abspath(path))
        os.makedirs(parent, exist_ok=True)
        self._file = open(path, "ab", buffering=1 << 16)
        self._lock = threading.Lock()
        self.frames = 0

    def write(self, when: float, raw: Union[bytes, str]) -> None:
        if isinstance(raw, str):
            raw = raw.encode("utf-8")
        if b"\n" in raw or b"\r" in raw:  # only possible as JSON whitespace
            raw = raw.replace(b"\r", b" ").replace(b"\n", b" ")
        with self._lock:
            if self._file.closed:
                return
            self._file.write(b'{"t":%.6f,"frame":%s}\n' % (when, raw))
            self.frames += 1

    def close(self) -> None:
        with self._lock:
            if not self._file.closed:
                self._file.close()


def iter_recording(path: str) -> Iterator[Tuple[float, bytes]]:
    """Yield ``(receive_time, raw_frame_bytes)`` from a file written by :class:`FrameRecorder`.

    Lines that do not parse are skipped with a warning (a recording cut by a crash keeps its good part).
    """
    prefix = b'{"t":'
    marker = b',"frame":'
    with open(path, "rb") as fh:
        for number, line in enumerate(fh, 1):
            line = line.strip()
            if not line:
                continue
            head, sep, rest = line.partition(marker)
            try:
                if not (sep and head.startswith(prefix) and rest.endswith(b"}")):
                    raise ValueError("not a recorded frame")
                yield float(head[len(prefix):]), rest[:-1]
            except ValueError:
                logger.warning("%s:%d: unreadable recording line skipped", path, number)


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
        self.journaled = 0
        self.errors = 0
        self.received = 0
        self.dropped = 0
        self.pending_events = 0
        self._last_drop_log = 0.0
        self._pending: "collections.deque[List[Tuple[str, Dict[str, Any]]]]" = collections.deque()
        self._lock = threading.Lock()
        self._wake = threading.Event()
        self._closed = False
        self._thread = threading.Thread(target=self._run, name="polygon-ws-storage", daemon=True)
        self._thread.start()

    def wants(self, channel: str) -> bool:
        """Whether events of ``channel`` are kept: A/AM bars, and T/Q when journaling."""
        return channel in _TIMEFRAME or (self.journal and channel in ("T", "Q"))

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
                if channel in _TIMEFRAME:
                    bars.setdefault((event["symbol"], _TIMEFRAME[channel]), []).append(event)
                elif self.journal and channel in ("T", "Q"):
                    ticks.setdefault(channel, []).append(event)
        for (symbol, timeframe), events in sorted(bars.items()):
            try:
                self.storage.append_bars(symbol, timeframe, events)
                self.bars_written += len(events)
            except Exception:
                self.errors += 1
                logger.exception("could not append %d %s bars of %s to the cache", len(events), timeframe, symbol)
        if ticks:
            self._write_journal(ticks)

    def journal_path(self, channel: str, day: Optional[str] = None) -> str:
        """Path of the journal file of ``channel`` ('T' or 'Q') for ``day`` (UTC, default today)."""
        day = day or datetime.now(timezone.utc).strftime("%Y-%m-%d")
        root = getattr(self.storage, "cache_dir", None) or self.storage.config.cache_dir
        return os.path.join(str(root), "journal", self.market, day, "%s.jsonl" % channel)

    def _write_journal(self, ticks: Dict[str, List[Dict[str, Any]]]) -> None:
        for channel, events in ticks.items():
            by_day: Dict[str, List[str]] = {}
            for event in events:
                day = datetime.fromtimestamp(event["timestamp"] / 1000.0, timezone.utc).strftime("%Y-%m-%d")
                by_day.setdefault(day, []).append(json.dumps(event, separators=(",", ":")))
            for day, lines in by_day.items():
                path = self.journal_path(channel, day)
                try:
                    os.makedirs(os.path.dirname(path), exist_ok=True)
                    with open(path, "a", encoding="utf-8") as fh:
                        fh.write("\n".join(lines) + "\n")
                    self.journaled += len(lines)
                except OSError:
                    self.errors += 1
                    logger.exception("could not write the %s journal %s", channel, path)

    def _run(self) -> None:
        while not self._closed:
            self._wake.wait(self.flush_interval)
            try:
                self.flush()
            except Exception:  # never let the writer thread die silently
                self.errors += 1
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
                self.errors += 1
                logger.exception("storage flush failed")
