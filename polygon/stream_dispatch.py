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
import json
import logging
import threading
from typing import TYPE_CHECKING, Any, Callable, Dict, List, Optional, Tuple

if TYPE_CHECKING:
    from polygon.subscriptions import _Routes

__all__: List[str] = []

logger = logging.getLogger(__name__)

_STOP = object()


class _FrameQueue:
    """FIFO of frames bounded by the number of *events* they hold (memory stays bounded whatever the
    frame size). ``put`` drops the oldest frames or waits, as the overflow policy says."""

    def __init__(self, max_events: int) -> None:
        self.max_events = max_events
        self.events = 0
        self.unfinished = 0
        self.dropped_events = 0
        self.dropped_frames = 0
        self._frames: "collections.deque[Any]" = collections.deque()
        self._cond = threading.Condition(threading.Lock())

    def put(self, frame: Any, size: int, block: bool, stop: threading.Event) -> int:
        """Append ``frame`` holding ``size`` events; returns the number of events dropped to make room."""
        dropped = 0
        with self._cond:
            while self.events and self.events + size > self.max_events:
                if block:
                    if stop.is_set():
                        return 0
                    self._cond.wait(0.1)
                    continue
                old_size, _old = self._frames.popleft()
                self.events -= old_size
                self.unfinished -= 1
                dropped += old_size
                self.dropped_frames += 1
            self.dropped_events += dropped
            self._frames.append((size, frame))
            self.events += size
            self.unfinished += 1
            self._cond.notify_all()
        return dropped

    def put_stop(self) -> None:
        with self._cond:
            self._frames.append((0, _STOP))
            self.unfinished += 1
            self._cond.notify_all()

    def get(self) -> Any:
        with self._cond:
            while not self._frames:
                self._cond.wait()
            size, frame = self._frames.popleft()
            self.events -= size
            self._cond.notify_all()
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


async def _run_batch(items: List[Tuple[Callable, dict]], on_error: Callable[[Any], None]) -> None:
    for fn, data in items:
        try:
            await fn(data)
        except Exception:  # user code: log, count, keep going
            on_error(fn)


class _FrameDispatcher:
    """The dispatcher thread's side of :class:`~polygon.websocket.PolygonWebSocketClient` (a mixin).

    The client provides ``_queue`` (a :class:`_FrameQueue`), ``_stop``, ``_book``
    (a :class:`~polygon.subscriptions.SubscriptionBook`), ``_normalizers``, ``_sink``, the counters
    ``_events_dispatched`` and ``_callback_errors``, and the methods ``_on_status`` and ``_ensure_private_loop``.
    """

    _queue: _FrameQueue
    _stop: threading.Event
    _book: Any
    _normalizers: Dict[str, Callable[[dict], dict]]
    _sink: Any
    _events_dispatched: int
    _callback_errors: int

    def _on_status(self, msg: dict) -> None:  # pragma: no cover - provided by the client
        raise NotImplementedError

    def _ensure_private_loop(self) -> asyncio.AbstractEventLoop:  # pragma: no cover - provided by the client
        raise NotImplementedError

    def _plan(self, routes: "_Routes", key: Tuple[str, str]) -> Any:
        """What to do with events of ``key``: ``(normalise, single, fns, coroutine_targets, to_sink)`` or
        ``None`` when nobody wants them; cached per routes snapshot. ``single`` is the ``(fn, loop)`` of the
        only plain callback, else ``fns`` holds them all; only what the sink keeps goes to it."""
        norm = self._normalizers.get(key[0])
        targets = routes.cache.get(key)
        if targets is None:
            targets = routes.resolve(key)
        fns = tuple((t.fn, t.loop) for t in targets if not t.coro)
        coros = tuple(t for t in targets if t.coro)
        sink = self._sink
        to_sink = sink is not None and sink.wants(key[0])
        plan = None
        if norm is not None and (targets or to_sink):
            single = fns[0] if len(fns) == 1 else None
            plan = (norm, single, fns if single is None else (), coros, to_sink)
        routes.plans[key] = plan if plan is not None else False
        return plan

    def _dispatch_loop(self) -> None:
        q = self._queue
        stopped = self._stop.is_set
        book = self._book
        isawaitable = inspect.isawaitable
        loads = json.loads
        inflight: Dict[asyncio.AbstractEventLoop, concurrent.futures.Future] = {}
        while True:
            frame = q.get()
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
                    if stopped():  # disconnect() from a callback: deliver nothing more
                        break
                    try:
                        key = (msg["ev"], msg["sym"])
                        plan = plans.get(key)
                        if plan is None:
                            plan = self._plan(routes, key)
                        if not plan:
                            continue
                        norm, single, fns, coros, to_sink = plan
                        data = norm(msg)
                    except (KeyError, TypeError, ValueError, AttributeError):
                        if type(msg) is dict and msg.get("ev") == "status":
                            self._on_status(msg)
                        else:
                            logger.debug("malformed event skipped: %r", msg)
                        continue
                    count += 1
                    if single is not None:
                        fn = single[0]
                        try:
                            result = fn(data)
                            if result is not None and isawaitable(result):
                                self._submit_awaitable(result, single[1])
                        except Exception:
                            self._callback_error(fn)
                    elif fns:
                        item = data
                        for fn, fn_loop in fns:
                            try:
                                result = fn(item)
                                if result is not None and isawaitable(result):
                                    self._submit_awaitable(result, fn_loop)
                            except Exception:
                                self._callback_error(fn)
                            item = dict(data)
                    if coros:
                        if batches is None:
                            batches = {}
                        copy = single is not None or bool(fns)
                        for target in coros:
                            batches.setdefault(target.loop, []).append((target.fn, dict(data) if copy else data))
                    if to_sink:
                        if bars is None:
                            bars = []
                        bars.append((key[0], data))
                self._events_dispatched += count
                if bars and self._sink is not None:
                    self._sink.add(bars)
                if batches and not stopped():
                    self._submit_coroutines(batches, inflight, stopped)
            except Exception:  # a bug here must not kill the dispatcher (and silently stop every callback)
                logger.exception("dispatching a frame failed; frame skipped")
            finally:
                q.done()

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

    def _submit_awaitable(self, awaitable: Any, loop: Optional[asyncio.AbstractEventLoop]) -> None:
        """A plain callable returned an awaitable (e.g. ``lambda d: handler(d)``): run it on the subscriber's
        ``loop``, or on the private loop when subscribed from plain code."""

        async def run() -> None:
            try:
                await awaitable
            except Exception:
                self._callback_error(awaitable)

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

    def _callback_error(self, fn: Any) -> None:
        self._callback_errors += 1
        logger.exception("callback %r raised", fn)
