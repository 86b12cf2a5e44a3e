"""``python -m codegen import-official``: write schema/official/ entries by reading the official client.

The facts (method signatures, path templates, result keys, model attributes and the wire keys they read)
are read from the installed ``massive`` package by introspection: signatures with :mod:`inspect`, the path
template and the ``_get``/``_paginate`` call from the method's syntax tree, and each model's wire keys by
running its ``from_dict`` over probe dictionaries that record which key feeds which attribute. Nothing of
the official client is copied: only names and keys are written, as JSON (format: schema/official/README.md).
"""

import ast
import dataclasses
import enum
import inspect
import json
import os
import re
import textwrap
import typing

RESERVED_ARGS = ("params", "raw", "options")
_SUFFIXES = ("any_of", "all_of", "lte", "lt", "gte", "gt")
_PLACEHOLDER = re.compile(r"^\{(\w+)\}$")


class OfficialImportError(Exception):
    """The official client could not be read as expected; the message names the method or model."""


# -- reading the official client -------------------------------------------------------------------
def _official():
    try:
        import massive
        from massive.rest.vX import VXClient
    except ImportError:  # pragma: no cover - the importer runs in the dev venv
        raise OfficialImportError("import-official needs the official client: pip install massive") from None
    try:
        from importlib.metadata import version
        release = version("massive")
    except Exception:  # pragma: no cover
        release = "unknown"
    return massive, massive.RESTClient, VXClient, release


def _source_name(obj, massive):
    root = os.path.dirname(os.path.dirname(os.path.abspath(massive.__file__)))
    return os.path.relpath(inspect.getsourcefile(obj), root).replace(os.sep, "/")


def public_methods(client_class):
    """Names of the public methods a class defines itself or inherits from the official mixins."""
    return sorted(name for name, value in inspect.getmembers(client_class, inspect.isfunction)
                  if not name.startswith("_") and name != "time_mult")


def _json_value(value):
    if isinstance(value, enum.Enum):
        return value.value
    return value


def _is_list(annotation):
    text = str(annotation)
    return "List" in text or "list[" in text or "Iterable" in text or "Sequence" in text


def _parse_method(fn):
    """``(path template or None, call kind, result key, model class name)`` from the method's syntax tree."""
    tree = ast.parse(textwrap.dedent(inspect.getsource(fn)))
    path, call, key, model = None, None, None, None
    for node in ast.walk(tree):
        if isinstance(node, ast.Assign) and any(isinstance(t, ast.Name) and t.id == "url" for t in node.targets):
            path = _template(node.value)
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr in ("_get",
                                                                                                     "_paginate"):
            call = "get" if node.func.attr == "_get" else "pages"
            for kw in node.keywords:
                if kw.arg == "path" and path is None:
                    path = _template(kw.value)
                if kw.arg == "result_key" and isinstance(kw.value, ast.Constant):
                    key = kw.value.value
                if kw.arg == "deserializer" and isinstance(kw.value, ast.Attribute):
                    model = ast.unparse(kw.value.value)
    if call == "pages" and key is None:
        key = "results"
    return path, call, key or None, model  # result_key="" means the whole body, as None does


def _template(node):
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return node.value
    if isinstance(node, ast.JoinedStr):
        out = []
        for part in node.values:
            if isinstance(part, ast.Constant):
                out.append(part.value)
            else:
                out.append("{%s}" % ast.unparse(part.value))
        return "".join(out)
    return None


# -- matching official paths with schema/rest --------------------------------------------------------
def _rest_endpoints(schema_dir):
    endpoints = {}
    rest = os.path.join(schema_dir, "rest")
    for fname in sorted(os.listdir(rest)):
        if fname.endswith(".json"):
            with open(os.path.join(rest, fname), encoding="utf-8") as fh:
                doc = json.load(fh)
            head = doc["x-endpoint"]
            props = doc.get("$defs", {}).get("parameters", {}).get("properties", {})
            paths = [head["path"]] + list(head.get("variants", ()))
            query = {wire for wire, p in props.items() if p.get("x-in") == "query"}
            endpoints[fname[:-5]] = (paths, query)
    return endpoints


def _unify(official, ours, args):
    """``(when, wire)`` when the official path template can be our path, else None."""
    a, b = official.strip("/").split("/"), ours.strip("/").split("/")
    if len(a) != len(b):
        return None
    when, wire = {}, {}
    for seg_a, seg_b in zip(a, b):
        pa, pb = _PLACEHOLDER.match(seg_a), _PLACEHOLDER.match(seg_b)
        if pa and pb:
            wire[pa.group(1)] = pb.group(1)
        elif pa:
            if pa.group(1) in args:
                when[pa.group(1)] = seg_b
        elif pb or seg_a != seg_b:
            return None
    return when, wire


