"""The guide's "Custom Storage Integration": real-time aggregates saved to the cache, then read back.

Environment: POLYGON_API_KEY, POLYGON_WS_URL, POLYGON_CACHE_DIR, STREAM_SECONDS (default 5).
Second bars (channel A) land in the cache as '1sec' bars, minute bars (AM) as '1min'; streamed bars add
no cache coverage, so a later REST fetch of the same range replaces them.
"""

import asyncio
import os

from polygon.storage import get_storage_manager
from polygon.websocket import PolygonWebSocketClient


async def main(seconds: float) -> None:
    # Initialize with storage manager
    storage = get_storage_manager()

    client = PolygonWebSocketClient(storage=storage)
    # Real-time data automatically saved to cache
    async def handle_aggregates(data):
        print("%s %s bar %d: close %.2f volume %s" % (
            data["symbol"], data["channel"], data["timestamp"], data["close"], data["volume"]))

    await client.connect()
    await client.subscribe(["AAPL", "SPY"], ["A", "AM"], handle_aggregates, "aggregates")
    await client.listen(timeout=seconds)
    await client.disconnect()  # flushes the cache writer
    for symbol in ("AAPL", "SPY"):
        bars = storage.read(symbol, "1sec")
        print("%s: %d one-second bars in the cache" % (symbol, len(bars)))


if __name__ == "__main__":
    asyncio.run(main(float(os.environ.get("STREAM_SECONDS", "5"))))
