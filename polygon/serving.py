"""The threaded werkzeug server behind the sandbox and the local server, with a clean, leak-free shutdown.

werkzeug's ``ThreadedWSGIServer`` (what ``make_server(threaded=True)`` builds) with two changes:
handler threads are joined on close (not daemons), and every open client socket is tracked so that
``close()`` can shut idle keep-alive connections down instead of waiting for the client.
"""

import logging
import os
import socket
import struct
import threading
from typing import Optional, Set

from werkzeug.serving import ThreadedWSGIServer, WSGIRequestHandler
from werkzeug.wrappers import Response
from wsproto.events import TextMessage

__all__ = ["ClosedResponse", "LocalServer", "LockedSocket", "accept_websocket", "send_text"]

logger = logging.getLogger(__name__)


class _Handler(WSGIRequestHandler):
    protocol_version = "HTTP/1.1"
    # headers and body leave in separate writes: with Nagle's algorithm on, the body can wait for the
    # client's (delayed) ACK of the headers; the provider's servers do not add that delay either
    disable_nagle_algorithm = True

    def log_request(self, code="-", size="-") -> None:  # werkzeug logs every request at INFO
        logger.debug("%s %s -> %s", self.command, self.path.split("?")[0], code)

    def log_error(self, format: str, *args) -> None:  # noqa: A002  (stdlib signature)
        logger.debug("local server: " + format, *args)


class LocalServer(ThreadedWSGIServer):
    """Threaded WSGI server on ``host:port`` (``0`` picks a free port) serving ``app``; for local use.

    :param name: prefix of the serving thread's name.
    """

    daemon_threads = False
    block_on_close = True

    def __init__(self, host: str, port: int, app, name: str = "polygon-server") -> None:
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
            self._live.add(request)
        super().process_request(request, client_address)

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
