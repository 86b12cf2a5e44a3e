"""Read schema/ into a small intermediate representation (IR) that the templates render.

Layout of schema/ (all files JSON Schema draft 2020-12, custom keys under ``x-``):

``rest/<method name>.json``
    ``x-endpoint``: ``{name, method, path, summary, paginated}``; ``$defs.parameters``: an object schema whose
    properties are the wire-named parameters, each with ``x-in`` (``path``/``query``) and optionally
    ``x-python-name``; ``$defs.response``: the response body schema (the document's root ``$ref``).
``stream/<ev>.json``
    One provider socket event (``properties.ev.const`` discriminates), ``x-model``, ``x-channel``,
    ``x-order`` (table order), ``x-normalized`` (ordered ``[{key, wire | const, optional?}]``: the callback dict;
    ``optional`` marks a wire key the provider often leaves out, read with ``get`` on the fast path), and for
    markets other than stocks ``x-market`` (the socket) and ``x-symbol-field`` (the ticker's wire key, ``sym``).
    ``stream/actions.json`` holds the client actions as ``$defs`` with ``x-function`` and ``x-argument``.
``server/<message>.json``
    Our own server's messages; ``x-model`` and ``x-discriminator`` (the const field: ``action`` or ``type``).
``common/*.json``
    Shared ``$defs`` referenced with relative ``$ref`` (``../common/aggregates.json#/$defs/Agg``).

``x-override`` (an object) on any schema node is merged over that node: local corrections of imported
definitions (e.g. a price the provider types as integer) that survive a re-import. Each says why in
``x-evidence``: the recorded bodies (tests/recorded/...) that show the provider's real data. Fields a correction
adds (through an ``allOf`` in the override, so the imported properties stay) carry ``x-from-evidence``.

An object schema without properties whose ``additionalProperties`` has an ``x-model`` is a typed map
(``Dict[str, Model]``: the line items of a financial statement); a field typed with several non-null types is
``Any``. Every model keeps the keys its schema does not know in ``extra_fields`` (also readable as attributes).

Every object schema with ``x-model`` becomes a dataclass; schemas naming the same model are merged (their
fields united, a wire key must map to the same python name everywhere). Python field names come from
``x-python-name`` or the snake case of the wire name.
"""

import copy
import hashlib
import json
import os
import re
from dataclasses import dataclass, field
from typing import Any, Dict, List, Optional, Tuple

from codegen.names import is_identifier, snake_case

SCALARS = {"string": "str", "integer": "int", "number": "float", "boolean": "bool"}
RESERVED_FIELDS = {"from_wire", "to_dict", "to_wire", "WIRE_TO_PYTHON", "WIRE_KEYS", "extra_fields"}


class SchemaError(Exception):
    """A schema file is malformed or inconsistent; the message names the file and the place."""


@dataclass
class FieldDef:
    wire: str
    python: str
    annotation: str  # the inner type, e.g. "float", "List[int]", "Agg", "List[Agg]"
    kind: str  # scalar | model | model_list | model_map | value
    model: Optional[str] = None
    const: Any = None
    description: str = ""


@dataclass
class ModelDef:
    name: str
    description: str
    fields: List[FieldDef] = field(default_factory=list)
    sources: List[str] = field(default_factory=list)

    def field_for(self, wire):
        for item in self.fields:
            if item.wire == wire:
                return item
        return None


@dataclass
class ParamDef:
    name: str
    wire_name: str
    location: str
    type: str
    required: bool
    enum: Optional[Tuple[Any, ...]]
    default: Any
    minimum: Any
    maximum: Any
    description: str
    kind: Optional[str] = None  # x-kind: symbol | currency | date | datetime | agg_bound | timestamp_ns | ...
    item_type: Optional[str] = None  # arrays: the scalar type of the items (sent comma-separated)
    pattern: Optional[str] = None


@dataclass
class EndpointDef:
    name: str
    method: str
    path: str
    params: List[ParamDef]
    response_model: str
    response_is_list: bool
    paginated: bool
    summary: str
    description: str = ""
    variants: Tuple[str, ...] = ()
    table: Optional["TableDef"] = None
    item_model: Optional[str] = None  # the model of the records a list_* method yields
    hand_written: bool = False  # the client method is written by hand (core/client.py), not in the mixin
    max_pages: Optional[int] = None  # x-endpoint.max_pages: pages one call reads by default (None: all)


