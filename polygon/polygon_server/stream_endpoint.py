"""The ``/ws/{client_id}`` endpoint: one local WebSocket session on the server's :class:`StreamRelay`.

Client messages (``schema/server/ws_*.json``)::

    {"action": "subscribe", "symbols": ["AAPL"], "channels": ["T", "Q"]}   -> {"type": "subscribed", ...}
    {"action": "subscribe", "symbols": ["X:BTCUSD"], "channels": ["XT"]}   (crypto: the prefix decides)
    {"action": "subscribe", "market": "crypto", "symbols": ["*"], "channels": ["XQ"]}
    {"action": "unsubscribe", "symbols": ["AAPL"]}                         -> {"type": "unsubscribed", ...}
    {"action": "ping"}                                                     -> {"type": "pong", "timestamp": ms}

The server greets with ``{"type": "status", "status": "connected", "client_id": ...}`` and pushes events as
``{"type": "data", "channel": "T", "symbol": "AAPL", "data": {...}}``; a client that connects with
``/ws/{client_id}?batch=true`` gets them as ``{"type": "batch", "events": [{...}, ...]}`` instead (many
events per message, as the provider sends them: far less work per event on both sides). A bad message gets
``{"type": "error", "code": ..., "message": ...}`` and the session goes on. A client that connects again with
the id of a session still open replaces that session.

What a client sends is read as it arrives and handled in order; a client that sends more than
:data:`MAX_QUEUED` messages or :data:`MAX_QUEUED_BYTES` bytes ahead of what the server has handled (a flood
that never waits for its replies) is closed with code 1008 and a reason saying so, and what it had queued
is freed at once. A single message over 64 KB is closed with 1009 (simple-websocket's ``max_message_size``).
"""

import base64
import binascii
import json
import logging
import time
from typing import Any, Dict, Optional, Tuple
from urllib.parse import parse_qs

from simple_websocket import ConnectionClosed

from polygon.exceptions import (
    InvalidInputError,
    MaxConnectionsError,
    PolygonAuthenticationError,
    PolygonError,
    StreamConnectionError,
    SubscriptionError,
)
from polygon.polygon_server.messages import MAX_BODY, validate_message
from polygon.polygon_server.outlet import SocketOutlet
from polygon.polygon_server.relay import RelayClient, StreamRelay
from polygon.polygon_server.serving import InboxOverflow, accept_websocket

__all__ = ["ACTIONS", "MAX_QUEUED", "MAX_QUEUED_BYTES", "batch_mode", "check_handshake", "handle_message",
           "serve_client"]

logger = logging.getLogger(__name__)

#: Client actions and the schema each must match.
ACTIONS = {"subscribe": "ws_subscribe", "unsubscribe": "ws_unsubscribe", "ping": "ws_ping"}
#: Seconds between the session's checks of server shutdown (an outlet that closes ends the connection at once).
_RECEIVE_TIMEOUT = 5.0
#: Seconds between the server's pings: a client that vanished without closing is noticed.
_PING_INTERVAL = 20.0
#: Seconds a client may take no byte of what it is sent; then it is disconnected.
_SEND_TIMEOUT = 10.0
_TRUE, _FALSE = ("true", "1", "yes", ""), ("false", "0", "no")
#: Messages a client may have sent and the server not yet handled; past it the connection is closed (1008).
MAX_QUEUED = 1000
#: Bytes of such messages at most (16 of the largest allowed messages).
MAX_QUEUED_BYTES = 16 * MAX_BODY
_POLICY_VIOLATION = 1008
#: Seconds a client closed for a flood gets to read the close frame (what it sends meanwhile is discarded).
_CLOSE_WAIT = 2.0


def _error(code: str, message: str) -> Dict[str, Any]:
    return {"type": "error", "code": code, "message": message}


def handle_message(relay: StreamRelay, client: RelayClient, text: Any) -> Dict[str, Any]:
    """Act on one client message; return the reply (never raises for bad input).

    :param text: the received message (``str``; ``bytes`` are decoded as UTF-8).
    """
    if isinstance(text, bytes):
        try:
            text = text.decode("utf-8")
        except UnicodeDecodeError:
            return _error("bad_json", "messages must be UTF-8 JSON text")
    try:
        message = json.loads(text)
    except (ValueError, RecursionError) as exc:  # RecursionError: absurdly deep nesting
        return _error("bad_json", "not valid JSON (%s); send e.g. "
                      '{"action": "subscribe", "symbols": ["AAPL"], "channels": ["T"]}' % str(exc)[:200])
    if not isinstance(message, dict):
        return _error("invalid_message", "a message must be a JSON object with an 'action'")
    action = message.get("action")
    if not isinstance(action, str) or action not in ACTIONS:
        return _error("unknown_action", "unknown action %r; allowed: %s" % (action, ", ".join(ACTIONS)))
    problems = validate_message(ACTIONS[action], message)
    if problems:
        return _error("invalid_message", "%s: %s" % (action, "; ".join(problems)))
    if action == "ping":
        return {"type": "pong", "timestamp": int(time.time() * 1000)}
    try:
        if action == "subscribe":
            return relay.subscribe(client, message["symbols"], message["channels"], message.get("market"))
        return relay.unsubscribe(client, message["symbols"], message.get("channels"), message.get("market"))
    except SubscriptionError as exc:
        return _error("invalid_subscription", str(exc))
    except (PolygonAuthenticationError, MaxConnectionsError, StreamConnectionError) as exc:
        logger.warning("relay: %s for client %s failed: %s", action, client.client_id, exc)
        return _error("upstream", "the provider stream is not available: %s" % exc)
    except PolygonError as exc:  # shutting down, or this client is already disconnected
        return _error("unavailable", str(exc))


