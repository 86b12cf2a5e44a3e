"""Thin sync -> async adapter: one implementation (sync), awaitable when a loop is running.

A method decorated with :func:`sync_or_async` runs and returns its result when called from plain code.
Called while an asyncio event loop runs in the current thread, it instead returns an awaitable (an
executor future, already scheduled) that runs the same sync method in the loop's default executor.
Inside that call :func:`caller_loop` names the loop the caller awaited from, and blocking waits should
use :func:`wait_event` so that cancelling the awaiting task frees the executor thread promptly.
:func:`interruptible` lets Ctrl+C reach the awaiting coroutine as ``KeyboardInterrupt`` (long waits such as
``await client.listen()``), where ``asyncio.run`` would otherwise cancel the main task; :class:`PrivateLoop`
is a loop thread for coroutines of callers that have none.
"""

import asyncio
import contextvars
import functools
import logging
import signal
import threading
from typing import Any, Callable, Optional

__all__ = ["PrivateLoop", "caller_loop", "cancelled", "interruptible", "running_loop", "sync_or_async", "wait_event"]

_CALLER_LOOP: "contextvars.ContextVar[Optional[asyncio.AbstractEventLoop]]" = contextvars.ContextVar(
    "polygon_caller_loop", default=None
)
_CANCEL: "contextvars.ContextVar[Optional[threading.Event]]" = contextvars.ContextVar("polygon_cancel", default=None)


_NEVER = threading.Event()
logger = logging.getLogger(__name__)


def running_loop() -> Optional[asyncio.AbstractEventLoop]:
    """Return the event loop running in this thread, or ``None``."""
    try:
        return asyncio.get_running_loop()
    except RuntimeError:
        return None


def caller_loop() -> Optional[asyncio.AbstractEventLoop]:
    """The loop of the awaiting caller while inside an adapted call, else the loop running here, else ``None``."""
    return _CALLER_LOOP.get() or running_loop()


def cancelled() -> bool:
    """``True`` when the task awaiting the current adapted call was cancelled."""
    event = _CANCEL.get()
    return event is not None and event.is_set()


def wait_event(event: threading.Event, timeout: Optional[float] = None, poll: float = 0.1) -> bool:
    """Wait for ``event`` like ``event.wait(timeout)``, but give up early when the awaiting task is cancelled.

    :returns: ``True`` if the event is set.
    """
    cancel = _CANCEL.get() or _NEVER
    remaining = timeout
    # in slices: a cancelled task frees its thread, and Ctrl+C reaches a waiting main thread promptly
    while not event.is_set() and not cancel.is_set():
        step = poll if remaining is None else min(poll, remaining)
        if step <= 0 or event.wait(step):
            break
        if remaining is not None:
            remaining -= step
    return event.is_set()


def sync_or_async(method: Callable[..., Any]) -> Callable[..., Any]:
    """Decorate a blocking method: plain callers get the result, callers on a running loop get an awaitable."""

    @functools.wraps(method)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        loop = running_loop()
        if loop is None:
            return method(*args, **kwargs)
        ctx = contextvars.copy_context()
        cancel = threading.Event()
        ctx.run(_CALLER_LOOP.set, loop)
        ctx.run(_CANCEL.set, cancel)
        future = loop.run_in_executor(None, functools.partial(ctx.run, method, *args, **kwargs))
        future.add_done_callback(lambda f: cancel.set() if f.cancelled() else None)
        return future

    return wrapper


def _takes_over(handler: Any) -> bool:
    """Whether Ctrl+C may be taken over from ``handler``: Python's default, or ``asyncio.run``'s own (which
    cancels the main task); never a handler the application installed."""
    func = getattr(handler, "func", handler)  # asyncio.Runner installs functools.partial(self._on_sigint, ...)
    owner = getattr(func, "__self__", None)
    runner = type(owner).__name__ == "Runner" and getattr(func, "__name__", "") == "_on_sigint"
    return handler is signal.default_int_handler or runner


async def interruptible(awaitable: Any) -> Any:
    """Await ``awaitable``; a Ctrl+C meanwhile raises ``KeyboardInterrupt`` right here, in the awaiting
    coroutine, so its ``except KeyboardInterrupt`` runs and its ``finally`` can still await (``asyncio.run``
    alone would cancel the main task and end in ``CancelledError`` / ``KeyboardInterrupt`` tracebacks). The
    awaited call is cancelled. Only in the main thread, and only when SIGINT has Python's or asyncio's
    handler; otherwise a plain ``await``.
    """
    future = asyncio.ensure_future(awaitable)
    if threading.current_thread() is not threading.main_thread() or not _takes_over(signal.getsignal(signal.SIGINT)):
        return await future
    loop = asyncio.get_running_loop()
    interrupted = loop.create_future()

    def interrupt() -> None:
        if not interrupted.done():
            interrupted.set_result(True)

    def on_sigint(signum: int, frame: Any) -> None:
        loop.call_soon_threadsafe(interrupt)

    previous = signal.signal(signal.SIGINT, on_sigint)
    try:
        await asyncio.wait([future, interrupted], return_when=asyncio.FIRST_COMPLETED)
    except BaseException:  # the awaiting task was cancelled: so is the call
        future.cancel()
        raise
    finally:
        signal.signal(signal.SIGINT, previous)
        interrupted.cancel()
    if not future.done():
        future.cancel()  # frees the executor thread (wait_event sees the cancellation)
        raise KeyboardInterrupt
    return future.result()


class PrivateLoop:
    """An event loop on a daemon thread of its own, started on demand by :meth:`get` and ended by :meth:`stop`
    (for coroutines of callers that have no loop, e.g. coroutine callbacks subscribed from plain code)."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.loop: Optional[asyncio.AbstractEventLoop] = None
        self._thread: Optional[threading.Thread] = None
        self._lock = threading.Lock()

    def get(self) -> asyncio.AbstractEventLoop:
        """The running loop, started if needed."""
        with self._lock:
            if self.loop is None:
                loop = asyncio.new_event_loop()
                thread = threading.Thread(target=loop.run_forever, name=self.name, daemon=True)
                thread.start()
                self.loop, self._thread = loop, thread
            return self.loop

    def stop(self) -> None:
        """Stop the loop: its thread ends, pending coroutines are cancelled, the loop is closed (no thread or
        descriptor outlives it). From a coroutine on that loop, the loop just stops."""
        with self._lock:
            loop, thread = self.loop, self._thread
            self.loop = self._thread = None
        if loop is None or thread is None:
            return
        try:
            loop.call_soon_threadsafe(loop.stop)
        except RuntimeError:  # already closed
            return
        if thread is threading.current_thread():  # stopping from a callback on that loop: it ends by itself
            return
        thread.join(5)
        if thread.is_alive():
            logger.warning("a coroutine blocks the %s event loop; leaving it behind", self.name)
            return
        try:
            pending = [task for task in asyncio.all_tasks(loop) if not task.done()]
            for task in pending:
                task.cancel()
            if pending:
                gathered = asyncio.gather(*pending, return_exceptions=True)
                loop.run_until_complete(asyncio.wait_for(gathered, 2))
        except Exception:
            logger.warning("cancelling the coroutines of %s failed", self.name, exc_info=True)
        finally:
            loop.close()
