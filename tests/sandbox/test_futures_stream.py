"""The sandbox's futures sockets and feeds over real WebSockets: /futures and /futures/<venue> serve the
official stream client's futures events from the tape; a feed is a path prefix and the delayed feed runs behind
the clock; the connection limit counts each market's socket apart (issue 21 item 6); the firehose is fair to
every subscribed symbol at any rate (issue 27 item 7)."""

import collections
import json
import time

import pytest
import requests
import websocket

from polygon.polygon_server import PolygonServer
from polygon.sandbox.stream_events import FEEDS, feed_delay_ms
from polygon.sandbox.universe import futures_contract

REPLAY = {"clock": "2025-12-03", "speed": 120}


def connect(sb, path, auth=True, expect="auth_success"):
    ws = websocket.create_connection(sb.ws_url + path, timeout=10, skip_utf8_validation=True)
    assert json.loads(ws.recv())[0]["status"] == "connected"
    if auth:
        ws.send(json.dumps({"action": "auth", "params": sb.api_key}))
        assert json.loads(ws.recv())[0]["status"] == expect
    return ws


def subscribe(ws, params):
    ws.send(json.dumps({"action": "subscribe", "params": params}))
    return json.loads(ws.recv())


def collect(ws, until, seconds=20.0):
    events, deadline = [], time.monotonic() + seconds
    while time.monotonic() < deadline and not until(events):
        events.extend(e for e in json.loads(ws.recv()) if e.get("ev") != "status")
    return events


@pytest.mark.parametrize("path,venue", [("/futures/cme", "XCME"), ("/futures/nymex", "XNYM")])
def test_a_venue_socket_streams_its_front_contracts_in_the_official_shapes(make_sandbox, path, venue):
    sb = make_sandbox(**REPLAY)
    ws = connect(sb, path)
    try:
        acks = subscribe(ws, "T.*,Q.*,AM.*")
        assert [a["status"] for a in acks] == ["success"] * 3
        events = collect(ws, lambda evs: {"T", "Q", "AM"} <= {e["ev"] for e in evs})
        assert {"T", "Q", "AM"} <= {e["ev"] for e in events}
        symbols = {e["sym"] for e in events}
        assert symbols and all(futures_contract(s).product.venue == venue for s in symbols)
        for e in events:
            keys = {"T": {"ev", "sym", "p", "s", "t", "q"}, "Q": {"ev", "sym", "bp", "bs", "bt", "ap", "as", "at", "t"},
                    "AM": {"ev", "sym", "v", "dv", "o", "c", "h", "l", "n", "s", "e"}}[e["ev"]]
            assert set(e) == keys
            if e["ev"] == "Q":
                assert e["bp"] < e["ap"]
            if e["ev"] == "AM":
                assert e["l"] <= min(e["o"], e["c"]) and e["h"] >= max(e["o"], e["c"]) and e["n"] > 0
    finally:
        ws.close()


def test_a_venue_socket_gives_no_events_for_another_venues_contract(make_sandbox):
    sb = make_sandbox(**REPLAY)
    ws = connect(sb, "/futures/comex")
    try:
        subscribe(ws, "T.ESZ5,T.GCG6")
        events = collect(ws, lambda evs: len(evs) > 30)
        assert {e["sym"] for e in events} == {"GCG6"}
    finally:
        ws.close()


@pytest.mark.parametrize("feed", ["", "/delayed", "/business"])
def test_the_official_stream_client_reads_the_futures_socket(make_sandbox, feed):
    massive = pytest.importorskip("massive")
    from massive.websocket.models import FuturesTrade, Market

    sb = make_sandbox(**REPLAY)
    host = sb.ws_url[len("ws://"):] + feed  # the official client's url is ws://{feed}/{market}
    client = massive.WebSocketClient(api_key=sb.api_key, feed=host, market=Market.Futures, secure=False,
                                     subscriptions=["T.ESZ5"], max_reconnects=0)
    got = []

    def handle(msgs):
        got.extend(msgs)
        if len(got) >= 20:
            raise KeyboardInterrupt  # the official client's way out of run()

    import threading

    runner = threading.Thread(target=lambda: _run(client, handle), daemon=True)
    runner.start()
    runner.join(30)
    assert len(got) >= 20 and all(isinstance(m, FuturesTrade) and m.symbol == "ESZ5" and m.price > 0 for m in got)


