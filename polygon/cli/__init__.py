"""The ``polygon`` console script.

Subcommands::

    polygon --version
    polygon endpoints                       the generated endpoint table
    polygon sandbox [--port 8765 ...]       run the offline emulator of the provider
    polygon serve [--port 8200 --sandbox]   the local server (bars API, /ws relay, dashboard)
    polygon demo [--no-stream]              the main job, against an embedded sandbox
    polygon fetch SYMBOL[,SYMBOL...] TIMEFRAME [--start D --end D] [--csv PATH]   (several: concurrently)
    polygon latest SYMBOL TIMEFRAME [--bars N] [--csv PATH]        the last N complete bars
    polygon summary SYMBOL TIMEFRAME [--start D --end D] [--json]  what the cache holds (no fetching)
    polygon update SYMBOL [SYMBOL ...] --timeframe TF              extend each symbol's cache to now
    polygon stream SYMBOL [SYMBOL ...] [--channels T,Q,A,AM] [--market M] [--seconds S] [--count N] [--json]
                                            the market follows the tickers' prefix (X:BTCUSD crypto ...)
    polygon status [--json]                 rate-limit usage of this process and the provider's market status
    polygon cache list|size|info|export|clear [--symbol S] [--timeframe TF] [--path P --format F] [--yes]
    polygon validate SYMBOL TIMEFRAME [--start D --end D] [--extended-hours] [--json]
    polygon validate-symbol SYMBOL [--json]
    polygon flatfiles sync --market M --kind K --start D [--end D] [--symbols ...]   bulk history (flat files)
    polygon flatfiles status [--market M --kind K]
    polygon sql "SELECT ..."                DuckDB over the cache

Errors from the library are shown as one line on stderr with exit code 2 (bad input, rejected before any
network I/O) or 1. ``update`` reports a failing symbol on stderr, goes on with the others and exits 1.
``stream`` stops after ``--seconds``, ``--count`` events or Ctrl+C (exit 0), then prints a summary on stderr.
Ctrl+C anywhere else stops the command at once with one line on stderr and exit code 130; a many-symbol
``fetch`` says which symbols finished (they are cached: running it again fetches only the rest).
``cache clear`` with neither ``--symbol`` nor ``--timeframe`` deletes everything: it asks on a terminal
(anything but ``y`` keeps the cache, exit 1) and otherwise refuses without ``--yes`` (exit 2).
"""

import argparse
import datetime
import json
import logging
import os
import sys
import threading
import time
import urllib.parse
from typing import Any, Dict, List, Optional

from polygon._version import __version__
from polygon.exceptions import InvalidInputError, InvalidParameterError, PolygonError, SubscriptionError

__all__ = ["build_parser", "main"]

logger = logging.getLogger(__name__)

#: How many covered / missing ranges ``polygon summary`` lists as text (``--json`` lists all).
_SUMMARY_RANGES_SHOWN = 20


def _cmd_endpoints(args: argparse.Namespace) -> int:
    from polygon._generated.endpoints import ENDPOINTS

    width = max(len(name) for name in ENDPOINTS)
    for name in sorted(ENDPOINTS):
        spec = ENDPOINTS[name]
        print("%-*s  %-4s %s" % (width, name, spec.method, spec.path))
    return 0


def _cmd_demo(args: argparse.Namespace) -> int:
    from polygon.cli.demo import run_demo

    return run_demo(
        symbols=args.symbols,
        cache_dir=args.cache_dir,
        stream_seconds=0.0 if args.no_stream else args.stream_seconds,
        out=print,
    )


def _manager():
    from polygon.manager import PolygonDataManager

    return PolygonDataManager()


def _int_option(option: str, value: str, minimum: int) -> int:
    """``value`` of ``option`` as an int >= ``minimum``, or the one-line bad-input error saying so."""
    try:
        number = int(value)
    except (TypeError, ValueError):
        number = minimum - 1
    if number < minimum:
        raise InvalidParameterError("%s must be an integer >= %d, got %r" % (option, minimum, value))
    return number


def _seconds_option(option: str, value: Optional[str]) -> Optional[float]:
    """``value`` of ``option`` as positive seconds (``None`` stays ``None``: no limit)."""
    if value is None:
        return None
    try:
        seconds = float(value)
    except ValueError:
        seconds = 0.0
    if not 0 < seconds < float("inf"):
        raise InvalidParameterError("%s must be a number of seconds > 0, got %r" % (option, value))
    return seconds


