"""The five stream paths of the REST app: /stocks for any stream handler; /options, /forex, /crypto and /indices
for a handler that takes the market (the old two-argument call shape keeps working)."""

import pytest
import requests
import websocket
from simple_websocket import Server

from polygon.polygon_server.serving import LocalServer
from polygon.sandbox.rest import STREAM_MARKETS, create_app
from polygon.sandbox.state import SandboxState


def _serve(handler):
    server = LocalServer("127.0.0.1", 0, create_app(SandboxState("k", {}), handler), name="test-stream-paths")
    server.start()
    return server


def _hello(server, path):
    ws = websocket.create_connection("ws://127.0.0.1:%d%s" % (server.server_port, path), timeout=10)
    try:
        return ws.recv()
    finally:
        ws.close()


def _answer(environ, text):
    ws = Server.accept(environ)
    ws.send(text)
    ws.close()


@pytest.fixture
def market_server():
    seen = []

    def handler(state, environ, market="stocks"):
        seen.append(market)
        _answer(environ, market)

    server = _serve(handler)
    yield server, seen
    server.close()


def test_each_market_path_reaches_the_handler_with_its_market(market_server):
    server, seen = market_server
    for path, market in sorted(STREAM_MARKETS.items()):
        assert _hello(server, path) == market
    assert sorted(seen) == sorted(STREAM_MARKETS.values())
    resp = requests.get("http://127.0.0.1:%d/crypto" % server.server_port, timeout=10)
    assert resp.status_code == 400 and resp.json()["status"] == "ERROR"


def test_two_argument_handler_serves_stocks_only():
    calls = []

    def handler(state, environ):
        calls.append(1)
        _answer(environ, "old")

    server = _serve(handler)
    try:
        assert _hello(server, "/stocks") == "old" and calls == [1]
        resp = requests.get("http://127.0.0.1:%d/crypto" % server.server_port, timeout=10)
        assert resp.status_code == 404 and calls == [1]
    finally:
        server.close()
