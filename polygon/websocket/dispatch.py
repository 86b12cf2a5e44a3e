"""Reader -> dispatcher hand-off of the stream client: the bounded frame queue (:class:`_FrameQueue`), callback
targets (:class:`_Target`) and the dispatcher thread's loop (:class:`_FrameDispatcher`), which decodes queued
frames, normalises their events and calls the callbacks (plain ones on the dispatcher thread, coroutine ones
batched onto their event loops).

Internal to :class:`~polygon.websocket.PolygonWebSocketClient`, which imports this module (never the reverse).
"""

import asyncio
import collections
import concurrent.futures
import inspect
import logging
import threading
import time
from typing import TYPE_CHECKING, Any, Callable, Dict, List, Optional, Tuple

from polygon.core import json_codec

if TYPE_CHECKING:
    from polygon.websocket.subscriptions import _Routes

__all__: List[str] = []

logger = logging.getLogger(__name__)

_STOP = object()


class _FrameQueue:
    """FIFO of frames bounded by the number of *events* they hold (memory stays bounded whatever the
    frame size). When full, ``put`` follows the overflow policy:

    - ``'wait'``: wait (the socket is not read, so TCP pushes back on the sender) while the dispatcher's
      *lag* is under ``max_lag`` seconds, then drop the oldest frames for as long as the lag stays over it.
      The lag is the age of the frame the dispatcher took last (how old the data it works on is); a
      dispatcher that keeps up on average never loses an event, a stuck one never stalls the socket
      longer than ``max_lag``.
    - ``'drop_oldest'``: drop the oldest frames at once.
    - ``'block'``: wait for room however long it takes.
    """

    def __init__(self, max_events: int, policy: str = "wait", max_lag: float = 5.0,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.max_events = max_events
        self.policy = policy
        self.max_lag = max_lag
        self.events = 0
        self.unfinished = 0
        self.dropped_events = 0
        self.dropped_frames = 0
        self.waits = 0  # times the reader waited for room (backpressure)
        self.taken_at: Optional[float] = None  # enqueue time of the frame the dispatcher took last
        self._clock = clock
        self._frames: "collections.deque[Any]" = collections.deque()
        self._cond = threading.Condition(threading.Lock())
        self._getter_waits = False
        self._putter_waits = False

    def lag(self) -> float:
        """Seconds the dispatcher is behind: the age of the frame it took last (0 when idle)."""
        taken = self.taken_at
        return 0.0 if taken is None or not self._frames else max(0.0, self._clock() - taken)

    def put(self, frame: Any, size: int, stop: threading.Event, block: bool = False) -> int:
        """Append ``frame`` holding ``size`` events; returns the number of events dropped to make room.
        ``block`` forces waiting (replays)."""
        dropped = 0
        policy = "block" if block else self.policy
        with self._cond:
            now = self._clock()
            while self.events and self.events + size > self.max_events:
                if stop.is_set():
                    return 0
                if policy != "drop_oldest":
                    if self.taken_at is None:
                        self.taken_at = now  # nothing taken yet: the dispatcher's lag starts now
                    left = self.max_lag - (now - self.taken_at)
                    if policy == "block" or left > 0:
                        self.waits += 1
                        self._putter_waits = True
                        self._cond.wait(min(0.1, left) if policy != "block" else 0.1)
                        self._putter_waits = False
                        now = self._clock()
                        continue
                old_size, _old, _t = self._frames.popleft()
                self.events -= old_size
                self.unfinished -= 1
                dropped += old_size
                self.dropped_frames += 1
            self.dropped_events += dropped
            self._frames.append((size, frame, now))
            self.events += size
            self.unfinished += 1
            if self._getter_waits:
                self._cond.notify()
        return dropped

    def put_stop(self) -> None:
        with self._cond:
            self._frames.append((0, _STOP, self._clock()))
            self.unfinished += 1
            self._cond.notify_all()

    def get(self) -> Any:
        with self._cond:
            if not self._frames:
                self.taken_at = None  # idle: no lag until the next frame arrives
            while not self._frames:
                self._getter_waits = True
                self._cond.wait()
                self._getter_waits = False
            size, frame, when = self._frames.popleft()
            self.events -= size
            self.taken_at = when
            if self._putter_waits and (self.events <= self.max_events // 2 or not self._frames):
                self._cond.notify()  # the reader refills half a queue at a time: fewer thread switches
            return frame

    def done(self) -> None:
        with self._cond:
            self.unfinished -= 1


class _Target:
    """A callback, whether it is a coroutine function, and the event loop of its subscriber (``None`` when
    subscribed from plain code: coroutines then run on the client's private loop). Awaitables returned by a
    plain callback also run on that loop. Plain callbacks are equal when their functions are (each receives
    an event once); coroutine callbacks when their loops are too."""

    __slots__ = ("fn", "loop", "coro")

    def __init__(self, fn: Callable[[dict], Any], loop: Optional[asyncio.AbstractEventLoop]) -> None:
        self.fn = fn
        self.loop = loop
        self.coro = _is_coroutine_function(fn)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, _Target) or self.coro != other.coro or not self.fn == other.fn:
            return False
        return not self.coro or self.loop is other.loop

    def __hash__(self) -> int:
        return hash(self.fn)


def _is_coroutine_function(fn: Any) -> bool:
    return inspect.iscoroutinefunction(fn) or inspect.iscoroutinefunction(type(fn).__call__)


async def _run_batch(items: List[Tuple[Callable, dict]], on_error: Callable[[Any, Optional[str]], None]) -> None:
    for fn, data in items:
        try:
            await fn(data)
        except Exception:  # user code: log (once per callback and channel), count, keep going
            on_error(fn, data.get("channel") if isinstance(data, dict) else None)


def _callback_name(fn: Any) -> str:
    """How a callback is named in the log: its qualified name (``main.<locals>.on_trade``) or its repr."""
    name = getattr(fn, "__qualname__", None)
    module = getattr(fn, "__module__", None)
    return "%s.%s" % (module, name) if name and module else name or repr(fn)


def _callback_key(fn: Any) -> Any:
    try:
        hash(fn)
    except TypeError:  # an unhashable callable object
        return id(fn)
    return fn


class _FrameDispatcher:
    """The dispatcher thread's side of :class:`~polygon.websocket.PolygonWebSocketClient` (a mixin).

    The client provides ``_queue`` (a :class:`_FrameQueue`), ``_stop``, ``_book``
    (a :class:`~polygon.websocket.subscriptions.SubscriptionBook`), ``_normalizers``, ``_symbol_fields``, ``_sink``, the
    counters ``_events_dispatched`` and ``_callback_errors``, and the methods ``_on_status``,
    ``_ensure_private_loop`` and ``_canonical``.
    """

    _queue: _FrameQueue
    _stop: threading.Event
    _book: Any
    _normalizers: Dict[str, Callable[[dict], dict]]
    _symbol_fields: Dict[str, str]
    _sink: Any
    _events_dispatched: int
    _callback_errors: int
    _reported_errors: Optional[set] = None  # (callback, channel) pairs whose error was logged in full

    def _on_status(self, msg: dict) -> None:  # pragma: no cover - provided by the client
        raise NotImplementedError

    def _ensure_private_loop(self) -> asyncio.AbstractEventLoop:  # pragma: no cover - provided by the client
        raise NotImplementedError

    def _canonical(self, raw: str) -> str:  # pragma: no cover - provided by the client
        raise NotImplementedError

    def _plan(self, routes: "_Routes", ev: str, raw: str) -> Any:
        """What to do with events ``ev`` of the wire ticker ``raw``: ``(normalise, single, fns,
        coroutine_targets, to_sink, loop, channel, canonical)`` or ``False`` when nobody wants them; cached per
        routes snapshot. ``single`` is the only plain callback (``loop`` its subscriber's loop), else ``fns``
        holds ``(fn, loop)`` of them all; only what the sink keeps goes to it; ``canonical`` is the REST form of
        the ticker when the wire spells it otherwise (``None`` when the same)."""
        symbol = self._canonical(raw)
        key = (ev, symbol)
        norm = self._normalizers.get(key[0])
        targets = routes.cache.get(key)
        if targets is None:
            targets = routes.resolve(key)
        fns = tuple((t.fn, t.loop) for t in targets if not t.coro)
        coros = tuple(t for t in targets if t.coro)
        sink = self._sink
        to_sink = sink is not None and sink.wants(key[0])
        plan: Any = False
        if norm is not None and (targets or to_sink):
            canonical = symbol if symbol != raw else None
            if len(fns) == 1:
                plan = (norm, fns[0][0], (), coros, to_sink, fns[0][1], ev, canonical)
            else:
                plan = (norm, None, fns, coros, to_sink, None, ev, canonical)
        entry = routes.plans.get(ev)
        if entry is None:
            entry = routes.plans[ev] = (self._symbol_fields.get(ev, "sym"), {})
        entry[1][raw] = plan  # nested by channel: no key tuple per event
        return plan

    def _dispatch_loop(self) -> None:
        q = self._queue
        get = q.get
        stopped = self._stop.is_set
        book = self._book
        isawaitable = inspect.isawaitable
        loads = json_codec.loads
        inflight: Dict[asyncio.AbstractEventLoop, concurrent.futures.Future] = {}
        while True:
            frame = get()
            try:
                if frame is _STOP or stopped():
                    return
                if type(frame) is bytes:
                    try:
                        frame = loads(frame)
                    except ValueError:
                        logger.warning("undecodable frame of %d bytes dropped", len(frame))
                        continue
                    if type(frame) is not list:
                        frame = [frame]
                routes = book.routes
                plans = routes.plans
                batches: Optional[Dict[Any, list]] = None
                bars: Optional[list] = None
                count = 0
                for msg in frame:
                    # one dict literal per event (the normaliser), no copies for a single plain callback
                    try:
                        field, by_symbol = plans[msg["ev"]]  # the wire key of the ticker: sym, pair, T ...
                        plan = by_symbol[msg[field]]
                    except (KeyError, TypeError, IndexError, ValueError):
                        plan = self._plan_for(routes, msg)
                    if not plan:
                        continue
                    norm, single, fns, coros, to_sink, _loop, _channel, canonical = plan
                    data = norm(msg)
                    if canonical is not None:  # 'BTC-USD' on the wire -> 'X:BTCUSD' (the REST form)
                        data["symbol"] = canonical
                    count += 1
                    if single is not None:
                        try:
                            result = single(data)
                            if result is not None and isawaitable(result):
                                self._submit_awaitable(result, plan[5], single, plan[6])
                        except Exception:
                            self._callback_error(single, plan[6])
                        if stopped():  # disconnect() from a callback: deliver nothing more
                            break
                    elif fns:
                        item = data
                        for fn, fn_loop in fns:
                            try:
                                result = fn(item)
                                if result is not None and isawaitable(result):
                                    self._submit_awaitable(result, fn_loop, fn, plan[6])
                            except Exception:
                                self._callback_error(fn, plan[6])
                            item = dict(data)  # each callback its own dict: one may mutate it
                        if stopped():
                            break
                    if coros:
                        if batches is None:
                            batches = {}
                        copy = single is not None or bool(fns)
                        for target in coros:
                            batches.setdefault(target.loop, []).append((target.fn, dict(data) if copy else data))
                    if to_sink:
                        if bars is None:
                            bars = []
                        bars.append((plan[6], data))
                self._events_dispatched += count
                if bars and self._sink is not None:
                    self._sink.add(bars)
                if batches and not stopped():
                    self._submit_coroutines(batches, inflight, stopped)
            except Exception:  # a bug here must not kill the dispatcher (and silently stop every callback)
                logger.exception("dispatching a frame failed; frame skipped")
            finally:
                q.done()

    def _plan_for(self, routes: "_Routes", msg: Any) -> Any:
        """Slow path of the dispatcher: the plan of a key seen for the first time, or ``None`` (skip) for a
        status message (acted on) or a malformed event (logged)."""
        try:
            ev = msg["ev"]
            raw = msg[self._symbol_fields[ev]]
            entry = routes.plans.get(ev)
            plan = None if entry is None else entry[1].get(raw)
            return plan if plan is not None else self._plan(routes, ev, raw)
        except (KeyError, TypeError, IndexError, AttributeError):
            if type(msg) is dict and msg.get("ev") == "status":
                self._on_status(msg)
            else:
                logger.debug("malformed event skipped: %r", msg)
            return None

    def _submit_coroutines(
        self, batches: Dict[Any, list], inflight: Dict[Any, Any], stopped: Callable[[], bool]
    ) -> None:
        for key, items in batches.items():
            loop = key if key is not None else self._ensure_private_loop()
            prev = inflight.get(loop)
            while prev is not None and not prev.done():
                if stopped() or loop.is_closed():
                    return
                concurrent.futures.wait([prev], timeout=0.1)
            coro = _run_batch(items, self._callback_error)
            try:
                inflight[loop] = asyncio.run_coroutine_threadsafe(coro, loop)
            except RuntimeError:  # the loop is closed
                coro.close()
                inflight.pop(loop, None)
                self._callback_errors += len(items)
                logger.warning("event loop of a coroutine callback is closed; %d events not delivered", len(items))

    def _submit_awaitable(self, awaitable: Any, loop: Optional[asyncio.AbstractEventLoop], fn: Any = None,
                          channel: Optional[str] = None) -> None:
        """A plain callable ``fn`` returned an awaitable (e.g. ``lambda d: handler(d)``): run it on the
        subscriber's ``loop``, or on the private loop when subscribed from plain code."""

        async def run() -> None:
            try:
                await awaitable
            except Exception:
                self._callback_error(fn if fn is not None else awaitable, channel)

        coro = run()
        try:
            if self._stop.is_set():  # disconnect() from that callback: the session's loops are going away
                raise RuntimeError("session stopped")
            asyncio.run_coroutine_threadsafe(coro, loop if loop is not None else self._ensure_private_loop())
        except RuntimeError:  # the loop is closed
            coro.close()
            close = getattr(awaitable, "close", None)
            if close is not None:
                close()
            self._callback_errors += 1
            logger.warning("event loop of a callback is closed; its awaitable was not run")

    def _callback_error(self, fn: Any, channel: Optional[str] = None) -> None:
        """A user callback raised (called in its ``except`` block): count it; log it with its traceback the
        first time for this callback and channel (later ones at debug level), so that a handler failing on
        every event neither floods the log nor stops the stream."""
        self._callback_errors += 1
        key = (_callback_key(fn), channel)
        reported = self._reported_errors
        if reported is None:
            reported = self._reported_errors = set()
        if key in reported:
            logger.debug("callback %s raised again on channel %s", _callback_name(fn), channel, exc_info=True)
            return
        reported.add(key)
        logger.error("callback %s raised on channel %s events; the stream goes on. Logged once per callback and "
                     "channel; get_status()['callback_errors'] counts them all", _callback_name(fn), channel,
                     exc_info=True)