def _print_bars(df: Any, csv: Optional[str], rows: int) -> None:
    if csv:
        df.to_csv(csv)
        print("wrote %d bars to %s" % (len(df), csv))
    else:
        if len(df):
            print(df.to_string(max_rows=rows))
        print(_bars_line(df))


def _bars_line(df: Any) -> str:
    """``N bars, source=S``, and why when there are none (``df.attrs['empty_reason']``)."""
    line = "%d bars, source=%s" % (len(df), df.attrs.get("source"))
    reason = df.attrs.get("empty_reason")
    return line + ": " + reason if not len(df) and reason else line


def _known_empty(manager: Any, symbol: str, timeframe: str, start: Any, end: Any) -> Optional[str]:
    """Why the range has no bars when that is known without a request (the future, no session), else None."""
    from polygon.markets.empty_range import empty_range_reason
    from polygon.markets.symbols import validate_symbol
    from polygon.markets.timeframes import parse_timeframe

    sym, tf = validate_symbol(symbol), parse_timeframe(timeframe)
    start_ms, end_ms = manager.resolve_range(start, end, tf, sym)
    return empty_range_reason(sym, tf, start_ms, end_ms, int(time.time() * 1000))


def _cmd_fetch(args: argparse.Namespace) -> int:
    symbols = [s for s in args.symbol.split(",") if s.strip()]
    if len(symbols) > 1:
        return _fetch_many(symbols, args)
    manager = _manager()
    reason = _known_empty(manager, args.symbol, args.timeframe, args.start, args.end)
    if reason:  # nothing to ask the provider for
        print("0 bars: %s" % reason)
        return 0
    df = manager.fetch_data(args.symbol, args.timeframe, args.start, args.end, use_cache=not args.no_cache)
    _print_bars(df, args.csv, args.rows)
    return 0


def _fetch_many(symbols: List[str], args: argparse.Namespace) -> int:
    """``polygon fetch A,B,C TF``: the symbols concurrently, one line each; Ctrl+C keeps what finished."""
    from polygon.manager.batch import BatchInterrupted

    if args.csv:
        raise InvalidInputError("--csv writes one symbol's bars; got %d symbols" % len(symbols))
    manager = _manager()
    known = {sym: _known_empty(manager, sym, args.timeframe, args.start, args.end) for sym in symbols}
    for symbol in [sym for sym in symbols if known[sym]]:
        print("%s: 0 bars: %s" % (symbol.strip().upper(), known[symbol]))
    symbols = [sym for sym in symbols if not known[sym]]
    if not symbols:
        return 0
    try:
        result = manager.fetch_multiple_symbols(symbols, args.timeframe, args.start, args.end,
                                                use_cache=not args.no_cache)
    except BatchInterrupted as stop:
        done = ", ".join(stop.result) or "none"
        print("%s (%s); run the command again to fetch the other %d" % (stop, done, len(stop.pending)),
              file=sys.stderr)
        return 130
    for symbol, df in result.items():
        print("%s: %s" % (symbol, _bars_line(df)))
    for symbol, exc in result.errors.items():
        print("error: %s: %s" % (symbol, exc), file=sys.stderr)
    return 1 if result.errors else 0


def _cmd_latest(args: argparse.Namespace) -> int:
    bars = _int_option("--bars", args.bars, 1)
    with _manager() as manager:
        df = manager.fetch_latest(args.symbol, args.timeframe, bars=bars)
    _print_bars(df, args.csv, rows=bars)  # every bar asked for
    return 0


def _format_summary(summary: Dict[str, Any]) -> str:
    coverage = summary["cache_coverage"]
    lines = [
        "%s %s  %s .. %s" % (summary["symbol"], summary["timeframe"], summary["start"], summary["end"]),
        "bars: %d  first: %s  last: %s" % (summary["bar_count"], summary["first_bar"] or "-",
                                           summary["last_bar"] or "-"),
        "cache coverage: %.2f%% of trading time" % coverage["percentage"],
    ]
    for label, key in (("covered", "covered_ranges"), ("missing", "missing_ranges")):
        ranges = coverage[key]
        lines.append("%s: %d range%s" % (label, len(ranges), "" if len(ranges) == 1 else "s"))
        lines.extend("  %s .. %s" % (a, b) for a, b in ranges[:_SUMMARY_RANGES_SHOWN])
        if len(ranges) > _SUMMARY_RANGES_SHOWN:
            lines.append("  ... %d more (--json lists all)" % (len(ranges) - _SUMMARY_RANGES_SHOWN))
    return "\n".join(lines)


