"""Integration guide, Pattern 3: Backtesting Data Preparation."""

from polygon import PolygonDataManager

manager = PolygonDataManager()

# Create aligned dataset for backtesting
symbols = ['SPY', 'QQQ', 'IWM', 'DIA']
universe = manager.batch_fetcher.fetch_universe(
    symbols,
    '5min',
    '2023-01-01',
    '2023-12-31',
    aligned=True  # Ensure all symbols have same timestamps
)

# Access data
spy_close = universe[('SPY', 'close')]
qqq_close = universe[('QQQ', 'close')]

print(universe.shape, float(spy_close.iloc[-1]), float(qqq_close.iloc[-1]))
