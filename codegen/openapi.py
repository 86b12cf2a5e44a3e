"""``python -m codegen import-openapi PATH ENDPOINT...``: OpenAPI 3 -> schema/rest/<name>.json.

This is how a user refreshes the client when the provider changes its API: point the importer at the
provider's OpenAPI document, name the endpoints, run ``python -m codegen``. It

* resolves local ``$ref`` pointers and flattens ``allOf``;
* keeps only what the generator needs (types, enums, required, defaults, bounds, one-line descriptions);
* names nested objects (``x-model``) and python fields (``x-python-name``) with simple rules;
* on refresh, keeps the hand-made annotations of the existing file: every ``x-*`` key (but
  ``x-endpoint``) found at the same JSON pointer, including ``x-override`` corrections; ``$ref`` nodes
  (shared definitions in schema/common stay shared); and local ``minimum``/``maximum``/``default`` of
  parameters the document leaves open (e.g. the aggregates ``limit`` maximum, stated only in prose).

ENDPOINT is a path template (``/v2/last/trade/{stocksTicker}``) or ``name=path``. Without a name, an
existing schema file with the same ``x-endpoint.path`` gives it; otherwise the ``operationId`` (snake case)
or the path does.
"""

import copy
import json
import logging
import os
import re

from codegen.names import camel_case, snake_case

logger = logging.getLogger(__name__)

SCHEMA_URI = "https://json-schema.org/draft/2020-12/schema"
ID_BASE = "https://polygon-kit.invalid/schema/"
_KEEP_KEYS = ("type", "format", "enum", "const", "default", "minimum", "maximum", "pattern")
_PARAM_LOCAL_KEYS = ("minimum", "maximum", "default")
# Short keys of the provider's OHLC bars; only applied to objects that look like a bar (o/h/l/c).
_BAR_NAMES = {
    "T": "ticker",
    "o": "open",
    "h": "high",
    "l": "low",
    "c": "close",
    "v": "volume",
    "vw": "vwap",
    "t": "timestamp",
    "n": "transactions",
    "av": "accumulated_volume",
}


class ImportError_(Exception):
    """The OpenAPI document does not have what was asked for."""


def short_description(text):
    """First sentence of an OpenAPI description, without markup, at most 160 characters."""
    text = re.sub(r"<[^>]+>", " ", text or "")
    text = re.sub(r"\[([^\]]*)\]\([^)]*\)", r"\1", text)
    text = " ".join(text.split())
    match = re.match(r"(.+?[.!?])(\s|$)", text)
    if match:
        text = match.group(1)
    return text if len(text) <= 160 else text[:157].rstrip() + "..."


class _Resolver:
    def __init__(self, doc):
        self.doc = doc

    def resolve(self, node, seen=()):
        if isinstance(node, list):
            return [self.resolve(item, seen) for item in node]
        if not isinstance(node, dict):
            return node
        if "$ref" in node:
            ref = node["$ref"]
            if not ref.startswith("#/"):
                raise ImportError_("only local $ref is supported: %s" % ref)
            if ref in seen:
                raise ImportError_("recursive $ref: %s" % ref)
            target = self.doc
            for part in ref[2:].split("/"):
                target = target[part.replace("~1", "/").replace("~0", "~")]
            return self.resolve(target, seen + (ref,))
        return {key: self.resolve(value, seen) for key, value in node.items()}


def _flatten(schema):
    """Merge ``allOf`` members into one object schema (properties and required united)."""
    if "allOf" not in schema:
        return schema
    merged = {k: v for k, v in schema.items() if k != "allOf"}
    props, required = {}, []
    for part in schema["allOf"]:
        part = _flatten(part)
        props.update(part.get("properties", {}))
        required.extend(r for r in part.get("required", []) if r not in required)
        for key in ("type", "description"):
            if key in part and key not in merged:
                merged[key] = part[key]
    merged["properties"] = props
    if required:
        merged["required"] = required
    return merged


def _infer_type(schema):
    if "type" in schema:
        return schema["type"]
    values = schema.get("enum") or ([schema["const"]] if "const" in schema else [])
    kinds = {type(v) for v in values}
    if kinds == {str}:
        return "string"
    if kinds == {bool}:
        return "boolean"
    if kinds and kinds <= {int}:
        return "integer"
    if "properties" in schema:
        return "object"
    return None


def _convert(schema, model_name):
    """OpenAPI schema (resolved) -> our JSON Schema, naming objects ``model_name`` and their children."""
    schema = _flatten(schema)
    out = {}
    kind = _infer_type(schema)
    if kind:
        out["type"] = kind
    if schema.get("description"):
        out["description"] = short_description(schema["description"])
    for key in _KEEP_KEYS:
        if key in schema and key != "type":
            out[key] = schema[key]
    if kind == "array" and isinstance(schema.get("items"), dict):
        out["items"] = _convert(schema["items"], model_name)
    props = schema.get("properties")
    if props:
        out["x-model"] = model_name
        bar_like = {"o", "h", "l", "c"} <= set(props)
        base = model_name[: -len("Response")] if model_name.endswith("Response") else model_name
        out["properties"] = {}
        for wire, sub in sorted(props.items()):
            child_name = base + ("Result" if wire == "results" else camel_case(wire))
            converted = _convert(sub, child_name)
            python = _BAR_NAMES.get(wire) if bar_like else None
            converted["x-python-name"] = python or snake_case(wire)
            out["properties"][wire] = converted
        if schema.get("required"):
            out["required"] = [r for r in schema["required"] if r in props]
    return out


