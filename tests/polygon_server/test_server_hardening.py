"""Regression tests for defects found in review of the local server (each failed on the first version)."""

import json
import socket
import subprocess
import sys
import threading
import time

import pytest
import requests
import websocket

from polygon.polygon_server import PolygonServer
from polygon.polygon_server.relay import StreamRelay
from polygon.polygon_server.serving import LocalServer

from .test_server_stream import Local, _upstream, _wait

BODY = {"symbol": "AAPL", "timeframe": "1day", "start_date": "2023-01-03", "end_date": "2023-01-31"}


@pytest.mark.parametrize("raw", ['{"action": ["subscribe"]}', '{"action": {}}', "[" * 5000 + "]" * 5000,
                                 '{"action": "subscribe", "symbols": ' + "[" * 3000 + "]" * 3000 + "}"])
def test_odd_ws_messages_get_an_error_and_the_session_lives(stream_server, raw):
    client = Local(stream_server, "odd")
    try:
        client.next("status")
        client.ws.send(raw)
        assert client.next("error")["code"] in ("unknown_action", "bad_json", "invalid_message")
        client.send(action="ping")
        assert client.next("pong")
    finally:
        client.close()


@pytest.mark.parametrize("body", [
    "[" * 5000 + "]" * 5000,
    json.dumps(dict(BODY, end_date="9999-12-31")),
    json.dumps(dict(BODY, start_date="0001-01-01", end_date="0001-01-02")),
])
def test_odd_bars_bodies_are_400_not_500(server, body):
    response = requests.post(server.url + "/api/v1/bars", data=body, timeout=30,
                             headers={"Content-Type": "application/json"})
    assert response.status_code == 400, response.text
    assert response.json()["error"]["code"] in ("bad_json", "invalid_date_range")


def test_port_in_use_is_an_oserror_and_main_exits_2(server):
    with pytest.raises(OSError):
        PolygonServer(port=server.port, config=server.app.manager.config).start()
    with pytest.raises(OSError):
        LocalServer("127.0.0.1", server.port, lambda environ, start_response: [])
    out = subprocess.run([sys.executable, "-W", "error::RuntimeWarning", "-m", "polygon.polygon_server.server",
                          "--sandbox", "--port", str(server.port)], capture_output=True, text=True, timeout=60)
    assert out.returncode == 2, out.stderr
    assert "cannot listen" in out.stderr and "RuntimeWarning" not in out.stderr


def test_foreign_pages_cannot_use_the_server(server, stream_server):
    evil = {"Origin": "https://evil.example"}
    posted = requests.post(server.url + "/api/v1/bars", json=BODY, headers=evil, timeout=30)
    assert posted.status_code == 403 and posted.json()["error"]["code"] == "forbidden_origin"
    for origin in ("null", server.url):  # a sandboxed frame of any site; this server's own page, but text/plain
        plain = requests.post(server.url + "/api/v1/bars", data=json.dumps(BODY), timeout=30,
                              headers={"Origin": origin, "Content-Type": "text/plain"})
        assert plain.status_code == (403 if origin == "null" else 415)
    assert server.app.manager.storage.list_cached() == [], "nothing was fetched for a foreign page"
    rebound = requests.get(server.url + "/api/v1/status", headers={"Host": "attacker.example:%d" % server.port},
                           timeout=10)
    assert rebound.status_code == 403 and rebound.json()["error"]["code"] == "forbidden_host"
    for origin in ("https://evil.example", "null"):
        with pytest.raises(websocket.WebSocketBadStatusException):
            websocket.create_connection(stream_server.ws_url + "/ws/x", timeout=10, origin=origin)
    # pages of this machine still work, and so do programs that send no Origin
    own = {"Origin": server.url}
    assert requests.post(server.url + "/api/v1/bars", json=BODY, headers=own, timeout=30).status_code == 200
    ws = websocket.create_connection(stream_server.ws_url + "/ws/page", timeout=10, origin=stream_server.url)
    assert json.loads(ws.recv())["status"] == "connected"
    ws.close()


def test_no_key_is_a_503_that_says_so(sandbox, tmp_path):
    config = sandbox.config(cache_dir=str(tmp_path / "c"), api_key="")
    with PolygonServer(port=0, config=config) as srv:
        response = requests.post(srv.url + "/api/v1/bars", json=BODY, timeout=30)
        assert response.status_code == 503 and response.json()["error"]["code"] == "no_api_key"
        assert "POLYGON_API_KEY" in response.json()["error"]["message"]