def _cmd_summary(args: argparse.Namespace) -> int:
    summary = _manager().get_data_summary(args.symbol, args.timeframe, args.start, args.end)
    print(json.dumps(summary, indent=2, default=str) if args.json else _format_summary(summary))
    return 0


def _cmd_update(args: argparse.Namespace) -> int:
    from polygon.markets.symbols import validate_symbol
    from polygon.markets.timeframes import parse_timeframe

    parse_timeframe(args.timeframe)  # every input is checked before the first request
    symbols = list(dict.fromkeys(validate_symbol(symbol) for symbol in args.symbols))
    failed = 0
    with _manager() as manager:
        for symbol in symbols:
            try:
                result = manager.update_cache(symbol, args.timeframe)
            except PolygonError as exc:
                failed += 1
                print("error: %s: %s" % (symbol, exc), file=sys.stderr)
                continue
            print("%s %s: %d bars (%d new) %s .. %s" % (result["symbol"], result["timeframe"], result["bars"],
                                                          result["added"], result["start"], result["end"]))
    return 1 if failed else 0


def _format_event(event: Dict[str, Any], zone: Any) -> str:
    """One readable line for a normalised stream event (trade, quote or aggregate)."""
    stamp = event.get("timestamp")
    when = "-" if stamp is None else datetime.datetime.fromtimestamp(stamp / 1000, zone).isoformat(
        timespec="milliseconds")
    head = "%-5s %-6s %s" % (event.get("channel"), event.get("symbol"), when)
    kind = event.get("event_type") or ""
    if kind.endswith("trade"):  # trade, crypto_trade
        return "%s  %s @ %s" % (head, event.get("size"), event.get("price"))
    if kind.endswith("quote"):  # quote, crypto_quote, forex_quote
        return "%s  bid %s x %s  ask %s x %s" % (head, event.get("bid_price"), event.get("bid_size"),
                                                 event.get("ask_price"), event.get("ask_size"))
    if "value" in event and "open" not in event:  # index values, fair market value
        return "%s  %s" % (head, event.get("value"))
    return "%s  o=%s h=%s l=%s c=%s v=%s" % (head, event.get("open"), event.get("high"), event.get("low"),
                                             event.get("close"), event.get("volume"))


#: polygon.markets.symbols.market_of's names -> the stream's socket names
_SOCKETS = {"fx": "forex"}


def _stream_market(symbols: List[str], market: Optional[str]) -> str:
    """The socket of ``polygon stream``: ``--market``, else the one the tickers' prefixes name (stocks for plain
    tickers and ``*``); tickers of several markets are a bad input (one socket per market)."""
    from polygon.markets.symbols import market_of

    if market:
        return market
    found = sorted({_SOCKETS.get(m, m) for m in (market_of(s) for s in symbols if s.strip() != "*")})
    if len(found) > 1:
        raise InvalidInputError("tickers of several markets (%s): a stream reads one market's socket; run one "
                                "polygon stream per market (or pass --market)" % ", ".join(found))
    return found[0] if found else "stocks"


def _cmd_stream(args: argparse.Namespace) -> int:
    from polygon.markets.dates import get_zone
    from polygon.websocket import PolygonWebSocketClient
    from polygon.websocket.subscriptions import MARKET_CHANNEL_NAMES

    seconds = _seconds_option("--seconds", args.seconds)
    count = None if args.count is None else _int_option("--count", args.count, 1)
    market = _stream_market(args.symbols, args.market)
    channels = list(MARKET_CHANNEL_NAMES[market])[:1] if args.channels is None else args.channels.split(",")
    client = PolygonWebSocketClient(market=market)
    zone = get_zone(client.config.timezone)
    enough = threading.Event()
    lock = threading.Lock()
    printed = [0]

    def on_event(event: Dict[str, Any]) -> None:  # runs on the client's dispatcher thread
        with lock:
            if enough.is_set():
                return
            try:
                print(json.dumps(event, default=str) if args.json else _format_event(event, zone), flush=True)
            except BrokenPipeError:  # e.g. ``polygon stream ... | head``: nobody reads any more
                enough.set()
                return
            printed[0] += 1
            if count is not None and printed[0] >= count:
                enough.set()

    # checks the symbols and channels (SubscriptionError names what is allowed); nothing is sent before connect
    client.subscribe(args.symbols, channels, on_event)
    started = time.monotonic()
    deadline = None if seconds is None else started + seconds
    connected = False
    try:
        client.connect()
        connected = True
        while not enough.is_set():
            left = None if deadline is None else deadline - time.monotonic()
            if left is not None and left <= 0:
                break
            client.listen(timeout=0.2 if left is None else min(0.2, left))  # raises when the stream gave up
            if not client.get_status()["running"]:
                break
    except KeyboardInterrupt:  # Ctrl+C is the normal way to end an unbounded stream
        logger.info("stream interrupted")
    finally:
        client.disconnect()
        if connected:
            status = client.get_status()
            with lock:
                shown = printed[0]
            print("stream: %d events printed in %.1f s; %d received, %d dropped, %d reconnects"
                  % (shown, time.monotonic() - started, status["events_dispatched"], status["dropped_messages"],
                     status["reconnects"]), file=sys.stderr)
    return 0


