"""``python -m polygon.sandbox``: run the offline provider emulator until interrupted.

Prints one line with the REST base URL, the WebSocket URL and the API key, then serves. With
``--flatfiles`` it also starts the S3 emulator of the provider's flat files (needs boto3 and
``moto[server]``), publishes the last ``--flatfiles-days`` trading days before the sandbox's clock and
prints the endpoint, bucket and S3 keys as ``export`` lines for ``polygon flatfiles sync``. The
built-in servers are meant for local use (development, tests, demos), not for a network.
"""

import argparse
import datetime as _dt
import logging
import sys
import threading
from typing import Any, List, Optional

from polygon.config import SANDBOX_API_KEY

__all__ = ["build_parser", "main"]


def _bool_or_int(text: str):
    low = text.lower()
    if low in ("true", "yes", "on"):
        return True
    if low in ("false", "no", "off", "0"):
        return False
    return int(text)


def build_parser(prog: str = "python -m polygon.sandbox") -> argparse.ArgumentParser:
    """The sandbox's command-line options (also used by ``polygon sandbox``)."""
    p = argparse.ArgumentParser(prog=prog, description="Offline emulator of the provider's REST and WebSocket APIs.")
    p.add_argument("--host", default="127.0.0.1", help="interface to bind (default 127.0.0.1)")
    p.add_argument("--port", type=int, default=8765, help="TCP port, 0 for any free one (default 8765)")
    p.add_argument("--key", default=SANDBOX_API_KEY, help="the API key to accept (default the sandbox key)")
    p.add_argument("--latency", type=float, help="seconds added to every REST request")
    p.add_argument("--rate-limit-per-minute", type=int, help="REST requests per minute before 429")
    p.add_argument("--rate-limit-window", type=float, help="seconds of the rate-limit window (default 60)")
    p.add_argument("--error-rate", type=float, help="share of REST requests answered 5xx")
    p.add_argument("--fault-seed", type=int, help="seed of the random faults (default 0)")
    p.add_argument("--truncate-rate", type=float, help="share of REST bodies cut mid-JSON")
    p.add_argument("--ws-drop-after-messages", type=int, help="drop each WebSocket after N frames")
    p.add_argument("--ws-drop-after-seconds", type=float, help="drop each WebSocket after S seconds")
    p.add_argument("--ws-stall", type=_bool_or_int, help="true: silent after auth; N: after N frames")
    p.add_argument("--max-connections", type=int, help="simultaneous WebSockets per key (default 1)")
    p.add_argument("--auth-timeout", type=float, help="seconds to wait for the stream's auth message")
    p.add_argument("--illiquid-fraction", type=float, help="share of synthetic symbols that rarely trade")
    p.add_argument("--extended-hours", action="store_true", default=None, help="serve 04:00-20:00 bars")
    p.add_argument("--rate", dest="stream_rate", type=float, help="stream this many events per second")
    p.add_argument("--clock", help="'auto' (default: real time while the market is open, else a replay of the "
                   "last session), 'realtime', or a date YYYY-MM-DD whose session is replayed")
    p.add_argument("--speed", type=float, help="replay speed factor (default 1)")
    p.add_argument("--flatfiles", action="store_true", help="also serve the provider's flat files from an S3 "
                   "emulator on 127.0.0.1 (needs boto3 and moto[server])")
    p.add_argument("--flatfiles-port", type=int, default=0, help="TCP port of the S3 emulator (default any free)")
    p.add_argument("--flatfiles-days", type=int, default=5, help="trading days published, the last ones before "
                   "the sandbox clock's day (default 5)")
    p.add_argument("--flatfiles-kinds", default="minute_aggs,day_aggs",
                   help="comma-separated kinds published: minute_aggs, day_aggs, trades, quotes "
                   "(default minute_aggs,day_aggs)")
    p.add_argument("-v", "--verbose", action="store_true", help="log every request")
    return p


def _published_days(clock: Optional[str], count: int) -> List[_dt.date]:
    """The ``count`` trading days before the clock's day (``--clock YYYY-MM-DD``, else today in New York): a
    day's file appears the next morning."""
    from polygon.flatfiles.layout import day_zone
    from polygon.markets import sessions

    try:
        today = _dt.date.fromisoformat(clock) if clock else None
    except ValueError:
        today = None
    today = today or _dt.datetime.now(day_zone("stocks")).date()
    days = sessions.trading_days(today - _dt.timedelta(days=2 * count + 14), today - _dt.timedelta(days=1))
    return days[-count:] if count > 0 else []


def _start_flatfiles(sb: Any, args: argparse.Namespace) -> str:
    """Publish the files and return the lines to print (endpoint, bucket, keys, days)."""
    kinds = tuple(k.strip() for k in args.flatfiles_kinds.split(",") if k.strip())
    days = _published_days(args.clock, args.flatfiles_days)
    if days:
        sb.flatfiles.publish(days[0], days[-1], kinds=kinds)
    values = sb.flatfiles.config_values()
    span = "%s .. %s" % (days[0], days[-1]) if days else "none"
    return ("polygon sandbox: flat files (S3) %s  bucket %s  %s  days %s\n"
            "export POLYGON_S3_ENDPOINT=%s POLYGON_S3_BUCKET=%s POLYGON_S3_ACCESS_KEY_ID=%s "
            "POLYGON_S3_SECRET_ACCESS_KEY=%s" % (
                values["s3_endpoint"], values["s3_bucket"], ",".join(kinds), span, values["s3_endpoint"],
                values["s3_bucket"], values["s3_access_key_id"], values["s3_secret_access_key"]))


def main(argv: Optional[List[str]] = None, prog: str = "python -m polygon.sandbox") -> int:
    """Run the sandbox until Ctrl-C; returns the exit status.

    :param argv: arguments without the program name (default ``sys.argv[1:]``).
    :param prog: program name shown in ``--help`` (``polygon sandbox`` from the CLI).
    """
    from polygon.sandbox import DEFAULT_OPTIONS, Sandbox

    args = build_parser(prog).parse_args(argv)
    logging.basicConfig(level=logging.DEBUG if args.verbose else logging.WARNING,
                        format="%(asctime)s %(name)s %(levelname)s %(message)s")
    options = {name: value for name, value in vars(args).items() if name in DEFAULT_OPTIONS and value is not None}
    from polygon.exceptions import PolygonError

    flatfiles = {"port": args.flatfiles_port} if args.flatfiles else False
    try:
        sb = Sandbox(host=args.host, port=args.port, api_key=args.key, flatfiles=flatfiles, **options)
        sb.start()
    except (OSError, ValueError, PolygonError) as exc:
        print("polygon sandbox: cannot start: %s" % exc, file=sys.stderr)
        return 2
    print("polygon sandbox: REST %s  WebSocket %s/stocks  key %s" % (sb.base_url, sb.ws_url, sb.api_key), flush=True)
    if sb.flatfiles is not None:
        try:
            print(_start_flatfiles(sb, args), flush=True)
        except (OSError, ValueError, PolygonError) as exc:
            print("polygon sandbox: cannot publish flat files: %s" % exc, file=sys.stderr)
            sb.stop()
            return 2
    try:
        threading.Event().wait()
    except KeyboardInterrupt:
        pass
    finally:
        sb.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