@dataclass
class ColumnDef:
    name: str  # DataFrame column
    wire: Tuple[str, ...]  # key path inside one record
    # int | float | bool | str | timestamp_ns | timestamp_ms | timestamp_s | datetime | date | object |
    # items (a map of line items {key: {value, ...}}: the object column plus one float column per key present)
    dtype: str


@dataclass
class TableDef:
    records: Tuple[str, ...]  # key path from the response body to the list of records
    columns: List[ColumnDef]


@dataclass
class EventDef:
    model: str
    ev: str
    channel: Optional[str]
    normalized: List[Tuple[str, Optional[str], Any, bool]]  # (key, wire key or None, const, optional)
    market: str = "stocks"  # x-market: the socket (path) carrying the event
    symbol_field: str = "sym"  # x-symbol-field: the wire key holding the ticker


@dataclass
class ActionDef:
    function: str
    action: str
    argument: str
    kind: str  # string | list
    description: str


@dataclass
class MessageDef:
    model: str
    key: str  # file stem, the SCHEMAS key
    discriminator: Optional[str]  # None: not a tagged message (e.g. a request body)
    value: Optional[str]


@dataclass
class Spec:
    """Everything the generator needs, in a deterministic order."""

    rest_models: Dict[str, ModelDef]
    endpoints: List[EndpointDef]
    stream_models: Dict[str, ModelDef]
    events: List[EventDef]
    actions: List[ActionDef]
    server_models: Dict[str, ModelDef]
    messages: List[MessageDef]
    schemas: Dict[str, Any]
    inputs_hash: str
    response_schemas: Dict[str, Any] = field(default_factory=dict)
    official: Any = None  # codegen.official.OfficialSpec (schema/official/)


def _json_files(directory):
    if not os.path.isdir(directory):
        return []
    return sorted(os.path.join(directory, f) for f in os.listdir(directory) if f.endswith(".json"))


class _Documents:
    """Loads schema files once and resolves local and relative ``$ref``."""

    def __init__(self, root):
        self.root = os.path.abspath(root)
        self.cache = {}

    def load(self, path):
        path = os.path.abspath(path)
        if path not in self.cache:
            try:
                with open(path, encoding="utf-8") as fh:
                    self.cache[path] = json.load(fh)
            except (OSError, ValueError) as exc:
                raise SchemaError("%s: cannot read: %s" % (self.rel(path), exc)) from exc
        return self.cache[path]

    def rel(self, path):
        return os.path.relpath(path, self.root)

    def deref(self, node, path, seen=()):
        """One node with its ``$ref`` chain followed; returns ``(node, file it lives in)``.

        Sibling keywords of ``$ref`` (e.g. a local ``description``) override the target's.
        """
        while isinstance(node, dict) and "$ref" in node:
            ref = node["$ref"]
            target_file, _, pointer = ref.partition("#")
            target_path = os.path.normpath(os.path.join(os.path.dirname(path), target_file)) if target_file else path
            if (target_path, pointer) in seen:
                raise SchemaError("%s: recursive $ref %s" % (self.rel(path), ref))
            seen = seen + ((target_path, pointer),)
            target = self.load(target_path)
            for part in [p for p in pointer.split("/") if p]:
                part = part.replace("~1", "/").replace("~0", "~")
                if not isinstance(target, dict) or part not in target:
                    raise SchemaError("%s: unresolved $ref %s" % (self.rel(path), ref))
                target = target[part]
            siblings = {k: v for k, v in node.items() if k != "$ref"}
            node = dict(target, **siblings) if siblings else target
            path = target_path
        if isinstance(node, dict) and "x-override" in node:
            # local corrections of an imported definition, kept across re-imports
            node = dict({k: v for k, v in node.items() if k != "x-override"}, **node["x-override"])
        return node, path

    def flatten(self, node, path):
        """Deref and merge ``allOf`` members into one schema (properties and required united)."""
        node, path = self.deref(node, path)
        if not isinstance(node, dict) or "allOf" not in node:
            return node, path
        merged = {k: v for k, v in node.items() if k not in ("allOf", "properties", "required")}
        props, required = {}, []
        for part in node["allOf"]:
            part, part_path = self.flatten(part, path)
            for key, value in part.get("properties", {}).items():
                props[key] = self._rebase(value, part_path, path)
            required += [r for r in part.get("required", []) if r not in required]
        props.update(node.get("properties", {}))
        required += [r for r in node.get("required", []) if r not in required]
        merged["properties"] = props
        if required:
            merged["required"] = required
        return merged, path

    def _rebase(self, value, from_path, to_path):
        # A property lifted from another file must keep resolving its refs: inline it.
        if from_path == to_path:
            return value
        return self.inline(value, from_path)

    def inline(self, node, path):
        """A copy of ``node`` with every ``$ref`` replaced by its target (for runtime validation)."""
        node, path = self.deref(node, path)
        if isinstance(node, dict):
            return {k: self.inline(v, path) for k, v in node.items() if k != "$defs"}
        if isinstance(node, list):
            return [self.inline(v, path) for v in node]
        return copy.deepcopy(node)


