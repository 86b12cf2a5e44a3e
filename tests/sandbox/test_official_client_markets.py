"""The official client's WebSocketClient (PyPI ``massive``, unpatched) receives each market from the sandbox."""

import asyncio
import threading

import pytest

massive = pytest.importorskip("massive")
from massive import WebSocketClient  # noqa: E402

# market -> (subscriptions in the provider's spelling, the model class names expected)
MARKETS = {
    "stocks": (["T.AAPL", "LULD.AAPL", "NOI.AAPL", "FMV.AAPL"], {"EquityTrade", "LimitUpLimitDown", "Imbalance",
                                                                 "FairMarketValue"}),
    "options": (["T.O:SPY240315C00500000", "Q.O:SPY240315C00500000"], {"EquityTrade", "EquityQuote"}),
    "forex": (["C.C:EUR-USD", "CA.C:EUR-USD"], {"ForexQuote", "CurrencyAgg"}),
    "crypto": (["XT.X:BTC-USD", "XQ.X:BTC-USD", "XL2.X:BTC-USD", "XA.X:BTC-USD"],
               {"CryptoTrade", "CryptoQuote", "Level2Book", "CurrencyAgg"}),
    "indices": (["V.I:SPX", "AM.I:SPX"], {"IndexValue", "EquityAgg"}),
}


@pytest.fixture(scope="module")
def firehose_sandbox():
    from polygon.sandbox import Sandbox

    with Sandbox(port=0, clock="2024-03-14", speed=30, stream_rate=5000, max_connections=10) as sb:
        yield sb


def _receive(sb, market, subscriptions, wanted):
    client = WebSocketClient(api_key=sb.api_key, feed="127.0.0.1:%d" % sb.port, market=market, secure=False,
                             subscriptions=subscriptions, max_reconnects=0)
    received, done, errors = [], threading.Event(), []

    async def handler(msgs):
        received.extend(msgs)
        if wanted <= {type(m).__name__ for m in received}:
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
        except Exception as exc:  # surfaced by the caller
            errors.append(exc)

    thread = threading.Thread(target=run)
    thread.start()
    thread.join(30)
    assert not thread.is_alive() and not errors, errors
    return received, done.is_set()


@pytest.mark.parametrize("market", sorted(MARKETS))
def test_official_websocket_client_receives_each_market(firehose_sandbox, market):
    subscriptions, wanted = MARKETS[market]
    received, complete = _receive(firehose_sandbox, market, subscriptions, wanted)
    kinds = {type(m).__name__ for m in received}
    assert complete, "%s: got %s, wanted %s" % (market, sorted(kinds), sorted(wanted))
    by_kind = {}
    for m in received:
        by_kind.setdefault(type(m).__name__, m)
    if market == "crypto":
        assert by_kind["CryptoTrade"].pair == "BTC-USD" and by_kind["CryptoTrade"].price > 0
        assert by_kind["Level2Book"].bid_prices and by_kind["Level2Book"].ask_prices
    elif market == "forex":
        quote = by_kind["ForexQuote"]
        assert quote.bid_price <= quote.ask_price
    elif market == "indices":
        assert by_kind["IndexValue"].ticker == "I:SPX" and by_kind["IndexValue"].value > 0
    elif market == "options":
        assert by_kind["EquityTrade"].symbol == "O:SPY240315C00500000"
    else:
        luld = by_kind["LimitUpLimitDown"]
        assert luld.symbol == "AAPL" and luld.low_price < luld.high_price
