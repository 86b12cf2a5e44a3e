"""The provider's published response schemas (OpenAPI 3.0, from rest.json) as JSON Schemas a validator takes:
``$ref`` s resolved, ``nullable`` spelled as a null type, ``required`` kept as published."""

import copy
from typing import Any, Dict, Optional

import jsonschema


def _resolve(doc: Dict[str, Any], node: Any, seen: tuple = ()) -> Any:
    if isinstance(node, list):
        return [_resolve(doc, item, seen) for item in node]
    if not isinstance(node, dict):
        return node
    if "$ref" in node:
        ref = node["$ref"]
        if ref in seen:  # a recursive definition: accept anything below the second visit
            return {}
        target = doc
        for part in ref.lstrip("#/").split("/"):
            target = target[part.replace("~1", "/").replace("~0", "~")]
        merged = dict(target, **{k: v for k, v in node.items() if k != "$ref"})
        return _resolve(doc, merged, seen + (ref,))
    out = {}
    for key, value in node.items():
        if key in ("example", "examples", "x-massive-go-type", "description"):
            continue
        if key in ("properties", "patternProperties"):
            out[key] = {name: _resolve(doc, sub, seen) for name, sub in value.items()}
        else:
            out[key] = _resolve(doc, value, seen)
    if out.pop("nullable", False) and isinstance(out.get("type"), str):
        out["type"] = [out["type"], "null"]
    return out


def response_schema(doc: Dict[str, Any], path: str) -> Optional[Dict[str, Any]]:
    """The 200 ``application/json`` schema of ``GET path`` as published, resolved; None when there is none."""
    op = doc["paths"].get(path, {}).get("get", {})
    content = op.get("responses", {}).get("200", {}).get("content", {}).get("application/json")
    if not content or "schema" not in content:
        return None
    return _resolve(doc, copy.deepcopy(content["schema"]))


def errors(schema: Dict[str, Any], body: Any):
    """``[(json pointer, message)]`` of every violation of ``schema`` by ``body``."""
    validator = jsonschema.Draft7Validator(schema)
    return sorted(("/" + "/".join(str(p) for p in e.absolute_path), e.message) for e in validator.iter_errors(body))
