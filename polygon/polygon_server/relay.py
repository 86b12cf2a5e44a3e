"""StreamRelay: one upstream provider stream fanned out to many local WebSocket clients.

The relay owns one :class:`polygon.websocket.PolygonWebSocketClient` (created and connected on the first
subscription, disconnected when the last local client leaves). Every local client is one named subscription
of that client (``relay:<client_id>``), so the stream client's :class:`~polygon.subscriptions.SubscriptionBook`
does the reference counting: the provider is asked for ``T.AAPL`` once, however many local clients want it,
and released when the last one unsubscribes or disconnects.

Events reach a local client through its own bounded outbox (drop-oldest, counted) and sender thread, so a slow
browser tab never slows the upstream reader or the other clients. The relay does no socket I/O itself: a
client is attached with a ``send(text)`` callable (the server passes the WebSocket's send).
"""

import collections
import json
import logging
import math
import re
import threading
import time
from typing import Any, Callable, Deque, Dict, List, Optional, Sequence, Tuple

from polygon.exceptions import InvalidInputError, PolygonError, SubscriptionError

__all__ = ["CLIENT_ID_PATTERN", "RelayClient", "StreamRelay"]

logger = logging.getLogger(__name__)

#: Allowed ``client_id`` values of ``/ws/{client_id}``.
CLIENT_ID_PATTERN = re.compile(r"^[A-Za-z0-9_.-]{1,64}$")


class RelayClient:
    """One local WebSocket client: its outbox, sender thread and counters.

    :param client_id: the id from the ``/ws/{client_id}`` path.
    :param send: writes a list of text messages, in order, to the client's socket (may raise when the socket
        is gone); called with everything queued at once, so a busy client costs one write per batch.
    :param outbox_size: messages queued for a slow client before the oldest are dropped (at most this many
        more are in the batch being written).
    """

    def __init__(self, client_id: str, send: Callable[[List[str]], Any], outbox_size: int = 10_000,
                 encoder: Optional[Callable[[Dict[str, Any]], str]] = None) -> None:
        self.client_id = client_id
        self.subscription_id = "relay:" + client_id
        self.connected_at = time.time()
        self.sent = 0
        self.dropped = 0
        self._send = send
        self._encode_event = encoder or _event_text
        self._outbox: Deque[str] = collections.deque()
        self._oldest_at: Optional[float] = None  # monotonic time the oldest queued message was queued
        self._outbox_size = outbox_size
        self._cond = threading.Condition()
        self._closed = False
        self._thread = threading.Thread(target=self._run, name="polygon-relay-%s" % client_id, daemon=True)
        self._thread.start()

    def push(self, message: Dict[str, Any]) -> None:
        """Queue one message (never blocks; the oldest queued message is dropped when the outbox is full)."""
        self.push_text(json.dumps(message, separators=(",", ":")))

    def push_text(self, text: str) -> None:
        """Queue one encoded message (see :meth:`push`)."""
        with self._cond:
            if self._closed:
                return
            if len(self._outbox) >= self._outbox_size:
                self._outbox.popleft()
                self.dropped += 1
            if not self._outbox:
                self._oldest_at = time.monotonic()
            self._outbox.append(text)
            self._cond.notify()

    def push_event(self, event: Dict[str, Any]) -> None:
        """The upstream callback: wrap a normalised stream event in the server's ``data`` message."""
        self.push_text(self._encode_event(event))

    def _run(self) -> None:
        while True:
            with self._cond:
                while not self._outbox and not self._closed:
                    self._cond.wait(1.0)
                if self._closed:
                    return
                batch = list(self._outbox)
                self._outbox.clear()
                self._oldest_at = None
            try:
                self._send(batch)
            except Exception as exc:  # the socket is gone: the server's receive loop ends the session
                logger.debug("relay client %s: send failed: %s", self.client_id, exc)
                with self._cond:
                    self._closed = True
                return
            self.sent += len(batch)

    def close(self, timeout: float = 2.0) -> None:
        """Stop the sender thread (messages still queued are discarded); wait up to ``timeout`` seconds."""
        with self._cond:
            self._closed = True
            self._outbox.clear()
            self._cond.notify_all()
        self.join(timeout)

    def join(self, timeout: float) -> None:
        """Wait for the sender thread to end (it may be stuck writing to an unresponsive socket)."""
        if timeout > 0 and threading.current_thread() is not self._thread:
            self._thread.join(timeout)

    @property
    def closed(self) -> bool:
        """``True`` once closed, or once a write failed (the socket is gone or the client stopped reading)."""
        return self._closed

    @property
    def pending(self) -> int:
        """Messages waiting in the outbox."""
        return len(self._outbox)

    @property
    def lag(self) -> float:
        """Seconds the oldest message still in the outbox has waited (0.0 when it is empty)."""
        oldest = self._oldest_at
        return 0.0 if oldest is None or not self._outbox else max(0.0, time.monotonic() - oldest)


