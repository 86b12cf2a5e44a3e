"""Bounded paging, counted on the sandbox: every official indicator call form costs one request (as on the
official client), ``limit`` is honoured, and our own ``PolygonClient`` indicators read one page by default."""

import itertools

import pytest

from polygon.core import PolygonClient

massive = pytest.importorskip("massive")

INDICATORS = ("get_sma", "get_ema", "get_rsi", "get_macd")
TICKERS = ("AAPL", "X:BTCUSD", "C:EURUSD", "I:SPX", "SPY")
FORMS = ({}, {"timespan": "day"}, {"timespan": "day", "window": 10, "limit": 5},
         {"timespan": "hour", "timestamp_gte": "2023-01-03", "timestamp_lte": "2023-01-20", "order": "asc"})



def _requests(sandbox, call, *args, **kwargs):
    before = sandbox.stats()["requests_total"]
    result = call(*args, **kwargs)
    return sandbox.stats()["requests_total"] - before, result


@pytest.mark.parametrize("method", INDICATORS)
@pytest.mark.parametrize("ticker", TICKERS)
def test_each_official_indicator_call_form_costs_one_request(sandbox, clients, method, ticker):
    ours, theirs = clients
    for form in FORMS:
        kwargs = dict(form)
        if method == "get_macd" and "window" in kwargs:
            kwargs.pop("window")
            kwargs.update(short_window=5, long_window=10, signal_window=3)
        count, result = _requests(sandbox, getattr(ours, method), ticker, **kwargs)
        official_count, official = _requests(sandbox, getattr(theirs, method), ticker, **kwargs)
        assert count == official_count == 1, (method, ticker, kwargs)
        assert len(result.values) == len(official.values)
        if "limit" in kwargs:
            assert 0 < len(result.values) <= kwargs["limit"]


def test_list_methods_request_pages_as_consumed(sandbox, clients):
    ours, theirs = clients
    count, rows = _requests(sandbox, lambda: list(itertools.islice(ours.list_trades("AAPL", "2023-01-09", limit=50),
                                                                    120)))
    official_count, official = _requests(sandbox, lambda: list(itertools.islice(
        theirs.list_trades("AAPL", "2023-01-09", limit=50), 120)))
    assert len(rows) == len(official) == 120
    assert count == official_count == 3


def test_get_aggs_is_one_request_like_the_official(sandbox, clients):
    ours, theirs = clients
    count, bars = _requests(sandbox, lambda: ours.get_aggs("AAPL", 1, "minute", "2023-01-03", "2023-01-20",
                                                          limit=100))
    official_count, official = _requests(sandbox, lambda: theirs.get_aggs("AAPL", 1, "minute", "2023-01-03",
                                                                          "2023-01-20", limit=100))
    assert count == official_count == 1 and len(bars) == len(official) == 100


@pytest.mark.parametrize("method", INDICATORS)
@pytest.mark.parametrize("ticker", ("AAPL", "I:SPX"))
def test_polygon_client_indicators_read_one_page_by_default(sandbox, method, ticker):
    """Before: ``get_sma('AAPL', timespan='day', window=10)`` made 1,158 requests (1,437 and an HTTP 400 for
    ``I:SPX``); ``limit`` did not cap it."""
    with PolygonClient(api_key=sandbox.api_key, base_url=sandbox.base_url) as client:
        count, result = _requests(sandbox, lambda: getattr(client, method)(ticker, timespan="day"))
        assert count == 1 and result.results.values
        count, result = _requests(sandbox, lambda: getattr(client, method)(ticker, timespan="day", limit=7))
        assert count == 1 and len(result.results.values) == 7
