"""Failure handling against the sandbox: bad key, max_connections, drops and backoff, stalls, slow consumers."""

import time

import pytest
from ws_helpers import Collector, wait_until

from polygon.exceptions import MaxConnectionsError, PolygonAuthenticationError, StreamConnectionError
from polygon.websocket import PolygonWebSocketClient


def test_auth_failure_raises_without_retrying(stream_sandbox, make_client):
    config = stream_sandbox.config(api_key="not-the-key-123")
    delays = []
    client = make_client(config, sleep=delays.append)
    with pytest.raises(PolygonAuthenticationError) as info:
        client.connect()
    assert "not-the-key-123" not in str(info.value)
    assert delays == []
    assert stream_sandbox.stats()["ws_connections"] == 1
    status = client.get_status()
    assert (status["connected"], status["running"], status["reconnect_attempts"]) == (False, False, 0)


def test_missing_key_is_refused_before_io(stream_sandbox, make_client):
    client = make_client(stream_sandbox.config().replace(api_key=None))
    with pytest.raises(PolygonAuthenticationError, match="POLYGON_API_KEY"):
        client.connect()
    assert stream_sandbox.stats()["ws_connections"] == 0


def test_max_connections_is_a_distinct_error_and_no_reconnect_loop(make_sandbox, make_client):
    sandbox = make_sandbox(stream_rate=500, max_connections=1)
    first = make_client(sandbox.config())
    first.connect()
    trades = Collector(n=5)
    first.subscribe(["AAPL"], ["T"], trades)
    delays = []
    second = make_client(sandbox.config(), sleep=delays.append)
    with pytest.raises(MaxConnectionsError) as info:
        second.connect()
    assert "aximum" in str(info.value)  # the provider's own text
    assert delays == [] and second.get_status()["reconnect_attempts"] == 0
    # the user's first session is untouched
    assert trades.wait(10)
    assert first.get_status()["connected"] is True and first.get_status()["reconnects"] == 0
    first.disconnect()
    assert sandbox.stats()["ws_connections"] == 2


def test_drops_every_n_messages_reconnect_with_subscriptions_restored(make_sandbox, tmp_path, make_client):
    sandbox = make_sandbox(stream_rate=3000, max_connections=2, ws_drop_after_messages=25)
    delays = []
    record = str(tmp_path / "frames.jsonl")
    client = make_client(sandbox.config(), sleep=delays.append, record=record)
    trades, quotes = Collector(), Collector()
    client.subscribe(["AAPL", "MSFT"], ["T"], trades, "t")
    client.subscribe(["AAPL"], ["Q"], quotes, "q")
    client.subscribe(["AAPL"], ["T"], Collector(), "t2")  # overlapping: provider still needs T.AAPL once
    client.connect()
    assert wait_until(lambda: client.get_status()["reconnects"] >= 3, 30)
    before = trades.count(), quotes.count()
    assert wait_until(lambda: trades.count() > before[0] + 20 and quotes.count() > before[1] + 5, 20)
    status = client.get_status()
    client.disconnect()
    # each drop: one reconnect after the guide's first delay, consecutive-attempt counter reset
    assert delays[:3] == [1.0, 1.0, 1.0]
    assert status["reconnect_attempts"] == 0
    assert status["provider_subscriptions"] == ["Q.AAPL", "T.AAPL", "T.MSFT"]
    assert {d["symbol"] for d in trades.events[-50:]} == {"AAPL", "MSFT"}
    # one batched subscribe per connection: the provider confirmed each channel once per connection
    import json

    from polygon.websocket.recording import iter_recording

    confirmations = []
    for _t, raw in iter_recording(record):
        for msg in json.loads(raw):
            if msg.get("ev") == "status" and "subscribed to" in str(msg.get("message", "")):
                confirmations.append(msg["message"])
    connections = sandbox.stats()["ws_connections"]
    for param in ("T.AAPL", "T.MSFT", "Q.AAPL"):
        assert sum(param in text for text in confirmations) <= connections
        assert sum(param in text for text in confirmations) >= status["reconnects"]


