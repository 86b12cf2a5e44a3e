"""The append-only journal of trades and quotes: JSON lines, one file per market, UTC day and channel, under
``<cache_dir>/journal/<market>/<YYYY-MM-DD>/<channel>.jsonl``. Written by
:class:`~polygon.websocket.sink.StorageSink`'s thread.
"""

import logging
import os
from datetime import datetime, timezone
from typing import Any, Dict, List, Optional

from polygon.core.json_codec import dumps

__all__ = ["TickJournal"]

logger = logging.getLogger(__name__)


class TickJournal:
    """Append normalised trade/quote events to their day's journal file.

    :param root: the cache directory (the journal lives in its ``journal`` folder).
    :param market: the stream's market (a path component).
    """

    #: per market: the trade and quote (and index value) channels journaled
    CHANNELS = {"stocks": ("T", "Q"), "options": ("T", "Q"), "forex": ("C",), "crypto": ("XT", "XQ"),
                "indices": ("V",)}

    def __init__(self, root: str, market: str = "stocks") -> None:
        self.root = str(root)
        self.market = market
        self.channels = self.CHANNELS.get(market, ())
        self.journaled = 0
        self.errors = 0

    def path(self, channel: str, day: Optional[str] = None) -> str:
        """Path of the journal file of ``channel`` (e.g. 'T') for ``day`` (UTC, default today)."""
        day = day or datetime.now(timezone.utc).strftime("%Y-%m-%d")
        return os.path.join(self.root, "journal", self.market, day, "%s.jsonl" % channel)

    def write(self, ticks: Dict[str, List[Dict[str, Any]]]) -> None:
        """Append ``{channel: [events]}``, each event to the file of its own UTC day; failures are logged and
        counted in :attr:`errors`, never raised (the stream goes on)."""
        for channel, events in ticks.items():
            by_day: Dict[str, List[bytes]] = {}
            for event in events:
                day = datetime.fromtimestamp(event["timestamp"] / 1000.0, timezone.utc).strftime("%Y-%m-%d")
                by_day.setdefault(day, []).append(dumps(event))
            for day, lines in by_day.items():
                path = self.path(channel, day)
                try:
                    os.makedirs(os.path.dirname(path), exist_ok=True)
                    with open(path, "ab") as fh:
                        fh.write(b"\n".join(lines) + b"\n")
                    self.journaled += len(lines)
                except OSError:
                    self.errors += 1
                    logger.exception("could not write the %s journal %s", channel, path)
