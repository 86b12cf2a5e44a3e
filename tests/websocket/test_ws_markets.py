"""Every market's socket through our client (issue 13): the 37 feeds of the provider's stream description
(35 channels over the six sockets; the Launchpad AM of stocks and options is their AM; futures T/Q/A/AM since
issue 24) arrive from the sandbox as normalised event dicts; channels and tickers are checked against the
market."""

import threading

import pytest

from polygon.config import get_config
from polygon.exceptions import PolygonConfigError, SubscriptionError
from polygon.websocket import MARKET_CHANNEL_NAMES, MARKETS, PolygonWebSocketClient
from polygon.websocket.subscriptions import canonical_symbol, provider_param

TICKERS = {
    "stocks": ["AAPL", "MSFT"],
    "options": ["O:SPY240315C00500000"],
    "forex": ["C:EURUSD", "C:GBP-USD"],  # either spelling subscribes; events come back in the REST form
    "crypto": ["X:BTCUSD"],
    "indices": ["I:SPX"],
    "futures": ["ESM4"],  # the front E-mini S&P 500 on the replayed day
}
SYMBOLS = {"stocks": {"AAPL", "MSFT"}, "options": {"O:SPY240315C00500000"}, "forex": {"C:EURUSD", "C:GBPUSD"},
           "crypto": {"X:BTCUSD"}, "indices": {"I:SPX"}, "futures": {"ESM4"}}

# (feed path of the provider's description, market, channel, event_type, a key that must carry a value)
FEEDS = [
    ("/stocks/T", "stocks", "T", "trade", "price"),
    ("/stocks/Q", "stocks", "Q", "quote", "bid_price"),
    ("/stocks/A", "stocks", "A", "aggregate", "close"),
    ("/stocks/AM", "stocks", "AM", "aggregate", "close"),
    ("/stocks/LULD", "stocks", "LULD", "luld", "high_limit"),
    ("/stocks/NOI", "stocks", "NOI", "imbalance", "book_clearing_price"),
    ("/business/stocks/FMV", "stocks", "FMV", "fair_market_value", "fair_market_value"),
    ("/launchpad/stocks/AM", "stocks", "AM", "aggregate", "vwap"),
    ("/launchpad/stocks/LV", "stocks", "LV", "value", "value"),
    ("/options/T", "options", "T", "option_trade", "price"),
    ("/options/Q", "options", "Q", "option_quote", "ask_price"),
    ("/options/A", "options", "A", "option_aggregate", "close"),
    ("/options/AM", "options", "AM", "option_aggregate", "close"),
    ("/business/options/FMV", "options", "FMV", "fair_market_value", "fair_market_value"),
    ("/launchpad/options/AM", "options", "AM", "option_aggregate", "vwap"),
    ("/launchpad/options/LV", "options", "LV", "value", "value"),
    ("/forex/C", "forex", "C", "forex_quote", "ask_price"),
    ("/forex/CA", "forex", "CA", "forex_aggregate", "close"),
    ("/forex/CAS", "forex", "CAS", "forex_aggregate", "close"),
    ("/business/forex/FMV", "forex", "FMV", "fair_market_value", "fair_market_value"),
    ("/launchpad/forex/AM", "forex", "AM", "forex_aggregate", "vwap"),
    ("/launchpad/forex/LV", "forex", "LV", "value", "value"),
    ("/crypto/XT", "crypto", "XT", "crypto_trade", "price"),
    ("/crypto/XQ", "crypto", "XQ", "crypto_quote", "bid_size"),
    ("/crypto/XL2", "crypto", "XL2", "crypto_book", "bids"),
    ("/crypto/XA", "crypto", "XA", "crypto_aggregate", "close"),
    ("/crypto/XAS", "crypto", "XAS", "crypto_aggregate", "close"),
    ("/business/crypto/FMV", "crypto", "FMV", "fair_market_value", "fair_market_value"),
    ("/launchpad/crypto/AM", "crypto", "AM", "crypto_aggregate", "vwap"),
    ("/launchpad/crypto/LV", "crypto", "LV", "value", "value"),
    ("/indices/A", "indices", "A", "index_aggregate", "close"),
    ("/indices/AM", "indices", "AM", "index_aggregate", "open"),
    ("/indices/V", "indices", "V", "index_value", "value"),
    ("/futures/T", "futures", "T", "futures_trade", "price"),
    ("/futures/Q", "futures", "Q", "futures_quote", "bid_price"),
    ("/futures/A", "futures", "A", "futures_aggregate", "close"),
    ("/futures/AM", "futures", "AM", "futures_aggregate", "dollar_volume"),
]


