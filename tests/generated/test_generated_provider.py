"""The generated code against the provider's own API description.

Reads schema/provider/{rest,websocket}.json (the pinned structural snapshot of the provider's documents):
* every endpoint's path, method, parameter names, locations, types and enums match rest.json;
* every response model has exactly the wire fields the provider describes where the model is used;
* every response model parses the provider's example payloads for its endpoint without losing a key,
  and the examples validate against our schema/rest response schema;
* every stream event class and normalizer handles the provider's socket examples.
"""

import json
import os
import sys

import jsonschema
import pytest

from polygon._generated import stream
from polygon._generated.endpoints import ENDPOINTS, build_request, parse_response

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
REFERENCE = os.path.join(ROOT, "schema", "provider")
REST = os.path.join(REFERENCE, "rest.json")
SOCKET = os.path.join(REFERENCE, "websocket.json")
SCHEMA = os.path.join(ROOT, "schema")
with open(REST, encoding="utf-8") as _fh:
    _DOCUMENTED_PATHS = set(json.load(_fh)["paths"])
#: endpoints whose path the imported document describes; the newer surface (futures, fundamentals,
#: partner data... issue 24) is written from its x-source and checked by its own conformance tests
IN_DOCUMENT = sorted(n for n, s in ENDPOINTS.items() if s.path in _DOCUMENTED_PATHS)


def test_endpoints_outside_the_document_name_their_sources():
    for name in sorted(set(ENDPOINTS) - set(IN_DOCUMENT)):
        with open(os.path.join(SCHEMA, "rest", name + ".json"), encoding="utf-8") as fh:
            assert json.load(fh).get("x-source"), "%s is in neither the provider document nor sourced" % name
    assert len(IN_DOCUMENT) == 58


@pytest.fixture(scope="module")
def rest():
    with open(REST, encoding="utf-8") as fh:
        return json.load(fh)


def _resolve(doc, node):
    if isinstance(node, list):
        return [_resolve(doc, item) for item in node]
    if not isinstance(node, dict):
        return node
    if "$ref" in node:
        target = doc
        for part in node["$ref"][2:].split("/"):
            target = target[part]
        return _resolve(doc, target)
    return {key: _resolve(doc, value) for key, value in node.items()}


def _flat(schema):
    parts = schema.get("allOf") or schema.get("oneOf") or schema.get("anyOf")
    if not parts:
        return schema
    out = {"properties": dict(schema.get("properties", {}))}
    for part in parts:
        out["properties"].update(_flat(part).get("properties", {}))
    return out


def _operation(rest, name):
    spec = ENDPOINTS[name]
    item = rest["paths"][spec.path]
    return _resolve(rest, item[spec.method.lower()])


def _examples(operation):
    content = operation["responses"]["200"]["content"]["application/json"]
    found = [content["example"]] if "example" in content else []
    found += [ex["value"] for ex in content.get("examples", {}).values() if "value" in ex]
    return found


def _ours(name):
    if ROOT not in sys.path:  # codegen/ is a dev tool at the repository root, not an installed package
        sys.path.insert(0, ROOT)
    from codegen.loader import _Documents

    docs = _Documents(SCHEMA)
    path = os.path.join(SCHEMA, "rest", name + ".json")
    return docs, path, docs.load(path)


@pytest.mark.parametrize("name", IN_DOCUMENT)
def test_parameters_match_provider(rest, name):
    operation = _operation(rest, name)
    provider = {p["name"]: p for p in operation.get("parameters", [])}
    ours = {p.wire_name: p for p in ENDPOINTS[name].params}
    assert set(ours) == set(provider)
    for wire, param in ours.items():
        theirs = provider[wire]
        assert param.location == theirs["in"], wire
        schema = theirs.get("schema", {})
        if "type" in schema:
            assert param.type == schema["type"], wire
        if "enum" in schema:
            assert param.enum == tuple(schema["enum"]), wire
        for bound in ("minimum", "maximum", "default"):
            if bound in schema:
                assert getattr(param, bound) == schema[bound], (wire, bound)
        assert param.required == bool(theirs.get("required")) or param.location == "path"


@pytest.mark.parametrize("name", IN_DOCUMENT)
def test_provider_parameter_examples_build_requests(rest, name):
    """The provider's own example values pass our validation and fill the path template."""
    operation = _operation(rest, name)
    by_wire = {p.wire_name: p.name for p in ENDPOINTS[name].params}
    params = {by_wire[p["name"]]: p["example"] for p in operation.get("parameters", []) if "example" in p}
    required = [p for p in ENDPOINTS[name].params if p.required]
    missing = [spec.wire_name for spec in required if spec.name not in params]
    if missing:  # the SEC filing paths give none for {filing_id}
        pytest.skip("rest.json gives no example for required %s.%s" % (name, ", ".join(missing)))
    request = build_request(name, **params)
    assert "{" not in request.path
    for wire, value in request.query.items():
        assert value == (str(params[by_wire[wire]]).lower() if isinstance(params[by_wire[wire]], bool)
                         else str(params[by_wire[wire]]))


