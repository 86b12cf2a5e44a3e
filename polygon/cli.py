"""The ``polygon`` console script.

Subcommands::

    polygon --version
    polygon endpoints                       the generated endpoint table
    polygon sandbox [--port 8765 ...]       run the offline emulator of the provider
    polygon serve [--port 8200 --sandbox]   the local server (bars API, /ws relay, dashboard)
    polygon demo [--no-stream]              the main job, against an embedded sandbox
    polygon fetch SYMBOL TIMEFRAME [--start D --end D] [--csv PATH]
    polygon cache list|size|info|export|clear [--symbol S] [--timeframe TF] [--path P --format F]
    polygon validate SYMBOL TIMEFRAME [--start D --end D] [--extended-hours] [--json]
    polygon validate-symbol SYMBOL [--json]

Errors from the library are shown as one line on stderr with exit code 2 (bad input) or 1.
"""

import argparse
import json
import logging
import sys
from typing import List, Optional

from polygon._version import __version__
from polygon.exceptions import InvalidInputError, PolygonError

__all__ = ["build_parser", "main"]


def _cmd_endpoints(args: argparse.Namespace) -> int:
    from polygon._generated.endpoints import ENDPOINTS

    width = max(len(name) for name in ENDPOINTS)
    for name in sorted(ENDPOINTS):
        spec = ENDPOINTS[name]
        print("%-*s  %-4s %s" % (width, name, spec.method, spec.path))
    return 0


def _cmd_demo(args: argparse.Namespace) -> int:
    from polygon.demo import run_demo

    return run_demo(
        symbols=args.symbols,
        cache_dir=args.cache_dir,
        stream_seconds=0.0 if args.no_stream else args.stream_seconds,
        out=print,
    )


def _manager():
    from polygon.manager import PolygonDataManager

    return PolygonDataManager()


def _cmd_fetch(args: argparse.Namespace) -> int:
    df = _manager().fetch_data(args.symbol, args.timeframe, args.start, args.end, use_cache=not args.no_cache)
    if args.csv:
        df.to_csv(args.csv)
        print("wrote %d bars to %s" % (len(df), args.csv))
    else:
        print(df.to_string(max_rows=args.rows))
        print("%d bars, source=%s" % (len(df), df.attrs.get("source")))
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
        print("exported %s to %s" % (result["rows"], result["path"]))
    else:
        removed = storage.clear(symbol=args.symbol, timeframe=args.timeframe)
        print("removed %s" % (removed,))
    return 0


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
    p.add_argument("--cache-dir", default=None, help="default: .polygon-demo-cache in the current directory")
    p.add_argument("--stream-seconds", type=float, default=3.0)
    p.add_argument("--no-stream", action="store_true")
    p.set_defaults(func=_cmd_demo)

    p = sub.add_parser("fetch", help="fetch bars through the cache")
    p.add_argument("symbol")
    p.add_argument("timeframe")
    p.add_argument("--start")
    p.add_argument("--end")
    p.add_argument("--csv")
    p.add_argument("--rows", type=int, default=20)
    p.add_argument("--no-cache", action="store_true")
    p.set_defaults(func=_cmd_fetch)

    p = sub.add_parser("cache", help="inspect or clear the file cache")
    p.add_argument("action", choices=["list", "size", "info", "export", "clear"])
    p.add_argument("--symbol", help="ticker (export: comma-separated list)")
    p.add_argument("--timeframe")
    p.add_argument("--json", action="store_true")
    p.add_argument("--path", help="export: dataset root directory")
    p.add_argument("--format", default="parquet", choices=["parquet", "feather", "csv"])
    p.add_argument("--start")
    p.add_argument("--end")
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
    except InvalidInputError as exc:
        print("error: %s" % exc, file=sys.stderr)
        return 2
    except PolygonError as exc:
        print("error: %s" % exc, file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130