def _several_types(schema):
    """True when ``type`` lists more than one non-null type (the provider sends either): typed ``Any``."""
    kind = schema.get("type")
    return isinstance(kind, list) and len([k for k in kind if k != "null"]) > 1


def _scalar(schema):
    kind = schema.get("type")
    if isinstance(kind, list):
        kind = next((k for k in kind if k != "null"), None)
    if kind is None and "const" in schema:
        kind = {str: "string", bool: "boolean", int: "integer", float: "number"}.get(type(schema["const"]))
    if kind is None and schema.get("enum"):
        kinds = {type(v) for v in schema["enum"]}
        kind = "string" if kinds == {str} else None
    return kind


class _ModelBuilder:
    def __init__(self, docs, registry):
        self.docs = docs
        self.registry = registry

    def model(self, schema, path, where):
        schema, path = self.docs.flatten(schema, path)
        name = schema.get("x-model")
        if not name or not name.isidentifier():
            raise SchemaError("%s: object schema needs an x-model class name" % where)
        model = self.registry.get(name)
        if model is None:
            model = self.registry[name] = ModelDef(name, _one_line(schema.get("description", "")))
        model.sources.append(where)
        for wire, sub in schema.get("properties", {}).items():
            fdef = self.field(wire, sub, path, "%s.%s" % (where, wire))
            known = model.field_for(wire)
            if known is None:
                if any(f.python == fdef.python for f in model.fields) or fdef.python in RESERVED_FIELDS:
                    raise SchemaError("%s: python name %r used twice in %s" % (where, fdef.python, name))
                model.fields.append(fdef)
            elif (known.python, known.annotation) != (fdef.python, fdef.annotation):
                raise SchemaError(
                    "%s: %s.%s is %s %s here but %s %s elsewhere"
                    % (where, name, wire, fdef.python, fdef.annotation, known.python, known.annotation)
                )
        return name

    def field(self, wire, schema, path, where):
        raw = schema
        schema, path = self.docs.flatten(schema, path)
        python = raw.get("x-python-name") or schema.get("x-python-name") or snake_case(wire)
        if not is_identifier(python):
            raise SchemaError("%s: x-python-name %r is not a python identifier" % (where, python))
        desc = _one_line(raw.get("description") or schema.get("description", ""))
        const = schema.get("const")
        if _several_types(schema):
            return FieldDef(wire, python, "Any", "scalar", None, const, desc)
        kind = _scalar(schema)
        if kind == "array":
            items, items_path = self.docs.flatten(schema.get("items", {}), path)
            if "x-model" in items:
                inner = self.model(items, items_path, where + "[]")
                return FieldDef(wire, python, "List[%s]" % inner, "model_list", inner, None, desc)
            inner = SCALARS.get(_scalar(items), "Any")
            return FieldDef(wire, python, "List[%s]" % inner, "value", None, None, desc)
        values = schema.get("additionalProperties")
        if kind == "object" and isinstance(values, dict) and not schema.get("properties"):
            # a map of free keys (e.g. the line items of a financial statement) to one model
            values, values_path = self.docs.flatten(values, path)
            if "x-model" in values:
                inner = self.model(values, values_path, where + "{}")
                return FieldDef(wire, python, "Dict[str, %s]" % inner, "model_map", inner, None, desc)
        if "x-model" in schema:
            inner = self.model(schema, path, where)
            return FieldDef(wire, python, inner, "model", inner, None, desc)
        if kind == "object":
            return FieldDef(wire, python, "Dict[str, Any]", "value", None, None, desc)
        return FieldDef(wire, python, SCALARS.get(kind, "Any"), "scalar", None, const, desc)


def _one_line(text):
    return " ".join(str(text).split())


