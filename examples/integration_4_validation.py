"""Integration guide, 4. Data Validation."""

from polygon import PolygonDataManager

manager = PolygonDataManager()

# Fetch with validation
df = manager.fetch_data('AAPL', '5min', validate=True)

# Get validation report
from polygon.validators import generate_validation_summary  # noqa: E402
report = generate_validation_summary(df, 'AAPL', '5min')
print(f"Data quality: {report['overall_quality']}")
