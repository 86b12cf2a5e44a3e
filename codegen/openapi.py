"""``python -m codegen import-openapi PATH [ENDPOINT...] [--all]``: OpenAPI 3 -> schema/rest/<name>.json.

This is how a user refreshes the client when the provider changes its API: point the importer at the
provider's OpenAPI document, run ``python -m codegen``. It

* resolves local ``$ref`` pointers, flattens ``allOf`` and unites ``oneOf``/``anyOf`` members (objects:
  properties united; scalars of one type: that type; ``published_utc``'s date | date-time: a string);
* keeps only what the generator needs (types, enums, required, defaults, bounds, patterns, one-line
  descriptions), including array parameters (``tickers``) and dotted range filters (``timestamp.gte``);
* names nested objects (``x-model``) and python fields (``x-python-name``) with simple rules, and marks
  parameters with ``x-kind`` (``symbol``, ``currency``, ``date``, ``datetime``, ``agg_bound``,
  ``timestamp_ns``, ``timestamp_ms``) and integer response fields holding epoch times with ``x-unit``;
* merges per-market variants that share a URL shape into one endpoint (``x-endpoint.variants``): the
  first path is canonical, the others' parameters are united into it under the canonical wire names;
* on refresh, keeps the hand-made annotations of the existing file: every ``x-*`` key (and the hand-set
  keys of ``x-endpoint``) found at the same JSON pointer, including ``x-override`` corrections; ``$ref``
  nodes (shared definitions in schema/common stay shared); and local ``minimum``/``maximum``/``default``
  of parameters the document leaves open (e.g. the aggregates ``limit`` maximum, stated only in prose).

ENDPOINT is a path template (``/v2/last/trade/{stocksTicker}``) or ``name=path``; giving one name to
several paths merges them. ``--all`` imports every path of the document: a path already in schema/rest
(as ``x-endpoint.path`` or a variant) keeps its name, a path with the URL shape of a known endpoint
becomes its variant, and a new path is named from its ``operationId`` (or its path) and reported.
Every problem found is reported (:class:`ImportError_` lists them all) and nothing is written then.
"""

import copy
import json
import logging
import os
import re

from codegen.names import camel_case, is_identifier, snake_case

logger = logging.getLogger(__name__)

SCHEMA_URI = "https://json-schema.org/draft/2020-12/schema"
ID_BASE = "https://polygon-kit.invalid/schema/"
_KEEP_KEYS = ("type", "format", "enum", "const", "default", "minimum", "maximum", "pattern")
_PARAM_LOCAL_KEYS = ("minimum", "maximum", "default", "pattern")
_SCALAR_TYPES = ("string", "integer", "number", "boolean")
_METHODS = ("get", "post", "put", "delete", "patch")
#: Path parameters that carry a ticker: validated as symbols, python name ``ticker``.
TICKER_PATH_PARAMS = ("stocksTicker", "stockTicker", "cryptoTicker", "forexTicker", "fxTicker", "indicesTicker",
                      "optionsTicker", "options_ticker", "ticker")
#: Other parameters validated as symbols (their python name is the snake case).
SYMBOL_PARAMS = ("underlyingAsset", "optionContract", "tickers")
CURRENCY_PATTERN = "^[A-Za-z0-9]{2,10}$"
#: The words of the provider's prose the importer reads (epoch times and their unit). A structural snapshot
#: (:mod:`codegen.snapshot`) has no prose: it keeps these words as ``x-text-words`` beside their node.
TEXT_WORDS = ("timestamp", "nanosecond", "millisecond", "msec")
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
    """The OpenAPI document does not have what was asked for; ``problems`` lists every one found."""

    def __init__(self, message, problems=None):
        super().__init__(message)
        self.problems = list(problems or [message])


def short_description(text):
    """First sentence of an OpenAPI description, without markup, at most 160 characters."""
    text = re.sub(r"<[^>]+>", " ", text or "")
    text = re.sub(r"\[([^\]]*)\]\([^)]*\)", r"\1", text)
    text = " ".join(text.split())
    match = re.match(r"(.+?[.!?])(\s|$)", text)
    if match:
        text = match.group(1)
    return text if len(text) <= 160 else text[:157].rstrip() + "..."


