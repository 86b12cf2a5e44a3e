"""The stream client :class:`PolygonWebSocketClient` (threaded, sync-first, awaitable): the public API and the
session (threads, sinks, figures); its socket side (connection, authentication, the reader thread, reconnection)
is the mixin in :mod:`polygon.websocket.connection`. The subscription book and the reconnect schedule live in
:mod:`polygon.websocket.subscriptions`, the frame queue and the dispatcher loop in
:mod:`polygon.websocket.dispatch`; ``CHANNEL_NAMES``, ``SubscriptionBook`` and ``backoff_delays`` are
re-exported by :mod:`polygon.websocket`.

Threads: a *reader* only receives frames, acts on the provider's status messages (the frames that carry
them are decoded there) and puts whole event frames, still encoded, on a bounded queue; a *dispatcher*
decodes them (:mod:`polygon.core.json_codec`: orjson when installed), normalises each event into the guide's
dict (``event_type`` 'trade' / 'quote' / 'aggregate', ``symbol``, ``timestamp`` in ms ...: one dict literal
per event) and calls the callbacks. User code never runs on the reader. The queue is bounded by the number
of events it holds (``queue_size``). When it is full the default policy (``overflow='wait'``) stops reading
the socket, so TCP pushes back on the sender, for as long as the dispatcher's lag (the age of the data it
is working on) is under ``max_lag`` seconds; past that the oldest frames are dropped (counted in
``get_status()['dropped_messages']`` and logged) until it catches up. A callback that keeps up on average
loses nothing in a burst; a stuck one never stalls the socket longer than ``max_lag``. ``'drop_oldest'``
drops at once; ``'block'`` waits however long it takes.

**The sync/async rule.** ``connect``, ``disconnect``, ``subscribe``, ``unsubscribe``, ``listen`` and
``replay`` are plain blocking methods. Called while an asyncio event loop is running in the current thread
they return an awaitable instead, which runs the same method in the loop's default executor, so both of
these work::

    client.connect()                      # plain code: blocks, returns the result
    await client.connect()                # inside a coroutine: awaitable
    with PolygonWebSocketClient() as c: ...
    async with PolygonWebSocketClient() as c: ...

``get_status()`` is always a plain call. Callbacks may be plain functions or coroutine functions: plain
callbacks run on the dispatcher thread; coroutine callbacks run on the event loop the ``subscribe`` call was
awaited from (in order, one frame's events at a time; when subscribed from plain code, on a private loop
thread of the client, started on demand and stopped when the session ends). An awaitable returned by a plain
callback (``lambda d: handler(d)``) runs on that same loop. Each callback receives each matching event once,
even if several subscriptions cover it. Do not mutate the event dict a callback receives.

Reconnection: on a drop (socket error, server close, or no bytes for ``read_timeout`` seconds although
pings are sent every ``ping_interval``), the client waits 1 s, 2 s, 4 s ... (doubling, capped at 30 s), at
most 5 consecutive attempts, re-authenticates and restores every subscription in one message. A reconnected
session renews the budget only once it delivers an event or stays up past ``read_timeout``: a server that
accepts and then stalls or drops uses it up. After the
budget :class:`~polygon.exceptions.StreamConnectionError` is raised from :meth:`listen`. A refused key
(:class:`~polygon.exceptions.PolygonAuthenticationError`) and ``max_connections``
(:class:`~polygon.exceptions.MaxConnectionsError`) are never retried.
"""

import asyncio
import logging
import threading
import time
from datetime import datetime, timezone
from typing import Any, Callable, Dict, List, Optional, Sequence, Union

import websocket as _wsc

from polygon.config import PolygonConfig, get_config
from polygon.exceptions import (
    PolygonConfigError,
    SubscriptionError,
)
from polygon.websocket.adapter import (
    PrivateLoop,
    caller_loop,
    interruptible,
    running_loop,
    sync_or_async,
    wait_event,
)
from polygon.websocket.connection import _abort, _Connection, _stream
from polygon.websocket.dispatch import _FrameDispatcher, _FrameQueue, _Target
from polygon.websocket.feeds import feed_delay_minutes, feed_name, feed_url
from polygon.websocket.subscriptions import (
    CHANNEL_NAMES,
    MARKET_CHANNEL_NAMES,
    MARKETS,
    SOCKETS,
    SubscriptionBook,
    backoff_delays,
    canonical_symbol,
)
from polygon.websocket.subscriptions import WILDCARD as WILDCARD  # re-export: public here before the split

