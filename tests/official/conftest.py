"""A recording HTTP server on 127.0.0.1 for the official face's wire tests: it answers fixed JSON bodies and
keeps every request's path, query and headers."""

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

import pytest

AGG_BODY = {"status": "OK", "ticker": "AAPL", "resultsCount": 2, "results": [
    {"o": 1.5, "h": 2.0, "l": 1.0, "c": 1.75, "v": 100.0, "vw": 1.6, "t": 1672722000000, "n": 7,
     "wire_only": "kept"},
    {"o": 1.75, "h": 2.5, "l": 1.5, "c": 2.25, "v": 50.0, "vw": 2.0, "t": 1672808400000, "n": 3},
]}


class Recorder:
    """The requests the server saw (``path``, ``query`` as a dict of lists, ``headers``)."""

    def __init__(self):
        self.requests = []
        self.lock = threading.Lock()
        self.url = None

    def add(self, path, query, headers):
        with self.lock:
            self.requests.append({"path": path, "query": query, "headers": headers})


def _handler(recorder):
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args):
            pass

        def do_GET(self):
            parts = urlsplit(self.path)
            query = parse_qs(parts.query)
            recorder.add(parts.path, query, dict(self.headers.items()))
            if parts.path.startswith("/v2/aggs/ticker/"):
                body = AGG_BODY
            elif parts.path == "/v3/trades/AAPL":
                # an endless listing: every page points to the next one
                page = int(query.get("page", ["0"])[0])
                body = {"status": "OK", "results": [{"price": float(page), "size": 1, "sip_timestamp": page}],
                        "next_url": "%s/v3/trades/AAPL?page=%d" % (recorder.url, page + 1)}
            else:
                self.send_response(404)
                self.send_header("Content-Type", "application/json")
                self.end_headers()
                self.wfile.write(b'{"status":"NOT_FOUND","message":"no such path"}')
                return
            data = json.dumps(body).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

    return Handler


@pytest.fixture
def recorder():
    """A :class:`Recorder` whose ``url`` is a live server on 127.0.0.1 (stopped after the test)."""
    rec = Recorder()
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(rec))
    rec.url = "http://127.0.0.1:%d" % server.server_address[1]
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield rec
    server.shutdown()
    server.server_close()
    thread.join(5)


@pytest.fixture(scope="module")
def clients(sandbox):
    """``(polygon.official.RESTClient, massive.RESTClient)`` on the session sandbox."""
    from polygon import RESTClient

    massive = pytest.importorskip("massive")
    ours = RESTClient(api_key=sandbox.api_key, base=sandbox.base_url, retries=0)
    yield ours, massive.RESTClient(api_key=sandbox.api_key, base=sandbox.base_url, retries=0)
    ours.close()