def _params(docs, doc, path, where, problems):
    schema, spath = docs.deref(doc.get("$defs", {}).get("parameters", {"properties": {}}), path)
    required = set(schema.get("required", []))
    out = []
    for wire, sub in schema.get("properties", {}).items():
        sub, _ = docs.deref(sub, spath)
        here = "%s: parameter %s" % (where, wire)
        location = sub.get("x-in")
        if location not in ("path", "query"):
            problems.append("%s needs x-in 'path' or 'query'" % here)
            continue
        kind = _scalar(sub)
        item_type, enum, pattern = None, sub.get("enum"), sub.get("pattern")
        if kind == "array":
            items, _ = docs.deref(sub.get("items", {}), spath)
            item_type = _scalar(items)
            enum, pattern = items.get("enum", enum), items.get("pattern", pattern)
            if item_type not in SCALARS or location != "query":
                problems.append("%s: arrays are query parameters of scalars (got %s items in %s)"
                                % (here, item_type, location))
                continue
        elif kind not in SCALARS:
            problems.append("%s has unsupported type %r" % (here, kind))
            continue
        python = sub.get("x-python-name") or snake_case(wire)
        if not is_identifier(python):
            problems.append("%s: %r is not a python identifier" % (here, python))
            continue
        if pattern is not None:
            try:
                re.compile(pattern)
            except re.error as exc:
                problems.append("%s: bad pattern %r: %s" % (here, pattern, exc))
                continue
        out.append(ParamDef(
            name=python,
            wire_name=wire,
            location=location,
            type=kind,
            required=wire in required or location == "path",
            enum=tuple(enum) if enum is not None else None,
            default=sub.get("default"),
            minimum=sub.get("minimum"),
            maximum=sub.get("maximum"),
            description=_one_line(sub.get("description", "")),
            kind=sub.get("x-kind"),
            item_type=item_type,
            pattern=pattern,
        ))
    names = [p.name for p in out]
    for dup in sorted({n for n in names if names.count(n) > 1}):
        problems.append("%s: two parameters share the python name %r" % (where, dup))
    for wire in _path_fields(doc["x-endpoint"]["path"]):
        if wire not in {p.wire_name for p in out if p.location == "path"}:
            problems.append("%s: path field {%s} has no path parameter" % (where, wire))
    # path parameters first (in path order), then query parameters (file order)
    order = {wire: i for i, wire in enumerate(_path_fields(doc["x-endpoint"]["path"]))}
    return sorted(out, key=lambda p: (p.location != "path", order.get(p.wire_name, 0)))


def _path_fields(template):
    return re.findall(r"{([^}]+)}", template)


def _load_rest(docs, root, registry):
    """Endpoints and their inlined response schemas; every problem of every file is reported at once."""
    endpoints, schemas, problems = [], {}, []
    builder = _ModelBuilder(docs, registry)
    for path in _json_files(os.path.join(root, "rest")):
        where = docs.rel(path)
        try:
            doc = docs.load(path)
            meta = doc.get("x-endpoint")
            if not isinstance(meta, dict) or not {"name", "method", "path"} <= set(meta):
                raise SchemaError("%s: needs x-endpoint {name, method, path}" % where)
            if meta["name"] + ".json" != os.path.basename(path):
                raise SchemaError("%s: file name must be x-endpoint.name + .json" % where)
            response, rpath = docs.flatten(doc.get("$defs", {}).get("response", {}), path)
            is_list = _scalar(response) == "array"
            if is_list:
                response, rpath = docs.flatten(response.get("items", {}), rpath)
            model = builder.model(response, rpath, where + "#response")
            params = _params(docs, doc, path, where, problems)
            table = _table(docs, doc, path, where, meta.get("table"))
            item_model = _item_model(docs, doc, path, table.records if table else ("results",))
            schemas[meta["name"]] = _plain(docs.inline(doc.get("$defs", {}).get("response", {}), path))
        except SchemaError as exc:
            problems.append(str(exc))
            continue
        endpoints.append(EndpointDef(
            name=meta["name"],
            method=meta["method"].upper(),
            path=meta["path"],
            params=params,
            response_model=model,
            response_is_list=is_list,
            paginated=bool(meta.get("paginated")),
            summary=_one_line(meta.get("summary", "")),
            description=_one_line(doc.get("description", "")),
            variants=tuple(meta.get("variants", ())),
            table=table,
            item_model=item_model,
            hand_written=bool(meta.get("hand_written")),
            max_pages=meta.get("max_pages"),
        ))
    if problems:
        raise SchemaError("%d problem(s) in schema/rest:\n  %s" % (len(problems), "\n  ".join(problems)))
    return sorted(endpoints, key=lambda e: e.name), schemas


