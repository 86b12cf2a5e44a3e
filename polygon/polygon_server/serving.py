"""The threaded werkzeug server behind the sandbox and the local server, with a clean, leak-free shutdown.

werkzeug's ``ThreadedWSGIServer`` (what ``make_server(threaded=True)`` builds) with these changes:
handler threads are joined on close (not daemons); every open client socket is tracked so that ``close()``
can shut idle connections down instead of waiting for the client; a connection that sends no request line
within ``idle_timeout`` seconds, or no complete header block within ``header_timeout`` seconds, is closed
(one watchdog thread for all connections, so a client dribbling a byte at a time is closed too); at most
``max_connections`` connections are served at once (more get a 503 and a log line); malformed request
lines get the standard library's 400 / 414 / 505 answer without a traceback.
"""

import logging
import os
import socket
import struct
import threading
import time
from typing import Any, Dict, Optional, Set, Tuple

from werkzeug.serving import ThreadedWSGIServer, WSGIRequestHandler
from werkzeug.wrappers import Response
from wsproto.events import TextMessage

__all__ = ["ClosedResponse", "LocalServer", "LockedSocket", "accept_websocket", "send_text"]

logger = logging.getLogger(__name__)


class _Handler(WSGIRequestHandler):
    protocol_version = "HTTP/1.1"
    # answers to malformed request lines carry a status line (the stdlib assumes HTTP/0.9, which has none)
    default_request_version = "HTTP/1.0"
    # headers and body leave in separate writes: with Nagle's algorithm on, the body can wait for the
    # client's (delayed) ACK of the headers; the provider's servers do not add that delay either
    disable_nagle_algorithm = True

    def log_request(self, code="-", size="-") -> None:  # werkzeug logs every request at INFO
        path = getattr(self, "path", None)  # not set when the request line was malformed
        logger.debug("%s %s -> %s", getattr(self, "command", None) or "-",
                     path.split("?")[0][:200] if path else "<malformed request line>", code)

    def handle_one_request(self) -> None:
        watchdog = self.server.watchdog
        watchdog.arm(self.connection, self.server.idle_timeout, "idle")  # until the request line is in
        try:
            super().handle_one_request()
        finally:
            watchdog.disarm(self.connection)

    def parse_request(self) -> bool:  # reads the header block
        watchdog = self.server.watchdog
        watchdog.arm(self.connection, self.server.header_timeout, "header")
        try:
            return super().parse_request()
        finally:
            watchdog.disarm(self.connection)

    def log_error(self, format: str, *args) -> None:  # noqa: A002  (stdlib signature)
        logger.debug("local server: " + format, *args)


class _Watchdog:
    """Closes connections whose armed deadline passed: one thread, started on first use."""

    def __init__(self, name: str) -> None:
        self.name = name
        self._deadlines: Dict[Any, Tuple[float, float, str]] = {}
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread: Optional[threading.Thread] = None
        self.closed = 0  # connections closed for a timeout

    def arm(self, sock: Any, seconds: Optional[float], what: str) -> None:
        if not seconds:
            return
        with self._lock:
            self._deadlines[sock] = (time.monotonic() + seconds, seconds, what)
            if self._thread is None and not self._stop.is_set():
                self._thread = threading.Thread(target=self._run, name="%s-watchdog" % self.name, daemon=True)
                self._thread.start()

    def disarm(self, sock: Any) -> None:
        with self._lock:
            self._deadlines.pop(sock, None)

    def _run(self) -> None:
        while not self._stop.wait(0.1):
            now = time.monotonic()
            with self._lock:
                late = [(sock, d) for sock, d in self._deadlines.items() if d[0] <= now]
                for sock, _d in late:
                    del self._deadlines[sock]
            for sock, (_at, seconds, what) in late:
                self.closed += 1
                logger.info("local server: closing a connection that sent no complete request (%s timeout, "
                            "%g s)", what, seconds)
                try:
                    sock.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(2.0)