def _narrower(small, big):
    return len(small) < len(big) and all(big.get(k) == v for k, v in small.items())


def wire_name(arg):
    """The official client's own rule for query names: ``timestamp_gte`` -> ``timestamp.gte``."""
    for suffix in _SUFFIXES:
        if arg.endswith("_" + suffix):
            return arg[: -len(suffix) - 1] + "." + suffix
    return arg


def method_entry(name, fn, endpoints, source, notes):
    """The methods/<name>.json object for official method ``fn``."""
    signature = inspect.signature(fn)
    args = []
    for pname, param in list(signature.parameters.items())[1:]:
        item = {"name": pname}
        if param.default is not inspect.Parameter.empty:
            item["default"] = _json_value(param.default)
        # the official client joins every *_any_of value with commas, whatever its annotation says
        if (_is_list(param.annotation) or pname.endswith("_any_of")) and pname not in RESERVED_ARGS:
            item["list"] = True
        args.append(item)
    names = [a["name"] for a in args if a["name"] not in RESERVED_ARGS]
    path, call, key, model = _parse_method(fn)
    if path is None or call is None or model is None:
        raise OfficialImportError("%s: could not read its path, call or deserializer" % name)
    routes = []
    for endpoint, (paths, query) in sorted(endpoints.items()):
        for ours in paths:
            found = _unify(path, ours, names)
            if found is None:
                continue
            when, wire = found
            for arg in names:
                if arg in wire or arg in when or "{%s}" % arg in path:
                    continue
                if wire_name(arg) in query:
                    wire[arg] = wire_name(arg)
            route = {"endpoint": endpoint}
            if when:
                route = {"when": when, "endpoint": endpoint}
            route["wire"] = {arg: wire[arg] for arg in names if arg in wire}
            routes.append(route)
            break
    # a path literal matched by an official placeholder that a less specific route already serves is not a
    # variant (``/tickers/types`` is not the ticker ``types``; ``.../crypto/tickers`` is not a direction)
    routes = [r for r in routes if not any(_narrower(s.get("when", {}), r.get("when", {})) for s in routes)]
    routes.sort(key=lambda r: (not r.get("when"), json.dumps(r.get("when", {}), sort_keys=True), r["endpoint"]))
    for route in routes:
        unsent = [a for a in names if a not in route["wire"] and a not in route.get("when", {})]
        if unsent:
            notes.append("%s: %s not sent on %s (no such parameter)" % (name, ", ".join(unsent), route["endpoint"]))
    if not routes:
        return None
    if sum(1 for r in routes if not r.get("when")) > 1:
        notes.append("%s: several endpoints match %s without a condition: %s"
                     % (name, path, ", ".join(r["endpoint"] for r in routes)))
    doc = inspect.getdoc(fn) or ""
    return {
        "x-source": source,
        "method": name,
        "summary": doc.strip().splitlines()[0] if doc.strip() else name,
        "args": args,
        "call": call,
        "key": key,
        "model": model,
        "routes": routes,
    }


# -- models -----------------------------------------------------------------------------------------
class _Everything:
    def __contains__(self, key):
        return True


class _Probe:
    """A stand-in for a wire dict: every key is present (unless ``absent``), values are probes too."""

    def __init__(self, key, absent=(), hollow=()):
        self.key = key
        self.absent = absent
        self.hollow = hollow
        self.asked = []
        self.keys_called = False

    def _child(self, key):
        if key not in self.asked:
            self.asked.append(key)
        if key in self.hollow:
            return _Probe(key, absent=_Everything())
        return _Probe(key)

    def __contains__(self, key):
        if key in self.absent:
            self.asked.append(key) if key not in self.asked else None
            return False
        self._child(key)
        return True

    def get(self, key, default=None):
        if key in self.absent:
            return default
        return self._child(key)

    def __getitem__(self, key):
        if key in self.absent:
            raise KeyError(key)
        return self._child(key)

    def __iter__(self):
        return iter([_Probe(self.key + "[]")])

    def items(self):
        return [("k", _Probe(self.key + "{}"))]

    def keys(self):
        self.keys_called = True
        return []

    def __bool__(self):
        return True