def path_shape(path):
    """The URL shape of a template: ``/v3/trades/{stockTicker}`` -> ``/v3/trades/{}``."""
    return re.sub(r"{[^}]+}", "{}", path)


def path_fields(path):
    return re.findall(r"{([^}]+)}", path)


def field_name(wire):
    """The python field of a response key: snake case, with a ``_`` after ``l``, ``I``, ``O`` (E741)."""
    name = snake_case(wire)
    return name + "_" if name in ("l", "I", "O") else name


class _Resolver:
    def __init__(self, doc, problems, where):
        self.doc = doc
        self.problems = problems
        self.where = where

    def resolve(self, node, seen=()):
        if isinstance(node, list):
            return [self.resolve(item, seen) for item in node]
        if not isinstance(node, dict):
            return node
        if "$ref" in node:
            ref = node["$ref"]
            if not ref.startswith("#/"):
                self.problems.append("%s: only local $ref is supported: %s" % (self.where, ref))
                return {}
            if ref in seen:
                self.problems.append("%s: recursive $ref: %s" % (self.where, ref))
                return {}
            target = self.doc
            for part in ref[2:].split("/"):
                part = part.replace("~1", "/").replace("~0", "~")
                if not isinstance(target, dict) or part not in target:
                    self.problems.append("%s: unresolved $ref: %s" % (self.where, ref))
                    return {}
                target = target[part]
            return self.resolve(target, seen + (ref,))
        return {key: self.resolve(value, seen) for key, value in node.items()}


def _flatten(schema):
    """Merge ``allOf`` members into one object schema (properties and required united)."""
    if "allOf" not in schema:
        return schema
    merged = {k: v for k, v in schema.items() if k != "allOf"}
    props, required = dict(schema.get("properties", {})), list(schema.get("required", []))
    for part in schema["allOf"]:
        part = _flatten(_unite(part))
        props.update(part.get("properties", {}))
        required.extend(r for r in part.get("required", []) if r not in required)
        if _infer_type(part) not in _SCALAR_TYPES:  # the provider mixes a bare ``status`` string in
            for key in ("type", "description", "x-text-words", "items"):
                if key in part and key not in merged:
                    merged[key] = part[key]
    if props:
        merged["type"] = "object"
    merged["properties"] = props
    if required:
        merged["required"] = required
    return merged


def _unite(schema):
    """``oneOf``/``anyOf`` -> one schema: objects' properties united, scalars of one type kept as that type.

    Members that cannot be united (different scalar types, objects and scalars) stay as ``anyOf``.
    """
    for key in ("oneOf", "anyOf"):
        if key not in schema:
            continue
        members = [_flatten(_unite(m)) for m in schema[key]]
        rest = {k: v for k, v in schema.items() if k != key}
        types = {_infer_type(m) for m in members}
        if types == {"object"}:
            props = {}
            for member in members:
                for wire, sub in member.get("properties", {}).items():
                    props.setdefault(wire, sub)
            return dict(rest, type="object", properties=props)
        if len(types) == 1 and None not in types and types <= set(_SCALAR_TYPES):
            out = dict(rest, type=types.pop())
            formats = sorted({m["format"] for m in members if "format" in m})
            if len(formats) > 1:
                out["x-formats"] = formats
            elif formats:
                out["format"] = formats[0]
            return out
        return dict(rest, anyOf=members)
    return schema


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
    if "items" in schema:
        return "array"
    return None


def _text(node, first_sentence=True):
    """The prose the importer reads from ``node``: its description (first sentence), or a snapshot's words."""
    if node.get("description"):
        return short_description(node["description"]) if first_sentence else node["description"]
    return " ".join(node.get("x-text-words", ()))


def _time_unit(wire, schema, text):
    """``ns``/``ms``/``s`` for integer fields documented as epoch times, else None."""
    text = text.lower()
    if schema.get("type") not in ("integer", "number") or "timestamp" not in text + wire.lower():
        if wire not in ("t", "updated", "last_updated"):
            return None
    if "nanosecond" in text:
        return "ns"
    if "millisecond" in text or "msec" in text:
        return "ms"
    return None


