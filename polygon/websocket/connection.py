"""The socket side of :class:`~polygon.websocket.PolygonWebSocketClient` (a mixin): connect and authenticate,
send subscription changes, the reader thread, reconnection with the guide's backoff, and the provider's status
messages. The public API, the session (threads, sinks) and the figures are in :mod:`polygon.websocket.client`.
"""

import logging
import threading
import time
from datetime import datetime, timezone
from typing import Any, List, Optional, Tuple, Union

import websocket as _wsc

from polygon.core.json_codec import dumps as _dumps
from polygon.core.json_codec import loads
from polygon.exceptions import MaxConnectionsError, PolygonAuthenticationError, StreamConnectionError
from polygon.websocket.subscriptions import provider_param

__all__: List[str] = []

logger = logging.getLogger(__name__)

_OK_STATUSES = frozenset(("connected", "success", "auth_success"))
_FATAL_STATUSES = frozenset(("max_connections", "auth_failed"))


def _stream() -> Any:
    from polygon._generated import stream

    return stream


class _Connection:
    """The socket side of the stream client (a mixin of :class:`~polygon.websocket.PolygonWebSocketClient`, whose
    ``__init__`` sets the state used here)."""

    # ---------------------------------------------------------------------------------------------- connection
    def _open(self) -> "_wsc.WebSocket":
        """Connect and authenticate; return the socket ready for subscriptions."""
        key = self.config.api_key
        if not key:
            raise PolygonAuthenticationError("no API key: set POLYGON_API_KEY or pass a config with api_key")
        try:
            ws = _wsc.create_connection(self.url, timeout=self.connect_timeout, skip_utf8_validation=True)
        except (OSError, _wsc.WebSocketException) as exc:
            raise StreamConnectionError("cannot connect to %s: %s" % (self.url, exc)) from None
        try:
            self._await_status(ws, ("connected", "success"), "connected")
            ws.send(_to_text(_stream().auth_message(key)))
            self._await_status(ws, ("auth_success",), "auth")
            ws.settimeout(min(0.5, self.ping_interval, self.read_timeout))
        except BaseException:
            _abort(ws)
            raise
        return ws

    def _await_status(self, ws: "_wsc.WebSocket", wanted: Tuple[str, ...], stage: str) -> None:
        deadline = self._clock() + self.connect_timeout
        while True:
            if self._clock() > deadline:
                raise StreamConnectionError("%s: no %s status within %.1f s" % (self.url, stage, self.connect_timeout))
            try:
                raw = ws.recv()
            except _wsc.WebSocketTimeoutException:
                raise StreamConnectionError(
                    "%s: no %s status within %.1f s" % (self.url, stage, self.connect_timeout)
                ) from None
            except (OSError, _wsc.WebSocketException) as exc:
                raise StreamConnectionError("%s: connection lost during %s: %s" % (self.url, stage, exc)) from None
            if not raw:
                raise StreamConnectionError("%s: server closed the connection during %s" % (self.url, stage))
            self._last_rx_wall = time.time()
            try:
                msgs = loads(raw)
            except ValueError:
                logger.warning("undecodable frame during %s ignored", stage)
                continue
            if self._recorder is not None:
                self._recorder.write(self._last_rx_wall, raw)
            self._message_count += len(msgs) if isinstance(msgs, list) else 1
            for msg in msgs if isinstance(msgs, list) else [msgs]:
                if not isinstance(msg, dict) or msg.get("ev") != "status":
                    continue
                status, text = msg.get("status"), str(msg.get("message", ""))
                if status == "auth_failed" or status == "auth_timeout":
                    raise PolygonAuthenticationError("stream authentication failed: %s" % text)
                if status == "max_connections":
                    raise MaxConnectionsError("stream refused: %s" % text)
                if status in wanted:
                    if stage == "connected" or status != "success":
                        return
                if status not in _OK_STATUSES:
                    self._record_error(status, text)

    def _install(self, ws: "_wsc.WebSocket") -> None:
        """Make ``ws`` current and restore every provider subscription in one message (lock held)."""
        self._ws = ws
        self._connected = self._authenticated = True
        params = self._book.provider_params()
        if params:
            ws.send(_to_text(_stream().subscribe_message([provider_param(p) for p in params])))
            logger.debug("subscribed %d provider channels", len(params))

    def _send_changes(self, add: List[str], remove: List[str]) -> None:
        """Send one subscribe and/or one unsubscribe message when connected (lock held)."""
        ws = self._ws
        if ws is None or not self._connected:
            return
        stream = _stream()
        try:
            if add:
                ws.send(_to_text(stream.subscribe_message([provider_param(p) for p in add])))
            if remove:
                ws.send(_to_text(stream.unsubscribe_message([provider_param(p) for p in remove])))
        except (OSError, _wsc.WebSocketException) as exc:
            # the reader sees the drop; the reconnect restores the book
            logger.info("subscription change not sent (%s); it will be restored on reconnect", exc)

    def _reconnect(self, reason: str, stop: threading.Event) -> bool:
        """Reconnect with the guide's backoff. ``True`` when the stream is back."""
        with self._lock:
            old, self._ws = self._ws, None
            self._connected = self._authenticated = False
        if old is not None:
            _abort(old)
        if stop.is_set():
            return False
        logger.warning("stream dropped (%s); reconnecting", reason)
        last: Optional[BaseException] = None
        if self._on_probation is not None and self._reconnect_attempts:
            # the previous reconnect never became healthy (no event, dropped within read_timeout): it counts
            last = StreamConnectionError("the reconnected stream dropped before delivering any event")
        first = self._reconnect_attempts if self._on_probation is not None else 0
        self._on_probation = None
        for attempt, delay in enumerate(self.reconnect_delays[first:], first + 1):
            self._reconnect_attempts = attempt
            logger.info("reconnect attempt %d/%d in %.1f s", attempt, len(self.reconnect_delays), delay)
            if self._sleep is not None:
                self._sleep(delay)
            else:
                stop.wait(delay)
            if stop.is_set():
                return False
            try:
                ws = self._open()
            except (PolygonAuthenticationError, MaxConnectionsError) as exc:
                self._fail(exc)
                return False
            except StreamConnectionError as exc:
                last = exc
                logger.warning("reconnect attempt %d failed: %s", attempt, exc)
                continue
            with self._lock:
                if stop.is_set():
                    _abort(ws)
                    return False
                try:
                    self._install(ws)
                except (OSError, _wsc.WebSocketException) as exc:
                    last = exc
                    self._ws = None
                    self._connected = self._authenticated = False
                    _abort(ws)
                    continue
            self._reconnects += 1
            self._on_probation = self._clock()  # _read_frames resets the budget once this session is healthy
            logger.info("stream reconnected to %s", self.url)
            return True
        self._fail(
            StreamConnectionError(
                "stream to %s dropped (%s) and %d reconnect attempts failed; last error: %s"
                % (self.url, reason, len(self.reconnect_delays), last)
            )
        )
        return False

    # ---------------------------------------------------------------------------------------------- reader
    def _read_loop(self) -> None:
        try:
            self._read_frames()
        except Exception as exc:  # a bug must end listen() loudly, never leave it waiting forever
            logger.exception("stream reader failed")
            self._fail(StreamConnectionError("stream reader failed: %s: %s" % (type(exc).__name__, exc)))

    def _read_frames(self) -> None:
        clock = self._clock
        stop = self._stop
        ws = self._ws
        last_rx = last_ping = clock()
        while not stop.is_set() and ws is not None:
            try:
                opcode, frame = ws.recv_data_frame(True)
            except _wsc.WebSocketTimeoutException:
                now = clock()
                if now - last_rx >= self.read_timeout:
                    reason = "no data for %.1f s" % (now - last_rx)
                elif now - last_rx >= self.ping_interval and now - last_ping >= self.ping_interval:
                    last_ping = now
                    try:
                        ws.ping()
                    except (OSError, _wsc.WebSocketException):
                        pass
                    continue
                else:
                    continue
            except (OSError, _wsc.WebSocketException, ValueError) as exc:
                reason = "%s: %s" % (type(exc).__name__, exc)
            else:
                last_rx = clock()
                if opcode == 1 or opcode == 2:  # text, binary
                    events = self._ingest(frame.data)
                    if self._on_probation is not None and (events or last_rx - self._on_probation > self.read_timeout):
                        self._healthy()
                    continue
                if opcode != 8:  # ping / pong keep the link alive
                    if self._on_probation is not None and last_rx - self._on_probation > self.read_timeout:
                        self._healthy()
                    continue
                reason = "server closed the connection"
            if stop.is_set() or not self._reconnect(reason, stop):
                return
            ws = self._ws
            last_rx = last_ping = clock()

    def _healthy(self) -> None:
        """The reconnected session delivered an event or stayed up past ``read_timeout``: a new budget."""
        self._on_probation = None
        self._reconnect_attempts = 0

    def _ingest(self, raw: Union[bytes, str], replay: bool = False) -> bool:
        """Queue one raw frame for the dispatcher (reader thread); ``True`` when it held events.

        Event frames cross threads undecoded: decoding where the events are used keeps a frame's objects on
        one core (measured markedly cheaper than handing over decoded dicts). Frames that may hold status
        messages (small and rare) are decoded here so statuses act at once.
        """
        now = time.time()
        self._last_rx_wall = now
        if type(raw) is str:
            raw = raw.encode("utf-8")
        if self._recorder is not None and not replay:
            try:
                self._recorder.write(now, raw)
            except OSError:  # e.g. a full disk: stop recording, keep streaming
                logger.exception("recording to %s failed; recording stopped", self.record)
                self._recorder = None
        count = raw.count(b'"ev":')
        # status messages come in frames of their own: decode here only frames that start with one (a
        # status elsewhere in a frame is acted on by the dispatcher)
        if count and b'"status"' not in raw[:32]:
            self._message_count += count
            self._enqueue(raw, count, replay)
            return True
        try:
            msgs = loads(raw)
        except ValueError:
            logger.warning("undecodable frame of %d bytes dropped", len(raw))
            return False
        if type(msgs) is not list:
            msgs = [msgs]
        self._message_count += len(msgs)
        rest = []
        for msg in msgs:
            if type(msg) is dict and msg.get("ev") == "status":
                if not replay:
                    self._on_status(msg)
            else:
                rest.append(msg)
        if rest:
            self._enqueue(rest, len(rest), replay)
        return bool(rest)

    def _enqueue(self, frame: Any, size: int, block: bool = False) -> None:
        if self._queue.put(frame, size, self._stop, block):
            now = self._clock()
            if now - self._last_drop_log >= 5.0:
                self._last_drop_log = now
                logger.warning(
                    "slow consumer: dispatch queue full (%d events, lag over %.1f s); %d events dropped so far "
                    "(oldest first)",
                    self.queue_size,
                    self.max_lag,
                    self._queue.dropped_events,
                )

    def _on_status(self, msg: dict) -> None:
        status, text = msg.get("status"), str(msg.get("message", ""))
        if status in _OK_STATUSES:
            logger.debug("stream status %s: %s", status, text)
            return
        self._record_error(status, text)
        if status == "max_connections":
            self._fail(MaxConnectionsError("stream closed by the provider: %s" % text))
        elif status == "auth_failed":
            self._fail(PolygonAuthenticationError("stream authentication failed: %s" % text))

    def _record_error(self, status: Any, text: str) -> None:
        logger.warning("stream status %s: %s", status, text)
        self._last_error = {
            "status": status,
            "message": text,
            "time": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        }


def _to_text(message: Any) -> str:
    """A client message as JSON text (the socket sends text frames)."""
    return _dumps(message).decode("utf-8")


def _abort(ws: "_wsc.WebSocket") -> None:
    try:
        ws.abort()
    except Exception:
        pass
    try:
        ws.shutdown()
    except Exception:
        pass