class LocalServer(ThreadedWSGIServer):
    """Threaded WSGI server on ``host:port`` (``0`` picks a free port) serving ``app``; for local use.

    :param name: prefix of the serving thread's name.
    :param max_connections: connections served at once (WebSocket sessions included); more are answered
        503 and closed, with a log line.
    :param header_timeout: seconds a client may take to send its header block once the request line is in.
    :param idle_timeout: seconds a connection may stay open without sending a request line.
    """

    daemon_threads = False
    block_on_close = True

    def __init__(self, host: str, port: int, app, name: str = "polygon-server", max_connections: int = 1024,
                 header_timeout: Optional[float] = 10.0, idle_timeout: Optional[float] = 30.0) -> None:
        if max_connections < 1:
            raise ValueError("max_connections must be >= 1")
        self.max_connections = int(max_connections)
        self.header_timeout = header_timeout
        self.idle_timeout = idle_timeout
        self.watchdog = _Watchdog(name)
        self.refused = 0  # connections refused at the cap
        self._last_cap_log = 0.0
        listener = _listen(host, port)  # werkzeug's own bind calls sys.exit(1) on failure: bind here instead
        try:
            super().__init__(host, port, app, handler=_Handler, fd=listener.fileno())
        finally:
            listener.close()  # werkzeug holds a duplicate of the descriptor
        self.server_name, self.server_port = host, self.server_address[1]  # what HTTPServer.server_bind sets
        self.name = name
        self._live: Set[socket.socket] = set()
        self._live_lock = threading.Lock()
        self._thread: Optional[threading.Thread] = None

    def process_request(self, request, client_address) -> None:
        with self._live_lock:
            full = len(self._live) >= self.max_connections
            if not full:
                self._live.add(request)
        if full:
            self._refuse(request)
            return
        super().process_request(request, client_address)

    def _refuse(self, request) -> None:
        """Answer 503 (without waiting for the client) and close: the connection cap is reached."""
        self.refused += 1
        now = time.monotonic()
        if now - self._last_cap_log > 10.0:
            self._last_cap_log = now
            logger.warning("local server: connection cap reached (%d open, max_connections=%d): refusing new "
                           "connections until some close (%d refused so far)", self.max_connections,
                           self.max_connections, self.refused)
        body = b'{"error":{"code":"too_many_connections","message":"too many open connections; retry later"}}'
        head = ("HTTP/1.1 503 Service Unavailable\r\nContent-Type: application/json\r\nContent-Length: %d\r\n"
                "Retry-After: 1\r\nConnection: close\r\n\r\n" % len(body)).encode("ascii")
        try:
            request.setblocking(False)
            request.send(head + body)
        except OSError:
            pass
        self.shutdown_request(request)

    def shutdown_request(self, request) -> None:
        with self._live_lock:
            self._live.discard(request)
        super().shutdown_request(request)

    def start(self) -> None:
        """Serve in a background thread."""
        self._thread = threading.Thread(target=self.serve_forever, kwargs={"poll_interval": 0.02},
                                        name="%s-%d" % (self.name, self.server_port), daemon=True)
        self._thread.start()

    def close(self) -> None:
        """Stop accepting, drop open connections, join every handler thread, free the port.

        Open connections are cut before the serving loop is stopped: werkzeug's loop joins the handler threads
        on its way out, and a handler writing to a client that stopped reading would otherwise never return.
        """
        self._drop_live()
        if self._thread is not None:
            self.shutdown()
            self._thread.join()
            self._thread = None
        self._drop_live()
        self.watchdog.stop()
        self.server_close()  # joins the handler threads (block_on_close)

    def _drop_live(self) -> None:
        with self._live_lock:
            live = list(self._live)
        for sock in live:
            try:
                sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass


def _listen(host: str, port: int) -> socket.socket:
    """A listening TCP socket on ``host:port``.

    :raises OSError: the address is in use or cannot be bound.
    """
    family, kind, proto, _name, address = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)[0]
    sock = socket.socket(family, kind, proto)
    try:
        if os.name != "nt":  # restart right after a stop (TIME_WAIT); on Windows it would allow a double bind
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(address)
        sock.listen(128)
    except BaseException:
        sock.close()
        raise
    return sock


class LockedSocket:
    """Socket wrapper serialising writes: simple-websocket's reader thread answers pings and close
    frames on the same socket a session thread streams frames to, and frames must not interleave
    (simple-websocket also writes with ``send``, which may write only part of a frame)."""

    def __init__(self, sock: socket.socket) -> None:
        self._sock = sock
        self.write_lock = threading.RLock()
        self.muted = False  # set under write_lock (the sandbox's stall fault): nothing is written any more

    def send(self, data: bytes) -> int:
        self.sendall(data)
        return len(data)

    def sendall(self, data: bytes) -> None:
        with self.write_lock:
            if not self.muted:
                self._sock.sendall(data)

    def __getattr__(self, name: str):
        return getattr(self._sock, name)


def accept_websocket(environ, send_timeout: Optional[float] = None, **options):
    """Accept the WebSocket upgrade in ``environ`` (``simple_websocket.Server.accept``) with writes made
    safe for a second sending thread: use :func:`send_text` to send.

    :param send_timeout: seconds a write may block on a peer that stopped reading before it fails with
        ``OSError`` (``SO_SNDTIMEO``; reads are not affected). ``None``: writes may block forever.
    :param options: ``simple_websocket.Server.accept`` options (``max_message_size``, ``ping_interval``).
    :returns: the ``simple_websocket.Server``.
    """
    from simple_websocket import Server

    ws = Server.accept(environ, **options)
    if send_timeout:
        _set_send_timeout(ws.sock, send_timeout)
    ws.sock = LockedSocket(ws.sock)
    return ws


def _set_send_timeout(sock: socket.socket, seconds: float) -> None:
    try:
        if os.name == "nt":
            value = struct.pack("I", int(seconds * 1000))
        else:
            value = struct.pack("ll", int(seconds), int((seconds % 1) * 1_000_000))
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_SNDTIMEO, value)
    except (OSError, struct.error, AttributeError) as exc:  # a platform without it: writes may block
        logger.debug("no send timeout on this platform: %s", exc)


def send_text(ws, text) -> None:
    """Frame and write text messages on a socket from :func:`accept_websocket`, under its write lock.

    :param text: one message, or a list of messages (framed one by one, written in one ``sendall``).
    :raises OSError: the peer is gone. :raises ConnectionError: the close handshake already ran.
    """
    texts = [text] if isinstance(text, str) else text
    with ws.sock.write_lock:
        if not ws.connected:
            raise ConnectionError("websocket closed")
        frame = ws.ws.send
        ws.sock.sendall(b"".join([frame(TextMessage(data=t)) for t in texts]))


class ClosedResponse(Response):
    """Returned by a WSGI app after a WebSocket session ends: the socket is gone, so werkzeug must write
    nothing (its request handler treats the ``ConnectionError`` as a dropped connection)."""

    def __call__(self, environ, start_response):
        raise ConnectionError("websocket closed")