def _format_status(market: Dict[str, Any], limits: Dict[str, Dict[str, Any]]) -> str:
    def states(group: Optional[Dict[str, Any]]) -> str:
        return "  ".join("%s=%s" % (k, v) for k, v in sorted((group or {}).items()) if v is not None) or "-"

    lines = [
        "market: %s (early hours: %s, after hours: %s)  server time: %s" % (
            market.get("market"), market.get("early_hours"), market.get("after_hours"), market.get("server_time")),
        "exchanges: %s" % states(market.get("exchanges")),
        "currencies: %s" % states(market.get("currencies")),
    ]
    for window in ("minute", "daily"):
        usage = limits.get(window) or {}
        if usage.get("limit") is None:
            text = "%d used, no limit" % usage.get("used", 0)
        else:
            text = "%d of %d used, %d remaining" % (usage["used"], usage["limit"], usage["remaining"])
        lines.append("rate limit (%s, this process): %s, window resets in %.1f s"
                     % (window, text, usage.get("reset_in", 0.0)))
    return "\n".join(lines)


def _cmd_status(args: argparse.Namespace) -> int:
    client = _manager().client
    market = client.get_market_status().to_dict()
    limits = client.get_rate_limit_status()  # after the request above: it counts
    if args.json:
        print(json.dumps({"market_status": market, "rate_limit": limits}, indent=2, default=str))
    else:
        print(_format_status(market, limits))
    return 0


def _cmd_cache(args: argparse.Namespace) -> int:
    from polygon.storage import get_storage_manager

    storage = get_storage_manager()
    if args.action == "list":
        entries = storage.list_cached()
        if args.json:
            print(json.dumps(entries, indent=2, default=str))
        elif not entries:
            print("cache is empty (%s)" % storage.cache_dir)
        else:
            for entry in entries:
                print("  ".join("%s=%s" % (k, v) for k, v in entry.items()))
    elif args.action == "size":
        size = storage.size_on_disk(symbol=args.symbol, timeframe=args.timeframe)
        print("%s: %.1f MiB (%d bytes)" % (storage.cache_dir, size / 2**20, size))
    elif args.action == "info":
        if not (args.symbol and args.timeframe):
            raise InvalidInputError("cache info needs --symbol and --timeframe")
        print(json.dumps(storage.info(args.symbol, args.timeframe), indent=2, default=str))
    elif args.action == "export":
        if not (args.symbol and args.timeframe and args.path):
            raise InvalidInputError("cache export needs --symbol (comma list), --timeframe and --path")
        result = storage.export(args.symbol.split(","), args.timeframe, args.path, format=args.format,
                                start=args.start, end=args.end)
        print(json.dumps(result, indent=2) if args.json else _format_export(result, args.timeframe))
    elif args.action == "migrate":
        report = storage.migrate()
        if args.json:
            print(json.dumps(report, indent=2, default=str))
        elif report.get("already"):
            print("%s is already a Parquet dataset; nothing to migrate" % storage.cache_dir)
        else:
            skipped = report.get("skipped") or []
            print("migrated %d series (%d partitions, %d bars) in %s to the Parquet dataset%s"
                  % (report["keys"], report["partitions"], report["rows"], storage.cache_dir,
                     "; skipped: %s" % ", ".join(map(str, skipped)) if skipped else ""))
    else:
        if not (args.symbol or args.timeframe or args.yes) and not _confirm_clear_all(storage):
            return 1
        removed = storage.clear(symbol=args.symbol, timeframe=args.timeframe)
        print("removed %s file%s from %s" % (removed, "" if removed == 1 else "s", storage.cache_dir))
    return 0


