"""The /ws/{client_id} relay over real sockets: one upstream connection, reference-counted subscriptions,
bad messages answered without ending the session, slow clients bounded."""

import json
import threading
import time

import pytest
import websocket

from polygon.polygon_server import PolygonServer
from polygon.polygon_server.messages import validate_message
from polygon.polygon_server.outlet import CallbackOutlet
from polygon.polygon_server.relay import RelayClient


class Local:
    """A local client of the server: a websocket-client connection with bounded reads."""

    def __init__(self, srv, client_id):
        self.ws = websocket.create_connection("%s/ws/%s" % (srv.ws_url, client_id), timeout=10)

    def send(self, **message):
        self.ws.send(json.dumps(message))

    def next(self, kind, limit=2000, seconds=15.0):
        """The next message of ``type`` kind (others skipped), bounded in count and time."""
        deadline = time.monotonic() + seconds
        for _ in range(limit):
            if time.monotonic() > deadline:
                break
            message = json.loads(self.ws.recv())
            if message["type"] == kind:
                return message
        raise AssertionError("no %r message" % kind)

    def close(self):
        self.ws.close()


def _upstream(srv):
    return srv.app.relay.status()["upstream"]


def _wait(predicate, seconds=10.0):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.02)
    return False


def test_ws_guide_protocol_subscribe_unsubscribe_ping(stream_server):
    client = Local(stream_server, "client123")
    try:
        hello = client.next("status")
        assert hello["status"] == "connected" and hello["client_id"] == "client123"
        client.send(action="subscribe", symbols=["AAPL"], channels=["T", "Q"])
        assert client.next("subscribed") == {"type": "subscribed", "symbols": ["AAPL"], "channels": ["T", "Q"]}
        seen = set()
        for _ in range(500):
            data = client.next("data")
            assert data["symbol"] == "AAPL" and data["data"]["symbol"] == "AAPL"
            seen.add(data["channel"])
            if seen == {"T", "Q"}:
                break
        assert seen == {"T", "Q"}
        client.send(action="unsubscribe", symbols=["AAPL"])
        assert client.next("unsubscribed")["symbols"] == ["AAPL"]
        client.send(action="ping")
        pong = client.next("pong")
        assert abs(pong["timestamp"] - time.time() * 1000) < 60_000
    finally:
        client.close()


def test_two_clients_share_one_upstream_subscription(stream_server, stream_sandbox):
    a, b = Local(stream_server, "a"), Local(stream_server, "b")
    try:
        a.send(action="subscribe", symbols=["MSFT"], channels=["T"])
        a.next("subscribed")
        b.send(action="subscribe", symbols=["MSFT", "SPY"], channels=["T"])
        b.next("subscribed")
        assert _upstream(stream_server)["provider_subscriptions"] == ["T.MSFT", "T.SPY"]
        assert a.next("data")["symbol"] == "MSFT"
        assert b.next("data")["channel"] == "T"
        assert stream_sandbox.stats()["ws_connections"] == 1, "one provider connection for all local clients"
        a.send(action="unsubscribe", symbols=["MSFT"], channels=["T"])
        a.next("unsubscribed")
        assert _upstream(stream_server)["provider_subscriptions"] == ["T.MSFT", "T.SPY"], "b still needs T.MSFT"
        status = stream_server.app.relay.status()["clients"]
        assert status["a"]["subscriptions"] == {} and status["b"]["subscriptions"] == {"MSFT": ["T"], "SPY": ["T"]}
        b.close()
        assert _wait(lambda: "b" not in stream_server.app.relay.status()["clients"])
        assert _upstream(stream_server)["provider_subscriptions"] == []
        a.close()
        assert _wait(lambda: not _upstream(stream_server)["connected"]), "the last client leaving closes upstream"
    finally:
        a.close()
        b.close()


