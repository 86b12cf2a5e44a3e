"""The stream client from plain (non-async) code: every guide call blocks and returns its result.

Environment: POLYGON_API_KEY, POLYGON_WS_URL (e.g. ws://127.0.0.1:PORT for the sandbox), STREAM_SECONDS
(default 5). Callbacks run on the client's dispatcher thread; coroutine callbacks would run on its own loop.
"""

import os

from polygon.websocket import PolygonWebSocketClient


def main(seconds: float) -> dict:
    latest = {}

    def on_trade(data):
        latest[data["symbol"]] = data["price"]

    def on_quote(data):
        print("%s bid %.2f ask %.2f" % (data["symbol"], data["bid_price"], data["ask_price"]))

    with PolygonWebSocketClient() as client:  # connects here, disconnects on exit
        client.subscribe(["AAPL", "MSFT", "GOOGL"], ["T"], on_trade, "trades")
        client.subscribe(["AAPL"], ["Q"], on_quote, "quotes")
        client.listen(timeout=seconds)  # a bounded run; without timeout it runs until disconnect()
        status = client.get_status()
    print("latest trades:", latest)
    rate = status["message_count"] / max(status["uptime_seconds"], 1e-9)
    print("received %d messages (%.0f/s), dropped %d, reconnects %d" % (
        status["message_count"], rate, status["dropped_messages"], status["reconnects"]))
    return status


if __name__ == "__main__":
    main(float(os.environ.get("STREAM_SECONDS", "5")))