def _convert(schema, model_name, where, problems):
    """OpenAPI schema (resolved) -> our JSON Schema, naming objects ``model_name`` and their children."""
    schema = _flatten(_unite(schema))
    if "anyOf" in schema:
        logger.warning("%s: oneOf/anyOf members of different types: left untyped (Any)", where)
        schema = {k: v for k, v in schema.items() if k != "anyOf"}
    out = {}
    kind = _infer_type(schema)
    if kind:
        out["type"] = kind
    if schema.get("description"):
        out["description"] = short_description(schema["description"])
    for key in _KEEP_KEYS + ("x-formats",):
        if key in schema and key != "type":
            out[key] = schema[key]
    if kind == "array" and isinstance(schema.get("items"), dict):
        out["items"] = _convert(schema["items"], model_name, where + "[]", problems)
    props = schema.get("properties")
    if props:
        out["x-model"] = model_name
        bar_like = {"o", "h", "l", "c"} <= set(props)
        base = model_name[: -len("Response")] if model_name.endswith("Response") else model_name
        out["properties"] = {}
        for wire, sub in sorted(props.items()):
            child_name = base + ("Result" if wire == "results" else camel_case(wire))
            converted = _convert(sub, child_name, "%s.%s" % (where, wire), problems)
            python = _BAR_NAMES.get(wire) if bar_like else None
            converted["x-python-name"] = python or field_name(wire)
            unit = _time_unit(wire, converted, _text(_flatten(_unite(sub))))
            if unit:
                converted["x-unit"] = unit
            out["properties"][wire] = converted
        if schema.get("required"):
            out["required"] = [r for r in schema["required"] if r in props]
    return out


_JSON_TYPES = ((bool, "boolean"), (int, "integer"), (float, "number"), (str, "string"), (list, "array"),
               (dict, "object"))


def _json_type(value):
    return next((name for kind, name in _JSON_TYPES if isinstance(value, kind)), None)


def _from_value(value, model_name):
    """A schema for a value the provider's example shows but its schema does not describe."""
    kind = _json_type(value)
    out = {"description": "Not in the provider's schema; seen in its example."} if kind else {}
    if kind == "object" and value and not all(key.isdigit() for key in value):
        out.update({"type": "object", "x-model": model_name, "properties": {}})
        _fit_example(out, value, model_name)
    elif kind == "array":
        out.update({"type": "array", "items": {}})
        for item in value:
            if not out["items"]:
                out["items"] = _from_value(item, model_name)
                out["items"].pop("description", None)
            else:
                _fit_example(out["items"], item, model_name)
    elif kind:
        out["type"] = kind
    return out


def _fit_example(schema, value, model_name):
    """Make ``schema`` accept the provider's own example ``value`` (the examples are what the API sends):
    keys it lacks are added (typed from the value, marked ``x-from-example``), required keys the example
    leaves out become optional, and a scalar type the example contradicts is widened to both types.
    """
    kind = _json_type(value)
    declared = schema.get("type")
    if kind == "object" and "properties" in schema:
        if "required" in schema:
            schema["required"] = [r for r in schema["required"] if r in value]
            if not schema["required"]:
                del schema["required"]
        base = model_name[: -len("Response")] if model_name.endswith("Response") else model_name
        for key, sub in value.items():
            child = schema.get("properties", {}).get(key)
            child_name = (child or {}).get("x-model") or base + ("Result" if key == "results" else camel_case(key))
            if child is None:
                child = schema["properties"][key] = _from_value(sub, child_name)
                child["x-python-name"] = field_name(key)
                child["x-from-example"] = True
            else:
                _fit_example(child, sub, child_name)
    elif kind == "array" and isinstance(schema.get("items"), dict):
        for item in value:
            _fit_example(schema["items"], item, schema["items"].get("x-model") or model_name)
    elif kind and isinstance(declared, str) and declared != kind and value is not None:
        if not (declared == "number" and kind == "integer"):
            schema["type"] = [declared, kind]


def examples_of(operation):
    """The JSON examples of an operation's 200 response."""
    ok = operation.get("responses", {}).get("200") or {}
    content = ok.get("content", {}).get("application/json", {})
    found = [content["example"]] if "example" in content else []
    found += [ex["value"] for ex in content.get("examples", {}).values() if isinstance(ex, dict) and "value" in ex]
    return found


