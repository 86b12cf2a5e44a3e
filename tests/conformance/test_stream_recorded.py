"""Every recorded stream event of the provider (its documents' socket examples and the official client's mock
socket frames, tests/recorded/stream) against schema/stream and through our client and our relay:

* the event validates against its schema/stream file and parses into its event class without an unknown key;
* the callback dict (generated ``NORMALIZERS`` from ``x-normalized``) carries every wire field under its
  documented name, with the wire value;
* replayed by a provider-like socket on 127.0.0.1, each event reaches a :class:`PolygonWebSocketClient`
  callback as exactly that dict, and a local client of our server's relay (``/ws/{id}``) as exactly that dict.
"""

import json
import threading
from collections import Counter

import jsonschema
import pytest
import websocket

from polygon._generated import stream
from polygon.config import get_config
from polygon.polygon_server import PolygonServer
from polygon.websocket import PolygonWebSocketClient
from polygon.websocket.subscriptions import canonical_symbol

from .recorded import load, stream_frames
from .replay import ReplaySocket
from .schemas import REGISTRY, SCHEMA_DIR, with_overrides

FRAMES = stream_frames()
MARKETS = sorted({market for _, market in FRAMES})


def _schemas():
    """``{(market, ev): validator}`` of schema/stream."""
    out = {}
    for path in sorted((SCHEMA_DIR / "stream").glob("*.json")):
        doc = with_overrides(json.loads(path.read_text()))
        ev = doc.get("properties", {}).get("ev", {}).get("const")
        if ev and doc.get("x-channel"):
            doc["$id"] = path.as_uri()
            out[(doc.get("x-market", "stocks"), ev)] = jsonschema.Draft202012Validator(doc, registry=REGISTRY)
    return out


SCHEMAS = _schemas()


def _events(market):
    return [event for rel, m in FRAMES if m == market for event in load(rel)]


def expected(market, event, delivered=False):
    """The callback dict of ``event``, as the generated normalizer builds it; ``delivered``: as a callback
    gets it (the client spells crypto / forex pairs in their REST form: ``BTC-USD`` -> ``X:BTCUSD``)."""
    data = stream.MARKET_NORMALIZERS[market][event["ev"]](event)
    if delivered and data.get("symbol") is not None:
        data["symbol"] = canonical_symbol(data["symbol"], market)
    return data


def loss(market, event, delivered):
    """Wire fields of ``event`` missing from (or changed in) the ``delivered`` callback dict."""
    norm = {}
    for schema_path in (SCHEMA_DIR / "stream").glob("*.json"):
        doc = json.loads(schema_path.read_text())
        if doc.get("x-market", "stocks") == market and doc.get("properties", {}).get("ev", {}).get("const") == \
                event["ev"] and doc.get("x-channel"):
            norm = {item["wire"]: item["key"] for item in doc["x-normalized"] if "wire" in item}
    out = []
    for wire, value in event.items():
        if wire == "ev":
            continue
        if wire not in norm:
            out.append("%s: no callback key" % wire)
        elif delivered.get(norm[wire], object()) != value:
            out.append("%s -> %s: %r became %r" % (wire, norm[wire], value, delivered.get(norm[wire])))
    if delivered.get("channel") != event["ev"]:
        out.append("channel %r for ev %r" % (delivered.get("channel"), event["ev"]))
    return out


@pytest.mark.parametrize("rel,market", FRAMES, ids=[rel[len("stream/"):-len(".json")] for rel, _ in FRAMES])
def test_recorded_event_fits_schema_model_and_callback_dict(rel, market):
    for event in load(rel):
        validator = SCHEMAS[(market, event["ev"])]
        errors = ["%s: %s" % ("/".join(map(str, e.absolute_path)), e.message) for e in validator.iter_errors(event)]
        assert not errors, errors
        parsed = stream.parse_event(event, market)
        assert parsed is not None and not parsed.extra_fields, parsed
        assert parsed.to_wire() == event
        assert not loss(market, event, expected(market, event))


def test_every_schema_field_has_a_callback_key():
    """schema/stream names every field of every event in ``x-normalized`` (the one place naming them)."""
    missing = []
    for path in sorted((SCHEMA_DIR / "stream").glob("*.json")):
        doc = json.loads(path.read_text())
        if not doc.get("x-channel"):
            continue
        fields = set(doc.get("properties", {}))
        for part in doc.get("allOf", []):
            target, _, pointer = part["$ref"].partition("#")
            node = json.loads((path.parent / target).read_text())
            for key in pointer.strip("/").split("/"):
                node = node[key]
            fields |= set(node.get("properties", {}))
        named = {item.get("wire") for item in doc["x-normalized"]}
        missing += ["%s: %s" % (path.name, wire) for wire in sorted(fields - named - {"ev"})]
        keys = [item["key"] for item in doc["x-normalized"]]
        assert len(keys) == len(set(keys)), path.name
    assert not missing, missing


def _frames_by_market():
    out = {}
    for rel, market in FRAMES:
        out.setdefault(market, []).append(load(rel))
    return out


@pytest.fixture(scope="module")
def replay():
    with ReplaySocket(_frames_by_market()) as socket:
        yield socket


class Collector:
    """A callback recording the dicts it gets; ``wait`` returns once ``n`` arrived (or the timeout passed)."""

    def __init__(self, n):
        self.n, self.events, self.lock, self.done = n, [], threading.Lock(), threading.Event()

    def __call__(self, data):
        with self.lock:
            self.events.append(data)
            if len(self.events) >= self.n:
                self.done.set()

    def wait(self, timeout):
        return self.done.wait(timeout)

    def count(self):
        with self.lock:
            return len(self.events)


def _canonical(dicts):
    return Counter(json.dumps(d, sort_keys=True) for d in dicts)


@pytest.mark.parametrize("market", MARKETS)
def test_recorded_frames_reach_our_client_callbacks_whole(replay, market):
    events = _events(market)
    channels = sorted({e["ev"] for e in events})
    got = Collector(n=len(events))
    client = PolygonWebSocketClient(get_config(api_key="k", ws_url=replay.url), market=market, read_timeout=20)
    try:
        client.subscribe("*", channels, got)
        client.connect()
        assert got.wait(20), "%d of %d events arrived" % (got.count(), len(events))
    finally:
        client.disconnect()
    assert _canonical(got.events) == _canonical(expected(market, e, delivered=True) for e in events)


@pytest.mark.parametrize("market", MARKETS)
def test_recorded_frames_cross_the_relay_whole(replay, market, tmp_path):
    events = _events(market)
    channels = sorted({e["ev"] for e in events})
    config = get_config(api_key="k", ws_url=replay.url, base_url="http://127.0.0.1:9", cache_dir=str(tmp_path))
    with PolygonServer(port=0, config=config) as server:
        ws = websocket.create_connection("%s/ws/truth-%s" % (server.ws_url, market), timeout=20)
        try:
            ws.send(json.dumps({"action": "subscribe", "market": market, "symbols": ["*"], "channels": channels}))
            data = []
            for _ in range(len(events) + 50):
                message = json.loads(ws.recv())
                if message["type"] == "data":
                    data.append(message["data"])
                elif message["type"] == "batch":
                    data += message["events"]
                elif message["type"] == "error":
                    raise AssertionError(message)
                if len(data) >= len(events):
                    break
        finally:
            ws.close()
    assert _canonical(data) == _canonical(expected(market, e, delivered=True) for e in events)