@pytest.fixture(scope="module")
def market_sandbox():
    from polygon.sandbox import Sandbox

    with Sandbox(port=0, clock="2024-03-14", speed=30, stream_rate=20000, max_connections=10) as sb:
        yield sb


@pytest.fixture(scope="module")
def received(market_sandbox):
    """``{market: {channel: [event dicts]}}``: one client per market, every channel, until each delivered."""
    out = {}
    for market in MARKETS:
        channels = list(MARKET_CHANNEL_NAMES[market])
        seen = {}
        lock = threading.Lock()
        complete = threading.Event()

        def on_event(data, seen=seen, lock=lock, complete=complete, channels=channels):
            with lock:
                bucket = seen.setdefault(data["channel"], [])
                if len(bucket) < 50:
                    bucket.append(data)
                if len(seen) == len(channels):
                    complete.set()

        client = PolygonWebSocketClient(market_sandbox.config(), market=market)
        try:
            client.subscribe(TICKERS[market], channels, on_event)
            client.connect()
            complete.wait(30)
            status = client.get_status()
        finally:
            client.disconnect()
        out[market] = (dict(seen), status)
    return out


def test_the_description_has_37_feeds():
    assert len(FEEDS) == 37 and len({f[0] for f in FEEDS}) == 37
    assert {(m, ch) for _p, m, ch, _e, _k in FEEDS} == {(m, ch) for m in MARKETS for ch in MARKET_CHANNEL_NAMES[m]}


@pytest.mark.parametrize("path,market,channel,event_type,value_key", FEEDS, ids=[f[0] for f in FEEDS])
def test_every_feed_delivers_normalised_events(received, path, market, channel, event_type, value_key):
    seen, status = received[market]
    events = seen.get(channel)
    assert events, "%s: no %s events on the %s socket (got %s)" % (path, channel, market, sorted(seen))
    for data in events:
        assert data["event_type"] == event_type and data["channel"] == channel
        assert data["symbol"] in SYMBOLS[market]  # the REST form, whatever the wire spelling
        assert isinstance(data["timestamp"], int) and data["timestamp"] > 1.6e12
        assert data[value_key] is not None
    assert status["market"] == market and status["url"].endswith("/" + market)
    assert status["dropped_messages"] == 0 and status["callback_errors"] == 0


def test_market_events_agree_with_each_other(received):
    crypto, _status = received["crypto"]
    book = crypto["XL2"][0]
    assert book["bids"][0][0] < book["asks"][0][0]  # a sane book
    for agg in crypto["XA"] + crypto["XAS"]:
        assert agg["low"] <= agg["open"] <= agg["high"] and agg["low"] <= agg["close"] <= agg["high"]
    forex, _status = received["forex"]
    assert all(q["bid_price"] <= q["ask_price"] for q in forex["C"])
    indices, _status = received["indices"]
    assert all("volume" not in a for a in indices["AM"])  # indices have no volume
    stocks, _status = received["stocks"]
    luld = stocks["LULD"][0]
    assert luld["low_limit"] < luld["high_limit"]


