"""The WebSocket guide's complete example, as written, with a bounded run.

Configuration comes from the environment, as for any user of the library:

    POLYGON_API_KEY   the key (the sandbox accepts polygon.config.SANDBOX_API_KEY)
    POLYGON_WS_URL    the stream host, e.g. ws://127.0.0.1:PORT for the sandbox (default: the provider)
    STREAM_SECONDS    stop after this many seconds (default 5), as if Ctrl+C was pressed

Against the sandbox:  python -m polygon.sandbox  (prints its URLs), then
    POLYGON_API_KEY=... POLYGON_WS_URL=ws://127.0.0.1:PORT python examples/websocket_guide.py
"""

# ruff: noqa: I001  (the guide's code block is kept verbatim, imports included)
import _thread
import os
import signal
import threading

# ---- the guide's code, unchanged ----------------------------------------------------------------------------
import asyncio
from polygon.websocket import PolygonWebSocketClient

async def main():
    # Initialize client
    client = PolygonWebSocketClient()

    # Track prices
    latest_prices = {}

    # Define callbacks
    async def on_trade(data):
        symbol = data['symbol']
        price = data['price']
        latest_prices[symbol] = price
        print(f"{symbol}: ${price:.2f} (size: {data['size']})")

    async def on_quote(data):
        symbol = data['symbol']
        spread = data['ask_price'] - data['bid_price']
        print(f"{symbol} Quote: Bid ${data['bid_price']:.2f} Ask ${data['ask_price']:.2f} Spread ${spread:.2f}")

    try:
        # Connect
        await client.connect()
        print("Connected to Polygon WebSocket")

        # Subscribe to trades
        await client.subscribe(
            symbols=['AAPL', 'MSFT', 'GOOGL'],
            channels=['T'],
            callback=on_trade
        )

        # Subscribe to quotes
        await client.subscribe(
            symbols=['AAPL'],
            channels=['Q'],
            callback=on_quote
        )

        # Listen for data
        print("Listening for real-time data...")
        await client.listen()

    except KeyboardInterrupt:
        print("\nShutting down...")
    finally:
        await client.disconnect()
        print(f"Final prices: {latest_prices}")
# ---- end of the guide's code --------------------------------------------------------------------------------


if __name__ == "__main__":
    seconds = float(os.environ.get("STREAM_SECONDS", "5"))
    # Ctrl+C must work even when started with SIGINT ignored (background jobs, some CI runners).
    signal.signal(signal.SIGINT, signal.default_int_handler)
    # The bounded run: after `seconds`, interrupt the main thread exactly like Ctrl+C would.
    timer = threading.Timer(seconds, _thread.interrupt_main)
    timer.daemon = True
    timer.start()
    try:
        asyncio.run(main())
    except KeyboardInterrupt:
        print("\nShutting down...")
