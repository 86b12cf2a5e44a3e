"""Issue 26 item 3: the budget in view -- requests per endpoint family this minute and this day."""

from polygon.core import PolygonClient
from polygon.core.rate_limit import RateLimiter, endpoint_family, get_rate_limit_status, reset_shared_limiters


def test_endpoint_families_of_paths():
    assert endpoint_family("/v2/aggs/ticker/AAPL/range/1/day/2024-01-02/2024-01-05") == "aggregates"
    assert endpoint_family("/v3/reference/splits") == "splits"
    assert endpoint_family("/v3/reference/dividends") == "dividends"
    assert endpoint_family("/v3/reference/tickers/AAPL") == "reference"
    assert endpoint_family("/v1/marketstatus/now") == "market status"
    assert endpoint_family("/v9/unknown") == "other"


def test_status_counts_each_family_over_real_requests(sandbox):
    reset_shared_limiters()
    config = sandbox.config()
    with PolygonClient(config=config) as client:
        client.get_bars_columns("AAPL", "1day", "2024-01-02", "2024-01-05")
        client.get_bars_columns("MSFT", "1day", "2024-01-02", "2024-01-05")
        list(client.list_splits(ticker="AAPL"))
        client.get_market_status()
        mine = client.get_rate_limit_status()
    shared = get_rate_limit_status(config)  # what the server's /api/v1/status and the dashboard show
    for status in (mine, shared):
        assert status["families"] == {"aggregates": {"minute": 2, "daily": 2}, "splits": {"minute": 1, "daily": 1},
                                      "market status": {"minute": 1, "daily": 1}}
        assert status["minute"]["used"] == 4 and status["daily"]["used"] == 4


def test_a_family_leaves_the_minute_but_stays_in_the_day():
    now = [1000.0]
    limiter = RateLimiter(per_minute=5, clock=lambda: now[0], sleep=lambda s: None)
    limiter.release(limiter.acquire(family="aggregates"))
    limiter.release(limiter.acquire(family="splits"))
    now[0] += 61.5
    limiter.release(limiter.acquire(family="aggregates"))
    assert limiter.status()["families"] == {"aggregates": {"minute": 1, "daily": 2},
                                            "splits": {"minute": 0, "daily": 1}}