def _param_kind(wire, location, entry, path, text):
    """The ``x-kind`` of a parameter: how the client coerces and checks its values."""
    base = wire.split(".")[0]
    text = text.lower()
    if (location == "path" and wire in TICKER_PATH_PARAMS) or wire in SYMBOL_PARAMS:
        return "symbol"
    if location == "path" and wire in ("from", "to"):
        return "agg_bound" if "/range/" in path else "currency"
    if entry.get("format") == "date":
        return "date"
    if entry.get("format") == "date-time" or "date-time" in entry.get("x-formats", ()):
        return "datetime"
    if base == "timestamp" and entry.get("type") == "string":
        return "timestamp_ns" if "nanosecond" in text else "timestamp_ms"
    return None


def _convert_params(parameters, path, where, problems):
    props, required = {}, []
    for param in parameters:
        if not param:
            continue  # an unresolved $ref, already reported
        wire = param.get("name")
        if not wire or param.get("in") not in ("path", "query"):
            problems.append("%s: parameter %r in %r is not supported (path and query only)"
                            % (where, wire, param.get("in")))
            continue
        sub = _flatten(_unite(dict(param.get("schema", {}))))
        for loose, strict in (("min", "minimum"), ("max", "maximum")):
            if loose in sub and strict not in sub:
                sub[strict] = sub[loose]
        entry = {}
        kind = _infer_type(sub)
        if kind:
            entry["type"] = kind
        for key in _KEEP_KEYS + ("x-formats",):
            if key in sub and key != "type":
                entry[key] = sub[key]
        if kind == "array":
            items = _flatten(_unite(sub.get("items", {})))
            item_type = _infer_type(items)
            if item_type not in _SCALAR_TYPES:
                problems.append("%s: array parameter %s has items of type %r (scalars only)" % (where, wire, item_type))
            entry["items"] = {k: items[k] for k in ("type", "enum", "pattern") if k in items}
            entry["items"].setdefault("type", item_type or "string")
        elif kind not in _SCALAR_TYPES:
            problems.append("%s: parameter %s has unsupported schema type %r" % (where, wire, kind))
        description = param.get("description") or sub.get("description")
        if description:
            entry["description"] = short_description(description)
        entry["x-in"] = param["in"]
        ticker = param["in"] == "path" and wire in TICKER_PATH_PARAMS
        entry["x-python-name"] = "ticker" if ticker else snake_case(wire)
        text = _text(param, False) or _text(sub, False)
        x_kind = _param_kind(wire, param["in"], entry, path, text)
        if x_kind:
            entry["x-kind"] = x_kind
        if x_kind == "currency":
            entry.setdefault("pattern", CURRENCY_PATTERN)
        props[wire] = entry
        if param.get("required") or param["in"] == "path":
            required.append(wire)
    for wire, entry in props.items():
        # a range filter (timestamp.gte) means what its base parameter means: the provider says it once
        base = props.get(wire.split(".")[0]) if "." in wire else None
        if base is not None and base.get("x-kind") and base.get("type") == entry.get("type"):
            entry["x-kind"] = base["x-kind"]
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


