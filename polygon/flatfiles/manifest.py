"""The record of synced days: one JSON file per dataset under the cache, written atomically.

An entry is written only after the day's bars (or ticks) are stored, so a sync killed at any point
resumes from the first day not recorded. Each entry keeps the file's ``etag`` and ``size``: a file the
provider republished (other etag or size) no longer matches and is synced again.
"""

import json
import os
import threading
from typing import Any, Dict, Optional

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

    def is_current(self, day: str, etag: str, size: int) -> bool:
        """``True`` when ``day`` was synced from a file with this etag and size."""
        entry = self.days.get(day)
        return bool(entry) and entry.get("etag") == etag and entry.get("size") == size

    def record(self, day: str, **values: Any) -> None:
        """Record ``day`` as synced and save the manifest (atomic replace, fsync'd)."""
        with self._lock:
            self.days[day] = dict(values)
            self._save()

    def _save(self) -> None:
        from polygon.storage.files import replace_atomically

        payload = json.dumps({"version": _VERSION, "days": dict(sorted(self.days.items()))}, indent=1)

        def write(path: str) -> None:
            with open(path, "w", encoding="utf-8") as fh:
                fh.write(payload)

        replace_atomically(self.path, write)
