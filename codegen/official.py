"""schema/official/ -> ``polygon/_generated/official.py``: the official client's models and methods.

Format: /work/handoff/x-official.md, also schema/official/README.md. :func:`load_official` checks every
entry against the loaded endpoints (each ``wire`` name must be a parameter of the route's endpoint) and
returns the IR :func:`render_official` renders; every problem of every file is reported at once.
"""

import json
import logging
import os
import re
import textwrap
from dataclasses import dataclass, field
from typing import Any, Dict, List, Optional, Tuple

from codegen.names import is_identifier

logger = logging.getLogger(__name__)

RESERVED_ARGS = ("params", "raw", "options")
_METHOD_KEYS = {"x-source", "x-edited", "method", "on", "summary", "args", "call", "key", "model", "routes"}
_ROUTE_KEYS = {"endpoint", "when", "wire", "fixed"}
_ARG_KEYS = {"name", "default", "list"}
_MODEL_KEYS = {"x-source", "x-edited", "model", "doc", "aliases", "fields"}
_FIELD_KEYS = {"name", "wire", "model", "list", "map", "absent", "type"}
_TYPES = {"float": "float", "int": "int", "str": "str", "bool": "bool", "list": "List[Any]", "dict": "Dict[str, Any]"}
_RUNTIME_NAMES = ("extra_keys", "model_list", "model_map", "model_one", "OfficialMethod", "OfficialRoute")


@dataclass
class OfficialField:
    name: str
    wire: str
    annotation: str
    kind: str  # value | one | list | map
    model: Optional[str] = None
    empty_when_absent: bool = False


@dataclass
class OfficialModel:
    name: str
    doc: str
    source: str
    fields: List[OfficialField]
    aliases: Tuple[str, ...] = ()


@dataclass
class OfficialArg:
    name: str
    required: bool
    default: Any = None
    is_list: bool = False


@dataclass
class OfficialRouteDef:
    endpoint: str
    when: Dict[str, Tuple[Any, ...]]
    params: Dict[str, str]
    fixed: Dict[str, Any]


@dataclass
class OfficialMethodDef:
    name: str
    on: str
    summary: str
    source: str
    args: List[OfficialArg]
    call: str
    key: Optional[str]
    model: str
    routes: List[OfficialRouteDef] = field(default_factory=list)


@dataclass
class OfficialSpec:
    methods: List[OfficialMethodDef]
    models: List[OfficialModel]  # nested models before their users


def _files(directory):
    if not os.path.isdir(directory):
        return []
    return [os.path.join(directory, f) for f in sorted(os.listdir(directory)) if f.endswith(".json")]


def _read(path, problems):
    try:
        with open(path, encoding="utf-8") as fh:
            return json.load(fh)
    except (OSError, ValueError) as exc:
        problems.append("%s: %s" % (path, exc))
        return None


def _unknown(where, obj, allowed, problems):
    extra = sorted(set(obj) - allowed)
    if extra:
        problems.append("%s: unknown key(s) %s; allowed: %s" % (where, ", ".join(extra), ", ".join(sorted(allowed))))


def _load_model(path, where, doc, problems):
    _unknown(where, doc, _MODEL_KEYS, problems)
    name = doc.get("model")
    if name + ".json" != os.path.basename(path):
        problems.append("%s: file name must be model + .json" % where)
    fields, seen = [], set()
    for i, item in enumerate(doc.get("fields", [])):
        at = "%s: fields[%d]" % (where, i)
        _unknown(at, item, _FIELD_KEYS, problems)
        fname, wire = item.get("name"), item.get("wire")
        if not isinstance(fname, str) or not is_identifier(fname) or fname in seen or not isinstance(wire, str):
            problems.append("%s: needs a unique python identifier 'name' and a 'wire' key" % at)
            continue
        seen.add(fname)
        model = item.get("model")
        kind = "list" if item.get("list") else "map" if item.get("map") else "one" if model else "value"
        if model:
            inner = '"%s"' % model
            annotation = {"one": inner, "list": "List[%s]" % inner, "map": "Dict[str, %s]" % inner}[kind]
        elif kind == "list":
            annotation = "List[Any]"
        else:
            annotation = _TYPES.get(item.get("type"), "Any")
        absent = item.get("absent")
        fields.append(OfficialField(fname, wire, annotation, kind, model, absent is not None))
    return OfficialModel(name, " ".join(str(doc.get("doc", "")).split()), doc.get("x-source", ""), fields,
                         tuple(doc.get("aliases", ())))


