"""The WebSocket guide's "Subscribe to Data" block, corrected, with a bounded run.

The guide subscribes trades *and quotes* (``channels=['T', 'Q']``) to ``handle_trade``, which reads
``data['price']``: a quote has no price (it has ``bid_price`` / ``ask_price``), so that handler raised
``KeyError: 'price'`` on every quote. Here each channel gets a handler for its own events, and a handler that
takes both looks at ``data['event_type']`` first. (The client reports an exception raised by a callback once
per callback and channel, in the log, and goes on streaming.)

Configuration comes from the environment (POLYGON_API_KEY, POLYGON_WS_URL); STREAM_SECONDS (default 5) bounds
the run. Against the sandbox:  python -m polygon.sandbox  (prints its URLs), then
    POLYGON_API_KEY=... POLYGON_WS_URL=ws://127.0.0.1:PORT python examples/websocket_subscribe.py
"""

import asyncio
import os

from polygon import PolygonWebSocketClient


# Define callback functions: one per kind of event
async def handle_trade(data):
    print(f"Trade: {data['symbol']} @ ${data['price']}")


async def handle_quote(data):
    print(f"Quote: {data['symbol']} bid ${data['bid_price']} x {data['bid_size']}, "
          f"ask ${data['ask_price']} x {data['ask_size']}")


async def handle_aggregate(data):
    print(f"Bar: {data['symbol']} {data['open']} {data['high']} {data['low']} {data['close']} v={data['volume']}")


# One callback for trades and quotes: it tells them apart by event_type
async def handle_trade_or_quote(data):
    if data['event_type'] == 'trade':
        await handle_trade(data)
    elif data['event_type'] == 'quote':
        await handle_quote(data)


async def main(seconds):
    async with PolygonWebSocketClient() as client:
        # Subscribe to a single symbol: trades to the trade handler, quotes to the quote handler
        await client.subscribe(symbols=['AAPL'], channels=['T'], callback=handle_trade)
        await client.subscribe(symbols=['AAPL'], channels=['Q'], callback=handle_quote)

        # Or both channels to one callback that looks at event_type
        await client.subscribe(symbols=['MSFT'], channels=['T', 'Q'], callback=handle_trade_or_quote)

        # Named subscription for easy management
        await client.subscribe(symbols=['SPY'], channels=['A'], callback=handle_aggregate,
                               subscription_id='spy_aggregates')

        await asyncio.sleep(seconds)
        print(f"callback errors: {client.get_status()['callback_errors']}")


if __name__ == "__main__":
    asyncio.run(main(float(os.environ.get("STREAM_SECONDS", "5"))))
