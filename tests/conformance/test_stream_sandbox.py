"""The sandbox's sockets emit what schema/stream describes: every event of every channel of the five markets
validates against its schema file and parses into its event class with no key the schema does not know."""

import json
import time

import pytest
import websocket

from polygon._generated import stream
from polygon.sandbox import Sandbox

from .test_stream_recorded import SCHEMAS


@pytest.fixture(scope="module")
def replaying():
    """A private sandbox replaying a past session 60x faster (a minute every second)."""
    with Sandbox(port=0, clock="2024-03-14", speed=60, max_connections=10) as sandbox:
        yield sandbox


@pytest.mark.parametrize("market", sorted(stream.MARKET_NORMALIZERS))
def test_sandbox_events_match_schema_stream(replaying, market):
    channels = list(stream.MARKET_NORMALIZERS[market])
    ws = websocket.create_connection("%s/%s" % (replaying.ws_url, market), timeout=10, skip_utf8_validation=True)
    seen = {}
    try:
        assert json.loads(ws.recv())[0]["status"] == "connected"
        ws.send(json.dumps({"action": "auth", "params": replaying.api_key}))
        assert json.loads(ws.recv())[0]["status"] == "auth_success"
        ws.send(json.dumps({"action": "subscribe", "params": ",".join("%s.*" % c for c in channels)}))
        deadline = time.monotonic() + 25
        while time.monotonic() < deadline and set(seen) != set(channels):
            for event in json.loads(ws.recv()):
                if event.get("ev") != "status":
                    seen.setdefault(event["ev"], []).append(event)
    finally:
        ws.close()
    assert set(seen) == set(channels), "channels without events: %s" % sorted(set(channels) - set(seen))
    for ev, events in seen.items():
        validator = SCHEMAS[(market, ev)]
        for event in events[:200]:
            errors = [e.message for e in validator.iter_errors(event)]
            assert not errors, (market, ev, errors, event)
            parsed = stream.parse_event(event, market)
            assert parsed is not None and not parsed.extra_fields, (market, ev, parsed.extra_fields)