def _type_text(hint):
    text = str(hint).replace("typing.", "")
    for plain in ("float", "int", "str", "bool"):
        if text in ("Optional[%s]" % plain, plain, "<class '%s'>" % plain):
            return plain
    if "List" in text or "list" in text:
        return "list"
    if "Dict" in text or "dict" in text:
        return "dict"
    return None


def _describe(value, cls_of):
    """(kind, model) of an attribute's value in the all-present run."""
    if isinstance(value, _Probe):
        return "scalar", None
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return "model", cls_of(type(value))
    if isinstance(value, list) and value and dataclasses.is_dataclass(value[0]):
        return "list", cls_of(type(value[0]))
    if isinstance(value, dict) and value and dataclasses.is_dataclass(next(iter(value.values()))):
        return "map", cls_of(type(next(iter(value.values()))))
    return "scalar", None


def model_entry(cls, source, aliases, notes):
    """The models/<name>.json object for official model class ``cls`` and the nested classes it uses."""
    hints = typing.get_type_hints(cls)
    names = [f.name for f in dataclasses.fields(cls)]
    nested = {}
    root = _Probe("")
    full = cls.from_dict(root)
    doc = cls.__doc__ or ""
    entry = {"x-source": source, "model": cls.__name__}
    if doc and not doc.startswith(cls.__name__ + "("):
        entry["doc"] = " ".join(doc.split())
    if aliases:
        entry["aliases"] = sorted(aliases)
    fields = []
    if root.keys_called:  # Model(**d): the attribute names are the wire keys
        for fname in names:
            item = {"name": fname, "wire": fname}
            kind = _type_text(hints.get(fname))
            if kind:
                item["type"] = kind
            fields.append(item)
        entry["fields"] = fields
        return entry, nested
    wire_of = {}
    absent_of = {}
    for key in list(root.asked):
        try:
            partial = cls.from_dict(_Probe("", absent=(key,)))
        except Exception:  # the official model fails without this key (we give None): empty it instead
            try:
                partial = cls.from_dict(_Probe("", hollow=(key,)))
            except Exception:
                partial = None
        for fname in names:
            before = getattr(full, fname, None)
            after = getattr(partial, fname, None) if partial is not None else None
            if fname not in wire_of and (partial is None and isinstance(before, _Probe) and before.key == key
                                         or partial is not None and _changed(before, after)):
                wire_of[fname] = key
                if partial is not None and after is not None and not isinstance(after, _Probe):
                    absent_of[fname] = _absent(after)
    for fname in names:
        value = getattr(full, fname, None)
        if fname not in wire_of:
            if isinstance(value, _Probe):
                wire_of[fname] = value.key
            else:
                notes.append("%s.%s: no wire key found (left out)" % (cls.__name__, fname))
                continue
        kind, model = _describe(value, lambda c: c)
        item = {"name": fname, "wire": wire_of[fname]}
        if model is not None:
            nested[model.__name__] = model
            item["model"] = model.__name__
            if kind == "list":
                item["list"] = True
            elif kind == "map":
                item["map"] = True
        else:
            kind_text = _type_text(hints.get(fname))
            if kind_text:
                item["type"] = kind_text
        if fname in absent_of:
            item["absent"] = absent_of[fname]
        fields.append(item)
    entry["fields"] = fields
    return entry, nested


def _signature(value):
    """What tells two runs of ``from_dict`` apart: which probe, which model (empty or not), how many items."""
    if isinstance(value, _Probe):
        return ("probe", value.key)
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return ("model", type(value).__name__, not _empty(value))
    if isinstance(value, (list, dict)):
        return (type(value).__name__, len(value))
    return ("value", repr(value))


def _changed(before, after):
    return _signature(before) != _signature(after)


def _empty(instance):
    return all(getattr(instance, f.name, None) in (None, [], {}) for f in dataclasses.fields(instance))


def _absent(value):
    if dataclasses.is_dataclass(value):
        return {}
    if isinstance(value, (list, dict)) and not value:
        return value
    return None


def _model_modules(models_module):
    """``massive.rest.models`` and its submodules (sorted, so aliases come out in one order)."""
    import pkgutil

    found = [models_module]
    for info in sorted(pkgutil.iter_modules(models_module.__path__), key=lambda i: i.name):
        found.append(__import__("%s.%s" % (models_module.__name__, info.name), fromlist=["*"]))
    return found


