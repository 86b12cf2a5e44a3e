"""StreamRelay: one upstream provider stream fanned out to many local WebSocket clients.

The relay owns one upstream per market (a :class:`polygon.websocket.PolygonWebSocketClient` on that
market's socket, or anything with its ``connect / listen / disconnect / subscribe / unsubscribe / get_status``
methods, such as the Redis fan-out's :class:`~polygon.polygon_server.redis_fanout.RedisUpstream`), created and
connected on the market's first subscription and disconnected when the last local client leaves. A subscribe
message names its ``market``, or its tickers' prefix decides (``X:`` crypto, ``C:`` forex, ``I:`` indices,
``O:`` options, none: stocks); one message holds one market's tickers. Every local client is one named
subscription of each upstream (``relay:<client_id>``), so the stream client's
:class:`~polygon.websocket.subscriptions.SubscriptionBook` does the reference counting: the provider is asked for
``T.AAPL`` once, however many local clients want it.

Every named subscription has the same callback, so the upstream hands each event to the relay once. One
fan-out thread takes what arrived since its last pass and routes it with a precomputed table: clients with
the same subscription set form a group; an event is encoded once, a group's message (one ``batch`` message,
or one frame per event) is built once and the same bytes are queued on every client of the group (see
:mod:`polygon.polygon_server.outlet`). Writes are non-blocking from that thread; there is no thread per
client. Each client's queue is bounded (drop-oldest, counted), so a slow browser tab never slows the upstream
or the other clients.
"""

import collections
import inspect
import json
import logging
import math
import re
import threading
import time
from typing import Any, Callable, Deque, Dict, FrozenSet, List, Optional, Sequence, Tuple, Union

from polygon.core import json_codec
from polygon.exceptions import InvalidInputError, InvalidSymbolError, PolygonError, SubscriptionError
from polygon.polygon_server.outlet import CallbackOutlet, frame_text
from polygon.websocket.subscriptions import MARKETS

__all__ = ["CLIENT_ID_PATTERN", "MAX_BATCH", "RelayClient", "StreamRelay"]

logger = logging.getLogger(__name__)

#: Allowed ``client_id`` values of ``/ws/{client_id}``.
CLIENT_ID_PATTERN = re.compile(r"^[A-Za-z0-9_.-]{1,64}$")
#: Most events in one ``batch`` message.
MAX_BATCH = 2000
#: Events waiting for the fan-out thread before the oldest are dropped (counted).
_MAX_PENDING = 200_000
#: Seconds the fan-out thread waits between retries of writes a client's socket did not take.
_RETRY = 0.005
#: Least seconds between two fan-out passes: events arriving meanwhile share the pass (fewer, larger writes:
#: one write per client per pass however many upstream frames arrived), at the cost of this much latency.
_COALESCE = 0.01

Key = Tuple[Any, Any]


class RelayClient:
    """One local client: its outlet (ordered, bounded queue of messages), mode and subscription keys.

    :param client_id: the id from the ``/ws/{client_id}`` path.
    :param outlet: a :class:`~polygon.polygon_server.outlet.SocketOutlet` or
        :class:`~polygon.polygon_server.outlet.CallbackOutlet`.
    :param batch: ``True``: events arrive as ``{"type": "batch", "events": [...]}`` messages.
    """

    def __init__(self, client_id: str, outlet: Any, batch: bool = False,
                 on_backlog: Optional[Callable[[Any], None]] = None) -> None:
        self.client_id = client_id
        self._on_backlog = on_backlog
        self.subscription_id = "relay:" + client_id
        self.outlet = outlet
        self.batch = bool(batch)
        self.connected_at = time.time()
        self.keys: FrozenSet[Key] = frozenset()
        self.replaced = False  # another session took this client id over

    def push(self, message: Dict[str, Any]) -> None:
        """Queue one control message and write what the socket takes now (never blocks)."""
        self.outlet.put_texts([_dumps(message)])
        if not self.outlet.flush() and self._on_backlog is not None:
            self._on_backlog(self.outlet)  # the rest is written by the relay's fan-out thread

    @property
    def sent(self) -> int:
        """Messages queued for this client (control messages and data messages)."""
        return self.outlet.queued

    @property
    def dropped(self) -> int:
        """Data events dropped because the client did not keep up."""
        return self.outlet.dropped

    @property
    def pending(self) -> int:
        """Messages not yet written."""
        return self.outlet.pending

    @property
    def lag(self) -> float:
        """Seconds the oldest message queued for this client has waited (0 when none is queued)."""
        return self.outlet.lag

    @property
    def closed(self) -> bool:
        """``True`` once closed, replaced, or once a write failed (the client is gone or stopped reading)."""
        return self.outlet.closed

    def close(self, timeout: float = 0.0) -> None:
        """Discard what is queued; later messages are refused (``timeout`` is accepted for compatibility)."""
        self.outlet.close()