def _convert_params(parameters):
    props, required = {}, []
    for param in parameters:
        wire = param["name"]
        sub = param.get("schema", {})
        entry = {}
        kind = _infer_type(sub)
        if kind:
            entry["type"] = kind
        for key in _KEEP_KEYS:
            if key in sub and key != "type":
                entry[key] = sub[key]
        if param.get("description"):
            entry["description"] = short_description(param["description"])
        entry["x-in"] = param["in"]
        entry["x-python-name"] = "ticker" if wire == "stocksTicker" else snake_case(wire)
        props[wire] = entry
        if param.get("required") or param["in"] == "path":
            required.append(wire)
    out = {"type": "object", "properties": props, "additionalProperties": False}
    if required:
        out["required"] = required
    return out


def endpoint_name(operation, path):
    """A python method name for an operation without an explicit one."""
    if operation.get("operationId"):
        return snake_case(operation["operationId"])
    words = [w for w in re.split(r"[/{}]+", path) if w and not re.match(r"v\d+$", w)]
    return "get_" + "_".join(snake_case(w) for w in words)


def response_model_name(name):
    for prefix in ("get_", "list_"):
        if name.startswith(prefix):
            name = name[len(prefix):]
            break
    return camel_case(name) + "Response"


def convert_operation(doc, name, path):
    """Build the schema/rest document for ``GET path`` of ``doc`` under method name ``name``."""
    item = doc.get("paths", {}).get(path)
    if not item:
        raise ImportError_("path not in the OpenAPI document: %s" % path)
    method = "get" if "get" in item else sorted(k for k in item if k in ("post", "put", "delete", "patch"))[0]
    resolver = _Resolver(doc)
    operation = resolver.resolve(item[method])
    params = resolver.resolve(item.get("parameters", [])) + operation.get("parameters", [])
    responses = operation.get("responses", {})
    ok = responses.get("200") or responses.get("201") or {}
    body = ok.get("content", {}).get("application/json", {}).get("schema", {"type": "object"})
    response = _convert(body, response_model_name(name))
    if response.get("type") == "array" and "items" in response and "x-model" in response["items"]:
        response["items"]["x-model"] = response_model_name(name)[: -len("Response")]
    summary = short_description(operation.get("summary") or operation.get("description") or name)
    paginated = "next_url" in response.get("properties", {})
    return {
        "$schema": SCHEMA_URI,
        "$id": ID_BASE + "rest/%s.json" % name,
        "title": name,
        "description": summary,
        "x-endpoint": {
            "name": name,
            "method": method.upper(),
            "path": path,
            "summary": summary,
            "paginated": paginated,
        },
        "$ref": "#/$defs/response",
        "$defs": {"parameters": _convert_params(params), "response": response},
    }


def _annotations(node, pointer="", out=None):
    """JSON pointer -> the ``x-*`` keys (and local parameter bounds) of a schema document."""
    out = {} if out is None else out
    if isinstance(node, dict):
        if pointer and "$ref" in node:
            out[pointer] = {"$ref": node["$ref"]}
            return out
        keep = {k: v for k, v in node.items() if k.startswith("x-") and k != "x-endpoint"}
        if "/$defs/parameters/properties/" in pointer:
            keep.update({k: node[k] for k in _PARAM_LOCAL_KEYS if k in node})
        if keep:
            out[pointer] = keep
        for key, value in node.items():
            if not key.startswith("x-"):
                _annotations(value, pointer + "/" + key, out)
    elif isinstance(node, list):
        for index, value in enumerate(node):
            _annotations(value, "%s/%d" % (pointer, index), out)
    return out


def merge_annotations(new, old):
    """Copy the hand-made annotations of ``old`` onto ``new`` (same JSON pointers); returns ``new``."""
    new = copy.deepcopy(new)
    for pointer, keys in _annotations(old).items():
        node, parent, last = new, None, None
        for part in pointer.split("/")[1:]:
            parent, last = node, part
            if isinstance(node, dict) and part in node:
                node = node[part]
            elif isinstance(node, list) and part.isdigit() and int(part) < len(node):
                node = node[int(part)]
            else:
                node = None
                break
        if not isinstance(node, dict):
            continue
        if "$ref" in keys:
            # a hand-made reference to a shared definition (schema/common) replaces the inline copy
            parent[int(last) if isinstance(parent, list) else last] = dict(keys)
            continue
        for key, value in keys.items():
            if key.startswith("x-") or key not in node:
                node[key] = value
    return new


def dump(document):
    """The one on-disk form of schema files: sorted keys, two-space indent, trailing newline."""
    return json.dumps(document, indent=2, sort_keys=True, ensure_ascii=False) + "\n"


def import_openapi(openapi_path, endpoints, schema_dir):
    """Create or refresh ``schema_dir/rest/<name>.json`` for each endpoint; returns the written paths."""
    with open(openapi_path, encoding="utf-8") as fh:
        doc = json.load(fh)
    rest_dir = os.path.join(schema_dir, "rest")
    os.makedirs(rest_dir, exist_ok=True)
    existing = {}
    for fname in sorted(os.listdir(rest_dir)):
        if fname.endswith(".json"):
            with open(os.path.join(rest_dir, fname), encoding="utf-8") as fh:
                old = json.load(fh)
            existing[old.get("x-endpoint", {}).get("path")] = (fname[:-5], old)
    written = []
    for spec in endpoints:
        name, _, path = spec.rpartition("=")
        if not name and path in existing:
            name = existing[path][0]
        method_item = doc.get("paths", {}).get(path, {})
        name = name or endpoint_name(method_item.get("get", {}), path)
        new = convert_operation(doc, name, path)
        target = os.path.join(rest_dir, name + ".json")
        if os.path.exists(target):
            with open(target, encoding="utf-8") as fh:
                new = merge_annotations(new, json.load(fh))
        with open(target, "w", encoding="utf-8") as fh:
            fh.write(dump(new))
        logger.debug("wrote %s", target)
        written.append(target)
    return written
