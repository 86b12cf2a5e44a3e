"""polygon._generated.server_messages: our server's messages and the JSON Schemas runtime code validates with."""

import jsonschema
import pytest

from polygon._generated import server_messages as sm


def _valid(key, message):
    return not list(jsonschema.Draft202012Validator(sm.SCHEMAS[key]).iter_errors(message))


def test_schema_table_is_valid_json_schema():
    assert set(sm.SCHEMAS) == {
        "bars_request", "ws_subscribe", "ws_unsubscribe", "ws_ping", "ws_subscribed", "ws_unsubscribed",
        "ws_pong", "ws_error", "ws_data", "ws_status", "ws_batch", "bars_response",
    }
    for key, schema in sm.SCHEMAS.items():
        jsonschema.Draft202012Validator.check_schema(schema)
        assert "$ref" not in repr(schema), key  # inlined: validates without a registry


@pytest.mark.parametrize(
    "message, ok",
    [
        ({"symbol": "AAPL", "timeframe": "1day", "start_date": "2023-01-01", "end_date": "2023-12-31"}, True),
        ({"symbol": "AAPL", "timeframe": "5min"}, True),
        ({"symbol": "AAPL"}, False),
        ({"timeframe": "1day"}, False),
        ({"symbol": "AAPL", "timeframe": "1day", "start_date": "01/02/2023"}, False),
        ({"symbol": "AAPL", "timeframe": "1day", "extra": 1}, False),
        ({"symbol": 5, "timeframe": "1day"}, False),
    ],
)
def test_bars_request_schema(message, ok):
    assert _valid("bars_request", message) is ok


@pytest.mark.parametrize(
    "key, message, ok",
    [
        ("ws_subscribe", {"action": "subscribe", "symbols": ["AAPL"], "channels": ["T", "Q"]}, True),
        ("ws_subscribe", {"action": "subscribe", "symbols": ["AAPL"]}, False),  # channels required here
        ("ws_unsubscribe", {"action": "unsubscribe", "symbols": ["AAPL"], "channels": ["Q"]}, True),
        ("ws_subscribe", {"action": "subscribe", "symbols": []}, False),
        ("ws_subscribe", {"action": "subscribe", "symbols": ["AAPL"], "channels": ["X"]}, False),
        ("ws_unsubscribe", {"action": "unsubscribe", "symbols": ["AAPL"]}, True),
        ("ws_ping", {"action": "ping"}, True),
        ("ws_ping", {"action": "pong"}, False),
        ("ws_pong", {"type": "pong", "timestamp": 1}, True),
        ("ws_error", {"type": "error", "message": "unknown action"}, True),
        ("ws_error", {"type": "error"}, False),
        ("ws_data", {"type": "data", "channel": "T", "symbol": "AAPL",
                     "data": {"event_type": "trade", "symbol": "AAPL", "price": 1.0}}, True),
        ("ws_data", {"type": "data", "data": {"price": 1.0}}, False),
        ("ws_status", {"type": "status", "status": "connected", "client_id": "client123"}, True),
        ("ws_status", {"type": "status", "status": "connected", "client_id": "c", "batch": True}, True),
        ("ws_batch", {"type": "batch", "events": [{"event_type": "trade", "symbol": "AAPL", "price": 1.0}]}, True),
        ("ws_batch", {"type": "batch", "events": []}, False),
        ("ws_subscribed", {"type": "subscribed", "symbols": ["AAPL"], "channels": ["T"]}, True),
    ],
)
def test_ws_message_schemas(key, message, ok):
    assert _valid(key, message) is ok


def test_dataclasses_and_parse_message():
    request = sm.BarsRequest.from_wire({"symbol": "AAPL", "timeframe": "1day", "start_date": "2023-01-01"})
    assert request == sm.BarsRequest(symbol="AAPL", timeframe="1day", start_date="2023-01-01")
    assert request.end_date is None
    sub = sm.parse_message({"action": "subscribe", "symbols": ["AAPL"], "channels": ["T"]})
    assert sub == sm.SubscribeMessage(symbols=["AAPL"], channels=["T"])
    assert sm.SubscribeMessage(symbols=["A"]).to_wire() == {"action": "subscribe", "symbols": ["A"]}
    assert sm.parse_message({"action": "ping"}) == sm.PingMessage()
    assert sm.parse_message({"action": "dance"}) is None
    assert sm.parse_message({"type": "pong", "timestamp": 5}) == sm.PongReply(timestamp=5)
    assert sm.parse_message({}) is None
    reply = sm.DataMessage(channel="T", symbol="AAPL", data={"event_type": "trade", "symbol": "AAPL"})
    assert _valid("ws_data", reply.to_wire())
    assert _valid("ws_status", sm.StatusReply(status="connected", client_id="c1").to_wire())
    assert set(sm.ACTION_MESSAGES) == {"subscribe", "unsubscribe", "ping"}
    assert set(sm.TYPE_MESSAGES) == {"subscribed", "unsubscribed", "pong", "error", "data", "status", "batch"}
    batch = sm.parse_message({"type": "batch", "events": [{"event_type": "trade", "symbol": "AAPL"}]})
    assert batch == sm.BatchMessage(events=[{"event_type": "trade", "symbol": "AAPL"}])
    assert sm.MESSAGE_SCHEMA_KEYS["BarsRequest"] == "bars_request"
    for cls, key in sm.MESSAGE_SCHEMA_KEYS.items():
        assert key in sm.SCHEMAS, cls
