"""A tiny loopback server that answers aggregate requests with precomputed provider-shaped pages.

The pages are taken once from the offline sandbox (so they have the provider's shape and values) and then
served as fixed bytes from a child process: the server does no work per request, so a benchmark measures
the client. Any ``/v2/aggs/...`` request without a ``cursor`` gets page 1; each page's ``next_url`` points
at the next page on this server. Every request line is recorded (``requests()``) so a baseline can ask
for exactly the URLs a client asked for.
"""

import multiprocessing
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

SYMBOL = "AAPL"
START = "2019-01-02"
FAR_END = "2025-12-31"


def _sandbox_pages(bars, page_size):
    """Pages of ``bars`` one-minute bars from the sandbox, ``page_size`` bars each (decoded dicts)."""
    import json

    import requests

    from polygon.sandbox import Sandbox

    with Sandbox(port=0) as sb, requests.Session() as session:
        url = "%s/v2/aggs/ticker/%s/range/1/minute/%s/%s?adjusted=true&sort=asc&limit=%d" % (
            sb.base_url, SYMBOL, START, FAR_END, page_size)
        session.headers["Authorization"] = "Bearer " + sb.api_key
        pages, have = [], 0
        for _ in range(1000):
            page = json.loads(session.get(url, timeout=120).content)
            results = page.get("results") or []
            take = results[: bars - have]
            have += len(take)
            pages.append(dict(page, results=take, resultsCount=len(take), queryCount=len(take)))
            url = page.get("next_url")
            if have >= bars or not url:
                break
    if have < bars:
        raise SystemExit("sandbox gave only %d bars" % have)
    return pages


def _encode(pages, base_url):
    import json

    bodies = []
    for i, page in enumerate(pages):
        page = dict(page)
        page.pop("next_url", None)
        if i + 1 < len(pages):
            page["next_url"] = "%s/v2/aggs/ticker/%s/range/1/minute/%s/%s?cursor=page%d" % (
                base_url, SYMBOL, START, FAR_END, i + 1)
        bodies.append(json.dumps(page, separators=(",", ":")).encode())
    return bodies


def _serve(conn, bars, page_size):
    pages = _sandbox_pages(bars, page_size)
    seen = []

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_GET(self):  # noqa: N802 - http.server's name
            seen.append(self.path)
            query = parse_qs(urlsplit(self.path).query)
            cursor = (query.get("cursor") or ["page0"])[0]
            try:
                body = self.server.bodies[int(cursor[4:])]
            except (ValueError, IndexError):
                self.send_error(404)
                return
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    base_url = "http://127.0.0.1:%d" % server.server_address[1]
    server.bodies = _encode(pages, base_url)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    conn.send((base_url, [len(b) for b in server.bodies]))
    for _ in range(1_000_000):  # bounded: one pass per message from the parent
        message = conn.recv()
        if message == "requests":
            conn.send(list(seen))
            seen.clear()
        else:
            break
    server.shutdown()


class MemoPages:
    """``with MemoPages(250000, 50000) as memo:`` gives ``memo.base_url`` and ``memo.sizes`` (page bytes)."""

    def __init__(self, bars=250000, page_size=50000):
        ctx = multiprocessing.get_context("spawn")
        self._parent, child = ctx.Pipe()
        self._proc = ctx.Process(target=_serve, args=(child, bars, page_size), daemon=True)
        self.base_url = self.sizes = None

    def __enter__(self):
        self._proc.start()
        if not self._parent.poll(300):
            raise SystemExit("memo page server did not start")
        self.base_url, self.sizes = self._parent.recv()
        return self

    def requests(self):
        """Request paths (with query) received since the last call."""
        self._parent.send("requests")
        return self._parent.recv()

    def __exit__(self, *exc):
        self._parent.send("stop")
        self._proc.join(10)
