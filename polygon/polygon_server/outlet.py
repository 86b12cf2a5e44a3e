"""Outlets: where the relay's messages for one local client go, without a thread per client.

An outlet holds a client's queued messages in order and writes them without ever blocking the relay:

* :class:`SocketOutlet` writes whole WebSocket frames to a ``simple_websocket`` connection with non-blocking
  sends (``MSG_DONTWAIT``); what the socket does not take now stays queued and the relay's fan-out thread
  retries it. It also stands in for the connection's socket, so the pongs and close frames simple-websocket
  writes join the same queue and never land in the middle of a frame. A client that takes no byte for
  ``send_timeout`` seconds is closed. Without a deflate extension, frames are built once and shared by every
  client that receives the same message.
* :class:`CallbackOutlet` hands texts to a callable (embedding the relay in another server; tests).

Both bound the queue (drop-oldest, counted in events) so a slow client never grows memory without bound.
"""

import collections
import logging
import socket
import threading
import time
from typing import Any, Callable, Deque, List, Optional, Tuple

from wsproto.events import TextMessage
from wsproto.frame_protocol import FrameProtocol

__all__ = ["CallbackOutlet", "SocketOutlet", "frame_text"]

logger = logging.getLogger(__name__)

#: Per-call non-blocking send (Linux, BSD, macOS). Elsewhere writes block, bounded by the send timeout.
_DONTWAIT = getattr(socket, "MSG_DONTWAIT", 0)

_FRAMER = FrameProtocol(client=False, extensions=[])
_FRAMER_LOCK = threading.Lock()


def frame_text(text: str) -> bytes:
    """One complete server-to-client text frame (unmasked, no extension) holding ``text``; the same bytes
    serve every connection without a negotiated extension (wsproto builds it)."""
    with _FRAMER_LOCK:  # send_data keeps a little state between the fragments of a message
        return _FRAMER.send_data(text, fin=True)


#: Bytes joined into one write at most (a slow client's backlog is written in pieces, never copied whole).
_WRITE_CHUNK = 256 * 1024


class _Queue:
    """The ordered, bounded message queue shared by the outlets (items, event counts, drop-oldest).

    Bounded in messages (``limit``) and in bytes (``max_bytes``): batch messages are large."""

    def __init__(self, limit: int, max_bytes: int) -> None:
        self.items: Deque[Tuple[Any, int]] = collections.deque()
        self.limit = limit
        self.max_bytes = max_bytes
        self.bytes = 0
        self.dropped = 0  # data events dropped because the client did not keep up
        self.queued = 0  # messages accepted
        self.since: float = 0.0  # monotonic time the current backlog began (the queue was empty before it)
        self.closed = False
        self.lock = threading.RLock()  # simple-websocket writes (close) may come while a caller holds it

    def add(self, items: List[Any], events: int, keep_head: bool) -> None:
        """Append ``items`` (their data events counted on the first); callers hold ``lock``."""
        q = self.items
        if not q:
            self.since = time.monotonic()
        for i, item in enumerate(items):
            q.append((item, events if i == 0 else 0))
            self.bytes += len(item)
        self.queued += len(items)
        if len(q) > self.limit or self.bytes > self.max_bytes:
            head = q.popleft() if keep_head else None  # partly written: it stays
            while q and (len(q) + (head is not None) > self.limit or self.bytes > self.max_bytes):
                item, n = q.popleft()
                self.bytes -= len(item)
                self.dropped += n
            if head is not None:
                q.appendleft(head)

    def merge_head(self) -> None:
        """Join queued items into one write of at most about ``_WRITE_CHUNK`` bytes (callers hold ``lock``)."""
        q = self.items
        if len(q) < 2 or len(q[0][0]) >= _WRITE_CHUNK:
            return
        parts, events, size = [], 0, 0
        while q and size < _WRITE_CHUNK:
            item, n = q.popleft()
            parts.append(item)
            events += n
            size += len(item)
        q.appendleft((b"".join(parts), events))

    def lag(self) -> float:
        """Seconds the current backlog has waited (0 when nothing is queued): an upper bound of the age of
        the oldest queued message."""
        return time.monotonic() - self.since if self.items else 0.0

    def pop(self) -> None:
        self.bytes -= len(self.items.popleft()[0])

    def clear(self) -> None:
        self.items.clear()
        self.bytes = 0