def test_errors_never_list_other_clients(stream_server):
    secret = Local(stream_server, "secret-desk-7")
    other = Local(stream_server, "c3")
    try:
        secret.send(action="subscribe", symbols=["AAPL"], channels=["T"])
        secret.next("subscribed")
        other.send(action="unsubscribe", symbols=["AAPL"])
        error = other.next("error")
        assert error["code"] == "invalid_subscription" and "secret-desk-7" not in error["message"]
    finally:
        secret.close()
        other.close()


def test_events_are_encoded_once_and_nan_becomes_null(monkeypatch):
    """Four clients, two subscription sets, both modes: each event is encoded once, whoever gets it."""
    from polygon.polygon_server import relay as relay_module

    encoded = []
    real = relay_module._event_json
    monkeypatch.setattr(relay_module, "_event_json", lambda event: encoded.append(1) or real(event))
    relay = StreamRelay(client_factory=lambda: _SlowUpstream(0))
    texts = {name: [] for name in "abcd"}
    clients = {name: relay.attach("enc-" + name, texts[name].extend, batch=name in "cd") for name in texts}
    try:
        for name, client in clients.items():
            relay.subscribe(client, ["AAPL", "MSFT"] if name == "d" else ["AAPL"], ["T"])
        assert relay.fanout_status()["groups"] == 2  # two distinct subscription sets
        for symbol in ("AAPL", "MSFT"):
            relay._on_event({"event_type": "trade", "channel": "T", "symbol": symbol, "price": float("nan"),
                             "size": 5})

        def events(name):
            out = []
            for text in texts[name]:
                message = json.loads(text, parse_constant=lambda c: pytest.fail("non-JSON constant %s" % c))
                if message["type"] == "data":
                    out.append(message["data"])
                elif message["type"] == "batch":
                    out.extend(message["events"])
            return out

        assert _wait(lambda: all(len(events(n)) == (2 if n == "d" else 1) for n in texts))
        assert len(encoded) == 2
        for name in texts:
            for event in events(name):
                assert event["price"] is None and event["size"] == 5
        assert [e["symbol"] for e in events("d")] == ["AAPL", "MSFT"]
    finally:
        relay.close()


class _SlowUpstream:
    """A stand-in upstream whose connect() takes a while (a provider that is slow to answer)."""

    def __init__(self, delay):
        self.delay, self.subs = delay, {}

    def connect(self):
        time.sleep(self.delay)

    def listen(self):
        time.sleep(0.05)
        while self.delay is not None:
            time.sleep(0.05)

    def disconnect(self):
        self.delay = None

    def subscribe(self, symbols, channels, callback, subscription_id):
        self.subs[subscription_id] = {s: list(channels) for s in symbols}

    def unsubscribe(self, symbols, channels=None, subscription_id=None):
        self.subs.pop(subscription_id, None)

    def get_status(self):
        return {"connected": self.delay is not None, "subscription_ids": dict(self.subs)}


def test_status_does_not_wait_for_an_upstream_handshake():
    relay = StreamRelay(client_factory=lambda: _SlowUpstream(1.5))
    client = relay.attach("a", lambda texts: None)
    worker = threading.Thread(target=relay.subscribe, args=(client, ["AAPL"], ["T"]))
    worker.start()
    try:
        time.sleep(0.2)
        started = time.monotonic()
        relay.status()
        other = relay.attach("b", lambda texts: None)
        assert time.monotonic() - started < 0.5, "status/attach waited for the handshake"
        relay.detach(other)
    finally:
        worker.join(10)
        relay.close()


def test_subscribe_after_close_opens_no_upstream():
    made = []
    relay = StreamRelay(client_factory=lambda: made.append(_SlowUpstream(0)) or made[-1])
    client = relay.attach("a", lambda texts: None)
    relay.close()
    from polygon.exceptions import PolygonError

    with pytest.raises(PolygonError, match="shutting down"):
        relay.subscribe(client, ["AAPL"], ["T"])
    assert made == []


def test_last_client_leaving_while_another_subscribes_leaves_a_working_upstream():
    relay = StreamRelay(client_factory=lambda: _SlowUpstream(0))
    a = relay.attach("a", lambda texts: None)
    relay.subscribe(a, ["AAPL"], ["T"])
    first = relay._upstream
    b = relay.attach("b", lambda texts: None)
    relay.detach(a)  # b is still here: the upstream stays
    assert relay._upstream is first
    relay.detach(b)  # the last one: the upstream goes, decided under the same lock
    assert relay._upstream is None and first.delay is None
    c = relay.attach("c", lambda texts: None)
    relay.subscribe(c, ["MSFT"], ["T"])
    assert relay._upstream is not first and relay._upstream.subs == {"relay:c": {"MSFT": ["T"]}}
    relay.close()