class _Group:
    """Clients with the same subscription set, split by mode (tuples: a snapshot the fan-out thread reads)."""

    __slots__ = ("keys", "wild", "batch", "single")

    def __init__(self, keys: FrozenSet[Key], batch: Tuple[Any, ...], single: Tuple[Any, ...]) -> None:
        self.keys = keys
        self.wild = frozenset(ch for ch, sym in keys if sym == "*")
        self.batch = batch
        self.single = single

    def wants(self, key: Key) -> bool:
        return key in self.keys or key[0] in self.wild


class _Plan:
    """Immutable routing snapshot: the groups and, per ``(channel, symbol)``, the groups that want it."""

    def __init__(self, clients: Sequence[RelayClient]) -> None:
        by_keys: Dict[FrozenSet[Key], Tuple[List[Any], List[Any]]] = {}
        for c in clients:
            if c.keys:
                pair = by_keys.setdefault(c.keys, ([], []))
                pair[0 if c.batch else 1].append(c.outlet)
        self.groups = [_Group(k, tuple(b), tuple(s)) for k, (b, s) in by_keys.items()]
        self.outlets = tuple(c.outlet for c in clients)
        self.cache: Dict[Key, Tuple[int, ...]] = {}

    def route(self, key: Key) -> Tuple[int, ...]:
        found = tuple(i for i, g in enumerate(self.groups) if g.wants(key))
        self.cache[key] = found
        return found


#: Longest a client waits for a handshake another client started (the stream client's own timeouts are shorter).
_HANDSHAKE_WAIT = 120.0


class _Attempt:
    """One upstream handshake and its outcome, for the clients waiting on it."""

    def __init__(self) -> None:
        self.done = threading.Event()
        self.result: Any = None
        self.error: Optional[BaseException] = None


class _Market:
    """One market's upstream: the connection, its watcher thread, the handshake in progress, the last error."""

    __slots__ = ("name", "upstream", "watcher", "attempt", "error")

    def __init__(self, name: str) -> None:
        self.name = name
        self.upstream: Any = None
        self.watcher: Optional[threading.Thread] = None
        self.attempt: Optional[_Attempt] = None
        self.error: Optional[str] = None


#: ``polygon.markets.symbols.market_of`` names -> the provider's stream sockets
#: (:data:`polygon.websocket.subscriptions.MARKETS`).
_PREFIX_MARKETS = {"fx": "forex"}


