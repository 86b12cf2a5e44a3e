"""Integration guide, 3. Real-time Streaming (runs until interrupted)."""

import asyncio
from polygon import PolygonWebSocketClient

async def handle_price(data):
    print(f"{data['symbol']}: ${data['price']}", flush=True)

async def stream_prices():
    async with PolygonWebSocketClient() as client:
        await client.subscribe(['AAPL', 'TSLA'], ['T'], handle_price)
        await client.listen()

asyncio.run(stream_prices())