def test_stop_returns_quickly_with_clients_that_stopped_reading(make_sandbox, tmp_path):
    sb = make_sandbox(stream_rate=20000, max_connections=5)
    srv = PolygonServer(port=0, config=sb.config(cache_dir=str(tmp_path / "c"))).start()
    stalled = []
    try:
        for i in range(3):
            ws = websocket.create_connection(srv.ws_url + "/ws/stall%d" % i, timeout=10)
            ws.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
            ws.recv()
            ws.send(json.dumps({"action": "subscribe", "symbols": ["*"], "channels": ["T", "Q"]}))
            stalled.append(ws)  # never read again
        assert _wait(lambda: _upstream(srv)["message_count"] > 5000, 20)
        time.sleep(1.0)  # let the senders block on full socket buffers
        started = time.monotonic()
        srv.stop()
        assert time.monotonic() - started < 10, "stop() must not wait on clients that stopped reading"
    finally:
        srv.stop()
        for ws in stalled:
            ws.sock.close()


def test_same_origin_pages_work_on_a_lan_bind_and_urls_are_valid(tmp_path):
    """The dashboard served as http://myhost.lan:8200/ posts to its own origin (no socket: the WSGI app)."""
    from werkzeug.test import Client

    from polygon.config import PolygonConfig
    from polygon.manager import PolygonDataManager
    from polygon.polygon_server.server import create_app

    config = PolygonConfig(api_key="k", base_url="http://127.0.0.1:9", cache_dir=str(tmp_path / "c"))
    app = create_app(manager=PolygonDataManager(config=config, progress=False), relay=StreamRelay(),
                     bind_host="0.0.0.0")
    client = Client(app)
    headers = {"Host": "myhost.lan:8200", "Origin": "http://myhost.lan:8200"}
    response = client.post("/api/v1/bars", json={"symbol": "../x", "timeframe": "1day"}, headers=headers)
    assert response.status_code == 400 and response.json["error"]["code"] == "invalid_symbol"  # got past Origin
    foreign = client.post("/api/v1/bars", json=BODY, headers={"Host": "myhost.lan:8200", "Origin": "http://x.example"})
    assert foreign.status_code == 403
    assert PolygonServer(host="::1", port=8200).url == "http://[::1]:8200"
    assert PolygonServer(host="0.0.0.0", port=8200).ws_url == "ws://127.0.0.1:8200"


def test_a_subscribed_client_that_stops_reading_is_dropped(make_sandbox, tmp_path, monkeypatch):
    from polygon.polygon_server import stream_endpoint

    monkeypatch.setattr(stream_endpoint, "_SEND_TIMEOUT", 1.0)
    sb = make_sandbox(stream_rate=20000, max_connections=5)
    with PolygonServer(port=0, config=sb.config(cache_dir=str(tmp_path / "c"))) as srv:
        ws = websocket.create_connection(srv.ws_url + "/ws/busy", timeout=10)
        try:
            ws.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
            ws.recv()
            ws.send(json.dumps({"action": "subscribe", "symbols": ["*"], "channels": ["T", "Q"]}))
            assert _wait(lambda: "busy" in srv.app.relay.status()["clients"], 5)
            assert _wait(lambda: "busy" not in srv.app.relay.status()["clients"], 20), "never dropped"
            assert _wait(lambda: not _upstream(srv)["connected"], 10), "its upstream subscription is released"
        finally:
            ws.sock.close()


def test_clients_share_one_handshake():
    from polygon.exceptions import StreamConnectionError

    attempts = []

    class _Refusing(_SlowUpstream):
        def connect(self):
            attempts.append(1)
            time.sleep(1.0)
            raise StreamConnectionError("provider did not answer")

    relay = StreamRelay(client_factory=lambda: _Refusing(0))
    clients = [relay.attach("h%d" % i, lambda texts: None) for i in range(3)]
    errors = []

    def subscribe(client):
        try:
            relay.subscribe(client, ["AAPL"], ["T"])
        except StreamConnectionError as exc:
            errors.append(exc)

    started = time.monotonic()
    threads = [threading.Thread(target=subscribe, args=(c,)) for c in clients]
    for t in threads:
        t.start()
    for t in threads:
        t.join(20)
    assert len(errors) == 3 and len(attempts) == 1
    assert time.monotonic() - started < 2.5, "three clients must not queue three handshakes"
    relay.close()