class StreamRelay:
    """Fan one upstream stream out to local clients, with reference-counted provider subscriptions.

    :param config: settings for the upstream client (default :func:`polygon.config.get_config`).
    :param client_factory: ``callable(market) -> PolygonWebSocketClient``-like object (the Redis fan-out,
        tests); a factory without parameters serves stocks only.
    :param outbox_size: messages queued per client before the oldest are dropped (outlets also stop at 8 MB).
    :param max_clients: local clients served at once.
    :param feed: the provider feed the upstream clients read, by the official client's names (``"delayed"``,
        ``"business"``...; see :mod:`polygon.websocket.feeds`); default: the feed of the configured URL.
    """

    def __init__(self, config: Any = None, client_factory: Optional[Callable[..., Any]] = None,
                 outbox_size: int = 50_000, max_clients: int = 1000, feed: Optional[str] = None) -> None:
        self.config = config
        self.feed = feed
        self._factory = client_factory
        self.outbox_size = outbox_size
        self.max_clients = max_clients
        self._lock = threading.RLock()  # state only: never held across network waits
        self._markets: Dict[str, _Market] = {name: _Market(name) for name in MARKETS}
        self._clients: Dict[str, RelayClient] = {}
        self._closed = False
        self._plan = _Plan(())
        self._pending: Deque[Dict[str, Any]] = collections.deque()
        self._wake = threading.Event()
        self._retry: Deque[Any] = collections.deque()
        self.events_in = 0  # events received from upstream
        self.events_dropped = 0  # events dropped before fan-out (the fan-out thread fell behind)
        self._fanout = threading.Thread(target=self._run, name="polygon-relay-fanout", daemon=True)
        self._fanout.start()

    # -- local clients ----------------------------------------------------------------------------
    def attach(self, client_id: str, outlet: Union[Any, Callable[[List[str]], Any]],
               batch: bool = False) -> RelayClient:
        """Register a local client. A client already connected with the same id is replaced (its session
        ends and its subscriptions are released): a client that reconnects at once is never refused.

        :param outlet: where its messages go: an outlet, or a ``send(texts)`` callable.
        :param batch: deliver events in ``batch`` messages.
        :raises InvalidInputError: malformed ``client_id``, too many clients, or the relay is shut down.
        """
        if not isinstance(client_id, str) or not CLIENT_ID_PATTERN.match(client_id):
            raise InvalidInputError("invalid client_id %r: use 1-64 letters, digits, '_', '.' or '-'" % (client_id,))
        if callable(outlet) and not hasattr(outlet, "put_texts"):
            outlet = CallbackOutlet(outlet, self.outbox_size)
        client = RelayClient(client_id, outlet, batch, self._retry_later)
        with self._lock:
            if self._closed:
                raise _refused("shutting_down", "the server is shutting down")
            old = self._clients.pop(client_id, None)
            if old is None and len(self._clients) >= self.max_clients:
                raise _refused("too_many_clients", "too many local clients (%d); close one first" % self.max_clients)
            if old is not None:
                self._release(old)
            self._clients[client_id] = client
            self._replan()
        if old is not None:
            old.replaced = True
            old.close()
            logger.info("relay: client %s reconnected; the previous session is replaced", client_id)
        else:
            logger.info("relay: client %s connected", client_id)
        return client

    def detach(self, client: RelayClient) -> None:
        """Remove a local client and release the provider subscriptions only it needed; the last client
        leaving disconnects the upstream (decided and done under one lock hold, so a client subscribing at
        that moment gets a fresh upstream rather than a dying one)."""
        ended: List[Tuple[Any, Optional[threading.Thread]]] = []
        with self._lock:
            if self._clients.get(client.client_id) is not client:
                client.close()
                return
            del self._clients[client.client_id]
            if self._clients:
                self._release(client)
            else:
                ended = self._take_upstreams()
            self._replan()
        client.close()
        logger.info("relay: client %s disconnected (%d messages, %d events dropped)", client.client_id,
                    client.sent, client.dropped)
        for upstream, watcher in ended:
            _disconnect(upstream, watcher)

    def _take_upstreams(self) -> List[Tuple[Any, Optional[threading.Thread]]]:
        """Detach every market's upstream from the relay (under ``_lock``); the caller disconnects them."""
        out = []
        for m in self._markets.values():
            if m.upstream is not None:
                out.append((m.upstream, m.watcher))
                m.upstream = m.watcher = None
        return out

    def _release(self, client: RelayClient) -> None:
        """Drop ``client``'s upstream subscription (under ``_lock``)."""
        client.keys = frozenset()
        for m in self._markets.values():
            if m.upstream is not None:
                try:
                    m.upstream.unsubscribe(None, None, subscription_id=client.subscription_id)
                except SubscriptionError:
                    pass  # it never subscribed there

    def subscribe(self, client: RelayClient, symbols: Sequence[str], channels: Sequence[str],
                  market: Optional[str] = None) -> Dict[str, Any]:
        """Subscribe ``client`` to ``channels`` of ``symbols`` (connects the market's upstream on first use).

        :param market: ``stocks``, ``options``, ``forex``, ``crypto`` or ``indices``; default: the tickers'
            prefix decides (``'*'`` alone: stocks).
        :returns: the ``subscribed`` reply.
        :raises SubscriptionError: bad symbols or channels, or tickers of several markets.
        :raises PolygonError: the upstream stream could not be connected, or the server is shutting down.
        """
        market = self._market_for(symbols, market)
        for _ in range(3):  # bounded: an upstream that ends between the handshake and the subscribe is redone
            upstream = self._ensure_upstream(market)
            with self._lock:
                self._check_open(client)
                if self._markets[market].upstream is not upstream:
                    continue
                upstream.subscribe(list(symbols), list(channels), self._on_event, client.subscription_id)
                self._refresh_keys(client)
            reply = {"type": "subscribed", "symbols": _upper(symbols), "channels": list(channels)}
            if market != "stocks":
                reply["market"] = market
            return reply
        raise PolygonError("the provider stream keeps closing; try again later")

    def unsubscribe(self, client: RelayClient, symbols: Sequence[str],
                    channels: Optional[Sequence[str]] = None, market: Optional[str] = None) -> Dict[str, Any]:
        """Remove ``symbols`` (on ``channels``, default all) from ``client``'s subscription on ``market``
        (default: the tickers' prefix decides).

        :returns: the ``unsubscribed`` reply.
        :raises SubscriptionError: bad symbols or channels, or nothing subscribed yet.
        """
        market = self._market_for(symbols, market)
        with self._lock:
            self._check_open(client)
            upstream = self._markets[market].upstream
            mine = None if upstream is None else upstream.get_status()["subscription_ids"].get(
                client.subscription_id)
            if not mine:
                where = "" if market == "stocks" else " on the %s stream" % market
                raise SubscriptionError("you have no subscriptions%s: subscribe first" % where)
            upstream.unsubscribe(list(symbols), None if channels is None else list(channels),
                                 subscription_id=client.subscription_id)
            self._refresh_keys(client)
        reply: Dict[str, Any] = {"type": "unsubscribed", "symbols": _upper(symbols)}
        if channels is not None:
            reply["channels"] = list(channels)
        if market != "stocks":
            reply["market"] = market
        return reply

    @staticmethod
    def _market_for(symbols: Sequence[str], market: Optional[str]) -> str:
        """The one market of a message: ``market`` when given, else its tickers' prefix.

        :raises SubscriptionError: unknown market, or tickers of several markets.
        """
        from polygon.markets.symbols import market_of

        if market is not None:
            if market not in MARKETS:
                raise SubscriptionError("unknown market %r; allowed: %s" % (market, ", ".join(MARKETS)))
            return market
        found = set()
        for sym in symbols:
            if not isinstance(sym, str) or sym.strip() == "*":
                continue
            try:
                name = market_of(sym.strip())
            except InvalidSymbolError:
                continue  # the upstream's own check says what is wrong with it
            found.add(_PREFIX_MARKETS.get(name, name))
        if len(found) > 1:
            raise SubscriptionError("tickers of several markets (%s) in one message: send one message per market"
                                    % ", ".join(sorted(found)))
        return found.pop() if found else "stocks"

    def _refresh_keys(self, client: RelayClient) -> None:
        """Copy ``client``'s pairs from the upstreams' books (the one source of truth) and rebuild routing."""
        keys = set()
        for m in self._markets.values():
            if m.upstream is not None:
                mine = m.upstream.get_status()["subscription_ids"].get(client.subscription_id) or {}
                keys.update((ch, sym) for sym, chs in mine.items() for ch in chs)
        client.keys = frozenset(keys)
        self._replan()

    @property
    def _upstream(self) -> Any:
        """The stocks stream's upstream (``None`` when not connected)."""
        return self._markets["stocks"].upstream

    def _replan(self) -> None:
        self._plan = _Plan(tuple(self._clients.values()))

    def _check_open(self, client: RelayClient) -> None:
        if self._closed:
            raise PolygonError("the server is shutting down")
        if self._clients.get(client.client_id) is not client:
            raise PolygonError("this client is disconnected")

    # -- fan-out ------------------------------------------------------------------------------------
    def _on_event(self, event: Dict[str, Any]) -> None:
        """The upstream callback (its dispatcher thread): hand the event to the fan-out thread."""
        pending = self._pending
        if len(pending) >= _MAX_PENDING:
            pending.popleft()
            self.events_dropped += 1
        pending.append(event)
        self.events_in += 1
        if not self._wake.is_set():
            self._wake.set()

    def _retry_later(self, outlet: Any) -> None:
        """``outlet`` holds what its socket did not take: the fan-out thread retries it."""
        self._retry.append(outlet)
        self._wake.set()

    def _run(self) -> None:
        backlog: Dict[Any, None] = {}  # outlets holding what their socket did not take yet (ordered set)
        last_check = time.monotonic()
        retry = self._retry
        last_pass = 0.0
        while not self._closed:
            self._wake.wait(_RETRY if backlog else 0.5)
            wait = last_pass + _COALESCE - time.monotonic()
            if wait > 0:
                time.sleep(wait)
            last_pass = time.monotonic()
            self._wake.clear()
            try:
                while retry:
                    backlog[retry.popleft()] = None
                pending = self._pending
                n = len(pending)
                if n:
                    events = [pending.popleft() for _ in range(n)]
                    for outlet in self._fan_out(events, self._plan):
                        backlog[outlet] = None
                for outlet in list(backlog):
                    if outlet.flush() or outlet.closed:
                        del backlog[outlet]
                now = time.monotonic()
                if backlog and now - last_check > 0.25:
                    last_check = now
                    for outlet in list(backlog):
                        if outlet.check_stuck(now):
                            del backlog[outlet]
            except Exception:  # a bug here must not stop every client's stream
                logger.exception("relay: fan-out failed; events skipped")

    def _fan_out(self, events: List[Dict[str, Any]], plan: _Plan) -> List[Any]:
        """Queue ``events`` on every client that wants them; returns the outlets written to."""
        cache = plan.cache
        routed: Dict[int, List[int]] = {}
        for i, event in enumerate(events):
            key = (event.get("channel"), event.get("symbol"))
            groups = cache.get(key)
            if groups is None:
                groups = plan.route(key)
            for g in groups:
                idx = routed.get(g)
                if idx is None:
                    routed[g] = [i]
                else:
                    idx.append(i)
        if not routed:
            return []
        texts: List[Optional[str]] = [None] * len(events)
        frames: List[Optional[bytes]] = [None] * len(events)
        behind: List[Any] = []
        for g, idx in routed.items():
            group = plan.groups[g]
            for i in idx:
                if texts[i] is None:
                    texts[i] = _event_json(events[i])
            if group.batch:
                for start in range(0, len(idx), MAX_BATCH):
                    chunk = idx[start:start + MAX_BATCH]
                    text = '{"type":"batch","events":[%s]}' % ",".join([texts[i] for i in chunk])  # type: ignore
                    _deliver(group.batch, [text], None, len(chunk), behind)
            if group.single:
                wrapped = [_data_message(events[i], texts[i]) for i in idx]  # type: ignore[arg-type]
                shared = None
                if any(o.shared_frames for o in group.single):
                    shared = []
                    for i, text in zip(idx, wrapped):
                        if frames[i] is None:
                            frames[i] = frame_text(text)
                        shared.append(frames[i])
                _deliver(group.single, wrapped, shared, len(idx), behind)
        return behind

    # -- upstream -------------------------------------------------------------------------------------
    def _ensure_upstream(self, market: str = "stocks") -> Any:
        """The connected upstream of ``market``, connecting it first if needed (never under ``_lock``). Clients
        that ask while a handshake runs share its outcome instead of queueing handshakes of their own."""
        m = self._markets[market]
        with self._lock:
            if self._closed:
                raise PolygonError("the server is shutting down")
            if m.upstream is not None:
                return m.upstream
            attempt = m.attempt
            leader = attempt is None
            if leader:
                attempt = m.attempt = _Attempt()
        if not leader:
            if not attempt.done.wait(_HANDSHAKE_WAIT):
                raise PolygonError("the provider stream did not answer within %.0f s" % _HANDSHAKE_WAIT)
            if attempt.error is not None:
                raise attempt.error
            return attempt.result
        try:
            upstream = self._connect_new(m)
        except BaseException as exc:
            attempt.error = exc
            raise
        else:
            attempt.result = upstream
        finally:
            with self._lock:
                m.attempt = None
            attempt.done.set()
        message = {"type": "status", "status": "upstream_connected", "message": "provider stream connected"}
        if market != "stocks":
            message["message"] = "provider %s stream connected" % market
        self._broadcast(message)
        return upstream

    def _make(self, market: str) -> Any:
        factory = self._factory
        if factory is None:
            from polygon.websocket import PolygonWebSocketClient

            return PolygonWebSocketClient(config=self.config, market=market, feed=self.feed)
        try:
            takes_market = bool(inspect.signature(factory).parameters)
        except (TypeError, ValueError):  # a builtin or an odd callable: assume the documented form
            takes_market = True
        if takes_market:
            return factory(market)
        if market != "stocks":
            raise SubscriptionError("this relay serves the stocks stream only, not %s" % market)
        return factory()

    def _connect_new(self, m: _Market) -> Any:
        upstream = self._make(m.name)
        upstream.connect()  # raises PolygonAuthenticationError / MaxConnectionsError / StreamConnectionError
        with self._lock:
            if self._closed or not self._clients:  # shut down, or everyone left during the handshake
                reason = "the server is shutting down" if self._closed else "this client is disconnected"
            else:
                reason = None
                m.upstream, m.error = upstream, None
                m.watcher = threading.Thread(target=self._watch, args=(m, upstream),
                                             name="polygon-relay-upstream-%s" % m.name, daemon=True)
                m.watcher.start()
        if reason is not None:
            upstream.disconnect()
            raise PolygonError(reason)
        return upstream

    def _watch(self, m: _Market, upstream: Any) -> None:
        """Wait for the upstream session to end; tell the clients when it ended on its own."""
        error = None
        try:
            upstream.listen()
        except PolygonError as exc:
            error = str(exc)
        with self._lock:
            if m.upstream is not upstream:
                return  # stopped on purpose
            m.upstream = m.watcher = None
            m.error = error or "provider stream closed"
            for client in self._clients.values():
                self._refresh_keys(client)
        where = "" if m.name == "stocks" else " (%s)" % m.name
        logger.warning("relay: upstream stream%s ended: %s", where, m.error)
        self._broadcast({"type": "status", "status": "upstream_disconnected",
                         "message": "%s%s; subscribe again to reconnect" % (m.error, where)})

    def _broadcast(self, message: Dict[str, Any]) -> None:
        with self._lock:
            clients = list(self._clients.values())
        for client in clients:
            client.push(message)

    # -- status / shutdown ----------------------------------------------------------------------------
    def status(self) -> Dict[str, Any]:
        """Clients, their subscriptions and counters, the upstream's provider subscriptions, and ``feed`` when the
        relay names one."""
        with self._lock:
            clients = list(self._clients.values())
            markets = {name: (m.upstream, m.error) for name, m in self._markets.items()}
        statuses = {name: upstream.get_status() for name, (upstream, _e) in markets.items() if upstream is not None}
        named: Dict[str, Dict[str, List[str]]] = {}
        for st in statuses.values():
            for sub_id, subs in (st.get("subscription_ids") or {}).items():
                named.setdefault(sub_id, {}).update(subs)
        up, error = statuses.get("stocks"), markets["stocks"][1]
        out = {
            "clients": {
                c.client_id: {
                    "connected_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(c.connected_at)),
                    "subscriptions": named.get(c.subscription_id, {}),
                    "batch": c.batch,
                    "sent": c.sent,
                    "dropped": c.dropped,
                    "pending": c.pending,
                    "lag_ms": round(c.lag * 1000.0, 1),
                }
                for c in clients
            },
            "upstream": _upstream_status(up, error),
        }
        if self.feed is not None:  # a feed named by the relay (else: the feed of the configured URL)
            out["feed"] = self.feed
        others = {name: _upstream_status(statuses.get(name), markets[name][1]) for name in MARKETS
                  if name != "stocks" and (name in statuses or markets[name][1])}
        if others:
            out["markets"] = others
        return out

    def fanout_status(self) -> Dict[str, int]:
        """Fan-out counters: events received from upstream, dropped before fan-out, distinct subscription sets."""
        return {"events_in": self.events_in, "events_dropped": self.events_dropped,
                "groups": len(self._plan.groups)}

    def close(self, timeout: float = 2.0) -> None:
        """Close every client and disconnect the upstream (idempotent)."""
        with self._lock:
            self._closed = True
            clients = list(self._clients.values())
            self._clients.clear()
            ended = self._take_upstreams()
            self._replan()
        self._wake.set()
        for client in clients:
            client.close()
        for upstream, watcher in ended:
            _disconnect(upstream, watcher)
        if threading.current_thread() is not self._fanout:
            self._fanout.join(timeout)