class _QueueFigures:
    """What both outlets report about their :class:`_Queue` (``self._q``)."""

    _q: _Queue

    @property
    def closed(self) -> bool:
        return self._q.closed

    @property
    def pending(self) -> int:
        return len(self._q.items)

    @property
    def lag(self) -> float:
        """Seconds the oldest queued message has waited (see :meth:`_Queue.lag`)."""
        return self._q.lag()

    @property
    def dropped(self) -> int:
        return self._q.dropped

    @property
    def queued(self) -> int:
        return self._q.queued


class SocketOutlet(_QueueFigures):
    """Non-blocking, ordered writes of text messages to one ``simple_websocket`` connection.

    Install it with :meth:`install` right after the upgrade: it then replaces ``ws.sock``.

    :param ws: the accepted ``simple_websocket.Server``.
    :param shared_frames: ``True`` when no extension was negotiated: the relay's shared frames are written as
        they are; ``False`` (permessage-deflate): each text is framed by this connection's protocol state.
    :param limit: queued messages before the oldest are dropped.
    :param send_timeout: seconds without a byte taken before the client counts as gone.
    :param max_bytes: queued bytes before the oldest messages are dropped.
    """

    def __init__(self, ws: Any, shared_frames: bool, limit: int = 10_000, send_timeout: float = 10.0,
                 max_bytes: int = 8 * 1024 * 1024) -> None:
        raw = ws.sock
        self._sock: socket.socket = getattr(raw, "_sock", raw)  # under serving.LockedSocket
        self._ws = ws
        self.shared_frames = shared_frames
        self.send_timeout = send_timeout
        self._q = _Queue(limit, max_bytes)
        self._offset = 0  # bytes of the head item already written
        self._stuck_since: Optional[float] = None
        self.write_lock = self._q.lock  # what serving's LockedSocket users expect to find
        self.muted = False

    def install(self) -> "SocketOutlet":
        """Route every later write on the connection (simple-websocket's pongs and close) through this outlet."""
        self._sock.settimeout(None)  # MSG_DONTWAIT needs a plain blocking socket (no Python-level timeout)
        self._ws.sock = self
        return self

    # -- the socket interface simple-websocket uses
    def send(self, data: bytes) -> int:
        self.sendall(data)
        return len(data)

    def sendall(self, data: bytes) -> None:
        """Queue raw bytes (complete frames from simple-websocket) and write what the socket takes now."""
        with self._q.lock:
            if self._q.closed:
                raise BrokenPipeError("the client is gone")
            self._q.items.append((bytes(data), 0))
            self._q.bytes += len(data)
        self.flush()

    def __getattr__(self, name: str) -> Any:
        return getattr(self._sock, name)

    # -- the relay's interface
    def put_frames(self, frames: List[bytes], events: int = 0) -> None:
        """Queue shared frames (from :func:`frame_text`); ``events`` data events travel in them."""
        with self._q.lock:
            if not self._q.closed:
                self._q.add(frames, events, self._offset > 0)

    def write_frames(self, frames: List[bytes], events: int = 0) -> bool:
        """:meth:`put_frames` then :meth:`flush` under one lock hold; returns what :meth:`flush` returns."""
        with self._q.lock:
            if self._q.closed:
                return True
            self._q.add(frames, events, self._offset > 0)
            return self.flush()

    def put_texts(self, texts: List[str], events: int = 0) -> None:
        """Queue texts, framed here (with this connection's extensions)."""
        with self._q.lock:
            if self._q.closed:
                return
            if self.shared_frames:
                frames = [frame_text(t) for t in texts]
            else:
                frames = [self._ws.ws.send(TextMessage(data=t)) for t in texts]
            self._q.add(frames, events, self._offset > 0)

    def flush(self) -> bool:
        """Write what the socket takes now (never blocks where ``MSG_DONTWAIT`` exists).

        :returns: ``True`` when nothing is left queued.
        """
        q = self._q
        with q.lock:
            items = q.items
            while items and not q.closed:
                if self._offset == 0:  # one write for many queued messages
                    q.merge_head()
                data = items[0][0]
                view = memoryview(data)[self._offset:] if self._offset else data
                try:
                    if _DONTWAIT:
                        sent = self._sock.send(view, _DONTWAIT)
                    else:  # pragma: no cover - platforms without MSG_DONTWAIT (Windows): bounded by SO_SNDTIMEO
                        self._sock.sendall(view)
                        sent = len(view)
                except (BlockingIOError, InterruptedError):
                    sent = 0
                except OSError as exc:
                    logger.debug("relay: write failed: %s", exc)
                    self._close_locked()
                    return True
                if sent:
                    self._stuck_since = None
                if sent < len(view):
                    self._offset += sent
                    if self._stuck_since is None:
                        self._stuck_since = time.monotonic()
                    return False
                q.pop()
                self._offset = 0
            return True

    def discard_unsent(self) -> None:
        """Drop the queued messages not begun yet (one partly written is kept: frames must stay whole)."""
        with self._q.lock:
            q = self._q
            head = q.items.popleft() if q.items and self._offset else None
            q.clear()
            if head is not None:
                q.items.append(head)
                q.bytes += len(head[0])

    def drain(self, seconds: float) -> bool:
        """Write what is queued, waiting up to ``seconds`` for a client that reads; ``True`` when all is out."""
        deadline = time.monotonic() + seconds
        while not self.flush():
            if self.closed or time.monotonic() > deadline:
                return False
            time.sleep(0.01)
        return True

    def check_stuck(self, now: float) -> bool:
        """Close the outlet when it took no byte for ``send_timeout`` seconds; ``True`` when closed."""
        since = self._stuck_since
        if since is not None and now - since > self.send_timeout:
            with self._q.lock:
                self._close_locked()
            logger.info("relay: a client took nothing for %.0f s; closing it", self.send_timeout)
        return self._q.closed

    def close(self) -> None:
        """Discard everything queued; later writes are refused."""
        with self._q.lock:
            self._close_locked()

    def _close_locked(self) -> None:
        first = not self._q.closed
        self._q.closed = True
        self._q.clear()
        self._offset = 0
        if first and self._ws is not None and getattr(self._ws, "sock", None) is self:
            try:  # the connection ends with the outlet: its reader sees EOF, its session ends at once
                self._sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass


