"""The threaded werkzeug server behind a sandbox, with a clean, leak-free shutdown.

werkzeug's ``ThreadedWSGIServer`` (what ``make_server(threaded=True)`` builds) with two changes:
handler threads are joined on close (not daemons), and every open client socket is tracked so that
``close()`` can shut idle keep-alive connections down instead of waiting for the client.
"""

import logging
import socket
import threading
from typing import Optional, Set

from werkzeug.serving import ThreadedWSGIServer, WSGIRequestHandler

__all__ = ["SandboxServer"]

logger = logging.getLogger(__name__)


class _Handler(WSGIRequestHandler):
    protocol_version = "HTTP/1.1"
    # headers and body leave in separate writes: with Nagle's algorithm on, the body can wait for the
    # client's (delayed) ACK of the headers; the provider's servers do not add that delay either
    disable_nagle_algorithm = True

    def log_request(self, code="-", size="-") -> None:  # werkzeug logs every request at INFO
        logger.debug("%s %s -> %s", self.command, self.path.split("?")[0], code)

    def log_error(self, format: str, *args) -> None:  # noqa: A002  (stdlib signature)
        logger.debug("sandbox server: " + format, *args)


class SandboxServer(ThreadedWSGIServer):
    """Threaded WSGI server on ``host:port`` (``0`` picks a free port) serving ``app``."""

    daemon_threads = False
    block_on_close = True

    def __init__(self, host: str, port: int, app) -> None:
        super().__init__(host, port, app, handler=_Handler)
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
                                        name="polygon-sandbox-%d" % self.server_port, daemon=True)
        self._thread.start()

    def close(self) -> None:
        """Stop accepting, drop open connections, join every handler thread, free the port."""
        if self._thread is not None:
            self.shutdown()
            self._thread.join()
            self._thread = None
        with self._live_lock:
            live = list(self._live)
        for sock in live:
            try:
                sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
        self.server_close()  # joins the handler threads (block_on_close)