def _model_class(fn, name, models_module):
    """The deserializer class ``name`` as the method's own module sees it (not every model is exported by
    ``massive.rest.models``: the economy, Benzinga, ETF Global, TMX ones live only in their modules)."""
    module = inspect.getmodule(fn)
    cls = getattr(module, name, None) or getattr(models_module, name, None)
    if cls is None:
        raise OfficialImportError("%s: model %s not found in %s or massive.rest.models"
                                  % (fn.__name__, name, module.__name__))
    return cls


# -- writing ----------------------------------------------------------------------------------------
def dump(obj):
    """JSON text of an entry: one line per key, one line per item of a list (args, fields, routes)."""
    lines = ["{"]
    items = list(obj.items())
    for i, (key, value) in enumerate(items):
        end = "," if i < len(items) - 1 else ""
        if isinstance(value, list) and value and isinstance(value[0], dict):
            lines.append("  %s: [" % json.dumps(key))
            lines += ["    %s%s" % (json.dumps(v, ensure_ascii=False), "," if j < len(value) - 1 else "")
                      for j, v in enumerate(value)]
            lines.append("  ]%s" % end)
        else:
            lines.append("  %s: %s%s" % (json.dumps(key), json.dumps(value, ensure_ascii=False), end))
    lines.append("}")
    return "\n".join(lines) + "\n"


def _write(path, obj, force, written, notes):
    if os.path.exists(path) and not force:
        notes.append("kept %s (exists; --force rewrites it)" % os.path.relpath(path))
        return
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w", encoding="utf-8", newline="\n") as fh:
        fh.write(dump(obj))
    written.append(path)


def import_official(methods, schema_dir, all_methods=False, force=False, notes=None):
    """Write schema/official/methods/<m>.json and the models they return; returns the paths written.

    :param methods: official method names (``[]`` with ``all_methods``: every method whose path
        schema/rest covers).
    """
    notes = notes if notes is not None else []
    massive, client, vx, release = _official()
    models_module = __import__("massive.rest.models", fromlist=["*"])
    endpoints = _rest_endpoints(schema_dir)
    on_client = set(public_methods(client))
    on_vx = set(public_methods(vx)) - on_client
    wanted = sorted(on_client | on_vx) if all_methods else list(methods)
    written, models = [], {}
    out = os.path.join(schema_dir, "official")
    for name in wanted:
        owner = client if name in on_client else vx if name in on_vx else None
        if owner is None:
            raise OfficialImportError("%s is not a public method of massive.RESTClient (or .vx)" % name)
        fn = getattr(owner, name)
        source = "%s (massive %s)" % (_source_name(fn, massive), release)
        entry = method_entry(name, fn, endpoints, source, notes)
        if entry is None:
            if not all_methods:
                notes.append("%s: no schema/rest endpoint has its path: add one first" % name)
            continue
        if owner is vx:
            entry = dict(entry, on="vx")
            entry = {k: entry[k] for k in ("x-source", "method", "on", "summary", "args", "call", "key", "model",
                                           "routes")}
        cls = _model_class(fn, entry["model"], models_module)
        entry["model"] = cls.__name__
        models[cls.__name__] = cls
        _write(os.path.join(out, "methods", name + ".json"), entry, force, written, notes)
    aliases = {}
    for module in _model_modules(models_module):
        for alias, value in vars(module).items():
            if isinstance(value, type) and dataclasses.is_dataclass(value) and alias != value.__name__ \
                    and alias not in aliases.get(value.__name__, ()):
                aliases.setdefault(value.__name__, []).append(alias)
    done = set()
    while models:
        name, cls = models.popitem()
        if name in done:
            continue
        done.add(name)
        entry, nested = model_entry(cls, "%s (massive %s)" % (_source_name(cls, massive), release),
                                    aliases.get(cls.__name__, ()), notes)
        # the methods name a model by the alias they import; file names use the class name
        _write(os.path.join(out, "models", cls.__name__ + ".json"), entry, force, written, notes)
        models.update({k: v for k, v in nested.items() if k not in done})
    return written


def run_import(methods, schema_dir, all_methods, force):
    """The ``import-official`` command: print what was written and every note; returns the exit status."""
    if not methods and not all_methods:
        raise OfficialImportError("import-official needs METHOD... or --all")
    notes = []
    for path in import_official(methods, schema_dir, all_methods, force, notes):
        print("wrote %s" % os.path.relpath(path))
    for note in notes:
        print("note: %s" % note)
    print("now run: python -m codegen")
    return 0