class CallbackOutlet(_QueueFigures):
    """Hands queued texts to ``send(texts)`` (one call per flush, in order) from the relay's fan-out thread.

    :param send: called with a list of texts; may raise when its destination is gone (the outlet closes).
    :param limit: queued texts before the oldest are dropped.
    """

    shared_frames = False

    def __init__(self, send: Callable[[List[str]], Any], limit: int = 10_000,
                 max_bytes: int = 8 * 1024 * 1024) -> None:
        self._send = send
        self._q = _Queue(limit, max_bytes)
        self._busy = threading.Lock()  # one flush at a time keeps the order

    def put_frames(self, frames: List[bytes], events: int = 0) -> None:  # pragma: no cover - never shared
        raise TypeError("a CallbackOutlet takes texts")

    def put_texts(self, texts: List[str], events: int = 0) -> None:
        with self._q.lock:
            if not self._q.closed:
                self._q.add(texts, events, False)

    def flush(self) -> bool:
        with self._busy:
            with self._q.lock:
                if self._q.closed or not self._q.items:
                    return True
                batch = [item for item, _ in self._q.items]
                self._q.clear()
            try:
                self._send(batch)
            except Exception as exc:
                logger.debug("relay: send failed: %s", exc)
                self.close()
        return True

    def check_stuck(self, now: float) -> bool:
        return self._q.closed

    def close(self) -> None:
        with self._q.lock:
            self._q.closed = True
            self._q.clear()