def _format_export(result: Dict[str, Any], timeframe: str) -> str:
    """``polygon cache export`` as text: one line per symbol, then the total and the dataset root."""
    width = max([len(s) for s in result["rows"]] + [6])
    lines = []
    for symbol, rows in result["rows"].items():
        folder = "symbol=" + urllib.parse.quote(symbol, safe="")  # the dataset's hive partition
        count = sum(1 for path in result["files"] if folder in path.split(os.sep))
        note = "" if rows else "  (nothing cached for %s)" % timeframe
        lines.append("%-*s  %9d bars  %d file%s%s" % (width, symbol, rows, count, "" if count == 1 else "s", note))
    total = sum(result["rows"].values())
    lines.append("exported %d bars of %d symbol%s to %s" % (total, len(result["rows"]),
                                                           "" if len(result["rows"]) == 1 else "s", result["path"]))
    return "\n".join(lines)


def _confirm_clear_all(storage: Any) -> bool:
    """Ask on a terminal before ``cache clear`` deletes everything; elsewhere ``--yes`` is required.

    :raises InvalidInputError: when nobody can be asked (stdin is not a terminal) and ``--yes`` is missing.
    """
    what = "the whole cache in %s (%d entries, %.1f MiB)" % (storage.cache_dir, len(storage.list_cached()),
                                                            storage.size_on_disk() / 2**20)
    if not sys.stdin.isatty():
        raise InvalidInputError("cache clear without --symbol or --timeframe deletes %s; add --yes to do it "
                                "(or give --symbol / --timeframe)" % what)
    try:
        answer = input("delete %s? [y/N] " % what)
    except EOFError:
        answer = ""
    if answer.strip().lower() not in ("y", "yes"):
        print("nothing removed")
        return False
    return True


def _cmd_validate(args: argparse.Namespace) -> int:
    from polygon.validators import format_report, generate_validation_summary

    df = _manager().fetch_data(args.symbol, args.timeframe, args.start, args.end)
    extended = True if args.extended_hours else None
    report = generate_validation_summary(df, args.symbol, args.timeframe, extended_hours=extended)
    print(json.dumps(report, indent=2, default=str) if args.json else format_report(report))
    return 0


def _cmd_validate_symbol(args: argparse.Namespace) -> int:
    from polygon.validators import format_report, validate_symbol_detailed

    report = validate_symbol_detailed(args.symbol)
    print(json.dumps(report, indent=2, default=str) if args.json else format_report(report))
    return 0 if report.get("valid") else 1



def _cmd_flatfiles_sync(args: argparse.Namespace) -> int:
    from polygon.config import get_config
    from polygon.flatfiles import sync_flatfiles

    config = get_config(cache_dir=args.cache_dir)
    report = sync_flatfiles(args.market, args.kind, args.start, args.end, symbols=args.symbols, config=config,
                            max_workers=args.workers, progress=None if not args.no_progress else False)
    if args.json:
        print(json.dumps({k: sorted(v) if isinstance(v, set) else v for k, v in vars(report).items()},
                         indent=2, default=str))
    else:
        print(report.summary())
        for day, why in sorted(report.days_missing.items()):
            print("  missing %s: %s" % (day, why))
    return 0


def _cmd_flatfiles_status(args: argparse.Namespace) -> int:
    from polygon.config import get_config
    from polygon.flatfiles.layout import check_dataset, markets_of
    from polygon.flatfiles.manifest import Manifest

    config = get_config(cache_dir=args.cache_dir)
    check_dataset(args.market, args.kind)
    manifests = [(market, Manifest(config.cache_dir, market, args.kind)) for market in markets_of(args.market)]
    if args.json:
        out = [{"market": market, "kind": args.kind, "days": m.days} for market, m in manifests]
        print(json.dumps(out[0] if len(out) == 1 else out, indent=2))
        return 0
    for market, manifest in manifests:
        days = sorted(manifest.days)
        if not days:
            print("%s %s: no day synced" % (market, args.kind))
            continue
        rows = sum(int(e.get("rows") or 0) for e in manifest.days.values())
        print("%s %s: %d days synced, %s .. %s, %d rows" % (market, args.kind, len(days), days[0],
                                                            days[-1], rows))
    return 0


