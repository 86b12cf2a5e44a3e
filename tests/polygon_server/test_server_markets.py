"""The relay serves every market: the ``market`` field or the tickers' prefix picks the provider socket, one
upstream per market shared by the clients (subscriptions counted by that market's stream client)."""

import json

import pytest

from polygon.polygon_server import PolygonServer

from .test_server_stream import Local, _upstream, _wait


@pytest.fixture
def firehose(make_sandbox):
    return make_sandbox(stream_rate=2000, max_connections=6)


@pytest.fixture
def srv(firehose, tmp_path):
    with PolygonServer(port=0, config=firehose.config(cache_dir=str(tmp_path / "c"))) as server:
        yield server


def _data(client, count=5):
    return [client.next("data", seconds=20) for _ in range(count)]


def test_the_ticker_prefix_or_the_market_field_picks_the_socket(srv, firehose):
    crypto, stocks, forex = Local(srv, "crypto"), Local(srv, "stocks"), Local(srv, "fx")
    try:
        crypto.send(action="subscribe", symbols=["X:BTCUSD"], channels=["XT"])
        reply = crypto.next("subscribed")
        assert reply["market"] == "crypto" and reply["channels"] == ["XT"]
        stocks.send(action="subscribe", symbols=["AAPL"], channels=["T"])
        assert "market" not in stocks.next("subscribed")
        forex.send(action="subscribe", market="forex", symbols=["*"], channels=["C"])
        assert forex.next("subscribed")["market"] == "forex"
        assert {(m["channel"], m["symbol"]) for m in _data(crypto)} == {("XT", "X:BTCUSD")}
        assert {(m["channel"], m["symbol"]) for m in _data(stocks)} == {("T", "AAPL")}
        got = _data(forex, 20)
        assert {m["channel"] for m in got} == {"C"} and all(m["symbol"].startswith("C:") for m in got)
        status = srv.app.relay.status()
        assert status["markets"]["crypto"]["provider_subscriptions"] == ["XT.X:BTCUSD"]
        assert status["markets"]["forex"]["connected"] and _upstream(srv)["provider_subscriptions"] == ["T.AAPL"]
        assert status["clients"]["crypto"]["subscriptions"] == {"X:BTCUSD": ["XT"]}
        assert firehose.stats()["ws_connections"] == 3, "one provider connection per market"
    finally:
        for c in (crypto, stocks, forex):
            c.close()
    assert _wait(lambda: "markets" not in srv.app.relay.status() or not any(
        m["connected"] for m in srv.app.relay.status()["markets"].values())), "every upstream closes at the end"


def test_clients_of_one_market_share_its_upstream(srv, firehose):
    a, b = Local(srv, "a"), Local(srv, "b")
    try:
        a.send(action="subscribe", symbols=["X:BTCUSD", "X:ETHUSD"], channels=["XQ"])
        a.next("subscribed")
        b.send(action="subscribe", symbols=["X:ETHUSD"], channels=["XQ"])
        b.next("subscribed")
        assert {m["symbol"] for m in _data(b, 10)} == {"X:ETHUSD"}
        markets = lambda: srv.app.relay.status()["markets"]  # noqa: E731
        assert markets()["crypto"]["provider_subscriptions"] == ["XQ.X:BTCUSD", "XQ.X:ETHUSD"]
        a.send(action="unsubscribe", symbols=["X:ETHUSD"])
        assert a.next("unsubscribed")["market"] == "crypto"
        assert markets()["crypto"]["provider_subscriptions"] == ["XQ.X:BTCUSD", "XQ.X:ETHUSD"], "b needs ETH"
        b.close()
        assert _wait(lambda: markets()["crypto"]["provider_subscriptions"] == ["XQ.X:BTCUSD"])
        assert firehose.stats()["ws_connections"] == 1
    finally:
        a.close()
        b.close()


@pytest.mark.parametrize("message, words", [
    ({"symbols": ["AAPL", "X:BTCUSD"], "channels": ["T"]}, "several markets"),
    ({"symbols": ["AAPL"], "channels": ["XT"]}, "crypto"),
    ({"market": "crypto", "symbols": ["AAPL"], "channels": ["XT"]}, "stocks"),
    ({"market": "mars", "symbols": ["AAPL"], "channels": ["T"]}, None),
])
def test_market_mistakes_are_errors_that_say_what_to_do(srv, message, words):
    client = Local(srv, "m")
    try:
        client.next("status")
        client.ws.send(json.dumps(dict(message, action="subscribe")))
        error = client.next("error")
        assert error["code"] in ("invalid_subscription", "invalid_message")
        if words:
            assert words in error["message"], error["message"]
        client.send(action="ping")
        assert client.next("pong")
    finally:
        client.close()
