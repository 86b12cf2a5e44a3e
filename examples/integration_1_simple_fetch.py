"""Integration guide, 1. Simple Data Fetch."""

from polygon import fetch_data

# Get last 30 days of daily data
df = fetch_data('AAPL', '1day')

# Get specific date range
df = fetch_data('AAPL', '5min', '2023-01-01', '2023-01-31')

print(len(df), "bars;", df.index[0], "->", df.index[-1])