def batch_mode(environ: Dict[str, Any]) -> bool:
    """The ``batch`` query parameter of ``/ws/{client_id}?batch=true`` (``true/1`` or ``false/0``).

    :raises InvalidInputError: any other value.
    """
    values = parse_qs(environ.get("QUERY_STRING", ""), keep_blank_values=True).get("batch")
    if not values:
        return False
    value = values[-1].strip().lower()
    if value in _TRUE:
        return True
    if value in _FALSE:
        return False
    exc = InvalidInputError("batch=%r: use batch=true (events in batch messages) or batch=false" % values[-1][:20])
    exc.code = "invalid_parameter"  # type: ignore[attr-defined]  # the WS error code sent
    raise exc


def check_handshake(environ: Dict[str, Any]) -> Optional[Tuple[int, str]]:
    """What is wrong with the WebSocket handshake in ``environ`` (RFC 6455 section 4.2.1), as ``(HTTP status,
    message)``, or ``None`` when it can be accepted: a missing or malformed ``Sec-WebSocket-Key`` or a missing
    ``Sec-WebSocket-Version`` is 400, a version other than 13 is 426 (the answer names 13)."""
    key = environ.get("HTTP_SEC_WEBSOCKET_KEY", "").strip()
    version = environ.get("HTTP_SEC_WEBSOCKET_VERSION", "").strip()
    try:
        key_ok = len(base64.b64decode(key, validate=True)) == 16
    except (binascii.Error, ValueError):
        key_ok = False
    if not key_ok or not version:
        return 400, ("a WebSocket handshake needs Sec-WebSocket-Key (16 random bytes, base64) and "
                     "Sec-WebSocket-Version: 13; a WebSocket client library sends both")
    if version != "13":
        return 426, "WebSocket version %r is not supported; use Sec-WebSocket-Version: 13" % version[:20]
    return None


def serve_client(app: Any, environ: Dict[str, Any], client_id: str) -> None:
    """Accept the upgrade in ``environ`` and serve the session until the client or the server closes it.

    :param app: the :class:`~polygon.polygon_server.server.ServerApp` (its ``relay`` and ``stopping``).
    """
    ws = accept_websocket(environ, max_message_size=MAX_BODY, ping_interval=_PING_INTERVAL, max_queued=MAX_QUEUED,
                          max_queued_bytes=MAX_QUEUED_BYTES)
    outlet = SocketOutlet(ws, shared_frames=not _extensions(ws), limit=app.relay.outbox_size,
                          send_timeout=_SEND_TIMEOUT).install()
    try:
        try:
            batch = batch_mode(environ)
            client = app.relay.attach(client_id, outlet, batch=batch)
        except InvalidInputError as exc:
            outlet.put_texts([json.dumps(_error(getattr(exc, "code", "invalid_client_id"), str(exc)))])
            outlet.flush()
            return
        hello = {"type": "status", "status": "connected", "client_id": client_id,
                 "message": "connected; send subscribe, unsubscribe or ping"}
        if batch:
            hello["batch"] = True
        client.push(hello)
        try:
            overflow = _session(app, ws, client)
            if overflow is not None:  # before detaching: that closes the outlet the close frame goes through
                logger.warning("relay: closing client %s: %s", client_id, overflow)
                _close(ws, outlet, _POLICY_VIOLATION, ("%s; wait for replies" % overflow)[:123])
        finally:
            app.relay.detach(client)
    except (ConnectionClosed, OSError, ConnectionError):
        pass  # the client went away
    finally:
        _close(ws, outlet)


def _session(app: Any, ws: Any, client: RelayClient) -> Optional[InboxOverflow]:
    """Handle the client's messages until it leaves (``None``) or floods its inbox (what it overflowed)."""
    while not app.stopping.is_set():  # bounded by the connection and by server shutdown
        if client.closed:
            if client.replaced:
                logger.info("relay: a new session of client %s replaces this one", client.client_id)
            else:  # a write failed: the client stopped reading (send timeout) or went away
                logger.info("relay: dropping client %s: it does not read what it is sent", client.client_id)
            return None
        try:
            text = ws.receive(timeout=_RECEIVE_TIMEOUT)
        except ConnectionClosed:
            return None
        if isinstance(text, InboxOverflow):
            return text
        if text is None:
            if not ws.connected:
                return None
            continue
        try:
            reply = handle_message(app.relay, client, text)
        except Exception:  # a bug must not end the session: answer, log, go on
            logger.exception("relay: message from client %s failed", client.client_id)
            reply = _error("internal", "the server failed on this message (logged on the server)")
        client.push(reply)
    return None


def _extensions(ws: Any) -> list:
    """The extensions negotiated on ``ws`` (permessage-deflate when the browser offered it)."""
    proto = getattr(getattr(ws.ws, "_connection", None), "_proto", None)
    return list(getattr(proto, "extensions", None) or [])


def _close(ws: Any, outlet: SocketOutlet, code: Optional[int] = None, reason: Optional[str] = None) -> None:
    """Close the session: a close frame (``code``, ``reason``; default 1000) when the socket takes it now,
    then shut the socket down."""
    import socket

    if ws.connected and not outlet.closed:
        if code is not None:  # closed for what it did: the replies it did not wait for go, the reason goes out
            outlet.discard_unsent()
        try:
            ws.close(code, reason)  # queued on the outlet like every other write
        except (ConnectionClosed, OSError):
            pass
        outlet.drain(_CLOSE_WAIT if code is not None else 0.0)
    outlet.close()
    ws.thread.join(timeout=1.0)  # simple-websocket's reader finishes the close handshake
    try:
        ws.sock.shutdown(socket.SHUT_RDWR)
    except OSError:
        pass
    ws.thread.join(timeout=2.0)