def convert_operation(doc, name, path, problems=None):
    """Build the schema/rest document for ``GET path`` of ``doc`` under method name ``name``.

    :param problems: a list the problems are appended to; without it the first one is raised.
    """
    own = problems is None
    problems = [] if own else problems
    item = doc.get("paths", {}).get(path)
    if not item:
        problems.append("path not in the OpenAPI document: %s" % path)
        if own:
            raise ImportError_(problems[0], problems)
        return None
    methods = [m for m in _METHODS if m in item]
    if not methods:
        problems.append("%s: no operation (get/post/...)" % path)
        if own:
            raise ImportError_(problems[0], problems)
        return None
    method = methods[0]
    resolver = _Resolver(doc, problems, path)
    operation = resolver.resolve(item[method])
    params = resolver.resolve(item.get("parameters", [])) + operation.get("parameters", [])
    responses = operation.get("responses", {})
    ok = responses.get("200") or responses.get("201") or {}
    body = ok.get("content", {}).get("application/json", {}).get("schema", {"type": "object"})
    response = _convert(body, response_model_name(name), path + "#response", problems)
    if response.get("type") == "array" and "items" in response and "x-model" in response["items"]:
        response["items"]["x-model"] = response_model_name(name)[: -len("Response")]
    for example in examples_of(operation):
        _fit_example(response, example, response.get("x-model") or response_model_name(name))
    text = operation.get("summary") or operation.get("description")
    summary = short_description(text) if text else None  # a snapshot has none: the existing file's is kept
    paginated = "next_url" in response.get("properties", {})
    out = {
        "$schema": SCHEMA_URI,
        "$id": ID_BASE + "rest/%s.json" % name,
        "title": name,
        "x-endpoint": {
            "name": name,
            "method": method.upper(),
            "path": path,
            "paginated": paginated,
        },
        "$ref": "#/$defs/response",
        "$defs": {"parameters": _convert_params(params, path, path, problems), "response": response},
    }
    if summary:
        out["description"] = out["x-endpoint"]["summary"] = summary
    if own and problems:
        raise ImportError_("; ".join(problems), problems)
    return out


def _union_schema(into, other):
    """Add the properties ``other`` has and ``into`` lacks (recursively); ``into`` wins on conflicts."""
    if not isinstance(into, dict) or not isinstance(other, dict):
        return
    if "properties" in into and "properties" in other:
        for wire, sub in other["properties"].items():
            if wire in into["properties"]:
                _union_schema(into["properties"][wire], sub)
            else:
                into["properties"][wire] = copy.deepcopy(sub)
    if isinstance(into.get("items"), dict) and isinstance(other.get("items"), dict):
        _union_schema(into["items"], other["items"])


def merge_variant(canonical, variant, problems):
    """Unite the per-market ``variant`` (same URL shape) into ``canonical``: parameters and response fields."""
    cpath, vpath = canonical["x-endpoint"]["path"], variant["x-endpoint"]["path"]
    if path_shape(cpath) != path_shape(vpath):
        problems.append("%s: cannot be a variant of %s (%s): the URL shapes differ"
                        % (vpath, canonical["x-endpoint"]["name"], cpath))
        return
    rename = dict(zip(path_fields(vpath), path_fields(cpath)))
    cparams = canonical["$defs"]["parameters"]
    for wire, sub in variant["$defs"]["parameters"]["properties"].items():
        target = rename.get(wire, wire)
        known = cparams["properties"].get(target)
        if known is None:
            cparams["properties"][target] = sub
        elif known.get("type") != sub.get("type") or known.get("x-in") != sub.get("x-in"):
            problems.append("%s: parameter %s is %s in %s but %s in %s" % (
                canonical["x-endpoint"]["name"], target, known.get("type"), cpath, sub.get("type"), vpath))
    _union_schema(canonical["$defs"]["response"], variant["$defs"]["response"])
    variants = canonical["x-endpoint"].setdefault("variants", [])
    if vpath not in variants:
        variants.append(vpath)
        variants.sort()


def _annotations(node, pointer="", out=None):
    """JSON pointer -> the ``x-*`` keys (and local parameter bounds) of a schema document."""
    out = {} if out is None else out
    if isinstance(node, dict):
        if pointer and "$ref" in node:
            out[pointer] = {"$ref": node["$ref"]}
            return out
        keep = {k: v for k, v in node.items() if k.startswith("x-") and k != "x-endpoint"}
        if isinstance(node.get("description"), str):  # kept where the document has none (a snapshot)
            keep["description"] = node["description"]
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


_IMPORTED_ENDPOINT_KEYS = ("name", "method", "path", "summary", "paginated", "variants")


def merge_annotations(new, old):
    """Copy the hand-made annotations of ``old`` onto ``new`` (same JSON pointers); returns ``new``."""
    new = copy.deepcopy(new)
    for key, value in old.get("x-endpoint", {}).items():
        if key not in _IMPORTED_ENDPOINT_KEYS or (key == "summary" and key not in new["x-endpoint"]):
            new["x-endpoint"][key] = value  # hand-set keys (e.g. table) survive a refresh
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


