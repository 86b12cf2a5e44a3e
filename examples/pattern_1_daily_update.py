"""Integration guide, Pattern 1: Daily Data Update (needs the small `schedule` package).

Run with ``--once`` to do one update now instead of waiting for 18:00.
"""

import sys
import time

from polygon import PolygonDataManager
import schedule

manager = PolygonDataManager()

def update_daily_data():
    symbols = ['AAPL', 'GOOGL', 'MSFT']
    for symbol in symbols:
        manager.update_cache(symbol, '1day')
        print(f"Updated {symbol}")

# Schedule daily updates
schedule.every().day.at("18:00").do(update_daily_data)

if __name__ == "__main__":
    if "--once" in sys.argv:
        update_daily_data()
    else:
        while True:
            schedule.run_pending()
            time.sleep(30)