def _cmd_sql(args: argparse.Namespace) -> int:
    from polygon.config import get_config
    from polygon.sql import query

    config = get_config(cache_dir=args.cache_dir)
    frame = query(args.query, cache_dir=config.cache_dir)
    if args.csv:
        frame.to_csv(args.csv, index=False)
        print("wrote %d rows to %s" % (len(frame), args.csv), file=sys.stderr)
    else:
        with __import__("pandas").option_context("display.max_rows", args.max_rows, "display.width", 160):
            print(frame.to_string(index=False, max_rows=args.max_rows))
    return 0


def _add_bulk_parsers(sub) -> None:
    """``flatfiles`` and ``sql``: bulk history and SQL over the cache."""
    from polygon.flatfiles.layout import KINDS, MARKETS

    p = sub.add_parser("flatfiles", help="bulk history from the provider's daily flat files (S3)")
    fsub = p.add_subparsers(dest="flatfiles_command", metavar="ACTION")
    q = fsub.add_parser("sync", help="download days into the cache (bars) or the tick store (trades/quotes)")
    q.add_argument("--market", default="stocks", choices=sorted(MARKETS),
                   help="a market, a futures venue (futures_cme...), or futures for all four venues")
    q.add_argument("--kind", default="minute_aggs", choices=sorted(KINDS))
    q.add_argument("--start", required=True)
    q.add_argument("--end", default=None)
    q.add_argument("--symbols", nargs="+", default=None)
    q.add_argument("--workers", type=int, default=4, help="parallel downloads (default 4)")
    q.add_argument("--cache-dir", default=None)
    q.add_argument("--no-progress", action="store_true")
    q.add_argument("--json", action="store_true")
    q.set_defaults(func=_cmd_flatfiles_sync)
    q = fsub.add_parser("status", help="which days are synced")
    q.add_argument("--market", default="stocks", choices=sorted(MARKETS),
                   help="a market, a futures venue (futures_cme...), or futures for all four venues")
    q.add_argument("--kind", default="minute_aggs", choices=sorted(KINDS))
    q.add_argument("--cache-dir", default=None)
    q.add_argument("--json", action="store_true")
    q.set_defaults(func=_cmd_flatfiles_status)

    p = sub.add_parser("sql", help="SQL (DuckDB) over the cache: views bars, bars_<timeframe>, trades, quotes")
    p.add_argument("query")
    p.add_argument("--csv", default=None, help="write the result to this CSV file")
    p.add_argument("--max-rows", type=int, default=50)
    p.add_argument("--cache-dir", default=None)
    p.set_defaults(func=_cmd_sql)

