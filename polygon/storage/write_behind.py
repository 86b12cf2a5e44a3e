"""The write-behind buffer of streamed bars: :class:`WriteBehind`.

Streamed bars arrive one aggregate at a time; writing each would rewrite a partition file per bar. The
buffer keeps them per cache key and hands them to a writer in batches: once ``flush_rows`` are pending
for a key, once the oldest is ``flush_interval`` seconds old, on :meth:`WriteBehind.flush`, before any
read of the key, and at interpreter exit (every live buffer is flushed by an ``atexit`` hook).
"""

import atexit
import logging
import threading
import time
import weakref
from typing import Any, Callable, Dict, Iterable, List, Tuple

from polygon.markets.frames import BarArrays, empty_arrays, merge_arrays
from polygon.storage.files import thread_lock

__all__ = ["WriteBehind"]

logger = logging.getLogger(__name__)

_BUFFERS: "weakref.WeakSet[WriteBehind]" = weakref.WeakSet()


@atexit.register
def _flush_all_at_exit() -> None:
    for buffer in list(_BUFFERS):
        try:
            buffer.flush()
        except Exception:  # noqa: BLE001 - never fail interpreter exit
            logger.debug("cache: flush at exit failed", exc_info=True)


class WriteBehind:
    """Pending bars per key, written in batches by ``write(key, merged_bars) -> bool``.

    :param write: writes one key's merged pending bars; returns ``True`` when written.
    :param flush_rows: a key is written once this many bars are pending for it.
    :param flush_interval: ... or once its oldest pending bar is this many seconds old.
    """

    def __init__(self, write: Callable[[Any, BarArrays], bool], flush_rows: int = 1000,
                 flush_interval: float = 30.0) -> None:
        self._write = write
        self.flush_rows = int(flush_rows)
        self.flush_interval = float(flush_interval)
        # key path -> (key, chunks, rows, monotonic time of the first chunk)
        self._pending: Dict[str, Tuple[Any, List[BarArrays], int, float]] = {}
        self._lock = threading.Lock()
        _BUFFERS.add(self)

    def add(self, key: Any, arrays: BarArrays) -> None:
        """Buffer ``arrays`` for ``key`` (a :class:`~polygon.storage.files.CacheKey`); write the key when due."""
        if arrays.rows == 0:
            return
        with self._lock:
            now = time.monotonic()
            entry = self._pending.get(key.path) or (key, [], 0, now)
            entry = (key, entry[1] + [arrays], entry[2] + arrays.rows, entry[3])
            self._pending[key.path] = entry
            due = entry[2] >= self.flush_rows or now - entry[3] >= self.flush_interval
        if due:
            self.flush_key(key.path)

    def flush_key(self, path: str) -> int:
        """Write the pending bars of the key at ``path``. :returns: the number of bars written."""
        if not self._pending:
            return 0
        with thread_lock(path):  # keeps flush order == append order per key
            with self._lock:
                entry = self._pending.pop(path, None)
            if entry is None:
                return 0
            key, chunks, count, _ = entry
            merged = empty_arrays()
            for chunk in chunks:
                merged = merge_arrays(merged, chunk)
            return count if self._write(key, merged) else 0

    def flush(self) -> int:
        """Write every pending bar now. :returns: the number of bars written."""
        with self._lock:
            paths = list(self._pending)
        return sum(self.flush_key(path) for path in paths)

    def pending(self, path: str) -> int:
        """Bars pending for the key at ``path``."""
        with self._lock:
            entry = self._pending.get(path)
        return entry[2] if entry else 0

    def discard(self, paths: Iterable[str], everything: bool = False) -> None:
        """Drop the pending bars of the keys at ``paths`` (of every key when ``everything``)."""
        with self._lock:
            for path in paths:
                self._pending.pop(path, None)
            if everything:
                self._pending.clear()

    def __len__(self) -> int:
        with self._lock:
            return sum(entry[2] for entry in self._pending.values())