def _upstream_status(up: Optional[Dict[str, Any]], error: Optional[str]) -> Dict[str, Any]:
    return {
        "connected": bool(up and up.get("connected")),
        "url": (up or {}).get("url"),
        "provider_subscriptions": (up or {}).get("provider_subscriptions", []),
        "message_count": (up or {}).get("message_count", 0),
        "reconnects": (up or {}).get("reconnects", 0),
        "dropped_messages": (up or {}).get("dropped_messages", 0),
        "last_error": error,
    }


def _refused(code: str, message: str) -> InvalidInputError:
    exc = InvalidInputError(message)
    exc.code = code  # type: ignore[attr-defined]  # the WS error code the endpoint sends
    return exc


def _disconnect(upstream: Any, watcher: Optional[threading.Thread]) -> None:
    if upstream is not None:
        upstream.disconnect()
    if watcher is not None and watcher is not threading.current_thread():
        watcher.join(5.0)


def _deliver(outlets: Sequence[Any], texts: List[str], frames: Optional[List[bytes]], events: int,
             behind: List[Any]) -> None:
    """Queue ``texts`` on ``outlets`` and write what each socket takes now; outlets left with a backlog are
    appended to ``behind``. Texts are framed once for every outlet that shares frames."""
    for outlet in outlets:
        if outlet.shared_frames:
            if frames is None:
                frames = [frame_text(t) for t in texts]
            done = outlet.write_frames(frames, events)
        else:
            outlet.put_texts(texts, events)
            done = outlet.flush()
        if not done:
            behind.append(outlet)


