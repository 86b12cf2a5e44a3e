"""The local server's /ws relay, captured from one real session (sandbox upstream, websocket-client downstream):
every outgoing message validates against its schema/server schema (generated ``SCHEMAS``) and parses into its
generated message model without unknown fields."""

import json
import time

import jsonschema
import pytest
import websocket

from polygon._generated.server_messages import SCHEMAS, TYPE_MESSAGES
from polygon.polygon_server import PolygonServer
from polygon.sandbox import Sandbox

from .schemas import model_differences

EXPECTED = {"status", "subscribed", "data", "unsubscribed", "pong", "error"}


@pytest.fixture(scope="module")
def captured(tmp_path_factory):
    """Every message the relay sent in a short session: subscribe, data, unsubscribe, ping, a bad message."""
    cache = tmp_path_factory.mktemp("cache")
    with Sandbox(port=0, clock="2024-03-14", speed=30, max_connections=5) as sb, \
            PolygonServer(port=0, config=sb.config(cache_dir=str(cache))) as srv:
        ws = websocket.create_connection("%s/ws/conformance" % srv.ws_url, timeout=10)
        messages = []
        try:
            def until(kind, limit=3000, seconds=20.0):
                deadline = time.monotonic() + seconds
                for _ in range(limit):
                    if time.monotonic() > deadline:
                        break
                    message = json.loads(ws.recv())
                    messages.append(message)
                    if message.get("type") == kind:
                        return message
                raise AssertionError("no %r message; got %s" % (kind, sorted({m.get("type") for m in messages})))

            until("status")
            ws.send(json.dumps({"action": "subscribe", "symbols": ["AAPL", "MSFT"], "channels": ["T", "Q", "AM"]}))
            until("subscribed")
            until("data")
            ws.send(json.dumps({"action": "unsubscribe", "symbols": ["AAPL", "MSFT"]}))
            until("unsubscribed")
            ws.send(json.dumps({"action": "ping"}))
            until("pong")
            ws.send(json.dumps({"action": "dance"}))
            until("error")
        finally:
            ws.close()
    return messages


def test_session_covers_every_server_message_type(captured):
    assert {m.get("type") for m in captured} == EXPECTED


def test_every_outgoing_message_matches_schema_server(captured):
    validators = {name[3:]: jsonschema.Draft202012Validator(schema) for name, schema in SCHEMAS.items()
                  if name.startswith("ws_")}
    for message in captured:
        kind = message.get("type")
        assert kind in validators, message
        errors = [e.message for e in validators[kind].iter_errors(message)]
        assert not errors, (message, errors)


def test_every_outgoing_message_parses_into_its_model(captured):
    for message in captured:
        model = TYPE_MESSAGES[message["type"]].from_wire(message)
        assert not model_differences(message, model), message
