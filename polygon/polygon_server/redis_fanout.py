"""Redis fan-out: many relay processes (on this host or others) behind the one provider connection.

Use it when one server process is not enough: more local clients than one process serves, or several hosts
that must share the single stream connection the provider allows per cluster. Each server process runs its
:class:`~polygon.polygon_server.relay.StreamRelay` on a :class:`RedisUpstream` instead of its own provider
connection (``python -m polygon.polygon_server.server --redis redis://host:6379/0``); clients see the same
``/ws/{client_id}`` protocol.

How it works, per market (``{ns}`` below is ``{namespace}:{market}``, namespace ``polygon`` by default; with a
named feed, ``relay_on_redis(url, feed='delayed')`` or ``--redis URL --feed delayed``, it is
``{namespace}:{feed}:{market}``: the holder reads that feed, and processes on different feeds never mix):

* every process writes the provider subscriptions its local clients need to ``{ns}:subs:{process}`` (a set
  with a TTL, refreshed by a heartbeat) and registers in ``{ns}:procs``; the union over the live processes is
  what the provider is asked for: subscriptions are reference-counted across processes (and across clients
  within one process by the local :class:`~polygon.websocket.subscriptions.SubscriptionBook`);
* one process holds the lock ``{ns}:holder`` (``SET NX PX ttl``, renewed every ``ttl / 3``): it alone
  connects to the provider (a :class:`~polygon.websocket.PolygonWebSocketClient`), follows the union, and
  publishes the normalised events in batches on ``{ns}:events``;
* every process (the holder too) subscribes to ``{ns}:events`` and hands each event its local subscriptions
  want to their callbacks (the relay's fan-out);
* when the holder dies its lock expires after ``ttl`` seconds and another process takes over: clients see
  a gap of about the takeover time and nothing else. A holder that stops cleanly releases the lock at once.
* when Redis itself goes away (restarted, killed, unreachable) every process keeps trying to reach it again,
  every :data:`_RETRY_MAX` seconds at most, however long it takes: it tells its clients
  (``{"type": "status", "status": "redis_disconnected", ...}``), and once Redis answers it subscribes again,
  writes its needs again (a restarted Redis has lost them), the holder takes its lock back without dropping
  the provider connection, and the clients hear ``redis_reconnected``: events resume within about
  :data:`_RETRY_MAX` seconds of Redis's return, without duplicates.

The Redis URL may carry a password (``redis://:secret@host:6379/0``); to keep it off the command line (where
``ps`` shows it), give the URL without it and set ``POLYGON_REDIS_PASSWORD`` (or ``redis_password`` in the
config file): :func:`relay_on_redis` adds it.

redis-py is the optional extra ``redis`` (``pip install 'polygon-kit[redis]'``).
"""

import collections
import logging
import threading
import time
import uuid
from typing import Any, Callable, Deque, Dict, List, Optional, Sequence, Set, Union
from urllib.parse import urlsplit, urlunsplit

from polygon.core import json_codec
from polygon.exceptions import PolygonConfigError, StreamConnectionError, SubscriptionError
from polygon.websocket.feeds import feed_name
from polygon.websocket.subscriptions import MARKET_CHANNEL_NAMES, MARKETS, SubscriptionBook

__all__ = ["RedisUpstream", "relay_on_redis", "require_redis", "with_password"]

logger = logging.getLogger(__name__)

_RELEASE = "if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) else return 0 end"
_RENEW = ("if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('pexpire', KEYS[1], ARGV[2]) "
          "else return 0 end")
#: Seconds between two publications of the holder (events arriving meanwhile go in one message).
_PUBLISH_EVERY = 0.005
#: Seconds between attempts to reach Redis again at most (the first ones come sooner).
_RETRY_MAX = 0.5


def require_redis() -> Any:
    """The ``redis`` module.

    :raises PolygonConfigError: redis-py is not installed (it is the optional extra ``redis``).
    """
    try:
        import redis
    except ImportError:
        raise PolygonConfigError("the Redis fan-out needs redis-py, the optional extra 'redis': "
                                 "pip install 'polygon-kit[redis]'") from None
    return redis


