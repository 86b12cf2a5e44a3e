"""Issue 21 item 9: an unreachable server's error says why, whole, and never shows the key."""

import socket

import pytest

from polygon.core import PolygonClient
from polygon.exceptions import PolygonConnectionError

KEY = "key-that-must-not-show-0123456789"


def _closed_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_connection_refused_is_reported_whole_without_the_key():
    client = PolygonClient(api_key=KEY, base_url="http://127.0.0.1:%d" % _closed_port(), sleep=lambda s: None)
    client.config = client.config.replace(max_retries=1)
    with client, pytest.raises(PolygonConnectionError) as info:
        client.get_bars_columns("AAPL", "1day", "2024-01-02", "2024-01-05")
    text = str(info.value)
    assert "Connection refused" in text and "Errno" in text
    assert text.split("|")[0].rstrip().endswith("Connection refused")  # nothing cut off after the reason
    assert "/v2/aggs/ticker/AAPL/range/1/day/" in text  # the endpoint is named
    assert KEY not in text and KEY not in repr(info.value)
    assert "HTTPConnectionPool" not in text and "object at 0x" not in text