def test_backoff_schedule_then_error_from_listen(make_sandbox, make_client):
    sandbox = make_sandbox(stream_rate=200, max_connections=2)
    delays = []
    client = make_client(
        sandbox.config(), sleep=delays.append, connect_timeout=2, ping_interval=0.3, read_timeout=1.0
    )
    client.connect()
    sandbox.stop()  # the provider goes away: every reconnect is refused
    started = time.monotonic()
    with pytest.raises(StreamConnectionError, match="5 reconnect attempts failed"):
        client.listen(timeout=30)
    assert delays == [1.0, 2.0, 4.0, 8.0, 16.0]  # 1 s doubling, 5 attempts (fake sleep: no real wait)
    assert time.monotonic() - started < 20
    assert client.get_status()["running"] is False


def test_stalled_socket_is_detected_and_replaced(make_sandbox, make_client):
    sandbox = make_sandbox(stream_rate=500, max_connections=2, ws_stall=20)
    delays = []
    client = make_client(sandbox.config(), sleep=delays.append, ping_interval=0.2, read_timeout=0.8)
    trades = Collector()
    client.subscribe(["AAPL"], ["T"], trades)
    client.connect()
    assert wait_until(lambda: client.get_status()["reconnects"] >= 1, 15)
    sandbox.configure(ws_stall=False)
    before = trades.count()
    assert wait_until(lambda: trades.count() > before, 15)  # data flows again on the new socket
    client.disconnect()
    assert delays and delays[0] == 1.0


def test_slow_callback_never_stalls_the_socket(make_sandbox, make_client):
    sandbox = make_sandbox(stream_rate=5000, max_connections=2)
    slow = Collector(n=10, delay=0.05)
    client = make_client(sandbox.config(), queue_size=100, max_lag=0.3, ping_interval=0.2, read_timeout=1.0)
    client.subscribe(["AAPL", "MSFT"], ["T", "Q"], slow)
    client.connect()
    assert slow.wait(20)
    assert wait_until(lambda: client.get_status()["dropped_messages"] > 0, 20)
    received_before = client.get_status()["message_count"]
    assert wait_until(lambda: client.get_status()["message_count"] > received_before + 100, 10)
    status = client.get_status()
    client.disconnect()
    assert status["connected"] is True and status["reconnects"] == 0
    assert status["queue_depth"] <= 100  # bounded in events
    assert status["dropped_messages"] > 0 and status["dropped_frames"] > 0


def test_block_policy_backpressures_without_dropping(make_sandbox, make_client):
    sandbox = make_sandbox(stream_rate=2000, max_connections=2)
    slow = Collector(n=20, delay=0.01)
    client = make_client(sandbox.config(), queue_size=20, overflow="block")
    client.subscribe(["AAPL"], ["T"], slow)
    client.connect()
    assert slow.wait(20)
    status = client.get_status()
    client.disconnect()
    assert status["dropped_messages"] == 0 and status["overflow"] == "block"


def test_provider_error_status_is_logged_and_kept(stream_sandbox, make_client, caplog):
    """The guide: 'Invalid Subscriptions: Returns error in status message'. Our client refuses bad ones
    locally, so a refused item is pushed straight onto the socket to see what a provider refusal does."""
    import json

    client = make_client(stream_sandbox.config())
    trades = Collector(n=3)
    client.subscribe(["AAPL"], ["T"], trades)
    client.connect()
    client._ws.send(json.dumps({"action": "subscribe", "params": "XX.AAPL"}))
    assert wait_until(lambda: client.get_status()["last_error"] is not None, 10)
    error = client.get_status()["last_error"]
    assert error["status"] == "error" and "XX.AAPL" in error["message"]
    assert any("XX.AAPL" in r.getMessage() for r in caplog.records if r.levelname == "WARNING")
    assert trades.wait(10) and client.get_status()["connected"] is True


def test_constructor_rejects_bad_options():
    from polygon.exceptions import PolygonConfigError

    for kwargs in ({"overflow": "newest"}, {"queue_size": 0}, {"ping_interval": 0}):
        with pytest.raises(PolygonConfigError):
            PolygonWebSocketClient(**kwargs)