def _load_method(path, where, doc, endpoints, models, problems, notes):
    _unknown(where, doc, _METHOD_KEYS, problems)
    for key in ("x-source", "method", "summary", "args", "call", "model", "routes"):
        if key not in doc:
            problems.append("%s: missing %r" % (where, key))
            return None
    if doc["method"] + ".json" != os.path.basename(path):
        problems.append("%s: file name must be method + .json" % where)
    if doc["call"] not in ("get", "pages"):
        problems.append("%s: call must be 'get' or 'pages'" % where)
    if doc["model"] not in models:
        problems.append("%s: model %r has no schema/official/models file" % (where, doc["model"]))
    args = []
    for i, item in enumerate(doc["args"]):
        _unknown("%s: args[%d]" % (where, i), item, _ARG_KEYS, problems)
        if not is_identifier(item.get("name", "")):
            problems.append("%s: args[%d] needs a python identifier 'name'" % (where, i))
            continue
        args.append(OfficialArg(item["name"], "default" not in item, item.get("default"), bool(item.get("list"))))
    names = {a.name for a in args}
    # params/raw/options: where the official puts them; the ones it lacks are accepted at the end
    args += [OfficialArg(n, False, False if n == "raw" else None) for n in RESERVED_ARGS if n not in names]
    routes = []
    for i, route in enumerate(doc["routes"]):
        at = "%s: routes[%d]" % (where, i)
        _unknown(at, route, _ROUTE_KEYS, problems)
        endpoint = endpoints.get(route.get("endpoint"))
        if endpoint is None:  # the provider's API lost it (or it is not imported yet): this route is not served
            notes.append("%s: endpoint %r is not in schema/rest: route left out" % (at, route.get("endpoint")))
            continue
        by_wire = {p.wire_name: p.name for p in endpoint.params}
        when = []
        for arg, values in sorted(route.get("when", {}).items()):
            if arg not in names:
                problems.append("%s: when names %r, not an argument" % (at, arg))
            when.append((arg, tuple(values) if isinstance(values, list) else (values,)))
        params = []
        for arg, wire in route.get("wire", {}).items():
            if arg not in names or arg in RESERVED_ARGS:
                problems.append("%s: wire maps %r, not an argument" % (at, arg))
            elif wire not in by_wire:  # accepted, not sent (the provider dropped it, or a typo: strict mode says)
                notes.append("%s: %r is not a parameter of %s (has: %s): not sent" % (at, wire, endpoint.name,
                                                                                   ", ".join(sorted(by_wire))))
            else:
                params.append((arg, by_wire[wire]))
        fixed = []
        for wire, value in sorted(route.get("fixed", {}).items()):
            if wire not in by_wire:
                notes.append("%s: fixed %r is not a parameter of %s: not sent" % (at, wire, endpoint.name))
            else:
                fixed.append((by_wire[wire], value))
        routes.append(OfficialRouteDef(endpoint.name, dict(when), dict(params), dict(fixed)))
    if not routes:
        notes.append("%s: no route is served: method left out" % where)
        return None
    return OfficialMethodDef(doc["method"], doc.get("on", "client"), " ".join(doc["summary"].split()),
                             doc["x-source"], args, doc["call"], doc.get("key"), doc["model"], routes)


def _ordered(models, problems):
    done, order = set(), []

    def visit(name, chain):
        if name in done:
            return
        if name in chain:
            return  # a cycle: string annotations make the order irrelevant
        for item in models[name].fields:
            if item.model:
                if item.model not in models:
                    problems.append("schema/official/models/%s.json: field %s names unknown model %r"
                                    % (name, item.name, item.model))
                else:
                    visit(item.model, chain + (name,))
        done.add(name)
        order.append(models[name])

    for name in sorted(models):
        visit(name, ())
    return order


def load_official(root, endpoints, strict=False):
    """The :class:`OfficialSpec` of ``root``/official (empty when the folder is missing).

    An entry that names an endpoint or parameter schema/rest does not have (the provider's API changed, or
    it is not imported yet) loses that route or parameter, with a note logged; ``strict`` makes those errors
    too (the tests run it strict over the committed schema).

    :param endpoints: the loaded ``EndpointDef`` list of schema/rest.
    :raises ValueError: every problem found, one per line (the caller wraps it in its SchemaError).
    """
    base = os.path.join(root, "official")
    problems, notes = [], []
    models = {}
    for path in _files(os.path.join(base, "models")):
        doc = _read(path, problems)
        if doc is not None:
            model = _load_model(path, os.path.relpath(path, root), doc, problems)
            models[model.name] = model
    by_name = {e.name: e for e in endpoints}
    methods = []
    for path in _files(os.path.join(base, "methods")):
        doc = _read(path, problems)
        if doc is not None:
            method = _load_method(path, os.path.relpath(path, root), doc, by_name, models, problems, notes)
            if method is not None:
                methods.append(method)
    order = _ordered(models, problems)
    if strict:
        problems += notes
    else:
        for note in notes:
            logger.info("%s", note)
    if problems:
        raise ValueError("%d problem(s) in schema/official:\n  %s" % (len(problems), "\n  ".join(problems)))
    return OfficialSpec(methods, order)


