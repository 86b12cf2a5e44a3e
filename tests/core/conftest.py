"""Helpers for the REST core tests: a fake clock (no real waiting) and a tiny forward proxy."""

import http.client
import http.server
import threading

import pytest


class FakeClock:
    def __init__(self, start=1000.0):
        self.now = start
        self.sleeps = []
        self._lock = threading.Lock()
        self._seen = threading.local()

    def __call__(self):
        with self._lock:
            self._seen.now = self.now
            return self.now

    def sleep(self, seconds):
        """Advance to (this thread's last clock reading + seconds), never backwards.

        Threads that read the clock together and then sleep overlap, as in real time, instead
        of adding their sleeps up.
        """
        assert seconds >= 0
        with self._lock:
            self.sleeps.append(seconds)
            start = getattr(self._seen, "now", self.now)
            self.now = max(self.now, start + seconds)

    def advance(self, seconds):
        with self._lock:
            self.now += seconds
            self._seen.now = self.now


@pytest.fixture
def fake_clock():
    """A :class:`FakeClock`; pass ``clock=fake_clock, sleep=fake_clock.sleep``."""
    return FakeClock()


class _LocalServer:
    """A threading HTTP server on 127.0.0.1, port 0, run in a thread while the ``with`` block lasts."""

    def _serve(self, handler):
        self._server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self._server.daemon_threads = True
        self.url = "http://127.0.0.1:%d" % self._server.server_address[1]
        self._thread = threading.Thread(target=self._server.serve_forever, args=(0.05,), daemon=True)

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(5)


class ForwardProxy(_LocalServer):
    """A tiny HTTP forward proxy on 127.0.0.1 (plain http targets) that records request lines and headers."""

    def __init__(self):
        import urllib.parse

        self.requests = []
        recorded = self.requests

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_GET(self):  # noqa: N802  (http.server naming)
                recorded.append((self.requestline, dict(self.headers)))
                target = urllib.parse.urlsplit(self.path)
                conn = http.client.HTTPConnection(target.hostname, target.port, timeout=10)
                path = target.path + ("?" + target.query if target.query else "")
                headers = {k: v for k, v in self.headers.items() if k.lower() not in ("proxy-connection", "host")}
                conn.request("GET", path, headers=headers)
                resp = conn.getresponse()
                body = resp.read()
                self.send_response(resp.status)
                for key, value in resp.getheaders():
                    if key.lower() not in ("transfer-encoding", "connection", "content-length"):
                        self.send_header(key, value)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)
                conn.close()

            def log_message(self, *args):
                pass

        self._serve(Handler)


@pytest.fixture
def forward_proxy():
    with ForwardProxy() as proxy:
        yield proxy


class ScriptedServer(_LocalServer):
    """A loopback HTTP server answering from a script: ``routes[path] = (status, headers, body)``.

    ``path`` is matched with its query first, then without it.

    A ``body`` of ``('cut', data, declared_length)`` sends ``data`` then closes the connection with
    fewer bytes than ``Content-Length`` promised. Every request is recorded as ``(path, headers)``.
    """

    def __init__(self):

        self.routes = {}
        self.requests = []
        server = self

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_GET(self):  # noqa: N802  (http.server naming)
                server.requests.append((self.path, dict(self.headers)))
                route = server.routes.get(self.path) or server.routes.get(self.path.split("?")[0])
                status, headers, body = route or (404, {}, b'{"status":"NOT_FOUND"}')
                cut = isinstance(body, tuple)
                data = body[1] if cut else body
                self.send_response(status)
                for key, value in headers.items():
                    self.send_header(key, value)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(body[2] if cut else len(data)))
                if cut:
                    self.send_header("Connection", "close")
                self.end_headers()
                self.wfile.write(data)
                if cut:
                    self.close_connection = True

            def log_message(self, *args):
                pass

        self._serve(Handler)


@pytest.fixture
def scripted_server():
    with ScriptedServer() as server:
        yield server


@pytest.fixture
def other_server():
    """A second scripted server (a "foreign host" for next_url tests)."""
    with ScriptedServer() as server:
        yield server