def build_parser() -> argparse.ArgumentParser:
    """Return the argument parser of the ``polygon`` command."""
    parser = argparse.ArgumentParser(prog="polygon", description="polygon-kit: Polygon.io / Massive market data")
    parser.add_argument("--version", action="version", version="polygon-kit %s" % __version__)
    parser.add_argument("-v", "--verbose", action="count", default=0, help="more logging (-vv for debug)")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    p = sub.add_parser("endpoints", help="list the provider endpoints this client knows")
    p.set_defaults(func=_cmd_endpoints)

    sub.add_parser("sandbox", help="run the offline provider emulator (options: polygon sandbox --help)")
    sub.add_parser("serve", help="run the local server on port 8200 (options: polygon serve --help)")

    p = sub.add_parser("demo", help="fetch, cache and stream against an embedded sandbox")
    p.add_argument("--symbols", nargs="+", default=["AAPL", "MSFT", "SPY"])
    p.add_argument("--cache-dir", default=None, help="use this cache directory's .polygon-demo folder (default: "
                                                       "POLYGON_CACHE_DIR's; else a temporary directory)")
    p.add_argument("--stream-seconds", type=float, default=3.0)
    p.add_argument("--no-stream", action="store_true")
    p.set_defaults(func=_cmd_demo)

    p = sub.add_parser("fetch", help="fetch bars through the cache")
    p.add_argument("symbol", help="ticker, or a comma list of tickers fetched concurrently")
    p.add_argument("timeframe")
    p.add_argument("--start")
    p.add_argument("--end")
    p.add_argument("--csv")
    p.add_argument("--rows", type=int, default=20)
    p.add_argument("--no-cache", action="store_true")
    p.set_defaults(func=_cmd_fetch)

    p = sub.add_parser("latest", help="the last N complete bars (through the cache)")
    p.add_argument("symbol")
    p.add_argument("timeframe")
    p.add_argument("--bars", default="20", help="how many complete bars (default 20)")
    p.add_argument("--csv")
    p.set_defaults(func=_cmd_latest)

    p = sub.add_parser("summary", help="what the cache holds for a range: bars, coverage, missing ranges")
    p.add_argument("symbol")
    p.add_argument("timeframe")
    p.add_argument("--start", help="default: 30 days before --end")
    p.add_argument("--end", help="inclusive day; default: now")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=_cmd_summary)

    p = sub.add_parser("update", help="extend the cache of each symbol to now")
    p.add_argument("symbols", nargs="+", metavar="SYMBOL")
    p.add_argument("--timeframe", required=True)
    p.set_defaults(func=_cmd_update)

    p = sub.add_parser("stream", help="print live events until --seconds, --count or Ctrl+C")
    p.add_argument("symbols", nargs="+", metavar="SYMBOL", help="tickers, or '*' for all")
    p.add_argument("--channels", help="comma list of the market's channels: stocks T (trades), Q (quotes), A "
                                      "(second aggregates), AM (minute aggregates) ...; crypto XT, XQ, XA ...; "
                                      "forex C, CA ...; indices V, A, AM. Default: the market's trades (forex: "
                                      "quotes, indices: values)")
    p.add_argument("--market", choices=["stocks", "options", "forex", "crypto", "indices"],
                   help="the socket to read; default: the one the tickers' prefix names (X: crypto, C: forex, "
                        "I: indices, O: options, none: stocks)")
    p.add_argument("--seconds", help="stop after this many seconds")
    p.add_argument("--count", help="stop after this many events")
    p.add_argument("--json", action="store_true", help="one JSON object per line")
    p.set_defaults(func=_cmd_stream)

    p = sub.add_parser("status", help="rate-limit usage and the provider's market status")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=_cmd_status)

    p = sub.add_parser("cache", help="inspect, export, migrate or clear the file cache")
    p.add_argument("action", choices=["list", "size", "info", "export", "migrate", "clear"],
                   help="migrate: convert a native cache into the Parquet dataset SQL/Dask/Spark read in place")
    p.add_argument("--symbol", help="ticker (export: comma-separated list)")
    p.add_argument("--timeframe")
    p.add_argument("--json", action="store_true", help="list, info, export, migrate: JSON instead of text")
    p.add_argument("--path", help="export: dataset root directory")
    p.add_argument("--format", default="parquet", choices=["parquet", "feather", "csv"])
    p.add_argument("--start")
    p.add_argument("--end")
    p.add_argument("-y", "--yes", action="store_true", help="clear: delete the whole cache without asking")
    p.set_defaults(func=_cmd_cache)

    p = sub.add_parser("validate", help="data-quality report for cached/fetched bars")
    p.add_argument("symbol")
    p.add_argument("timeframe")
    p.add_argument("--start")
    p.add_argument("--end")
    p.add_argument("--extended-hours", action="store_true", help="expect 04:00-20:00 bars")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=_cmd_validate)

    p = sub.add_parser("validate-symbol", help="is this a ticker the provider knows? (with suggestions)")
    p.add_argument("symbol")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=_cmd_validate_symbol)

    _add_bulk_parsers(sub)
    return parser


def main(argv: Optional[List[str]] = None) -> int:
    """Run the ``polygon`` command; returns the exit code."""
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv[:1] == ["serve"]:  # the server parses its own options, like the sandbox
        from polygon.polygon_server.server import main as serve_main

        return serve_main(argv[1:], prog="polygon serve")
    if argv[:1] == ["sandbox"]:  # the sandbox parses its own options (argparse REMAINDER drops leading ones)
        from polygon.sandbox.__main__ import main as sandbox_main

        return sandbox_main(argv[1:], prog="polygon sandbox") or 0
    parser = build_parser()
    args = parser.parse_args(argv)
    level = logging.WARNING - 10 * min(args.verbose, 2)
    logging.basicConfig(level=level, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    if not getattr(args, "func", None):
        parser.print_help()
        return 0
    try:
        return int(args.func(args) or 0)
    except (InvalidInputError, SubscriptionError) as exc:  # both are rejected locally, before any I/O
        print("error: %s" % exc, file=sys.stderr)
        return 2
    except PolygonError as exc:
        print("error: %s" % exc, file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