def _run(client, handle):
    try:
        client.run(handle)
    except KeyboardInterrupt:
        pass


def _sandbox_now_ms(sb):
    """The sandbox clock's now, as its futures market status states it (second precision)."""
    import datetime as dt

    row = requests.get(sb.base_url + "/futures/v1/market-status", headers={"Authorization": "Bearer " + sb.api_key},
                       timeout=10).json()["results"][0]
    return int(dt.datetime.strptime(row["timestamp"], "%Y-%m-%dT%H:%M:%SZ").replace(
        tzinfo=dt.timezone.utc).timestamp() * 1000)


@pytest.mark.parametrize("path,behind", [("/futures", 0), ("/delayed/futures", 10), ("/business/futures/cme", 0)])
def test_feeds_are_path_prefixes_and_the_delayed_feed_runs_behind(make_sandbox, path, behind):
    assert "delayed" in FEEDS and "business" in FEEDS and "launchpad" in FEEDS
    assert feed_delay_ms("delayed", "stocks") == 15 * 60_000 and feed_delay_ms("socket", "stocks") == 0
    assert feed_delay_ms("delayed", "futures/cme") == 10 * 60_000  # the futures plans' 10-minute delay
    sb = make_sandbox(**REPLAY)
    ws = connect(sb, path)
    try:
        subscribe(ws, "T.ESZ5")
        events = collect(ws, lambda evs: len(evs) >= 5)
        lag_minutes = (_sandbox_now_ms(sb) - max(e["t"] for e in events)) / 60_000
        assert behind - 0.5 <= lag_minutes <= behind + 1.5, lag_minutes
    finally:
        ws.close()
    assert requests.get(sb.base_url + "/nowhere/stocks", timeout=10).status_code == 404


def test_the_connection_limit_counts_each_market_socket_apart(make_sandbox):
    sb = make_sandbox(max_connections=1)
    stocks = connect(sb, "/stocks")
    crypto = connect(sb, "/crypto")  # another market's socket: its own allowance
    futures = connect(sb, "/futures")
    delayed = connect(sb, "/delayed/stocks")  # another feed: its own allowance
    second = connect(sb, "/stocks", expect="max_connections")
    for ws in (stocks, crypto, futures, delayed, second):
        ws.close()


def test_the_relay_subscribes_a_second_market_against_a_standalone_sandbox(make_sandbox, tmp_path):
    sb = make_sandbox(stream_rate=2000)  # the provider's default limit: one socket per market
    with PolygonServer(port=0, config=sb.config(cache_dir=str(tmp_path / "c"))) as srv:
        ws = websocket.create_connection("%s/ws/one" % srv.ws_url, timeout=10)
        try:
            for symbols, channels in ((["AAPL"], ["T"]), (["X:BTCUSD"], ["XT"])):
                ws.send(json.dumps({"action": "subscribe", "symbols": symbols, "channels": channels}))
            seen, deadline = set(), time.monotonic() + 20
            while seen != {"AAPL", "X:BTCUSD"} and time.monotonic() < deadline:
                message = json.loads(ws.recv())
                assert message["type"] != "error", message
                if message["type"] == "data":
                    seen.add(message["symbol"])
            assert seen == {"AAPL", "X:BTCUSD"}
        finally:
            ws.close()


@pytest.mark.parametrize("rate", [20, 100])
def test_a_slow_firehose_reaches_every_symbol_evenly(make_sandbox, rate):
    symbols = ["AAPL", "MSFT", "AMZN", "NVDA", "META", "GOOGL", "TSLA", "XOM"]
    sb = make_sandbox(stream_rate=rate, **REPLAY)
    ws = connect(sb, "/stocks")
    try:
        subscribe(ws, ",".join("%s.%s" % (c, s) for s in symbols for c in ("T", "Q", "A", "AM")))
        wanted = 3 * len(symbols)
        events = collect(ws, lambda evs: len(evs) >= wanted, seconds=wanted / rate + 20)
        counts = collections.Counter(e["sym"] for e in events[:wanted])
        assert set(counts) == set(symbols), counts
        assert max(counts.values()) - min(counts.values()) <= 1, counts
    finally:
        ws.close()