__all__ = [
    "CHANNEL_NAMES",
    "MARKETS",
    "MARKET_CHANNEL_NAMES",
    "PolygonWebSocketClient",
    "SubscriptionBook",
    "backoff_delays",
]

logger = logging.getLogger(__name__)

_OVERFLOW = ("wait", "drop_oldest", "block")


class PolygonWebSocketClient(_Connection, _FrameDispatcher):
    """Stream trades, quotes and aggregates from the provider (or the sandbox).

    :param config: a :class:`~polygon.config.PolygonConfig`; default :func:`~polygon.config.get_config`.
        The URL is ``config.ws_url + '/' + market`` (on another ``feed``: see :mod:`polygon.websocket.feeds`).
    :param storage: optional storage manager: A/AM bars are appended to its cache off the reader thread.
    :param market: the socket: ``'stocks'`` (default), ``'options'``, ``'forex'``, ``'crypto'``, ``'indices'``,
        ``'futures'`` (every venue) or one futures venue (``'futures/cme'``, ``'futures/cbot'``, ``'futures/nymex'``,
        ``'futures/comex'``).
    :param feed: the provider's feed by name (``'delayed'``, ``'business'``, ``'launchpad'``...: the official
        client's ``Feed`` names, members or hosts; default: the configured URL, real time). On the provider it
        picks the host (``wss://delayed.massive.com``), elsewhere a path prefix (the sandbox:
        ``ws://127.0.0.1:PORT/delayed/stocks``). The delayed feed runs :attr:`delay_minutes` behind (15; 10 on
        the futures sockets).
        Channels and tickers are checked against it (``MARKET_CHANNEL_NAMES``); events arrive normalised with
        an ``event_type`` per kind (``'crypto_trade'``, ``'forex_quote'``, ``'index_value'``, ``'luld'`` ...) and
        ``symbol`` in the REST form (``'X:BTCUSD'``, ``'C:EURUSD'``), whatever the socket's own spelling.
    :param queue_size: events buffered between the reader and the dispatcher (whole frames are queued; the
        bound is on the events they hold, so memory stays bounded whatever the frame size). Under a slow
        consumer, delivered events are about ``queue_size / arrival rate`` seconds old: smaller is fresher.
    :param overflow: when the queue is full: ``'wait'`` (default: backpressure while the dispatcher's lag is
        under ``max_lag``, then drop oldest), ``'drop_oldest'`` (at once) or ``'block'`` (never drop). Drops
        are counted and logged.
    :param max_lag: seconds of dispatcher lag the ``'wait'`` policy tolerates before dropping (default 5).
    :param record: path of a file receiving every raw frame with its receive time (JSON lines).
    :param journal: with ``storage``, also append trades/quotes to an append-only journal.
    :param ping_interval: seconds of silence after which a ping is sent.
    :param read_timeout: seconds without any received byte after which the socket counts as dropped.
    :param connect_timeout: seconds for the connection and handshake (default ``config.connect_timeout``).
    :param max_reconnect_attempts: consecutive reconnect attempts before giving up (guide: 5).
    :param reconnect_delay: first delay in seconds (guide: 1), doubled per attempt ...
    :param max_reconnect_delay: ... up to this cap (guide: 30).
    :param clock: monotonic clock (injectable for tests).
    :param sleep: ``sleep(seconds)`` used between reconnect attempts (default: an interruptible wait).
    """

    def __init__(
        self,
        config: Optional[PolygonConfig] = None,
        storage: Any = None,
        *,
        market: str = "stocks",
        feed: Any = None,
        queue_size: int = 50_000,
        overflow: str = "wait",
        max_lag: float = 5.0,
        record: Optional[str] = None,
        journal: bool = False,
        ping_interval: float = 10.0,
        read_timeout: float = 30.0,
        connect_timeout: Optional[float] = None,
        max_reconnect_attempts: int = 5,
        reconnect_delay: float = 1.0,
        max_reconnect_delay: float = 30.0,
        clock: Callable[[], float] = time.monotonic,
        sleep: Optional[Callable[[float], Any]] = None,
    ) -> None:
        if overflow not in _OVERFLOW:
            raise PolygonConfigError("overflow must be one of %s, got %r" % (", ".join(map(repr, _OVERFLOW)), overflow))
        if not max_lag > 0:
            raise PolygonConfigError("max_lag must be positive seconds, got %r" % (max_lag,))
        if queue_size < 1:
            raise PolygonConfigError("queue_size must be >= 1 (events)")
        if ping_interval <= 0 or read_timeout <= 0:
            raise PolygonConfigError("ping_interval and read_timeout must be positive seconds")
        if market not in SOCKETS:
            raise PolygonConfigError("market must be one of %s, got %r" % (", ".join(SOCKETS), market))
        self.config = config if config is not None else get_config()
        self.socket = market
        market = market.split("/")[0]  # a futures venue's socket speaks the futures events
        self.market = market
        self.feed = feed_name(feed) if feed is not None else None
        #: minutes the chosen feed runs behind real time (0: real time)
        self.delay_minutes = feed_delay_minutes(feed, self.socket)
        self.url = feed_url(self.config.ws_url, feed, self.socket)
        self.storage = storage
        self.queue_size = queue_size
        self.overflow = overflow
        self.max_lag = float(max_lag)
        self.record = record
        self.journal = journal
        self.ping_interval = float(ping_interval)
        self.read_timeout = float(read_timeout)
        self.connect_timeout = float(connect_timeout or self.config.connect_timeout)
        self.reconnect_delays = backoff_delays(reconnect_delay, max_reconnect_delay, max_reconnect_attempts)
        self._clock = clock
        self._sleep = sleep
        stream = _stream()
        self._normalizers = dict(stream.MARKET_NORMALIZERS[market])
        self._symbol_fields = dict(stream.SYMBOL_FIELDS[market])
        order = list(MARKET_CHANNEL_NAMES[market])
        channels = sorted(self._normalizers, key=lambda c: order.index(c) if c in order else len(order))
        self._book = SubscriptionBook(channels, market)
        self._lock = threading.RLock()
        self._stop = threading.Event()
        self._done = threading.Event()
        self._done.set()
        self._queue = self._new_queue()
        self._ws: Optional[_wsc.WebSocket] = None
        self._reader: Optional[threading.Thread] = None
        self._dispatcher: Optional[threading.Thread] = None
        self._private = PrivateLoop("polygon-ws-callbacks")
        self._recorder: Any = None
        self._sink: Any = None
        self._fatal: Optional[BaseException] = None
        self._connected = False
        self._authenticated = False
        self._running = False
        self._started_at: Optional[float] = None
        self._stopped_at: Optional[float] = None
        self._message_count = 0
        self._events_dispatched = 0
        self._dropped_before = 0
        self._dropped_frames_before = 0
        self._last_drop_log = 0.0
        self._callback_errors = 0
        self._reconnect_attempts = 0
        self._on_probation: Optional[float] = None  # reconnected at (clock); budget resets once healthy
        self._storage_dropped_before = 0
        self._reconnects = 0
        self._last_rx_wall: Optional[float] = None
        self._last_error: Optional[Dict[str, Any]] = None

    # ---------------------------------------------------------------------------------------------- context
    def __enter__(self) -> "PolygonWebSocketClient":
        self.connect()
        return self

    def __exit__(self, *exc: Any) -> None:
        self.disconnect()

    async def __aenter__(self) -> "PolygonWebSocketClient":
        await self.connect()
        return self

    async def __aexit__(self, *exc: Any) -> None:
        await self.disconnect()

    def __repr__(self) -> str:
        return "PolygonWebSocketClient(url=%r, connected=%s, subscriptions=%d)" % (
            self.url,
            self._connected,
            len(self._book),
        )

    # ---------------------------------------------------------------------------------------------- public API
    @sync_or_async
    def connect(self) -> None:
        """Connect, authenticate and send the current subscriptions; start the reader and dispatcher.

        :raises PolygonAuthenticationError: no key, or the provider answered ``auth_failed``.
        :raises MaxConnectionsError: the provider refused: too many connections for this key.
        :raises StreamConnectionError: the connection or handshake failed.
        """
        with self._lock:
            if self._running:
                return
            self._start_session()
            stop = self._stop
        try:
            ws = self._open()
        except BaseException:
            self._end_session()
            raise
        with self._lock:
            if stop.is_set():  # disconnect() while the handshake ran (e.g. a cancelled ``await connect()``)
                _abort(ws)
                return
            self._install(ws)
            self._reader = threading.Thread(target=self._read_loop, name="polygon-ws-reader", daemon=True)
            self._reader.start()
        logger.info("stream connected to %s", self.url)

    @sync_or_async
    def disconnect(self) -> None:
        """Close the stream and stop the threads; :meth:`listen` returns. Safe to call twice or from a callback."""
        with self._lock:
            if not self._running and self._reader is None and self._dispatcher is None:
                return
            self._stop.set()
            self._running = False
            self._connected = self._authenticated = False
            ws, self._ws = self._ws, None
        if ws is not None:
            try:
                ws.send_close()
            except Exception:  # already gone
                pass
            _abort(ws)
        self._end_session()
        logger.info("stream disconnected from %s", self.url)

    @sync_or_async
    def subscribe(
        self,
        symbols: Union[str, Sequence[str]],
        channels: Union[str, Sequence[str]],
        callback: Callable[[dict], Any],
        subscription_id: Optional[str] = None,
    ) -> str:
        """Subscribe ``callback`` to ``channels`` (T, Q, A, AM) of ``symbols`` (``'*'`` = all).

        Works before :meth:`connect` too (sent on connect). Only the provider subscriptions that change are
        sent, in one message. Reusing a ``subscription_id`` adds to it (and replaces its callback).

        :returns: the subscription id (``subscription_id`` or a generated ``'sub_N'``).
        :raises SubscriptionError: unknown channel, malformed symbol, empty list, non-callable callback.
        """
        if not callable(callback):
            raise SubscriptionError("callback must be callable, got %r" % (callback,))
        loop = caller_loop()  # coroutines (also those a plain callback returns) run there; None: private loop
        with self._lock:
            sub_id, add, remove = self._book.add(symbols, channels, _Target(callback, loop), subscription_id)
            self._send_changes(add, remove)
        if logger.isEnabledFor(logging.DEBUG):
            logger.debug("subscription %s: %s", sub_id, self._book.subscriptions().get(sub_id))
        return sub_id

    @sync_or_async
    def unsubscribe(
        self,
        symbols: Union[str, Sequence[str], None],
        channels: Union[str, Sequence[str], None] = None,
        subscription_id: Optional[str] = None,
    ) -> List[str]:
        """Remove ``symbols`` (``None`` = all) on ``channels`` (``None`` = all) from the subscription
        ``subscription_id``, or from every subscription when it is ``None``. The provider subscription is
        kept while another subscription still needs it.

        :returns: the provider subscriptions released (e.g. ``['T.AAPL']``).
        :raises SubscriptionError: unknown ``subscription_id``, bad symbols or channels.
        """
        with self._lock:
            _removed, add, remove = self._book.remove(symbols, channels, subscription_id)
            self._send_changes(add, remove)
        return remove

    def listen(self, timeout: Optional[float] = None) -> Any:
        """Block until :meth:`disconnect` (from anywhere, a callback included) or a fatal error.

        Connects first if :meth:`connect` was never called; returns at once after :meth:`disconnect`.
        In async code ``await client.listen()`` can be cancelled, and Ctrl+C raises ``KeyboardInterrupt`` at
        the ``await`` (so an ``except KeyboardInterrupt`` around it runs, as in the guide); in plain code
        Ctrl+C raises it from :meth:`listen` as usual. Either way :meth:`disconnect` (or the ``with`` block)
        then closes the stream.

        :param timeout: return after this many seconds even if still connected (bounded runs).
        :raises StreamConnectionError: the stream dropped and the reconnect budget was spent.
        :raises PolygonAuthenticationError: the key was refused on reconnect.
        :raises MaxConnectionsError: the provider refused the connection.
        """
        if running_loop() is not None:
            return interruptible(self._listen(timeout))
        return self._listen(timeout)

    @sync_or_async
    def _listen(self, timeout: Optional[float]) -> None:
        if self._started_at is None:
            self.connect()
        done = self._done
        wait_event(done, timeout)
        if self._fatal is not None:
            raise self._fatal

    @sync_or_async
    def replay(self, path: str, speed: Optional[float] = 1.0) -> int:
        """Feed a file written with ``record=`` through the decoder and dispatcher, as if received now.

        No socket is used; subscribe first. Status messages in the file are ignored.

        :param speed: 1.0 = original pacing, 10.0 = ten times faster, ``None`` = as fast as possible.
        :returns: the number of frames fed.
        """
        from polygon.websocket.recording import iter_recording

        with self._lock:
            offline = not self._running
            if offline:
                self._start_session()
        fed = 0
        start = self._clock()
        first: Optional[float] = None
        try:
            for when, raw in iter_recording(path):
                if self._stop.is_set():
                    break
                if speed:
                    first = when if first is None else first
                    delay = (when - first) / speed - (self._clock() - start)
                    if delay > 0 and self._stop.wait(delay):
                        break
                self._ingest(raw, replay=True)
                fed += 1
        finally:
            if offline:
                self._drain()
                self._end_session()
        return fed

    def get_status(self) -> Dict[str, Any]:
        """Connection and traffic figures.

        :returns: the guide's keys ``connected, authenticated, running, subscriptions ({symbol: [channels]}),
            message_count, last_message_time (ISO 8601, UTC), uptime_seconds, reconnect_attempts``, and beside
            them ``url, market, socket, feed, delay_minutes, dropped_messages, dropped_frames, queue_depth,
            queue_size, overflow, events_dispatched, callback_errors, reconnects, last_error, subscription_ids,
            provider_subscriptions, max_lag, lag_seconds`` (the dispatcher's lag now), ``backpressure_waits``
            (times the reader waited for room), and with ``storage`` ``storage_pending`` / ``storage_dropped``
            (events waiting for the storage writer / dropped, oldest first, because it fell too far behind).
        """
        with self._lock:
            subs = self._book.symbols_map()
            named = self._book.subscriptions()
            provider = self._book.provider_params()
        last = self._last_rx_wall
        sink = self._sink
        started = self._started_at
        if started is None:
            uptime = 0.0
        else:
            uptime = (self._stopped_at if self._stopped_at is not None else self._clock()) - started
        return {
            "connected": self._connected,
            "authenticated": self._authenticated,
            "running": self._running,
            "subscriptions": subs,
            "message_count": self._message_count,
            "last_message_time": (
                None if last is None else datetime.fromtimestamp(last, timezone.utc).isoformat(timespec="seconds")
            ),
            "uptime_seconds": round(max(uptime, 0.0), 3),
            "reconnect_attempts": self._reconnect_attempts,
            "url": self.url,
            "market": self.market,
            "socket": self.socket,
            "feed": self.feed or "socket",
            "delay_minutes": self.delay_minutes,
            "dropped_messages": self._queue.dropped_events + self._dropped_before,
            "dropped_frames": self._queue.dropped_frames + self._dropped_frames_before,
            "queue_depth": self._queue.events,
            "queue_size": self.queue_size,
            "overflow": self.overflow,
            "max_lag": self.max_lag,
            "lag_seconds": round(self._queue.lag(), 3),
            "backpressure_waits": self._queue.waits,
            "events_dispatched": self._events_dispatched,
            "callback_errors": self._callback_errors,
            "reconnects": self._reconnects,
            "last_error": None if self._last_error is None else dict(self._last_error),
            "subscription_ids": named,
            "provider_subscriptions": provider,
            "storage_pending": 0 if sink is None else sink.pending_events,
            "storage_dropped": self._storage_dropped_before + (0 if sink is None else sink.dropped),
        }

    # ---------------------------------------------------------------------------------------------- session
    def _start_session(self) -> None:
        """Reset per-session state and start the dispatcher (lock held)."""
        self._stop = threading.Event()  # per session: a late stop of an old session never hits this one
        self._done = threading.Event()
        self._fatal = None
        self._running = True
        self._started_at = self._clock()
        self._stopped_at = None
        self._reconnect_attempts = 0
        self._on_probation = None
        self._dropped_before += self._queue.dropped_events
        self._dropped_frames_before += self._queue.dropped_frames
        self._queue = self._new_queue()
        self._book.routes.plans.clear()  # plans depend on the session's sink
        for leftover in (self._recorder, self._sink):
            if leftover is not None:
                leftover.close()
        if self._sink is not None:
            self._storage_dropped_before += self._sink.dropped
        self._recorder = self._sink = None
        if self.record:
            from polygon.websocket.recording import FrameRecorder

            self._recorder = FrameRecorder(self.record)
        if self.storage is not None:
            from polygon.websocket.sink import StorageSink

            self._sink = StorageSink(self.storage, market=self.market, journal=self.journal)
        self._dispatcher = threading.Thread(target=self._dispatch_loop, name="polygon-ws-dispatcher", daemon=True)
        self._dispatcher.start()

    def _end_session(self) -> None:
        """Stop this session's threads, flush its sinks, wake :meth:`listen`. Never joins the calling thread."""
        with self._lock:
            stop, done, q = self._stop, self._done, self._queue
            reader, dispatcher = self._reader, self._dispatcher
        stop.set()
        me = threading.current_thread()
        if reader is not None and reader is not me:
            reader.join(self.connect_timeout + 5)
        q.put_stop()
        if dispatcher is not None and dispatcher is not me:
            dispatcher.join(10)
            if dispatcher.is_alive():
                logger.warning("dispatcher still busy in a callback after 10 s; leaving it behind")
        recorder = sink = None
        with self._lock:
            if self._stop is stop:  # still the current session (no connect() since)
                self._reader = self._dispatcher = None
                self._running = False
                self._connected = self._authenticated = False
                if self._stopped_at is None:
                    self._stopped_at = self._clock()
                recorder, self._recorder = self._recorder, None
                sink, self._sink = self._sink, None
                if sink is not None:
                    self._storage_dropped_before += sink.dropped
                self._private.stop()
        for closable in (recorder, sink):
            if closable is not None:
                try:
                    closable.close()
                except Exception:
                    logger.exception("closing %r failed", closable)
        done.set()

    def _fail(self, exc: BaseException) -> None:
        logger.error("stream stopped: %s", exc)
        with self._lock:
            self._fatal = exc
            self._stop.set()
            self._running = False
            self._connected = self._authenticated = False
            ws, self._ws = self._ws, None
        if ws is not None:
            _abort(ws)
        threading.Thread(target=self._end_session, name="polygon-ws-stop", daemon=True).start()

    def _canonical(self, raw: str) -> str:
        return canonical_symbol(raw, self.market)

    def _new_queue(self) -> _FrameQueue:
        return _FrameQueue(self.queue_size, self.overflow, self.max_lag, self._clock)

    def _drain(self, timeout: float = 30.0) -> None:
        deadline = self._clock() + timeout
        while self._queue.unfinished > 0 and self._clock() < deadline and not self._stop.is_set():
            time.sleep(0.005)

    def _ensure_private_loop(self) -> asyncio.AbstractEventLoop:
        """The client's own loop thread for coroutines of callbacks subscribed from plain code; started on
        demand, stopped (pending coroutines cancelled, loop closed) when the session ends."""
        return self._private.get()

    @property
    def _private_loop(self) -> Optional[asyncio.AbstractEventLoop]:
        return self._private.loop
