"""Real-time streams: :class:`PolygonWebSocketClient` (threaded, sync-first, awaitable) and where stream data goes
besides callbacks::

    from polygon.websocket import PolygonWebSocketClient

The rooms inside: :mod:`~polygon.websocket.client` (the public API and the session: threads, sinks, figures),
:mod:`~polygon.websocket.connection` (connect, authenticate, the reader thread, reconnection),
:mod:`~polygon.websocket.subscriptions` (the subscription book, the reconnect schedule),
:mod:`~polygon.websocket.dispatch` (the bounded frame queue and the dispatcher), :mod:`~polygon.websocket.adapter`
(the asyncio adapter), :mod:`~polygon.websocket.recording` (record and replay), :mod:`~polygon.websocket.sink`
(streamed bars into the cache) and :mod:`~polygon.websocket.journal` (the trade/quote journal).
"""

from polygon.websocket.client import (
    CHANNEL_NAMES,
    MARKET_CHANNEL_NAMES,
    MARKETS,
    WILDCARD,
    PolygonWebSocketClient,
    SubscriptionBook,
    backoff_delays,
)
from polygon.websocket.journal import TickJournal
from polygon.websocket.recording import FrameRecorder, iter_recording
from polygon.websocket.sink import StorageSink

__all__ = [
    "CHANNEL_NAMES",
    "FrameRecorder",
    "MARKETS",
    "MARKET_CHANNEL_NAMES",
    "PolygonWebSocketClient",
    "StorageSink",
    "SubscriptionBook",
    "TickJournal",
    "WILDCARD",
    "backoff_delays",
    "iter_recording",
]