def test_model_fields_match_provider_fields(rest):
    """Each model's wire keys are exactly the union of the provider's properties where the model is used."""
    union, models = {}, {}

    def walk(ours, ours_path, docs, theirs, where):
        ours, ours_path = docs.flatten(ours, ours_path)
        theirs = _flat(theirs)
        if ours.get("type") == "array" or "items" in ours:
            walk(ours.get("items", {}), ours_path, docs, theirs.get("items", {}), where + "[]")
            return
        if not ours.get("x-model"):
            return
        props = theirs.get("properties", {})
        missing = set(props) - set(ours.get("properties", {}))
        assert not missing, "%s: provider fields %s not modeled" % (where, sorted(missing))
        # fields the importer added from the provider's examples (x-from-example) and those its recorded
        # bodies send (x-from-evidence, schema/rest corrections) are not in its schema
        seen = {w for w, sub in ours.get("properties", {}).items()
                if sub.get("x-from-example") or sub.get("x-from-evidence")}
        union.setdefault(ours["x-model"], set()).update(set(props) | seen)
        for wire, sub in ours.get("properties", {}).items():
            if wire in props:
                walk(sub, ours_path, docs, props[wire], "%s.%s" % (where, wire))

    for name, spec in ((n, ENDPOINTS[n]) for n in IN_DOCUMENT):
        docs, path, doc = _ours(name)
        theirs = _operation(rest, name)["responses"]["200"]["content"]["application/json"]["schema"]
        walk(doc["$defs"]["response"], path, docs, theirs, name)
        models[spec.response_model.__name__] = spec.response_model

    from polygon._generated import models as generated_models

    for model_name, wires in union.items():
        cls = getattr(generated_models, model_name)
        assert set(cls.WIRE_TO_PYTHON) == wires, model_name


@pytest.mark.parametrize("name", IN_DOCUMENT)
def test_models_parse_provider_examples(rest, name):
    examples = _examples(_operation(rest, name))
    if not examples:
        pytest.skip("rest.json has no JSON example for %s" % name)
    docs, path, doc = _ours(name)
    schema = docs.inline(doc["$defs"]["response"], path)
    validator = jsonschema.Draft202012Validator(schema)
    for example in examples:
        errors = sorted(validator.iter_errors(example), key=str)
        assert not errors, "%s example fails our schema: %s" % (name, errors[0].message)
        parsed = parse_response(name, example)
        if ENDPOINTS[name].response_is_list:
            assert [item.to_wire() for item in parsed] == example
        else:
            assert parsed.to_wire() == example  # every example key is a model field
            assert type(parsed).from_wire(parsed.to_wire()) == parsed


def test_stream_events_parse_provider_examples():
    with open(SOCKET, encoding="utf-8") as fh:
        doc = json.load(fh)
    assert len(doc["paths"]) == 33
    for path, item in doc["paths"].items():  # /stocks/T, /business/crypto/FMV, /launchpad/forex/AM ...
        market, channel = path.split("/")[-2:]
        market = {"fx": "forex"}.get(market, market)
        operation = _resolve(doc, item["get"])
        content = operation["responses"]["200"]["content"]["application/json"]
        example = content["example"]
        schema = _flat(content["schema"])
        cls = stream.MARKET_EVENT_CLASSES[market][channel]
        event = stream.parse_event(example, market)
        assert isinstance(event, stream.MARKET_EVENT_CLASSES[market][example["ev"]])  # /options/A's example is AM
        # beyond the document: the fractional sizes the official client reads (ds, dv, dav; x-evidence)
        known = set(cls.WIRE_TO_PYTHON) - {"ds", "dv", "dav"}
        if path.startswith("/launchpad/stocks/") or path.startswith("/launchpad/options/"):
            assert set(schema["properties"]) <= known, path  # the regular AM, without otc
        else:
            assert set(schema["properties"]) == known, path
        assert event.to_wire() == example
        normalized = stream.MARKET_NORMALIZERS[market][example["ev"]](example)
        field = stream.SYMBOL_FIELDS[market][example["ev"]]
        assert normalized["symbol"] == example[field] and normalized["channel"] == example["ev"], path
    for status in doc["components"]["schemas"].values():
        text = status.get("allOf", [{}])[-1].get("example") if isinstance(status, dict) else None
        if isinstance(text, str) and '"ev":"status"' in text:
            message = stream.parse_event(json.loads(text))
            assert isinstance(message, stream.StatusMessage) and message.status and message.message