def _data_message(event: Dict[str, Any], event_text: str) -> str:
    """The per-event ``data`` message around an already encoded event."""
    return '{"type":"data","channel":%s,"symbol":%s,"data":%s}' % (
        _scalar(event.get("channel")), _scalar(event.get("symbol")), event_text)


_QUOTED: Dict[Any, str] = {}


def _scalar(value: Any) -> str:
    """JSON of a channel or symbol (memoised: a stream has few distinct ones)."""
    text = _QUOTED.get(value)
    if text is None:
        text = json.dumps(value)
        if len(_QUOTED) < 100_000:
            _QUOTED[value] = text
    return text


def _event_json(event: Dict[str, Any]) -> str:
    """Strict JSON for one event: NaN and infinities (which a browser's ``JSON.parse`` rejects) become null."""
    if json_codec.BACKEND == "orjson":
        return json_codec.dumps(event).decode("utf-8")  # orjson writes NaN / Infinity as null
    try:
        return json.dumps(event, separators=(",", ":"), allow_nan=False)
    except ValueError:
        clean = {k: (None if isinstance(v, float) and not math.isfinite(v) else v) for k, v in event.items()}
        return json.dumps(clean, separators=(",", ":"), allow_nan=False)


def _dumps(message: Dict[str, Any]) -> str:
    return json.dumps(message, separators=(",", ":"), allow_nan=False)


def _upper(symbols: Sequence[str]) -> List[str]:
    return [s.strip().upper() if isinstance(s, str) else s for s in symbols]
