"""The bulk-history subcommands of the ``polygon`` command: ``flatfiles sync`` and ``sql``.

::

    polygon flatfiles sync --market stocks --kind minute_aggs --start 2024-01-01 --end 2024-03-31 [--symbols A B]
    polygon flatfiles status [--market stocks --kind minute_aggs]
    polygon sql "SELECT symbol, avg(close) FROM bars_1day GROUP BY symbol" [--csv out.csv]
"""

import argparse
import json
import sys

__all__ = ["add_parsers"]


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
    from polygon.flatfiles.manifest import Manifest

    config = get_config(cache_dir=args.cache_dir)
    manifest = Manifest(config.cache_dir, args.market, args.kind)
    days = sorted(manifest.days)
    if args.json:
        print(json.dumps({"market": args.market, "kind": args.kind, "days": manifest.days}, indent=2))
    elif not days:
        print("%s %s: no day synced" % (args.market, args.kind))
    else:
        rows = sum(int(e.get("rows") or 0) for e in manifest.days.values())
        print("%s %s: %d days synced, %s .. %s, %d rows" % (args.market, args.kind, len(days), days[0], days[-1],
                                                            rows))
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


def add_parsers(sub) -> None:
    """Add ``flatfiles`` and ``sql`` to the ``polygon`` command's subparsers."""
    from polygon.flatfiles.layout import KINDS, MARKET_PREFIXES

    p = sub.add_parser("flatfiles", help="bulk history from the provider's daily flat files (S3)")
    fsub = p.add_subparsers(dest="flatfiles_command", metavar="ACTION")
    q = fsub.add_parser("sync", help="download days into the cache (bars) or the tick store (trades/quotes)")
    q.add_argument("--market", default="stocks", choices=sorted(MARKET_PREFIXES))
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
    q.add_argument("--market", default="stocks", choices=sorted(MARKET_PREFIXES))
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
