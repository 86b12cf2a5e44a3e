"""Integration guide, Troubleshooting: authentication, rate limits, missing data, logging, symbols."""

# Authentication Error
# Check API key
import os
print(f"API Key set: {'POLYGON_API_KEY' in os.environ}")

# Test authentication
from polygon.core import PolygonClient  # noqa: E402
client = PolygonClient()
try:
    client.get_market_status()
    print("Authentication successful")
except Exception as e:
    print(f"Authentication failed: {e}")

# Rate Limiting
from polygon import get_rate_limit_status  # noqa: E402

# Check current usage
status = get_rate_limit_status()
print(f"Minute: {status['minute']['used']}/{status['minute']['limit']}")
print(f"Daily: {status['daily']['used']}/{status['daily']['limit']}")

# Missing Data
# Check data availability
from polygon import PolygonDataManager  # noqa: E402

manager = PolygonDataManager()
summary = manager.get_data_summary('AAPL', '5min', '2023-01-01', '2023-01-31')
print(f"Cache coverage: {summary['cache_coverage']['percentage']}%")
print(f"Missing ranges: {summary['cache_coverage']['missing_ranges']}")

# Enable debug logging:
import logging  # noqa: E402
logging.basicConfig(level=logging.DEBUG)

# Validate your data:
from polygon.validators import validate_symbol_detailed  # noqa: E402
result = validate_symbol_detailed('YOUR_SYMBOL')
print(result)
print(validate_symbol_detailed('AAPL'))
