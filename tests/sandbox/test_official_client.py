"""The provider's official client (PyPI ``massive``), unpatched, against the sandbox."""

import asyncio
import threading

import pytest

massive = pytest.importorskip("massive")
from massive import RESTClient, WebSocketClient  # noqa: E402

AGGS_TEMPLATE = "/v2/aggs/ticker/{stocksTicker}/range/{multiplier}/{timespan}/{from}/{to}"


def test_rest_client_pages_aggs_and_reads_reference(sandbox):
    client = RESTClient(api_key=sandbox.api_key, base=sandbox.base_url, retries=0)
    before = sandbox.stats()["requests"].get(AGGS_TEMPLATE, 0)
    bars = list(client.list_aggs("AAPL", 1, "day", "2023-01-01", "2023-03-31", limit=10))
    after = sandbox.stats()["requests"][AGGS_TEMPLATE]
    assert len(bars) == 62  # Q1 2023 trading days
    assert after - before == 7  # six full pages and a last one
    stamps = [b.timestamp for b in bars]
    assert stamps == sorted(set(stamps))
    assert all(b.low <= b.open <= b.high and b.transactions > 0 for b in bars)

    status = client.get_market_status()
    assert status.market in ("open", "closed", "extended-hours") and status.exchanges.nyse
    details = client.get_ticker_details("AAPL")
    assert details.ticker == "AAPL" and details.name == "Apple Inc." and details.market == "stocks"


def test_rest_client_sees_auth_errors(sandbox):
    from massive.exceptions import BadResponse

    client = RESTClient(api_key="not-the-key", base=sandbox.base_url, retries=0)
    with pytest.raises(BadResponse, match="Unknown API Key"):
        client.get_market_status()


def test_websocket_client_receives_trades_and_minute_aggs(make_sandbox):
    sb = make_sandbox(clock="2023-03-01", speed=120)
    client = WebSocketClient(api_key=sb.api_key, feed="127.0.0.1:%d" % sb.port, market="stocks", secure=False,
                             subscriptions=["T.AAPL", "AM.AAPL"])
    received, done, errors = [], threading.Event(), []

    async def handler(msgs):
        received.extend(msgs)
        kinds = {type(m).__name__ for m in received}
        if {"EquityTrade", "EquityAgg"} <= kinds:
            done.set()

    async def main():
        task = asyncio.ensure_future(client.connect(handler))
        while not done.is_set() and not task.done():
            await asyncio.sleep(0.02)
        await client.close()
        await asyncio.wait_for(task, 5)

    def run():
        try:
            asyncio.run(asyncio.wait_for(main(), 20))
        except Exception as exc:  # surfaced below
            errors.append(exc)

    thread = threading.Thread(target=run)
    thread.start()
    thread.join(30)
    assert not thread.is_alive() and not errors and done.is_set(), (errors, [type(m).__name__ for m in received][:5])
    trades = [m for m in received if type(m).__name__ == "EquityTrade"]
    aggs = [m for m in received if type(m).__name__ == "EquityAgg"]
    assert trades[0].symbol == "AAPL" and trades[0].price > 0 and trades[0].size > 0
    assert aggs[0].event_type == "AM" and aggs[0].end_timestamp - aggs[0].start_timestamp == 60_000
    assert aggs[0].low <= aggs[0].close <= aggs[0].high


def test_rest_client_market_variants_that_send_include_otc(sandbox):
    """The official client sends include_otc=false on every grouped-daily, snapshot-all and gainers/losers call,
    also for crypto and forex whose documents have no such parameter: the sandbox ignores it, as the provider
    does (it answered 400 "Unknown query parameter" before)."""
    client = RESTClient(api_key=sandbox.api_key, base=sandbox.base_url, retries=0)
    day = "2023-01-09"
    for market, locale in (("crypto", "global"), ("fx", "global"), ("stocks", "us")):
        bars = client.get_grouped_daily_aggs(day, locale=locale, market_type=market)
        assert bars and all(b.close > 0 for b in bars), market
    for market in ("crypto", "forex", "stocks"):  # the values of its SnapshotMarketType
        tickers = client.get_snapshot_all(market)
        assert tickers and all(t.ticker for t in tickers), market
        for direction in ("gainers", "losers"):
            movers = client.get_snapshot_direction(market, direction)
            assert isinstance(movers, list), (market, direction)