# -- rendering ---------------------------------------------------------------------------------------
def _signature(method):
    """The argument lines of a generated method, official order and defaults."""
    lines = []
    for arg in method.args:
        if arg.name == "params":
            lines.append("params: Optional[Dict[str, Any]] = None")
        elif arg.name == "raw":
            lines.append("raw: bool = %r" % bool(arg.default))
        elif arg.name == "options":
            lines.append("options: Any = None")
        elif arg.required:
            lines.append("%s: Any" % arg.name)
        else:
            lines.append("%s: Any = %r" % (arg.name, arg.default))
    return lines


def _returns(method):
    if method.call == "pages":
        return "an iterator of ``%s`` over every page" % method.model
    return "``%s`` (a list of them when the result is a list)" % method.model


def _doc_lines(method):
    """The docstring text of a generated method, wrapped and indented: summary, then where it comes from,
    what it returns and which endpoints serve it."""
    from codegen.render import doc_text

    def wrap(text):
        return textwrap.wrap(doc_text(text), width=108, break_long_words=False, break_on_hyphens=False)

    lines = wrap(method.summary) + [""]
    lines += wrap("The official call form (read from %s). Returns %s. Served by %s."
                  % (method.source, _returns(method), _served(method)))
    return "\n".join(lines[:1] + [("        " + line) if line else "" for line in lines[1:]])


def _model_doc(model):
    from codegen.render import doc_text

    lines = textwrap.wrap(doc_text(model.doc or model.name), width=112, break_long_words=False,
                          break_on_hyphens=False)
    lines += [""] + textwrap.wrap(
        "The official client's ``%s``, same attributes in the same order (read from %s); wire keys it does "
        "not name are kept in ``_extra`` (not compared, not shown)." % (model.name, doc_text(model.source)),
        width=112, break_long_words=False, break_on_hyphens=False)
    return "\n".join(lines[:1] + [("    " + line) if line else "" for line in lines[1:]])


def _served(method):
    out = []
    for route in method.routes:
        cond = ", ".join("%s=%s" % (arg, "|".join(str(v) for v in values)) for arg, values in route.when.items())
        out.append("``%s``%s" % (route.endpoint, " (%s)" % cond if cond else ""))
    return ", ".join(out)


def render_official(renderer, spec):
    """The source of ``official.py`` (``renderer``: the :class:`codegen.render.Renderer` of this run)."""
    official = spec.official
    parts = [renderer._t("official_model.jinja2", model=model, doc=_model_doc(model)) for model in official.models]
    aliases = sorted((alias, model.name) for model in official.models for alias in model.aliases)
    if aliases:
        parts.append("\n".join("%s = %s" % pair for pair in aliases))
    methods = [dict(m=m, signature=_signature(m), doc=_doc_lines(m),
                    argnames=[a.name for a in m.args if a.name not in RESERVED_ARGS],
                    lists=tuple(a.name for a in m.args if a.is_list)) for m in official.methods]
    parts.append(renderer._t("official_table.jinja2", methods=methods))
    parts.append(renderer._t("official_methods.jinja2", methods=methods, on="client",
                             title="OfficialMethods", what="client"))
    parts.append(renderer._t("official_methods.jinja2", methods=methods, on="vx",
                             title="OfficialVXMethods", what="``vx`` attribute"))
    exported = sorted([m.name for m in official.models] + [a for a, _ in aliases]
                      + ["OFFICIAL_METHODS", "OfficialMethods", "OfficialVXMethods"])
    parts.append("__all__ = %s" % renderer_literal(exported))
    body = "\n".join(parts)
    needed = {("typing", name) for name in ("Any", "ClassVar", "Dict", "FrozenSet", "List", "Optional")
              if re.search(r"\b%s\[?" % name, body)}
    if official.models:
        needed.add(("dataclasses", None))
    used = {name for name in _RUNTIME_NAMES if re.search(r"\b%s\b" % name, body)}
    return renderer._module("official.py", parts, needed, [("._official_runtime", used)])


def renderer_literal(value):
    from codegen.render import py_literal

    return py_literal(value)