@pytest.fixture(scope="module")
def later_sandbox():
    """The same synthetic market with its clock days later: the firehose streams minutes ahead of the replay
    clock, and REST serves bars only up to its clock."""
    from polygon.sandbox import Sandbox

    with Sandbox(port=0, clock="2024-03-18") as sb:
        yield sb


@pytest.mark.parametrize("market,channel,ticker", [("crypto", "XA", "X:BTCUSD"), ("forex", "CA", "C:EURUSD"),
                                                   ("indices", "AM", "I:SPX"), ("stocks", "AM", "AAPL")])
def test_minute_aggregates_match_the_sandboxs_rest_bars(later_sandbox, received, market, channel, ticker):
    """The sockets agree with the bars: a streamed minute aggregate is the REST minute bar of that minute."""
    import requests

    seen, _status = received[market]
    agg = next(a for a in seen[channel] if a["symbol"] == ticker)
    url = "%s/v2/aggs/ticker/%s/range/1/minute/%d/%d" % (later_sandbox.base_url, ticker, agg["timestamp"],
                                                         agg["timestamp"])
    resp = requests.get(url, headers={"Authorization": "Bearer %s" % later_sandbox.api_key}, timeout=10)
    bars = [b for b in resp.json()["results"] if b["t"] == agg["timestamp"]]
    assert len(bars) == 1, resp.text[:300]
    bar = bars[0]
    assert (agg["open"], agg["high"], agg["low"], agg["close"]) == (bar["o"], bar["h"], bar["l"], bar["c"])
    if market != "indices":
        assert agg["volume"] == bar["v"]


def test_channels_and_tickers_are_checked_against_the_market():
    config = get_config(api_key="k", ws_url="ws://127.0.0.1:9")
    with pytest.raises(PolygonConfigError, match="market must be one of stocks, options, forex, crypto, indices, "
                                                 "futures, futures/cme"):
        PolygonWebSocketClient(config, market="futures/ice")
    crypto = PolygonWebSocketClient(config, market="crypto")
    with pytest.raises(SubscriptionError, match=r"'T' is not on the crypto stream .*market='stocks'"):
        crypto.subscribe(["X:BTCUSD"], ["T"], print)
    with pytest.raises(SubscriptionError, match=r"'AAPL' belongs to the stocks market, this stream is crypto"):
        crypto.subscribe(["AAPL"], ["XT"], print)
    stocks = PolygonWebSocketClient(config)  # the guide's default
    assert stocks.market == "stocks" and stocks.url.endswith("/stocks")
    with pytest.raises(SubscriptionError, match=r"market='crypto'"):
        stocks.subscribe(["AAPL"], ["XT"], print)
    with pytest.raises(SubscriptionError, match=r"'X:BTCUSD' belongs to the crypto market"):
        stocks.subscribe(["X:BTCUSD"], ["T"], print)
    forex = PolygonWebSocketClient(config, market="forex")
    forex.subscribe(["C:EUR-USD", "C:EURUSD"], ["C"], print)
    assert forex.get_status()["provider_subscriptions"] == ["C.C:EURUSD"]  # one pair, whatever the spelling


def test_symbol_spellings():
    assert canonical_symbol("BTC-USD", "crypto") == "X:BTCUSD"
    assert canonical_symbol("X:BTC-USD", "crypto") == "X:BTCUSD"
    assert canonical_symbol("EUR/USD", "forex") == canonical_symbol("C:EUR-USD", "forex") == "C:EURUSD"
    assert canonical_symbol("I:SPX", "indices") == "I:SPX" and canonical_symbol("AAPL", "stocks") == "AAPL"
    assert provider_param("XT.X:BTCUSD") == "XT.X:BTC-USD" and provider_param("C.C:EURUSD") == "C.C:EUR-USD"
    assert provider_param("T.AAPL") == "T.AAPL" and provider_param("XT.*") == "XT.*"
    assert provider_param("V.I:SPX") == "V.I:SPX"