def _existing(rest_dir):
    """``(name -> document, path -> name)`` of the schema files already in ``rest_dir``."""
    docs, by_path = {}, {}
    if os.path.isdir(rest_dir):
        for fname in sorted(os.listdir(rest_dir)):
            if fname.endswith(".json"):
                with open(os.path.join(rest_dir, fname), encoding="utf-8") as fh:
                    old = json.load(fh)
                meta = old.get("x-endpoint", {})
                docs[fname[:-5]] = old
                for path in [meta.get("path")] + list(meta.get("variants", [])):
                    if path:
                        by_path[path] = fname[:-5]
    return docs, by_path


def plan(doc, endpoints, existing_docs, by_path, all_paths=False):
    """``[(name, [canonical path, variant paths...])]`` in a stable order, and notes on new names."""
    pairs, notes = [], []
    for spec in endpoints:
        name, _, path = spec.rpartition("=")
        pairs.append((name or by_path.get(path), path))
    if all_paths:
        asked = {path for _, path in pairs}
        shapes = {}
        for name, old in sorted(existing_docs.items()):
            shapes.setdefault(path_shape(old.get("x-endpoint", {}).get("path", "")), name)
        for path in doc.get("paths", {}):
            if path in asked:
                continue
            name = by_path.get(path) or shapes.get(path_shape(path))
            if name is None:
                item = doc["paths"][path]
                op = next((item[m] for m in _METHODS if m in item), {})
                name = endpoint_name(op, path)
                notes.append("new endpoint %s named %s (rename: python -m codegen import-openapi DOC NAME=%s)"
                             % (path, name, path))
            pairs.append((name, path))
    groups = {}
    for name, path in pairs:
        if name is None:
            item = doc.get("paths", {}).get(path, {})
            name = endpoint_name(next((item[m] for m in _METHODS if m in item), {}), path)
        paths = groups.setdefault(name, [])
        if path not in paths:
            paths.append(path)
    out = []
    for name, paths in groups.items():
        canonical = existing_docs.get(name, {}).get("x-endpoint", {}).get("path")
        if canonical in paths:
            paths.remove(canonical)
            paths.insert(0, canonical)
        out.append((name, paths))
    return out, notes


def import_openapi(openapi_path, endpoints, schema_dir, all_paths=False, notes=None):
    """Create or refresh ``schema_dir/rest/<name>.json``; returns the written paths.

    :param endpoints: ``path`` or ``name=path`` strings; one name given to several paths merges them.
    :param all_paths: also import every other path of the document (see the module docstring).
    :param notes: a list that receives notes on newly named endpoints.
    :raises ImportError_: listing every problem found; nothing is written then.
    """
    with open(openapi_path, encoding="utf-8") as fh:
        doc = json.load(fh)
    rest_dir = os.path.join(schema_dir, "rest")
    existing_docs, by_path = _existing(rest_dir)
    groups, new_notes = plan(doc, endpoints, existing_docs, by_path, all_paths)
    if notes is not None:
        notes.extend(new_notes)
    problems, documents = [], []
    for name, paths in groups:
        if not is_identifier(name):
            problems.append("%s: method name %r is not a python identifier" % (paths[0], name))
            continue
        converted = [convert_operation(doc, name, path, problems) for path in paths]
        if any(c is None for c in converted):
            continue
        new = converted[0]
        for variant in converted[1:]:
            merge_variant(new, variant, problems)
        if name in existing_docs:
            new = merge_annotations(new, existing_docs[name])
        new["x-endpoint"].setdefault("summary", name)
        new.setdefault("description", new["x-endpoint"]["summary"])
        python_names = [p.get("x-python-name") for p in new["$defs"]["parameters"]["properties"].values()]
        for dup in sorted({n for n in python_names if python_names.count(n) > 1}):
            problems.append("%s: two parameters have the python name %r (set x-python-name)" % (name, dup))
        documents.append((name, new))
    if problems:
        raise ImportError_("%d problem(s):\n  %s" % (len(problems), "\n  ".join(problems)), problems)
    os.makedirs(rest_dir, exist_ok=True)
    written = []
    for name, new in documents:
        target = os.path.join(rest_dir, name + ".json")
        with open(target, "w", encoding="utf-8") as fh:
            fh.write(dump(new))
        logger.debug("wrote %s", target)
        written.append(target)
    return written
