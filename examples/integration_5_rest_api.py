"""Integration guide, 5. Using the REST API (the local server must be running on port 8200)."""

import requests

# Start server first: python -m polygon.polygon_server.server

# Fetch bars
response = requests.post('http://localhost:8200/api/v1/bars', json={
    'symbol': 'AAPL',
    'timeframe': '1day',
    'start_date': '2023-01-01',
    'end_date': '2023-12-31'
})
data = response.json()

print(response.status_code, data['count'], "bars from", data['source'], "- first:", data['bars'][0])