def relay_on_redis(redis_url: str, config: Any = None, namespace: str = "polygon", lock_ttl: float = 3.0,
                   password: Optional[str] = None, feed: Optional[str] = None, **relay_options: Any) -> Any:
    """A :class:`~polygon.polygon_server.relay.StreamRelay` whose upstream is a :class:`RedisUpstream`; its
    local clients hear when Redis goes away and comes back.

    :param config: provider settings, read when the upstream is created (``relay.config`` may be set later).
    :param password: the Redis password when ``redis_url`` has none (default: ``redis_password`` of
        ``config``, else of :func:`polygon.config.get_config`: the ``POLYGON_REDIS_PASSWORD`` variable).
    :param feed: the provider feed the holder reads, by the official client's names (``"delayed"``...; see
        :mod:`polygon.websocket.feeds`); default: the feed of the configured URL.
    :raises PolygonConfigError: redis-py is not installed, or ``feed`` is not a known feed.
    """
    from polygon.polygon_server.relay import StreamRelay

    class RedisRelay(StreamRelay):
        """The relay on Redis upstreams: its local clients also hear of Redis outages."""

        def tell_clients(self, message: Dict[str, Any]) -> None:
            self._broadcast(message)

    require_redis()
    if password is None and urlsplit(redis_url).password is None:
        password = _configured_password(config)
    url = with_password(redis_url, password)
    feed = None if feed is None else feed_name(feed)
    relay = RedisRelay(config=config, feed=feed, client_factory=lambda market: RedisUpstream(  # late binding
        url, config=relay.config, namespace=namespace, lock_ttl=lock_ttl, market=market,
        on_status=relay.tell_clients, feed=relay.feed), **relay_options)
    return relay


def _configured_password(config: Any) -> Optional[str]:
    if config is None:
        from polygon.config import get_config

        try:
            config = get_config()
        except Exception:  # a config problem is reported where the config is used, not here
            return None
    return getattr(config, "redis_password", None) or None


def with_password(url: str, password: Optional[str]) -> str:
    """``url`` with ``password`` as its user info (unchanged when ``password`` is empty or it has one)."""
    parts = urlsplit(url)
    if not password or parts.password is not None:
        return url
    from urllib.parse import quote

    netloc = "%s:%s@%s" % (quote(parts.username or "", safe=""), quote(password, safe=""),
                           parts.netloc.rsplit("@", 1)[-1])
    return urlunsplit((parts.scheme, netloc, parts.path, parts.query, parts.fragment))