def _item_model(docs, doc, path, records):
    """The ``x-model`` of the items of the records array at key path ``records``, or None."""
    node, npath = docs.flatten(doc.get("$defs", {}).get("response", {}), path)
    for key in records:
        if not isinstance(node, dict):
            return None
        node, npath = docs.flatten(node.get("properties", {}).get(key, {}), npath)
    if not isinstance(node, dict) or _scalar(node) != "array":
        return None
    items, _ = docs.flatten(node.get("items", {}), npath)
    return items.get("x-model") if isinstance(items, dict) else None


def _plain(node):
    """A schema without the ``x-*`` annotations (what jsonschema needs to validate bodies)."""
    if isinstance(node, dict):
        return {k: _plain(v) for k, v in node.items() if not k.startswith("x-")}
    if isinstance(node, list):
        return [_plain(v) for v in node]
    return node


_UNIT_DTYPES = {"ns": "timestamp_ns", "ms": "timestamp_ms", "s": "timestamp_s"}


def _column_dtype(schema):
    if _several_types(schema):
        return "object"
    unit = schema.get("x-unit")
    if unit:
        return _UNIT_DTYPES.get(unit, "int")
    kind = _scalar(schema)
    if kind == "string":
        fmt = schema.get("format")
        return {"date-time": "datetime", "date": "date"}.get(fmt, "str")
    return {"integer": "int", "number": "float", "boolean": "bool"}.get(kind, "object")


def _is_item_map(docs, schema, path):
    """A map of free keys to objects with a numeric ``value`` (the line items of a financial statement)."""
    values = schema.get("additionalProperties")
    if _scalar(schema) != "object" or schema.get("properties") or not isinstance(values, dict):
        return False
    values, _ = docs.flatten(values, path)
    return _scalar(values.get("properties", {}).get("value", {})) in ("number", "integer")


def _table(docs, doc, path, where, records):
    """The DataFrame layout of an endpoint whose ``x-endpoint.table`` names its records (``results``,
    ``results.values``): one column per scalar field, nested objects flattened one level (``day_close``).
    """
    if not records:
        return None
    keys = tuple(records.split("."))
    node, npath = docs.flatten(doc.get("$defs", {}).get("response", {}), path)
    for key in keys:
        node, npath = docs.flatten(node.get("properties", {}).get(key, {}), npath)
        if not node:
            raise SchemaError("%s: x-endpoint.table %r is not in the response" % (where, records))
    if _scalar(node) != "array":
        raise SchemaError("%s: x-endpoint.table %r is not an array of records" % (where, records))
    item, ipath = docs.flatten(node.get("items", {}), npath)
    columns = []
    for wire, sub in item.get("properties", {}).items():
        raw = sub
        sub, spath = docs.flatten(sub, ipath)
        python = raw.get("x-python-name") or sub.get("x-python-name") or snake_case(wire)
        if _scalar(sub) == "object" and sub.get("properties"):
            for inner_wire, inner in sub["properties"].items():
                inner_raw = inner
                inner, _ = docs.flatten(inner, spath)
                inner_python = inner_raw.get("x-python-name") or inner.get("x-python-name") or snake_case(inner_wire)
                dtype = _column_dtype(inner)
                if _is_item_map(docs, inner, spath):
                    dtype = "items"
                elif _scalar(inner) in ("object", "array"):
                    dtype = "object"
                columns.append(ColumnDef("%s_%s" % (python, inner_python), (wire, inner_wire), dtype))
            continue
        columns.append(ColumnDef(python, (wire,), _column_dtype(sub)))
    names = [c.name for c in columns]
    dups = sorted({n for n in names if names.count(n) > 1})
    if dups:
        raise SchemaError("%s: table columns named twice: %s" % (where, ", ".join(dups)))
    return TableDef(keys, columns)


