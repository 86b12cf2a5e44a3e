"""The record of synced days: one JSON file per dataset under the cache, written atomically.

An entry is written only after the day's bars (or ticks) are stored, so a sync killed at any point
resumes from the first day not recorded. Each entry keeps the file's ``etag`` and ``size``: a file the
provider republished (other etag or size) no longer matches and is synced again. An entry also keeps the
``symbols`` the day was synced for (``None``: every symbol of the file), so a later sync of other symbols
of the same day is not taken for done.

Clearing the cache (:meth:`polygon.storage.StorageManager.clear`) removes the manifests of what it cleared
so a sync after a clear restores the days.
"""

import json
import os
import threading
from typing import Any, Dict, Iterable, Optional

from polygon.flatfiles.layout import check_dataset

__all__ = ["Manifest"]

_VERSION = 1


class Manifest:
    """Synced days of one ``(market, kind)`` in ``cache_dir``.

    :param cache_dir: the cache directory. :param market: e.g. ``'stocks'``. :param kind: e.g. ``'minute_aggs'``.
    """

    def __init__(self, cache_dir: str, market: str, kind: str) -> None:
        check_dataset(market, kind)
        self.path = os.path.join(cache_dir, ".flatfiles", market, kind + ".json")
        self._lock = threading.Lock()
        self.days: Dict[str, Dict[str, Any]] = self._load()

    def _load(self) -> Dict[str, Dict[str, Any]]:
        try:
            with open(self.path, "r", encoding="utf-8") as fh:
                data = json.load(fh)
        except FileNotFoundError:
            return {}
        except (OSError, ValueError):  # unreadable: start over (a re-sync is idempotent)
            return {}
        if not isinstance(data, dict) or data.get("version") != _VERSION or not isinstance(data.get("days"), dict):
            return {}
        return {str(k): v for k, v in data["days"].items() if isinstance(v, dict)}

    def entry(self, day: str) -> Optional[Dict[str, Any]]:
        """The record of ``day`` (``'YYYY-MM-DD'``), or ``None``."""
        return self.days.get(day)

    def is_current(self, day: str, etag: str, size: int, symbols: Optional[Iterable[str]] = None) -> bool:
        """``True`` when ``day`` was synced from a file with this etag and size, for ``symbols`` (``None``: all)."""
        entry = self.days.get(day)
        if not entry or entry.get("etag") != etag or entry.get("size") != size:
            return False
        done = entry.get("symbols")
        return done is None or (symbols is not None and set(symbols) <= set(done))

    def record(self, day: str, **values: Any) -> None:
        """Record ``day`` as synced and save the manifest (atomic replace, fsync'd)."""
        self.record_many({day: values})

    def record_many(self, days: Dict[str, Dict[str, Any]]) -> None:
        """Record several days at once (one save). A day synced for some symbols from the same file keeps the
        symbols recorded before."""
        if not days:
            return
        with self._lock:
            for day, values in days.items():
                values = dict(values)
                old = self.days.get(day)
                if (values.get("symbols") is not None and old and old.get("etag") == values.get("etag")
                        and old.get("size") == values.get("size")):
                    values["symbols"] = (None if old.get("symbols") is None
                                         else sorted(set(old["symbols"]) | set(values["symbols"])))
                self.days[day] = values
            self._save()

    def _save(self) -> None:
        from polygon.storage.files import replace_atomically

        payload = json.dumps({"version": _VERSION, "days": dict(sorted(self.days.items()))}, indent=1)

        def write(path: str) -> None:
            with open(path, "w", encoding="utf-8") as fh:
                fh.write(payload)

        replace_atomically(self.path, write)

