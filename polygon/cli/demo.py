"""The main job, end to end against an embedded offline sandbox (``polygon demo``).

1. start :class:`polygon.sandbox.Sandbox` on 127.0.0.1 (random port);
2. fetch a month of one-minute bars for a few symbols through the file cache, twice: the first pass starts
   from a cold cache, the second is served from the cache and sends no request (the sandbox's counters
   prove it), so every run shows the cache's point side by side;
3. show bars, coverage and timing per symbol;
4. stream a few seconds of live trades from the sandbox, then exit cleanly.

The cache: ``cache_dir`` (``--cache-dir``) or ``POLYGON_CACHE_DIR``, in its ``.polygon-demo`` folder (hidden
from the cache's listings, so the sandbox's synthetic bars never mix with the provider's; the demo clears it
first so the first pass is cold); with neither, a fresh temporary directory, named, removed at the end.

Output goes through the ``out`` callable (``print`` from the CLI), so the library itself never prints.
"""

import datetime
import os
import shutil
import tempfile
import threading
import time
from typing import Callable, List, Optional, Tuple

__all__ = ["run_demo"]

DEMO_START = "2024-03-01"
DEMO_END = "2024-03-29"
DEMO_REPLAY_DAY = "2024-03-28"


#: The demo's folder inside a user's cache directory (a leading dot: the cache's listings skip it).
DEMO_FOLDER = ".polygon-demo"


def _fetch_pass(manager, symbols: List[str], sandbox, out: Callable[..., None], label: str) -> float:
    before = sandbox.stats()["requests_total"]
    started = time.perf_counter()
    data = manager.fetch_multiple_symbols(symbols, "1min", DEMO_START, DEMO_END)
    elapsed = time.perf_counter() - started
    sent = sandbox.stats()["requests_total"] - before
    out("%s: %d symbols in %.3f s, %d HTTP requests to the sandbox" % (label, len(data), elapsed, sent))
    out("  %-6s %8s  %-25s %-25s %9s  %s" % ("symbol", "bars", "first", "last", "coverage", "source"))
    for symbol in symbols:
        df = data.get(symbol)
        if df is None:
            out("  %-6s failed: %s" % (symbol, data.errors.get(symbol)))
            continue
        summary = manager.get_data_summary(symbol, "1min", DEMO_START, DEMO_END)
        first = str(df.index[0]) if len(df) else "-"
        last = str(df.index[-1]) if len(df) else "-"
        out(
            "  %-6s %8d  %-25s %-25s %8.1f%%  %s"
            % (symbol, len(df), first, last, summary["cache_coverage"]["percentage"], df.attrs.get("source"))
        )
    return elapsed


def _stream(sandbox, config, seconds: float, out: Callable[..., None]) -> int:
    from polygon.websocket import PolygonWebSocketClient

    received = []
    lock = threading.Lock()

    def on_trade(data):
        with lock:
            received.append(data)
            if len(received) <= 5:
                when = datetime.datetime.fromtimestamp(data["timestamp"] / 1000, datetime.timezone.utc)
                out("  trade %-5s %s  %6s @ %.2f" % (data["symbol"], when.isoformat(timespec="milliseconds"),
                                                     data["size"], data["price"]))

    client = PolygonWebSocketClient(config)
    client.connect()
    try:
        client.subscribe(["AAPL", "MSFT"], ["T"], on_trade)
        timer = threading.Timer(seconds, client.disconnect)
        timer.start()
        try:
            client.listen()
        finally:
            timer.cancel()
    finally:
        client.disconnect()
    status = client.get_status()
    out("streamed %d trades in %.1f s (status: message_count=%s)" % (len(received), seconds, status["message_count"]))
    return len(received)


def _demo_cache(cache_dir: Optional[str]) -> Tuple[str, str, bool]:
    """``(path, how it was chosen, temporary?)`` of the demo's cache directory."""
    base = cache_dir or os.environ.get("POLYGON_CACHE_DIR")
    if base:
        why = "--cache-dir" if cache_dir else "POLYGON_CACHE_DIR"
        return os.path.join(os.path.abspath(os.path.expanduser(base)), DEMO_FOLDER), why, False
    return tempfile.mkdtemp(prefix="polygon-demo-"), "a fresh temporary directory, removed at the end", True


def run_demo(
    symbols: Optional[List[str]] = None,
    cache_dir: Optional[str] = None,
    stream_seconds: float = 3.0,
    out: Callable[..., None] = lambda *a: None,
) -> int:
    """Run the demo; returns a process exit code.

    :param symbols: tickers to fetch (default AAPL, MSFT, SPY).
    :param cache_dir: cache directory whose ``.polygon-demo`` folder the demo uses (default
        ``POLYGON_CACHE_DIR``; with neither, a temporary directory removed at the end).
    :param stream_seconds: how long to stream trades; ``0`` skips streaming.
    :param out: where lines of output go.
    """
    from polygon import __version__
    from polygon.manager import PolygonDataManager
    from polygon.sandbox import Sandbox
    from polygon.storage import StorageManager

    symbols = symbols or ["AAPL", "MSFT", "SPY"]
    path, why, temporary = _demo_cache(cache_dir)
    out("polygon-kit %s demo against the offline sandbox" % __version__)
    out("cache: %s (%s)" % (path, why))
    try:
        # the stream replays the last session of the fetched month 30x faster than real time, so there is
        # something to see at any hour and the trades continue the bars above
        with Sandbox(port=0, clock=DEMO_REPLAY_DAY, speed=30) as sandbox:
            config = sandbox.config(cache_dir=path)
            out("sandbox: %s  ws: %s  calendar: %s" % (sandbox.base_url, sandbox.ws_url,
                                                       sandbox.stats()["calendar"]))
            storage = StorageManager(path)
            for symbol in symbols:  # the demo's own folder: the first pass is cold on every run
                storage.clear(symbol=symbol, timeframe="1min")
            manager = PolygonDataManager(config=config, storage=storage, progress=False)
            try:
                cold = _fetch_pass(manager, symbols, sandbox, out, "pass 1 (cold cache)")
                warm = _fetch_pass(manager, symbols, sandbox, out, "pass 2 (cache)")
                out("the cached pass took %.3f s against %.3f s cold (%.0fx faster)"
                    % (warm, cold, cold / warm if warm > 0 else float("inf")))
                if stream_seconds > 0:
                    _stream(sandbox, config, stream_seconds, out)
            finally:
                manager.close()
    finally:
        if temporary:
            shutil.rmtree(path, ignore_errors=True)
    return 0
