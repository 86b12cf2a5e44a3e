"""Integration guide, Pattern 2: Live Trading Integration (runs until interrupted).

``calculate_signal`` and ``execute_trade`` are the user's own logic in the guide; a toy momentum rule
stands in for them here.
"""

from polygon import PolygonDataManager, PolygonWebSocketClient
import asyncio

class TradingSystem:
    def __init__(self):
        self.manager = PolygonDataManager()
        self.ws_client = PolygonWebSocketClient()
        self.positions = {}

    async def on_trade(self, data):
        symbol = data['symbol']
        price = data['price']

        # Get historical context
        historical = self.manager.fetch_latest(symbol, '5min', bars=20)

        # Your trading logic here
        signal = self.calculate_signal(historical, price)
        if signal:
            self.execute_trade(symbol, signal, price)

    async def start(self):
        await self.ws_client.connect()
        await self.ws_client.subscribe(
            ['AAPL', 'MSFT'],
            ['T'],
            self.on_trade
        )
        await self.ws_client.listen()

    # --- the user's part (not in the guide) ---
    def calculate_signal(self, historical, price):
        if historical.empty:
            return None
        mean = historical['close'].mean()
        return 'buy' if price < mean * 0.999 else 'sell' if price > mean * 1.001 else None

    def execute_trade(self, symbol, signal, price):
        self.positions[symbol] = (signal, price)
        print(f"{signal} {symbol} @ {price:.2f} ({len(self.positions)} positions)", flush=True)


if __name__ == "__main__":
    asyncio.run(TradingSystem().start())
