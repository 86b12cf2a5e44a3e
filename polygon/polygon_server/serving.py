"""The threaded werkzeug server behind the sandbox and the local server, with a clean, leak-free shutdown.

werkzeug's ``ThreadedWSGIServer`` (what ``make_server(threaded=True)`` builds) with these changes:
handler threads are joined on close (not daemons); every open client socket is tracked so that ``close()``
can shut idle connections down instead of waiting for the client; a connection that sends no request line
within ``idle_timeout`` seconds, or no complete header block within ``header_timeout`` seconds, is closed
(one watchdog thread for all connections, so a client dribbling a byte at a time is closed too), and a
request body that is not all in within ``body_timeout`` seconds of its headers is cut the same way; at most
``max_connections`` connections are served at once: when they are all taken, the connection that has waited
longest for its request (line, headers or body) is closed to make room, so slow senders never lock others
out; only when every connection is being served does a newcomer get a 503 (and a log line). Malformed
request lines get the standard library's 400 / 414 / 505 answer without a traceback.
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

__all__ = ["ClosedResponse", "InboxOverflow", "LocalServer", "LockedSocket", "accept_websocket", "send_text"]

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

    def make_environ(self) -> Dict[str, Any]:
        environ = super().make_environ()
        length = environ.get("CONTENT_LENGTH")
        chunked = bool(environ.get("wsgi.input_terminated"))
        try:
            size: Optional[int] = int(length) if length and not chunked else None
        except ValueError:
            size = None
        if chunked or (size or 0) > 0:  # a body is on its way: it must be in within body_timeout
            watchdog, sock = self.server.watchdog, self.connection
            if watchdog.arm(sock, self.server.body_timeout, "body"):
                environ["wsgi.input"] = _BodyInput(environ["wsgi.input"], size, lambda: watchdog.disarm(sock))
        return environ

    def log_error(self, format: str, *args) -> None:  # noqa: A002  (stdlib signature)
        logger.debug("local server: " + format, *args)


class _BodyInput:
    """The request body stream, calling ``done`` once the body is all in (``length`` bytes read, or the end
    of a chunked body): the body deadline ends there, not with the (possibly long) answer."""

    def __init__(self, stream: Any, length: Optional[int], done: Any) -> None:
        self._stream, self._left, self._done = stream, length, done

    def _count(self, n: int) -> None:
        if self._done is None:
            return
        if self._left is not None:
            self._left -= n
        if n == 0 or (self._left is not None and self._left <= 0):
            done, self._done = self._done, None
            done()

    def read(self, size: int = -1) -> bytes:
        data = self._stream.read(size)
        self._count(len(data))
        return data

    def readline(self, size: int = -1) -> bytes:
        data = self._stream.readline(size)
        self._count(len(data))
        return data

    def readinto(self, buf: Any) -> int:
        n = self._stream.readinto(buf) or 0
        self._count(n)
        return n

    def __getattr__(self, name: str) -> Any:
        return getattr(self._stream, name)


class _Watchdog:
    """Closes connections whose armed deadline passed: one thread, started on first use."""

    def __init__(self, name: str) -> None:
        self.name = name
        self._deadlines: Dict[Any, Tuple[float, float, str]] = {}
        self._waiting_since: Dict[Any, float] = {}  # armed sockets: when they began waiting for their request
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread: Optional[threading.Thread] = None
        self.closed = 0  # connections closed for a timeout
        self.evicted = 0  # waiting connections closed to make room for a new one

    def arm(self, sock: Any, seconds: Optional[float], what: str) -> bool:
        """Close ``sock`` unless :meth:`disarm` comes within ``seconds``; returns whether it was armed."""
        if not seconds:
            return False
        with self._lock:
            now = time.monotonic()
            self._deadlines[sock] = (now + seconds, seconds, what)
            self._waiting_since.setdefault(sock, now)
            if self._thread is None and not self._stop.is_set():
                self._thread = threading.Thread(target=self._run, name="%s-watchdog" % self.name, daemon=True)
                self._thread.start()
        return True

    def disarm(self, sock: Any) -> None:
        with self._lock:
            self._deadlines.pop(sock, None)
            self._waiting_since.pop(sock, None)

    def evict_oldest(self) -> bool:
        """Close the armed connection that has waited longest for its request; ``False`` when none waits."""
        with self._lock:
            if not self._waiting_since:
                return False
            sock = min(self._waiting_since, key=self._waiting_since.__getitem__)
            what = self._deadlines.pop(sock, (0, 0, "?"))[2]
            del self._waiting_since[sock]
        self.evicted += 1
        logger.debug("local server: closing a connection still sending its request (%s) to make room", what)
        _shut(sock)
        return True

    def _run(self) -> None:
        while not self._stop.wait(0.1):
            now = time.monotonic()
            with self._lock:
                late = [(sock, d) for sock, d in self._deadlines.items() if d[0] <= now]
                for sock, _d in late:
                    del self._deadlines[sock]
                    self._waiting_since.pop(sock, None)
            for sock, (_at, seconds, what) in late:
                self.closed += 1
                logger.info("local server: closing a connection that sent no complete request (%s timeout, "
                            "%g s)", what, seconds)
                _shut(sock)

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(2.0)


def _shut(sock: Any) -> None:
    try:
        sock.shutdown(socket.SHUT_RDWR)
    except OSError:
        pass


class LocalServer(ThreadedWSGIServer):
    """Threaded WSGI server on ``host:port`` (``0`` picks a free port) serving ``app``; for local use.

    :param name: prefix of the serving thread's name.
    :param max_connections: connections served at once (WebSocket sessions included); when all are taken,
        the one waiting longest for its request is closed for a newcomer, and if every connection is being
        served the newcomer is answered 503 and closed, with a log line.
    :param header_timeout: seconds a client may take to send its header block once the request line is in.
    :param idle_timeout: seconds a connection may stay open without sending a request line.
    :param body_timeout: seconds a client may take to send a request body once its headers are in.
    """

    daemon_threads = False
    block_on_close = True

    def __init__(self, host: str, port: int, app, name: str = "polygon-server", max_connections: int = 1024,
                 header_timeout: Optional[float] = 10.0, idle_timeout: Optional[float] = 30.0,
                 body_timeout: Optional[float] = 10.0) -> None:
        if max_connections < 1:
            raise ValueError("max_connections must be >= 1")
        self.max_connections = int(max_connections)
        self.header_timeout = header_timeout
        self.idle_timeout = idle_timeout
        self.body_timeout = body_timeout
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
        if full and self.watchdog.evict_oldest():  # a slow sender makes room (its thread ends at once)
            with self._live_lock:
                self._live.add(request)
            full = False
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


class InboxOverflow(str):
    """What ``receive()`` returns, instead of a message, once a connection's inbox went over its bound (the
    text says by how much): the messages it held are gone, and the caller should close the connection."""


class _Inbox(list):
    """simple-websocket's list of received messages (``ws.input_buffer``), bounded in messages and bytes.

    Its reader thread reads as fast as the peer sends, whatever the session has handled: past the bound,
    the queued messages are dropped (their memory is freed at once), one :class:`InboxOverflow` takes their
    place and every later message is dropped until the session closes the connection."""

    def __init__(self, max_messages: int, max_bytes: int) -> None:
        super().__init__()
        self.max_messages, self.max_bytes = max_messages, max_bytes
        self.bytes = 0
        self.overflow: Optional[InboxOverflow] = None

    def append(self, item: Any) -> None:
        if self.overflow is not None:
            return
        size = len(item)
        if len(self) >= self.max_messages or self.bytes + size > self.max_bytes:
            self.overflow = InboxOverflow("more than %d messages or %d bytes sent and not yet handled"
                                          % (self.max_messages, self.max_bytes))
            self.clear()
            self.bytes = 0
            super().append(self.overflow)
            return
        self.bytes += size
        super().append(item)

    def pop(self, index: int = -1) -> Any:  # simple-websocket calls pop(0)
        item = super().pop(index)
        if item is not self.overflow:
            self.bytes -= len(item)
        return item


def _reader_thread_class(max_messages: int, max_bytes: int) -> Any:
    """A ``thread_class`` for simple-websocket that bounds the connection's inbox before its reader starts."""

    def make(target: Any, **kwargs: Any) -> threading.Thread:
        target.__self__.input_buffer = _Inbox(max_messages, max_bytes)  # target: the ws's bound reader method
        return threading.Thread(target=target, **kwargs)

    return make


def accept_websocket(environ, send_timeout: Optional[float] = None, max_queued: Optional[int] = None,
                     max_queued_bytes: Optional[int] = None, **options):
    """Accept the WebSocket upgrade in ``environ`` (``simple_websocket.Server.accept``) with writes made
    safe for a second sending thread: use :func:`send_text` to send.

    :param send_timeout: seconds a write may block on a peer that stopped reading before it fails with
        ``OSError`` (``SO_SNDTIMEO``; reads are not affected). ``None``: writes may block forever.
    :param max_queued: messages received and not yet taken by ``receive()`` at most (with
        ``max_queued_bytes``, their total size): past either, ``receive()`` returns an :class:`InboxOverflow`
        and nothing more is kept. ``None`` (both): unbounded, as simple-websocket is.
    :param options: ``simple_websocket.Server.accept`` options (``max_message_size``, ``ping_interval``).
    :returns: the ``simple_websocket.Server``.
    """
    from simple_websocket import Server

    if max_queued is not None or max_queued_bytes is not None:
        options["thread_class"] = _reader_thread_class(max_queued or 2 ** 62, max_queued_bytes or 2 ** 62)
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