#: Longest a client waits for a handshake another client started (the stream client's own timeouts are shorter).
_HANDSHAKE_WAIT = 120.0


class _Attempt:
    """One upstream handshake and its outcome, for the clients waiting on it."""

    def __init__(self) -> None:
        self.done = threading.Event()
        self.result: Any = None
        self.error: Optional[BaseException] = None


class StreamRelay:
    """Fan one upstream stream out to local clients, with reference-counted provider subscriptions.

    :param config: settings for the upstream client (default :func:`polygon.config.get_config`).
    :param client_factory: ``callable() -> PolygonWebSocketClient``-like object (tests, other markets).
    :param outbox_size: per-client outbox bound, see :class:`RelayClient`.
    :param max_clients: local clients served at once (each costs a few threads).
    """

    def __init__(self, config: Any = None, client_factory: Optional[Callable[[], Any]] = None,
                 outbox_size: int = 10_000, max_clients: int = 100) -> None:
        self.config = config
        self._factory = client_factory
        self.outbox_size = outbox_size
        self.max_clients = max_clients
        self._lock = threading.RLock()  # state only: never held across network waits
        self._attempt: Optional[_Attempt] = None  # the upstream handshake in progress, shared by its waiters
        self._clients: Dict[str, RelayClient] = {}
        self._upstream: Any = None
        self._watcher: Optional[threading.Thread] = None
        self._upstream_error: Optional[str] = None
        self._closed = False
        self._memo_lock = threading.Lock()
        self._memo: Tuple[Any, str] = (None, "")

    def _encode_event(self, event: Dict[str, Any]) -> str:
        """The ``data`` message of ``event``, encoded once however many clients receive it: the upstream
        dispatcher hands each client's callback the same event in turn (a copy, so compared by value)."""
        with self._memo_lock:
            last, text = self._memo
            if last is not None and (event is last or event == last):
                return text
        text = _event_text(event)
        with self._memo_lock:
            self._memo = (event, text)
        return text

    # -- local clients ----------------------------------------------------------------------------
    def attach(self, client_id: str, send: Callable[[List[str]], Any]) -> RelayClient:
        """Register a local client.

        :raises InvalidInputError: malformed or already connected ``client_id``, too many clients, or the
            relay is shut down.
        """
        if not isinstance(client_id, str) or not CLIENT_ID_PATTERN.match(client_id):
            raise InvalidInputError("invalid client_id %r: use 1-64 letters, digits, '_', '.' or '-'" % (client_id,))
        with self._lock:
            if self._closed:
                raise _refused("shutting_down", "the server is shutting down")
            if client_id in self._clients:
                raise _refused("invalid_client_id", "client_id %r is already connected; pick another id" % client_id)
            if len(self._clients) >= self.max_clients:
                raise _refused("too_many_clients", "too many local clients (%d); close one first" % self.max_clients)
            client = self._clients[client_id] = RelayClient(client_id, send, self.outbox_size,
                                                            self._encode_event)
        logger.info("relay: client %s connected", client_id)
        return client

    def detach(self, client: RelayClient) -> None:
        """Remove a local client and release the provider subscriptions only it needed; the last client
        leaving disconnects the upstream (decided and done under one lock hold, so a client subscribing at
        that moment gets a fresh upstream rather than a dying one)."""
        upstream = watcher = None
        with self._lock:
            if self._clients.get(client.client_id) is not client:
                return
            del self._clients[client.client_id]
            if self._upstream is not None:
                if not self._clients:
                    upstream, self._upstream = self._upstream, None
                    watcher, self._watcher = self._watcher, None
                else:
                    try:
                        self._upstream.unsubscribe(None, None, subscription_id=client.subscription_id)
                    except SubscriptionError:
                        pass  # it never subscribed
        client.close()
        logger.info("relay: client %s disconnected (%d sent, %d dropped)", client.client_id, client.sent,
                    client.dropped)
        _disconnect(upstream, watcher)

    def subscribe(self, client: RelayClient, symbols: Sequence[str], channels: Sequence[str]) -> Dict[str, Any]:
        """Subscribe ``client`` to ``channels`` of ``symbols`` (connects upstream on first use).

        :returns: the ``subscribed`` reply.
        :raises SubscriptionError: bad symbols or channels.
        :raises PolygonError: the upstream stream could not be connected, or the server is shutting down.
        """
        for _ in range(3):  # bounded: an upstream that ends between the handshake and the subscribe is redone
            upstream = self._ensure_upstream()
            with self._lock:
                self._check_open(client)
                if self._upstream is not upstream:
                    continue
                upstream.subscribe(list(symbols), list(channels), client.push_event, client.subscription_id)
            return {"type": "subscribed", "symbols": _upper(symbols), "channels": list(channels)}
        raise PolygonError("the provider stream keeps closing; try again later")

    def unsubscribe(self, client: RelayClient, symbols: Sequence[str],
                    channels: Optional[Sequence[str]] = None) -> Dict[str, Any]:
        """Remove ``symbols`` (on ``channels``, default all) from ``client``'s subscription.

        :returns: the ``unsubscribed`` reply.
        :raises SubscriptionError: bad symbols or channels, or nothing subscribed yet.
        """
        with self._lock:
            self._check_open(client)
            upstream = self._upstream
            mine = None if upstream is None else upstream.get_status()["subscription_ids"].get(
                client.subscription_id)
            if not mine:
                raise SubscriptionError("you have no subscriptions: subscribe first")
            upstream.unsubscribe(list(symbols), None if channels is None else list(channels),
                                 subscription_id=client.subscription_id)
        reply: Dict[str, Any] = {"type": "unsubscribed", "symbols": _upper(symbols)}
        if channels is not None:
            reply["channels"] = list(channels)
        return reply

    def _check_open(self, client: RelayClient) -> None:
        if self._closed:
            raise PolygonError("the server is shutting down")
        if self._clients.get(client.client_id) is not client:
            raise PolygonError("this client is disconnected")

    # -- upstream -------------------------------------------------------------------------------------
    def _ensure_upstream(self) -> Any:
        """The connected upstream client, connecting it first if needed (never under ``_lock``). Clients that
        ask while a handshake runs share its outcome instead of queueing handshakes of their own."""
        with self._lock:
            if self._closed:
                raise PolygonError("the server is shutting down")
            if self._upstream is not None:
                return self._upstream
            attempt = self._attempt
            leader = attempt is None
            if leader:
                attempt = self._attempt = _Attempt()
        if not leader:
            if not attempt.done.wait(_HANDSHAKE_WAIT):
                raise PolygonError("the provider stream did not answer within %.0f s" % _HANDSHAKE_WAIT)
            if attempt.error is not None:
                raise attempt.error
            return attempt.result
        try:
            upstream = self._connect_new()
        except BaseException as exc:
            attempt.error = exc
            raise
        else:
            attempt.result = upstream
        finally:
            with self._lock:
                self._attempt = None
            attempt.done.set()
        self._broadcast({"type": "status", "status": "upstream_connected", "message": "provider stream connected"})
        return upstream

    def _connect_new(self) -> Any:
        if self._factory is not None:
            upstream = self._factory()
        else:
            from polygon.websocket import PolygonWebSocketClient

            upstream = PolygonWebSocketClient(config=self.config)
        upstream.connect()  # raises PolygonAuthenticationError / MaxConnectionsError / StreamConnectionError
        with self._lock:
            if self._closed or not self._clients:  # shut down, or everyone left during the handshake
                reason = "the server is shutting down" if self._closed else "this client is disconnected"
            else:
                reason = None
                self._upstream, self._upstream_error = upstream, None
                self._watcher = threading.Thread(target=self._watch, args=(upstream,),
                                                 name="polygon-relay-upstream", daemon=True)
                self._watcher.start()
        if reason is not None:
            upstream.disconnect()
            raise PolygonError(reason)
        return upstream

    def _watch(self, upstream: Any) -> None:
        """Wait for the upstream session to end; tell the clients when it ended on its own."""
        error = None
        try:
            upstream.listen()
        except PolygonError as exc:
            error = str(exc)
        with self._lock:
            if self._upstream is not upstream:
                return  # stopped on purpose
            self._upstream = None
            self._watcher = None
            self._upstream_error = error or "provider stream closed"
        logger.warning("relay: upstream stream ended: %s", self._upstream_error)
        self._broadcast({"type": "status", "status": "upstream_disconnected",
                         "message": "%s; subscribe again to reconnect" % self._upstream_error})

    def _broadcast(self, message: Dict[str, Any]) -> None:
        with self._lock:
            clients = list(self._clients.values())
        for client in clients:
            client.push(message)

    # -- status / shutdown ----------------------------------------------------------------------------
    def status(self) -> Dict[str, Any]:
        """Clients, their subscriptions and counters, and the upstream's provider subscriptions."""
        with self._lock:
            clients = list(self._clients.values())
            upstream = self._upstream
            error = self._upstream_error
        up = upstream.get_status() if upstream is not None else None
        named = (up or {}).get("subscription_ids") or {}
        return {
            "clients": {
                c.client_id: {
                    "connected_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(c.connected_at)),
                    "subscriptions": named.get(c.subscription_id, {}),
                    "sent": c.sent,
                    "dropped": c.dropped,
                    "pending": c.pending,
                    "lag_ms": round(c.lag * 1000.0, 1),
                }
                for c in clients
            },
            "upstream": {
                "connected": bool(up and up.get("connected")),
                "url": (up or {}).get("url"),
                "provider_subscriptions": (up or {}).get("provider_subscriptions", []),
                "message_count": (up or {}).get("message_count", 0),
                "reconnects": (up or {}).get("reconnects", 0),
                "dropped_messages": (up or {}).get("dropped_messages", 0),
                "last_error": error,
            },
        }

    def close(self, timeout: float = 2.0) -> None:
        """Stop every client's sender and disconnect the upstream (idempotent); waits at most about
        ``timeout`` seconds for senders stuck on unresponsive sockets."""
        with self._lock:
            self._closed = True
            clients = list(self._clients.values())
            self._clients.clear()
            upstream, self._upstream = self._upstream, None
            watcher, self._watcher = self._watcher, None
        for client in clients:
            client.close(timeout=0)
        deadline = time.monotonic() + timeout
        for client in clients:
            client.join(max(0.0, deadline - time.monotonic()))
        _disconnect(upstream, watcher)


def _refused(code: str, message: str) -> InvalidInputError:
    exc = InvalidInputError(message)
    exc.code = code  # type: ignore[attr-defined]  # the WS error code the endpoint sends
    return exc


def _disconnect(upstream: Any, watcher: Optional[threading.Thread]) -> None:
    if upstream is not None:
        upstream.disconnect()
    if watcher is not None and watcher is not threading.current_thread():
        watcher.join(5.0)


def _event_text(event: Dict[str, Any]) -> str:
    message = {"type": "data", "channel": event.get("channel"), "symbol": event.get("symbol"), "data": event}
    try:
        return json.dumps(message, separators=(",", ":"), allow_nan=False)
    except ValueError:  # NaN / Infinity from the provider: strict JSON (a browser's JSON.parse) has no such thing
        clean = {k: (None if isinstance(v, float) and not math.isfinite(v) else v) for k, v in event.items()}
        message["data"] = clean
        return json.dumps(message, separators=(",", ":"), allow_nan=False)


def _upper(symbols: Sequence[str]) -> List[str]:
    return [s.strip().upper() if isinstance(s, str) else s for s in symbols]
