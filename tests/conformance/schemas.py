"""Response JSON Schemas of schema/rest (this repository's copy, never ../shared) and the model round trip."""

import json
from pathlib import Path
from typing import Any, Dict, List

import jsonschema
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012

SCHEMA_DIR = Path(__file__).resolve().parents[2] / "schema"


def with_overrides(node: Any) -> Any:
    """``node`` with every ``x-override`` merged over its node, as codegen reads the schemas."""
    if isinstance(node, list):
        return [with_overrides(item) for item in node]
    if not isinstance(node, dict):
        return node
    out = {k: with_overrides(v) for k, v in node.items() if k != "x-override"}
    if "x-override" in node:
        out.update(with_overrides(node["x-override"]))
    return out


def _load(path: Path) -> Dict[str, Any]:
    return with_overrides(json.loads(path.read_text()))


def _retrieve(uri: str) -> Resource:
    path = Path(uri[len("file://"):]) if uri.startswith("file://") else SCHEMA_DIR / uri
    return Resource.from_contents(_load(path), default_specification=DRAFT202012)


REGISTRY = Registry(retrieve=_retrieve)


def rest_schema_file(name: str) -> Path:
    """schema/rest/<name>.json (the file name is the endpoint's python method name)."""
    return SCHEMA_DIR / "rest" / ("%s.json" % name)


def response_validator(name: str) -> jsonschema.protocols.Validator:
    """A draft 2020-12 validator of endpoint ``name``'s response body (``$ref`` s to common/ resolved)."""
    path = rest_schema_file(name)
    document = _load(path)
    document["$id"] = path.as_uri()
    if "$ref" not in document:  # the README's layout: the root refers to $defs.response
        document["$ref"] = "#/$defs/response"
    return jsonschema.Draft202012Validator(document, registry=REGISTRY)


def schema_errors(name: str, body: Any) -> List[str]:
    """Every schema violation of ``body`` as ``path: message`` (empty when valid): the generated
    ``RESPONSE_SCHEMAS`` (schema/rest with ``$ref`` s inlined), else the schema/rest file itself."""
    try:
        from polygon._generated.response_schemas import RESPONSE_SCHEMAS
    except ImportError:  # a table generated before the schemas were emitted
        RESPONSE_SCHEMAS = {}
    if name in RESPONSE_SCHEMAS:
        validator = jsonschema.Draft202012Validator(RESPONSE_SCHEMAS[name])
    else:
        validator = response_validator(name)
    return ["%s: %s" % ("/".join(str(p) for p in err.absolute_path) or "<root>", err.message)
            for err in validator.iter_errors(body)]


def _strip_none(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _strip_none(v) for k, v in value.items() if v is not None}
    if isinstance(value, list):
        return [_strip_none(v) for v in value]
    return value


def _wire(model: Any) -> Any:
    if isinstance(model, list):
        return [_wire(item) for item in model]
    return model.to_wire() if hasattr(model, "to_wire") else model


def model_differences(body: Any, model: Any) -> List[str]:
    """Keys of ``body`` the generated ``model`` dropped (unknown fields) or changed, as dotted paths."""
    out: List[str] = []
    _diff(_strip_none(body), _strip_none(_wire(model)), "", out)
    return out


def _diff(wire: Any, parsed: Any, where: str, out: List[str]) -> None:
    if isinstance(wire, dict) and isinstance(parsed, dict):
        for key in wire:
            here = "%s.%s" % (where, key) if where else key
            if key not in parsed:
                out.append("unknown field %s" % here)
            else:
                _diff(wire[key], parsed[key], here, out)
    elif isinstance(wire, list) and isinstance(parsed, list):
        if len(wire) != len(parsed):
            out.append("%s: %d items became %d" % (where, len(wire), len(parsed)))
        for i, (a, b) in enumerate(zip(wire, parsed)):
            _diff(a, b, "%s[%d]" % (where, i), out)
            if len(out) > 20:
                return
    elif wire != parsed and not (isinstance(wire, (int, float)) and isinstance(parsed, (int, float))
                                 and float(wire) == float(parsed)):
        out.append("%s: %r parsed as %r" % (where, wire, parsed))


def error_shape_problems(body: Dict[str, Any]) -> List[str]:
    """The provider's error body: ``status``, ``request_id`` and an ``error`` or ``message`` text."""
    problems = []
    if not isinstance(body.get("status"), str):
        problems.append("no status")
    if not (isinstance(body.get("request_id"), str) and len(body["request_id"]) == 32):
        problems.append("no 32-hex request_id")
    text = body.get("error", body.get("message"))
    if not (isinstance(text, str) and text):
        problems.append("no error/message text")
    return problems