@pytest.mark.parametrize("raw, code", [
    ("not json", "bad_json"),
    ("[1, 2]", "invalid_message"),
    (json.dumps({"action": "dance"}), "unknown_action"),
    (json.dumps({"symbols": ["AAPL"]}), "unknown_action"),
    (json.dumps({"action": "subscribe", "symbols": ["AAPL"]}), "invalid_message"),
    (json.dumps({"action": "subscribe", "symbols": ["AAPL"], "channels": ["X"]}), "invalid_message"),
    (json.dumps({"action": "subscribe", "symbols": [], "channels": ["T"]}), "invalid_message"),
    (json.dumps({"action": "subscribe", "symbols": ["../etc"], "channels": ["T"]}), "invalid_subscription"),
    (json.dumps({"action": "unsubscribe", "symbols": ["AAPL"]}), "invalid_subscription"),
])
def test_bad_messages_get_an_error_and_the_session_goes_on(stream_server, raw, code):
    client = Local(stream_server, "bad")
    try:
        client.next("status")
        client.ws.send(raw)
        error = client.next("error")
        assert error["code"] == code and error["message"]
        client.send(action="ping")
        assert client.next("pong")["type"] == "pong"
    finally:
        client.close()


def test_client_ids_are_checked_and_a_reconnect_replaces_the_old_session(stream_server):
    odd = Local(stream_server, "a%20b")
    assert odd.next("error")["code"] == "invalid_client_id"
    odd.close()
    for round_ in range(10):  # today's code refused about one immediate reconnect in five
        first = Local(stream_server, "same")
        first.next("status")
        first.send(action="subscribe", symbols=["AAPL"], channels=["T"])
        first.next("subscribed")
        second = Local(stream_server, "same")  # reconnects at once, the first session still open
        try:
            assert second.next("status")["status"] == "connected", "round %d" % round_
            second.send(action="ping")
            assert second.next("pong")
            status = stream_server.app.relay.status()
            assert list(status["clients"]) == ["same"] and status["clients"]["same"]["subscriptions"] == {}
            second.send(action="subscribe", symbols=["AAPL"], channels=["T"])
            second.next("subscribed")
            assert second.next("data")["symbol"] == "AAPL"
            with pytest.raises((websocket.WebSocketConnectionClosedException, ConnectionError, OSError)):
                for _ in range(100000):  # bounded: what was in flight, then the replaced session ends
                    first.ws.recv()
        finally:
            first.close()
            second.close()
        assert _wait(lambda: not stream_server.app.relay.status()["clients"])


def test_upstream_refusal_is_an_error_message_not_a_dead_session(make_sandbox, tmp_path):
    sb = make_sandbox(clock="2024-03-14", speed=30)
    config = sb.config(cache_dir=str(tmp_path / "c"), api_key="not-the-key")
    with PolygonServer(port=0, config=config) as srv:
        client = Local(srv, "x")
        try:
            client.send(action="subscribe", symbols=["AAPL"], channels=["T"])
            error = client.next("error")
            assert error["code"] == "upstream" and "not-the-key" not in error["message"]
            client.send(action="ping")
            assert client.next("pong")
        finally:
            client.close()


def test_server_stop_closes_clients_and_leaks_no_threads(stream_sandbox, tmp_path):
    before = {t for t in threading.enumerate()}
    srv = PolygonServer(port=0, config=stream_sandbox.config(cache_dir=str(tmp_path / "c"))).start()
    client = Local(srv, "leaver")
    client.send(action="subscribe", symbols=["AAPL"], channels=["T"])
    client.next("data")
    srv.stop()
    with pytest.raises((websocket.WebSocketConnectionClosedException, ConnectionError, OSError)):
        for _ in range(10000):  # bounded: drains what was in flight, then sees the close
            client.ws.recv()
    client.close()
    assert _wait(lambda: not [t for t in threading.enumerate() if t not in before and t.is_alive()
                              and t.name.startswith(("polygon-relay", "polygon-server", "polygon-ws"))])