def test_the_relay_serves_futures_beside_stocks(make_sandbox, tmp_path):
    sb = make_sandbox(stream_rate=2000, clock="2025-12-03")  # ESZ5 and CLF6 trade that day
    with PolygonServer(port=0, config=sb.config(cache_dir=str(tmp_path / "c"))) as srv:
        ws = websocket.create_connection("%s/ws/fut" % srv.ws_url, timeout=10)
        try:
            ws.send(json.dumps({"action": "subscribe", "symbols": ["ESZ5", "CLF6"], "channels": ["T"]}))
            ws.send(json.dumps({"action": "subscribe", "symbols": ["AAPL"], "channels": ["T"]}))
            seen, markets, deadline = set(), set(), time.monotonic() + 20
            while seen != {"ESZ5", "CLF6", "AAPL"} and time.monotonic() < deadline:
                message = json.loads(ws.recv())
                assert message["type"] != "error", message
                if message["type"] == "subscribed":
                    markets.add(message.get("market", "stocks"))
                if message["type"] == "data":
                    seen.add(message["symbol"])
            assert seen == {"ESZ5", "CLF6", "AAPL"} and markets == {"futures", "stocks"}
            assert srv.app.relay.status()["markets"]["futures"]["provider_subscriptions"] == ["T.CLF6", "T.ESZ5"]
        finally:
            ws.close()


def test_an_expired_contract_streams_nothing(make_sandbox):
    sb = make_sandbox(**REPLAY)
    ws = connect(sb, "/futures")
    try:
        subscribe(ws, "T.ESZ4,T.ESZ5")  # December 2024 expired a year before the replayed day
        events = collect(ws, lambda evs: len(evs) > 30)
        assert events and {e["sym"] for e in events} == {"ESZ5"}
    finally:
        ws.close()


def _relayed_lag_minutes(sb, srv, client_id):
    """Minutes between the sandbox's now and the newest of 5 ESZ5 trades the local server relays (30 s bound)."""
    ws = websocket.create_connection("%s/ws/%s" % (srv.ws_url, client_id), timeout=10)
    try:
        ws.send(json.dumps({"action": "subscribe", "symbols": ["ESZ5"], "channels": ["T"]}))
        stamps, deadline = [], time.monotonic() + 30
        while len(stamps) < 5 and time.monotonic() < deadline:
            message = json.loads(ws.recv())
            assert message["type"] != "error", message
            if message["type"] == "data":
                stamps.append(message["data"]["timestamp"])
        assert stamps, "no trades within 30 s"
        return (_sandbox_now_ms(sb) - max(stamps)) / 60_000
    finally:
        ws.close()


def test_the_relay_reads_the_delayed_feed_it_is_pointed_at(make_sandbox, tmp_path):
    sb = make_sandbox(**REPLAY)
    config = sb.config(cache_dir=str(tmp_path / "c"), ws_url=sb.ws_url + "/delayed")  # the delayed feed's URL
    with PolygonServer(port=0, config=config) as srv:
        lag_minutes = _relayed_lag_minutes(sb, srv, "late")
    assert 9.5 <= lag_minutes <= 11.5, lag_minutes  # the futures sockets' delayed feed: 10 minutes


def test_the_relay_chooses_its_feed_by_name(make_sandbox, tmp_path):
    """``StreamRelay(feed="delayed")`` reads the delayed feed although its URL is the real-time one."""
    from polygon.polygon_server.relay import StreamRelay

    sb = make_sandbox(**REPLAY)
    config = sb.config(cache_dir=str(tmp_path / "c"))  # the real-time URL
    with PolygonServer(port=0, config=config, relay=StreamRelay(config=config, feed="delayed")) as srv:
        lag_minutes = _relayed_lag_minutes(sb, srv, "named")
    assert 9.5 <= lag_minutes <= 11.5, lag_minutes
