"""``python -m polygon.sandbox``: run the offline provider emulator until interrupted.

Prints one line with the REST base URL, the WebSocket URL and the API key, then serves. The
built-in server is meant for local use (development, tests, demos), not for a network.
"""

import argparse
import logging
import sys
import threading
from typing import List, Optional

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
    p.add_argument("-v", "--verbose", action="store_true", help="log every request")
    return p


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
    try:
        sb = Sandbox(host=args.host, port=args.port, api_key=args.key, **options)
        sb.start()
    except (OSError, ValueError) as exc:
        print("polygon sandbox: cannot start: %s" % exc, file=sys.stderr)
        return 2
    print("polygon sandbox: REST %s  WebSocket %s/stocks  key %s" % (sb.base_url, sb.ws_url, sb.api_key), flush=True)
    try:
        threading.Event().wait()
    except KeyboardInterrupt:
        pass
    finally:
        sb.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
