"""Feeds by name and the futures sockets through our stream client: the provider's host per feed (as the
official client's Feed enum names them), a path prefix against the sandbox, the delayed feed's delay; events of
/futures and /futures/<venue> normalised like every market's, and A/AM bars kept in the cache."""

import threading

import pytest

from polygon.config import get_config
from polygon.exceptions import PolygonConfigError
from polygon.websocket import PolygonWebSocketClient
from polygon.websocket.feeds import FEEDS, feed_delay_minutes, feed_name, feed_url


@pytest.mark.parametrize("feed,expected", [
    (None, "wss://socket.massive.com/stocks"),
    ("delayed", "wss://delayed.massive.com/stocks"),
    ("Delayed", "wss://delayed.massive.com/stocks"),
    ("RealTime", "wss://socket.massive.com/stocks"),
    ("business.massive.com", "wss://business.massive.com/stocks"),
    ("DelayedNasdaqBasic", "wss://delayed-nasdaq-basic-business.massive.com/stocks"),
])
def test_a_feed_picks_the_providers_host(feed, expected):
    assert feed_url("wss://socket.massive.com", feed, "stocks") == expected


def test_every_official_feed_is_known_by_its_enum():
    massive_models = pytest.importorskip("massive.websocket.models")
    for member in massive_models.Feed:
        name = feed_name(member)
        assert FEEDS[name] == member.name and feed_url("wss://socket.massive.com", member, "futures") == \
            "wss://%s/futures" % member.value


def test_elsewhere_a_feed_is_a_path_prefix_and_unknown_feeds_are_refused():
    assert feed_url("ws://127.0.0.1:8000", "delayed", "futures/cme") == "ws://127.0.0.1:8000/delayed/futures/cme"
    assert feed_url("ws://127.0.0.1:8000/", "socket", "stocks") == "ws://127.0.0.1:8000/stocks"
    with pytest.raises(PolygonConfigError, match="unknown feed 'nightly'; known: business"):
        feed_url("ws://127.0.0.1:8000", "nightly", "stocks")
    assert feed_delay_minutes("delayed", "stocks") == 15 and feed_delay_minutes("delayed", "futures/cme") == 10
    assert feed_delay_minutes("business", "stocks") == 0 and feed_delay_minutes(None, "stocks") == 0
    client = PolygonWebSocketClient(get_config(api_key="k", ws_url="wss://socket.massive.com"), market="futures/cme",
                                    feed="delayed")
    assert client.url == "wss://delayed.massive.com/futures/cme" and client.delay_minutes == 10
    assert client.get_status()["feed"] == "delayed" and client.get_status()["socket"] == "futures/cme"


def _receive(sb, market, feed, symbols, channels, count=8, storage=None):
    got, done = [], threading.Event()

    def on_event(event):
        got.append(event)
        if len(got) >= count:
            done.set()

    client = PolygonWebSocketClient(sb.config(), storage, market=market, feed=feed)
    try:
        client.subscribe(symbols, channels, on_event)
        client.connect()
        done.wait(30)
    finally:
        client.disconnect()
    return got, client


@pytest.fixture(scope="module")
def replay():
    from polygon.sandbox import Sandbox

    with Sandbox(port=0, clock="2025-12-03", speed=120, max_connections=4) as sb:
        yield sb


@pytest.mark.parametrize("market,symbol", [("futures/cme", "ESZ5"), ("futures/nymex", "CLF6")])
def test_futures_venue_sockets_deliver_normalised_events(replay, market, symbol):
    got, client = _receive(replay, market, None, [symbol], ["T", "Q", "AM"], count=40)
    kinds = {e["event_type"] for e in got}
    assert {"futures_trade", "futures_quote"} <= kinds and {e["symbol"] for e in got} == {symbol}
    assert client.url.endswith("/" + market)
    trades = [e for e in got if e["event_type"] == "futures_trade"]
    assert all(t["price"] > 0 and t["size"] > 0 and t["sequence_number"] for t in trades)


def test_the_delayed_feed_reaches_the_sandbox_by_path(replay):
    got, client = _receive(replay, "futures", "delayed", ["ESZ5"], ["T"])
    assert got and client.url == replay.ws_url + "/delayed/futures" and client.delay_minutes == 10


def test_futures_minute_aggregates_are_kept_as_bars(replay, tmp_path):
    from polygon.storage import StorageManager

    storage = StorageManager(str(tmp_path / "cache"))
    got, _client = _receive(replay, "futures", None, ["ESZ5"], ["AM"], count=3, storage=storage)
    assert len(got) >= 3 and all(e["event_type"] == "futures_aggregate" for e in got)
    storage.flush()
    frame = storage.read("ESZ5", "1min")
    assert len(frame) >= 3
    first = got[0]
    row = frame.loc[frame.index.asi8 // 1_000_000 == first["timestamp"]]
    assert (row["close"].iloc[0], row["volume"].iloc[0]) == (first["close"], first["volume"])
