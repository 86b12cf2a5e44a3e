"""Fixtures of the stream tests: private sandboxes with a steady firehose."""

import pytest


@pytest.fixture
def stream_sandbox(make_sandbox):
    """A private sandbox replaying a past session 30x faster: a market-paced stream of trades, quotes,
    second and minute bars for any subscribed symbol, whatever the hour the tests run."""
    return make_sandbox(clock="2024-03-14", speed=30, max_connections=5)


@pytest.fixture
def stream_env(stream_sandbox, monkeypatch, cache_dir):
    """Environment pointing every default at ``stream_sandbox`` (what the guide's ``get_config()`` reads)."""
    monkeypatch.setenv("POLYGON_API_KEY", stream_sandbox.api_key)
    monkeypatch.setenv("POLYGON_BASE_URL", stream_sandbox.base_url)
    monkeypatch.setenv("POLYGON_WS_URL", stream_sandbox.ws_url)
    return stream_sandbox


@pytest.fixture
def make_client():
    """Factory of stream clients that are always disconnected at teardown (even when a test fails)."""
    from polygon.websocket import PolygonWebSocketClient

    clients = []

    def factory(*args, **kwargs):
        client = PolygonWebSocketClient(*args, **kwargs)
        clients.append(client)
        return client

    yield factory
    for client in clients:
        client.disconnect()