def _load_stream(docs, root, registry):
    events, actions = [], []
    builder = _ModelBuilder(docs, registry)
    for path in _json_files(os.path.join(root, "stream")):
        where = docs.rel(path)
        doc = docs.load(path)
        if os.path.basename(path) == "actions.json":
            for key in sorted(doc.get("$defs", {})):
                sub = doc["$defs"][key]
                arg = sub.get("x-argument", {})
                const = sub.get("properties", {}).get("action", {}).get("const")
                if not sub.get("x-function") or not const or arg.get("kind") not in ("string", "list"):
                    raise SchemaError("%s: action %s needs x-function, action const, x-argument" % (where, key))
                actions.append(ActionDef(sub["x-function"], const, arg["name"], arg["kind"],
                                         _one_line(sub.get("description", ""))))
            continue
        flat, fpath = docs.flatten(doc, path)
        ev = flat.get("properties", {}).get("ev", {}).get("const")
        if not ev:
            raise SchemaError("%s: stream event needs properties.ev.const" % where)
        model = builder.model(flat, fpath, where)
        normalized = []
        for item in flat.get("x-normalized", []):
            if "key" not in item or ("wire" in item) == ("const" in item):
                raise SchemaError("%s: x-normalized items are {key, wire} or {key, const}" % where)
            normalized.append((item["key"], item.get("wire"), item.get("const"), bool(item.get("optional"))))
        market = flat.get("x-market", "stocks")
        event = EventDef(model, ev, flat.get("x-channel"), normalized, market, flat.get("x-symbol-field", "sym"))
        events.append((flat.get("x-order", 0), market, ev, event))
    return [event for _, _, _, event in sorted(events, key=lambda item: item[:3])], actions


def _load_server(docs, root, registry):
    messages, schemas = [], {}
    builder = _ModelBuilder(docs, registry)
    for path in _json_files(os.path.join(root, "server")):
        where = docs.rel(path)
        doc = docs.load(path)
        key = os.path.basename(path)[:-5]
        model = builder.model(doc, path, where)
        schemas[key] = docs.inline(doc, path)
        disc = doc.get("x-discriminator")
        value = None
        if disc:
            value = doc.get("properties", {}).get(disc, {}).get("const")
            if value is None:
                raise SchemaError("%s: x-discriminator %s needs a const property" % (where, disc))
        messages.append(MessageDef(model, key, disc, value))
    return messages, schemas


#: Plain python modules that codegen copies verbatim into the output (they feed the hash too).
RUNTIME_DIR = os.path.join(os.path.dirname(os.path.abspath(__file__)), "runtime")


def inputs_hash(root, extra_dirs=()):
    """sha256 over the relative paths and bytes of every schema file, template and runtime module that feeds
    the output."""
    digest = hashlib.sha256()
    for base, label in [(root, "schema")] + [(d, os.path.basename(d)) for d in list(extra_dirs) + [RUNTIME_DIR]]:
        for dirpath, dirnames, filenames in os.walk(base):
            if base == root and dirpath == base:  # the provider's pinned documents feed the importer, not the output
                dirnames[:] = [d for d in dirnames if d != "provider"]
            dirnames.sort()
            for fname in sorted(filenames):
                if fname.endswith((".json", ".jinja2", ".py")) and fname != "__init__.py":
                    full = os.path.join(dirpath, fname)
                    rel = os.path.relpath(full, base).replace(os.sep, "/")
                    digest.update(("%s/%s\0" % (label, rel)).encode())
                    with open(full, "rb") as fh:
                        digest.update(fh.read().replace(b"\r\n", b"\n"))
                    digest.update(b"\0")
    return digest.hexdigest()


def load(root, template_dir=None):
    """Read the schema tree at ``root``; returns a :class:`Spec`. Raises :class:`SchemaError`."""
    docs = _Documents(root)
    rest_models, stream_models, server_models = {}, {}, {}
    endpoints, response_schemas = _load_rest(docs, root, rest_models)
    events, actions = _load_stream(docs, root, stream_models)
    messages, schemas = _load_server(docs, root, server_models)
    return Spec(
        rest_models=rest_models,
        endpoints=endpoints,
        stream_models=stream_models,
        events=events,
        actions=actions,
        server_models=server_models,
        messages=messages,
        schemas=schemas,
        inputs_hash=inputs_hash(root, [template_dir] if template_dir else []),
        response_schemas=response_schemas,
        official=_load_official(root, endpoints),
    )


def _load_official(root, endpoints):
    from codegen.official import load_official

    try:
        return load_official(root, endpoints)
    except ValueError as exc:
        raise SchemaError(str(exc)) from None