def test_a_slow_client_loses_the_oldest_events_not_the_server():
    release = threading.Event()
    received = []

    def slow_send(texts):
        release.wait(10)
        received.extend(texts)

    outlet = CallbackOutlet(slow_send, limit=50)
    client = RelayClient("slow", outlet)
    for i in range(1000):
        outlet.put_texts([json.dumps({"type": "data", "n": i})], 1)
    assert client.pending == 50 and client.dropped == 950
    release.set()
    assert client.outlet.flush() and client.pending == 0
    assert len(received) + client.dropped == 1000
    assert json.loads(received[-1])["n"] == 999, "the newest events are kept"


def test_upstream_drops_are_invisible_to_local_clients(make_sandbox, tmp_path):
    """The provider connection drops every 40 frames; the relay's stream client reconnects and restores the
    provider subscriptions, and the local client keeps receiving without doing anything."""
    sb = make_sandbox(stream_rate=3000, max_connections=2, ws_drop_after_messages=40)
    with PolygonServer(port=0, config=sb.config(cache_dir=str(tmp_path / "c"))) as srv:
        client = Local(srv, "steady")
        try:
            client.send(action="subscribe", symbols=["AAPL"], channels=["T"])
            client.next("subscribed")
            assert _wait(lambda: _upstream(srv)["reconnects"] >= 2, 20)
            for _ in range(20):
                assert client.next("data")["symbol"] == "AAPL"
            assert _upstream(srv)["provider_subscriptions"] == ["T.AAPL"]
            assert sb.stats()["ws_connections"] >= 3
        finally:
            client.close()


def _events(client, count, seconds=20.0):
    """``count`` data events from ``data`` or ``batch`` messages, in order (bounded)."""
    out = []
    deadline = time.monotonic() + seconds
    while len(out) < count and time.monotonic() < deadline:
        message = json.loads(client.ws.recv())
        if message["type"] == "data":
            out.append(message["data"])
        elif message["type"] == "batch":
            assert not validate_message("ws_batch", message), "schema/server/ws_batch.json"
            out.extend(message["events"])
    assert len(out) >= count, "only %d events" % len(out)
    return out


def test_batch_mode_carries_the_same_events_in_fewer_messages(make_sandbox, tmp_path):
    sb = make_sandbox(stream_rate=4000, max_connections=2)
    with PolygonServer(port=0, config=sb.config(cache_dir=str(tmp_path / "c"))) as srv:
        bad = websocket.create_connection(srv.ws_url + "/ws/x?batch=maybe", timeout=10)
        assert json.loads(bad.recv())["code"] == "invalid_parameter"
        bad.close()
        plain = Local(srv, "plain")
        batched = websocket.create_connection(srv.ws_url + "/ws/batched?batch=true", timeout=10)
        try:
            hello = json.loads(batched.recv())
            assert hello["status"] == "connected" and hello["batch"] is True
            assert not validate_message("ws_status", hello)
            assert plain.next("status").get("batch") is None
            plain.send(action="subscribe", symbols=["*"], channels=["T", "Q"])
            plain.next("subscribed")
            batched.send(json.dumps({"action": "subscribe", "symbols": ["*"], "channels": ["T", "Q"]}))
            reply = json.loads(batched.recv())
            while reply["type"] != "subscribed":  # bounded by the socket timeout
                reply = json.loads(batched.recv())
            wrapper = type("B", (), {"ws": batched})
            got_batched = _events(wrapper, 600)
            got_plain = _events(plain, 2000)
            window = got_batched[:300]
            starts = [j for j in range(len(got_plain) - len(window)) if got_plain[j:j + len(window)] == window]
            assert starts, "the batched client's events are a run of the per-event client's, nothing lost"
            status = srv.app.relay.status()["clients"]
            assert status["batched"]["batch"] is True and status["plain"]["batch"] is False
            assert status["batched"]["sent"] < status["plain"]["sent"], "fewer messages for the same events"
        finally:
            plain.close()
            batched.close()