def _display_url(url: str) -> str:
    """``url`` without its password (status pages and logs)."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    host = parts.hostname or ""
    netloc = "%s:***@%s%s" % (parts.username or "", host, ":%d" % parts.port if parts.port else "")
    return urlunsplit((parts.scheme, netloc, parts.path, parts.query, parts.fragment))


class RedisUpstream:
    """A :class:`~polygon.websocket.PolygonWebSocketClient`-like upstream fed through Redis, for
    :class:`~polygon.polygon_server.relay.StreamRelay` (``client_factory=lambda: RedisUpstream(url, config)``).

    :param redis_url: e.g. ``redis://127.0.0.1:6379/0``.
    :param config: the provider settings the holder uses (default :func:`polygon.config.get_config`).
    :param namespace: prefix of the Redis keys and channels (processes sharing one stream use the same).
    :param lock_ttl: seconds the holder's lock lives without renewal: the longest gap after a holder dies.
    :param client_factory: ``callable() -> PolygonWebSocketClient``-like object for the holder's provider
        connection (default: one on ``config`` and ``market``).
    :param market: the provider's socket (``stocks``, ``options``, ``forex``, ``crypto``, ``indices``): each
        market has its own holder, lock and channel (keys under ``{namespace}:{market}``).
    :param on_status: called with a status message for the local clients when Redis goes away
        (``redis_disconnected``) and when it is back (``redis_reconnected``).
    :param feed: the provider feed the holder reads (``"delayed"``...; default: the feed of the configured URL).
        A named feed has its own holder, lock and channel (keys under ``{namespace}:{feed}:{market}``), so
        processes relaying different feeds through one Redis never mix their events.
    :raises PolygonConfigError: redis-py is not installed, ``lock_ttl`` is not positive, unknown market or feed.
    """

    def __init__(self, redis_url: str = "redis://127.0.0.1:6379/0", config: Any = None, namespace: str = "polygon",
                 lock_ttl: float = 3.0, client_factory: Optional[Callable[[], Any]] = None,
                 market: str = "stocks", on_status: Optional[Callable[[Dict[str, Any]], Any]] = None,
                 feed: Optional[str] = None) -> None:
        self._redis_mod = require_redis()
        if not lock_ttl > 0:
            raise PolygonConfigError("lock_ttl must be positive seconds")
        if market not in MARKETS:
            raise PolygonConfigError("market must be one of %s, got %r" % (", ".join(MARKETS), market))
        self.market = market
        self.feed = None if feed is None else feed_name(feed)
        namespace = "%s:%s" % (namespace, market) if self.feed is None else "%s:%s:%s" % (namespace, self.feed,
                                                                                            market)
        self.redis_url = redis_url
        self.url = _display_url(redis_url)
        self.config = config
        self.namespace = namespace
        self.lock_ttl = float(lock_ttl)
        self.process_id = uuid.uuid4().hex[:16]
        self._factory = client_factory
        self._book = SubscriptionBook(tuple(MARKET_CHANNEL_NAMES[market]), market)
        self._lock = threading.RLock()
        self._beat_lock = threading.RLock()  # one heartbeat at a time (heartbeat thread, listener)
        self._follow_lock = threading.RLock()  # the provider connection: followed, or dropped
        self._stop = threading.Event()
        self._done = threading.Event()
        self._done.set()
        self._changed = threading.Event()
        self._follow_wanted = threading.Event()  # the holder's provider subscriptions need a look
        self._next_try = float("inf")  # monotonic time a follower tries the lock again (when it expires)
        self._redis: Any = None
        self._threads: List[threading.Thread] = []
        self._fatal: Optional[BaseException] = None
        self._upstream: Any = None  # the provider connection, while this process holds the lock
        self._upstream_params: Set[str] = set()
        self._outgoing: Deque[Dict[str, Any]] = collections.deque()
        self._warned: Dict[str, float] = {}
        self._on_status = on_status
        self._down_since: Optional[float] = None  # monotonic time Redis was lost, while it is
        self._grace_until = 0.0  # until then the holder only adds provider subscriptions (needs come back)
        self.outages = 0
        self.holder = False
        self.message_count = 0
        self.published = 0
        self.takeovers = 0
        self._keys = {name: "%s:%s" % (namespace, name) for name in ("holder", "procs", "events", "control")}
        self._subs_key = "%s:subs:%s" % (namespace, self.process_id)

    # -- the stream client interface ---------------------------------------------------------------------------
    def connect(self) -> None:
        """Connect to Redis, start listening and the heartbeat (which may make this process the holder).

        :raises StreamConnectionError: Redis cannot be reached.
        """
        with self._lock:
            if not self._done.is_set():
                return
            self._stop.clear()
            self._done.clear()
            self._fatal = None
        try:
            timeout = max(2.0, self.lock_ttl)  # a command on a stopped Redis fails after this, not 10 s
            self._redis = self._redis_mod.Redis.from_url(self.redis_url, socket_timeout=timeout,
                                                         socket_connect_timeout=timeout, health_check_interval=30,
                                                         **_no_retries(self._redis_mod))
            pubsub = self._open_pubsub()
        except self._redis_mod.RedisError as exc:
            self._done.set()
            raise StreamConnectionError("Redis at %s cannot be reached: %s" % (self.url, exc)) from None
        self._heartbeat_once()
        for name, target, args in (("listen", self._listen, (pubsub,)), ("heartbeat", self._heartbeat, ()),
                                   ("follow", self._follow_loop, ()), ("publish", self._publish_loop, ())):
            thread = threading.Thread(target=target, args=args, name="polygon-redis-%s" % name, daemon=True)
            thread.start()
            self._threads.append(thread)
        logger.info("redis fan-out: process %s connected to %s%s", self.process_id, self.url,
                    " (holder of the provider connection)" if self.holder else "")

    def listen(self, timeout: Optional[float] = None) -> None:
        """Block until :meth:`disconnect` (a lost Redis is reached again, however long it takes)."""
        self._done.wait(timeout)
        if self._fatal is not None:
            raise StreamConnectionError(str(self._fatal))

    def disconnect(self) -> None:
        """Leave: drop this process's subscriptions, release the lock when holding it (another process takes
        over at once), stop the threads. Safe to call twice."""
        with self._lock:
            if self._stop.is_set() and self._done.is_set():
                return
            self._stop.set()
        self._changed.set()
        for thread in self._threads:
            if thread is not threading.current_thread():
                thread.join(5.0)
        self._threads = []
        self._drop_upstream()
        client = self._redis
        if client is not None:
            try:
                pipe = client.pipeline()
                pipe.delete(self._subs_key)
                pipe.zrem(self._keys["procs"], self.process_id)
                pipe.eval(_RELEASE, 1, self._keys["holder"], self.process_id)
                pipe.publish(self._keys["control"], b"released")
                pipe.execute()
            except self._redis_mod.RedisError as exc:
                logger.debug("redis fan-out: leaving: %s", exc)
            client.close()
        self.holder = False
        self._done.set()

    def subscribe(self, symbols: Union[str, Sequence[str]], channels: Union[str, Sequence[str]],
                  callback: Callable[[dict], Any], subscription_id: Optional[str] = None) -> str:
        """As :meth:`PolygonWebSocketClient.subscribe <polygon.websocket.PolygonWebSocketClient.subscribe>`.

        :raises SubscriptionError: unknown channel, malformed symbol, empty list, non-callable callback.
        """
        if not callable(callback):
            raise SubscriptionError("callback must be callable, got %r" % (callback,))
        with self._lock:
            sub_id, add, remove = self._book.add(symbols, channels, callback, subscription_id)
        if add or remove:
            self._publish_needs()
        return sub_id

    def unsubscribe(self, symbols: Union[str, Sequence[str], None], channels: Union[str, Sequence[str], None] = None,
                    subscription_id: Optional[str] = None) -> List[str]:
        """As :meth:`PolygonWebSocketClient.unsubscribe <polygon.websocket.PolygonWebSocketClient.unsubscribe>`."""
        with self._lock:
            _removed, add, remove = self._book.remove(symbols, channels, subscription_id)
        if add or remove:
            self._publish_needs()
        return remove

    def get_status(self) -> Dict[str, Any]:
        """The keys the relay reads (``connected``, ``url``, ``subscription_ids``, ``provider_subscriptions``,
        ``message_count``, ``reconnects``, ``dropped_messages``) and ``role``, ``process_id``, ``takeovers``."""
        with self._lock:
            named = self._book.subscriptions()
            params = self._book.provider_params()
        up = self._upstream
        up_status = up.get_status() if up is not None else {}
        return {
            "connected": not self._done.is_set() and self._down_since is None,
            "redis_connected": self._down_since is None,
            "outages": self.outages,
            "url": self.url,
            "role": "holder" if self.holder else "follower",
            "market": self.market,
            "feed": self.feed,
            "process_id": self.process_id,
            "subscription_ids": named,
            "provider_subscriptions": params,
            "message_count": self.message_count,
            "published": self.published,
            "takeovers": self.takeovers,
            "reconnects": up_status.get("reconnects", 0),
            "dropped_messages": up_status.get("dropped_messages", 0),
        }

    # -- every process ---------------------------------------------------------------------------------------
    def _publish_needs(self) -> None:
        """Write this process's provider subscriptions and tell the holder."""
        with self._lock:
            params = self._book.provider_params()
        client = self._redis
        if client is None or self._stop.is_set():
            return
        try:
            pipe = client.pipeline()
            pipe.delete(self._subs_key)
            if params:
                pipe.sadd(self._subs_key, *params)
                pipe.pexpire(self._subs_key, int(self.lock_ttl * 3000))
            pipe.zadd(self._keys["procs"], {self.process_id: time.time()})
            pipe.publish(self._keys["control"], b"changed")
            pipe.execute()
        except self._redis_mod.RedisError as exc:  # the heartbeat writes them again
            self._warn("redis fan-out: could not publish subscriptions: %s" % exc)
        self._changed.set()

    def _open_pubsub(self) -> Any:
        self._redis.ping()
        pubsub = self._redis.pubsub(ignore_subscribe_messages=True)
        try:
            pubsub.subscribe(self._keys["events"], self._keys["control"])
        except BaseException:
            pubsub.close()
            raise
        return pubsub

    def _lost(self, exc: BaseException) -> None:
        with self._lock:  # the listener and the heartbeat may both notice
            if self._down_since is not None:
                return
            self._down_since = time.monotonic()
            self.outages += 1
        logger.warning("redis fan-out: lost Redis at %s (%s); reaching it again every %.1f s at most",
                       self.url, exc, _RETRY_MAX)
        self._tell("redis_disconnected", "the stream is interrupted: Redis at %s is unreachable (%s); the server "
                   "keeps trying and events resume when it is back" % (self.url, str(exc)[:200]))

    def _back(self) -> None:
        with self._lock:
            down, self._down_since = self._down_since, None
        if down is None:
            return
        self._grace_until = time.monotonic() + self.lock_ttl
        logger.info("redis fan-out: Redis at %s is back after %.1f s", self.url, time.monotonic() - down)
        self._heartbeat_once()  # needs written again (a restarted Redis lost them), the lock taken back
        self._publish_needs()
        self._tell("redis_reconnected", "Redis at %s is back after %.1f s: events resume" % (
            self.url, time.monotonic() - down))

    def _tell(self, status: str, message: str) -> None:
        if self._on_status is None:
            return
        if self.market != "stocks":
            message = "%s (%s)" % (message, self.market)
        try:
            self._on_status({"type": "status", "status": status, "message": message})
        except Exception:  # the caller's code: log and go on
            logger.exception("redis fan-out: status callback failed")

    def _listen(self, pubsub: Any) -> None:
        """Deliver the events on ``{ns}:events`` to the local subscriptions; wake the holder on changes; when
        Redis is lost, reach it again (backoff up to :data:`_RETRY_MAX`), however long it takes."""
        events_channel = self._keys["events"].encode()
        loads = json_codec.loads
        retry = 0.05
        while not self._stop.is_set():
            if pubsub is None:
                try:
                    pubsub = self._open_pubsub()
                except self._redis_mod.RedisError as exc:
                    self._lost(exc)
                    self._stop.wait(retry)
                    retry = min(_RETRY_MAX, retry * 2)
                    continue
                retry = 0.05
                self._back()
            try:
                message = pubsub.get_message(timeout=0.5)
                if self._down_since is not None:  # the heartbeat found Redis stopped, this connection lived on
                    self._redis.ping()
                    self._back()
            except self._redis_mod.RedisError as exc:
                self._lost(exc)
                try:
                    pubsub.close()
                except Exception:  # already broken
                    pass
                pubsub = None
                continue
            if message is None or message.get("type") != "message":
                continue
            if message["channel"] != events_channel:
                self._changed.set()  # a process changed its needs, or a holder left
                continue
            try:
                events = loads(message["data"])
            except ValueError:
                logger.warning("redis fan-out: undecodable message skipped")
                continue
            self._deliver(events)
        if pubsub is not None:
            try:
                pubsub.close()
            except Exception:  # already gone
                pass

    def _deliver(self, events: List[Dict[str, Any]]) -> None:
        routes = self._book.routes
        cache = routes.cache
        for event in events:
            key = (event.get("channel"), event.get("symbol"))
            targets = cache.get(key)
            if targets is None:
                targets = routes.resolve(key)
            if not targets:
                continue
            self.message_count += 1
            for i, target in enumerate(targets):
                try:
                    target(event if i == 0 else dict(event))
                except Exception:  # the caller's code: log and go on
                    logger.exception("redis fan-out: callback %r raised", target)

    def _heartbeat(self) -> None:
        """Every ``lock_ttl / 3`` seconds: :meth:`_heartbeat_once`; in between, react to changes at once (the
        holder follows the union; the others try the lock, which a leaving holder may have released), and a
        follower tries the lock again the moment a dead holder's lock expires. Only Redis commands run here
        (each bounded by the socket timeout): the provider connection is the follow thread's."""
        beat = self.lock_ttl / 3.0
        next_beat = time.monotonic() + beat
        while not self._stop.is_set():
            now = time.monotonic()
            if now >= next_beat or (not self.holder and now >= self._next_try):
                self._heartbeat_once()
                next_beat = time.monotonic() + beat
                continue
            timeout = (next_beat if self.holder else min(next_beat, self._next_try)) - now
            if self._changed.wait(timeout) and not self._stop.is_set():
                self._changed.clear()
                if self.holder:
                    self._follow_wanted.set()
                else:
                    self._heartbeat_once()

    def _follow_loop(self) -> None:
        """As the holder: follow the union of needs whenever the heartbeat asks (connecting to the provider
        may take a while: the lock is renewed meanwhile)."""
        while not self._stop.is_set():
            if self._follow_wanted.wait(0.5) and not self._stop.is_set():
                self._follow_wanted.clear()
                self._follow_union()

    def _heartbeat_once(self) -> None:
        """Register this process, renew or take the lock, and as the holder follow the union of needs."""
        with self._beat_lock:  # the heartbeat thread, and the listener when Redis is back
            self._heartbeat_locked()

    def _heartbeat_locked(self) -> None:
        client = self._redis
        self._next_try = float("inf")  # set again below when a live lock is found
        if client is None or self._stop.is_set():
            return
        with self._lock:
            params = self._book.provider_params()
        ttl_ms = int(self.lock_ttl * 1000)
        try:
            pipe = client.pipeline()
            pipe.zadd(self._keys["procs"], {self.process_id: time.time()})
            if params:
                pipe.sadd(self._subs_key, *params)
                pipe.pexpire(self._subs_key, ttl_ms * 3)
            pipe.execute()
            if self.holder:
                held = bool(client.eval(_RENEW, 1, self._keys["holder"], self.process_id, ttl_ms))
                if not held:  # a restarted Redis lost the lock: take it back unless another process has it
                    held = bool(client.set(self._keys["holder"], self.process_id, nx=True, px=ttl_ms))
            elif self._down_since is not None or time.monotonic() < self._grace_until:  # the holder retakes it first
                held = False
            else:
                held = bool(client.set(self._keys["holder"], self.process_id, nx=True, px=ttl_ms))
                if not held:  # try again the moment it expires (a dead holder's lock)
                    left = client.pttl(self._keys["holder"])
                    if left and left > 0:
                        self._next_try = time.monotonic() + (left + 2) / 1000.0
                if held:
                    self.takeovers += 1
                    logger.info("redis fan-out: process %s now holds the provider connection", self.process_id)
        except self._redis_mod.RedisError as exc:
            self._warn("redis fan-out: heartbeat failed: %s" % exc)
            self._lost(exc)  # a stopped Redis fails no read of the listener: clients hear of it here
            return
        if self.holder and not held:
            logger.warning("redis fan-out: process %s lost the holder lock; dropping the provider connection",
                           self.process_id)
            self.holder = False
            with self._follow_lock:
                self._drop_upstream()
        elif held:
            self.holder = True
            self._follow_wanted.set()

    def _warn(self, text: str) -> None:
        """Log ``text`` as a warning, but one of the same kind (its first 40 characters) at most every 30 s."""
        now = time.monotonic()
        if now - self._warned.get(text[:40], -1e9) > 30.0:
            self._warned[text[:40]] = now
            logger.warning("%s", text)

    # -- the holder --------------------------------------------------------------------------------------------
    def _union(self) -> Set[str]:
        client = self._redis
        cutoff = time.time() - self.lock_ttl * 3
        client.zremrangebyscore(self._keys["procs"], "-inf", cutoff)
        procs = [p.decode() if isinstance(p, bytes) else p for p in client.zrange(self._keys["procs"], 0, -1)]
        if not procs:
            return set()
        keys = ["%s:subs:%s" % (self.namespace, p) for p in procs]
        return {m.decode() if isinstance(m, bytes) else m for m in client.sunion(keys)}

    def _follow_union(self) -> None:
        """Subscribe the provider connection to what the live processes need (connecting it first)."""
        with self._follow_lock:
            self._follow_locked()

    def _follow_locked(self) -> None:
        if not self.holder or self._stop.is_set():
            return
        try:
            wanted = self._union()
        except self._redis_mod.RedisError as exc:
            self._warn("redis fan-out: reading subscriptions failed: %s" % exc)
            return
        if time.monotonic() < self._grace_until:  # Redis came back: the others are writing their needs again
            wanted |= self._upstream_params
        if not wanted and self._upstream is None:
            return
        try:
            upstream = self._ensure_upstream()
        except Exception as exc:  # the provider refused or is unreachable: retried at the next heartbeat
            self._warn("redis fan-out: provider connection failed (retrying every %.1f s): %s"
                       % (self.lock_ttl / 3.0, exc))
            return
        add = sorted(wanted - self._upstream_params)
        remove = sorted(self._upstream_params - wanted)
        for param in remove:
            channel, symbol = param.split(".", 1)
            try:
                upstream.unsubscribe([symbol], [channel], subscription_id="redis-fanout")
            except SubscriptionError:
                pass
        for param in add:
            channel, symbol = param.split(".", 1)
            upstream.subscribe([symbol], [channel], self._on_upstream_event, "redis-fanout")
        self._upstream_params = wanted
        if add or remove:
            logger.info("redis fan-out: provider subscriptions now %s", ", ".join(sorted(wanted)) or "none")

    def _ensure_upstream(self) -> Any:
        if self._upstream is not None:
            if self._upstream.get_status().get("running", True):
                return self._upstream
            logger.warning("redis fan-out: the provider connection ended; connecting again")
            self._drop_upstream()
        if self._factory is not None:
            upstream = self._factory()
        else:
            from polygon.websocket import PolygonWebSocketClient

            upstream = PolygonWebSocketClient(config=self.config, market=self.market, feed=self.feed)
        upstream.connect()
        self._upstream, self._upstream_params = upstream, set()
        return upstream

    def _drop_upstream(self) -> None:
        upstream, self._upstream = self._upstream, None
        self._upstream_params = set()
        if upstream is not None:
            upstream.disconnect()

    def _on_upstream_event(self, event: Dict[str, Any]) -> None:
        self._outgoing.append(event)

    def _publish_loop(self) -> None:
        """As the holder: publish what the provider sent, in batches, on ``{ns}:events``."""
        outgoing = self._outgoing
        dumps = json_codec.dumps
        while not self._stop.wait(_PUBLISH_EVERY):
            n = len(outgoing)
            if not n:
                continue
            batch = [outgoing.popleft() for _ in range(n)]
            if not self.holder:
                continue  # lost the lock meanwhile: the new holder publishes
            try:
                self._redis.publish(self._keys["events"], _encode(batch, dumps))
                self.published += n
            except self._redis_mod.RedisError as exc:
                self._warn("redis fan-out: publishing events failed (they are lost): %s" % exc)


def _no_retries(redis_mod: Any) -> Dict[str, Any]:
    """redis-py options without its own retries: they would hold a thread for seconds per command while Redis
    is down (the heartbeat and the listener retry on their own schedule)."""
    try:
        from redis.backoff import NoBackoff
        from redis.retry import Retry
    except ImportError:  # an old redis-py: it does not retry by default
        return {}
    return {"retry": Retry(NoBackoff(), 0)}


def _encode(batch: List[Dict[str, Any]], dumps: Callable[[Any], bytes]) -> bytes:
    if json_codec.BACKEND == "orjson":
        return dumps(batch)  # NaN -> null
    import json
    import math

    clean = [{k: (None if isinstance(v, float) and not math.isfinite(v) else v) for k, v in e.items()} for e in batch]
    return json.dumps(clean, separators=(",", ":"), allow_nan=False).encode()