def test_reconnect_by_hand_after_disconnect_keeps_subscriptions(stream_sandbox, make_client):
    client = make_client(stream_sandbox.config())
    trades = Collector(n=3)
    client.subscribe(["AAPL"], ["T"], trades)
    for _cycle in range(3):
        client.connect()
        assert trades.wait(10)
        client.disconnect()
        trades.reached.clear()
        trades.n = trades.count() + 3
    status = client.get_status()
    assert status["subscriptions"] == {"AAPL": ["T"]} and status["running"] is False
    assert stream_sandbox.stats()["ws_connections"] == 3


def test_subscribing_while_reconnecting_is_restored(make_sandbox, make_client):
    sandbox = make_sandbox(clock="2024-03-14", speed=30, max_connections=2, ws_drop_after_messages=15)
    msft = Collector(n=5)
    holder = {}

    def sleep(delay):  # runs on the reader between the drop and the reconnect: the socket is down
        if "sub" not in holder:
            holder["sub"] = holder["client"].subscribe(["MSFT"], ["T"], msft)
            holder["status"] = holder["client"].get_status()

    client = holder["client"] = make_client(sandbox.config(), sleep=sleep)
    client.subscribe(["AAPL"], ["T"], Collector())
    client.connect()
    assert msft.wait(20)
    assert holder["status"]["connected"] is False  # it really was subscribed while disconnected
    assert client.get_status()["provider_subscriptions"] == ["T.AAPL", "T.MSFT"]


def test_overlapping_named_subscriptions_reach_the_provider_once(stream_sandbox, make_client, tmp_path):
    import json

    from polygon.websocket.recording import iter_recording

    path = str(tmp_path / "frames.jsonl")
    client = make_client(stream_sandbox.config(), record=path)
    first, second = Collector(n=5), Collector(n=5)
    client.subscribe(["AAPL"], ["T"], first, "first")
    client.connect()
    client.subscribe(["AAPL", "MSFT"], ["T"], second, "second")
    assert first.wait(10) and second.wait(10)
    assert client.unsubscribe(["AAPL"], subscription_id="first") == []  # 'second' still needs T.AAPL
    before = second.count()
    assert wait_until(lambda: any(e["symbol"] == "AAPL" for e in second.events[before:]), 10)
    assert client.unsubscribe(["AAPL"], subscription_id="second") == ["T.AAPL"]
    msft_before = sum(e["symbol"] == "MSFT" for e in second.events)
    assert wait_until(lambda: sum(e["symbol"] == "MSFT" for e in second.events) > msft_before + 5, 10)
    client.disconnect()
    acks, after_unsub = [], []
    for _t, raw in iter_recording(path):
        for msg in json.loads(raw):
            if msg.get("ev") == "status":
                acks.append(msg.get("message"))
            elif acks and acks[-1] == "unsubscribed to: T.AAPL":
                after_unsub.append(msg)
    assert acks.count("subscribed to: T.AAPL") == 1  # the second subscription sent only T.MSFT
    assert acks.count("subscribed to: T.MSFT") == 1
    assert acks.count("unsubscribed to: T.AAPL") == 1  # only when the last holder left
    assert after_unsub and not [m for m in after_unsub if m.get("ev") == "T" and m.get("sym") == "AAPL"]


def test_disconnect_during_the_handshake_leaves_no_socket(make_sandbox, make_client):
    sandbox = make_sandbox(clock="2024-03-14", speed=30, max_connections=1)
    client = make_client(sandbox.config())
    import threading

    original = client._await_status
    in_handshake = threading.Event()
    release = threading.Event()

    def slow_status(ws, wanted, stage):  # hold the handshake open until disconnect() has run
        if stage == "auth":
            in_handshake.set()
            release.wait(10)
        return original(ws, wanted, stage)

    client._await_status = slow_status
    worker = threading.Thread(target=client.connect)
    worker.start()
    assert in_handshake.wait(10)
    client.disconnect()
    release.set()
    worker.join(10)
    assert client.get_status()["running"] is False and client.get_status()["connected"] is False
    assert wait_until(lambda: sandbox.stats()["ws_active"] == 0, 10)  # the late socket was closed
    other = make_client(sandbox.config())
    other.connect()  # the single allowed connection is free again
    assert other.get_status()["connected"] is True
