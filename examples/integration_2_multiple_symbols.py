"""Integration guide, 2. Multiple Symbols."""

from polygon import PolygonDataManager

manager = PolygonDataManager()

# Fetch multiple symbols
symbols = ['AAPL', 'GOOGL', 'MSFT', 'AMZN']
data = manager.fetch_multiple_symbols(
    symbols,
    '1day',
    '2023-01-01',
    '2023-12-31'
)

# Access individual DataFrames
aapl_data = data['AAPL']

print({symbol: len(df) for symbol, df in data.items()})
