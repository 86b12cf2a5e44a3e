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
    """A callback and, for coroutine functions, the loop it runs on. Equal when both are."""

    __slots__ = ("fn", "loop")

    def __init__(self, fn: Callable[[dict], Any], loop: Optional[asyncio.AbstractEventLoop]) -> None:
        self.fn = fn
        self.loop = loop

    def __eq__(self, other: object) -> bool:
        return isinstance(other, _Target) and self.fn == other.fn and self.loop is other.loop

    def __hash__(self) -> int:
        return hash((self.fn, id(self.loop)))


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
        """What to do with events of ``key``: ``(normalise, single_fn, fns, coroutine_targets, to_sink)`` or
        ``None`` when nobody wants them; cached per routes snapshot."""
        norm = self._normalizers.get(key[0])
        targets = routes.cache.get(key)
        if targets is None:
            targets = routes.resolve(key)
        fns = tuple(t.fn for t in targets if t.loop is None)
        coros = tuple(t for t in targets if t.loop is not None)
        to_sink = self._sink is not None
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
                        try:
                            result = single(data)
                            if result is not None and isawaitable(result):
                                self._submit_awaitable(result)
                        except Exception:
                            self._callback_error(single)
                    elif fns:
                        item = data
                        for fn in fns:
                            try:
                                result = fn(item)
                                if result is not None and isawaitable(result):
                                    self._submit_awaitable(result)
                            except Exception:
                                self._callback_error(fn)
                            item = dict(data)
                    if coros:
                        if batches is None:
                            batches = {}
                        for target in coros:
                            batches.setdefault(target.loop, []).append((target.fn, dict(data) if fns else data))
                    if to_sink:
                        if bars is None:
                            bars = []
                        bars.append((key[0], data))
                self._events_dispatched += count
                if bars and self._sink is not None:
                    self._sink.add(bars)
                if batches:
                    self._submit_coroutines(batches, inflight, stopped)
            except Exception:  # a bug here must not kill the dispatcher (and silently stop every callback)
                logger.exception("dispatching a frame failed; frame skipped")
            finally:
                q.done()

    def _submit_coroutines(
        self, batches: Dict[Any, list], inflight: Dict[Any, Any], stopped: Callable[[], bool]
    ) -> None:
        for loop, items in batches.items():
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

    def _submit_awaitable(self, awaitable: Any) -> None:
        """A plain callable returned an awaitable (e.g. a ``functools.partial`` of a coroutine function)."""

        async def run() -> None:
            try:
                await awaitable
            except Exception:
                self._callback_error(awaitable)

        asyncio.run_coroutine_threadsafe(run(), self._ensure_private_loop())

    def _callback_error(self, fn: Any) -> None:
        self._callback_errors += 1
        logger.exception("callback %r raised", fn)
