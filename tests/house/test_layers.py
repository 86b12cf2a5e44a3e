"""The house rules, read from the source: layers point down, the sandbox stays apart, no import circles.

The layers (lowest first) are the ones docs/architecture.md draws. A new module must be given its layer here,
or this test fails and says where it belongs.
"""

import os
import sys

import pytest
from importgraph import cycles, import_graph

ROOT = os.path.join(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))), "polygon")

#: lowest first; a module may import its own layer and the ones below it
LAYERS = ["generated", "base", "transport", "quality", "data", "stream", "apps"]
#: module (or package prefix) -> layer
PLACES = {
    "polygon._generated": "generated",
    # settings, the one exception tree, the market vocabulary (polygon.markets), OCC tickers, JSON, argument
    # coercion of the generated methods, the flat-file layout
    "polygon._version": "base", "polygon.exceptions": "base", "polygon.config": "base", "polygon.markets": "base",
    "polygon.options": "base", "polygon.core.json_codec": "base", "polygon.core.params": "base",
    "polygon.flatfiles.layout": "base",
    # the REST client and its parts; the threaded werkzeug server both servers run on
    "polygon.core": "transport", "polygon.polygon_server.serving": "transport", "polygon.official": "transport",
    "polygon.validators": "quality",
    "polygon.storage": "data", "polygon.manager": "data", "polygon.ticks": "data", "polygon.chain": "data",
    "polygon.flatfiles": "data", "polygon.sql": "data",
    "polygon.websocket": "stream",
    "polygon.sandbox": "apps", "polygon.polygon_server": "apps", "polygon.cli": "apps", "polygon.__main__": "apps",
    "polygon": "apps",
}
#: what the sandbox may share with the client: the generated tables and the base helpers (and the server core)
SANDBOX_MAY_USE = {"generated", "base"}
SANDBOX_ALSO = {"polygon.polygon_server.serving"}


def layer_of(module, places=PLACES):
    """The layer of ``module``: its own entry, else the nearest sub-package entry (the top package's own
    entry covers only its ``__init__``); ``None`` when unplaced."""
    if module in places:
        return places[module]
    name = module.rpartition(".")[0]
    while "." in name:
        if name in places:
            return places[name]
        name = name.rpartition(".")[0]
    return None


def violations(root, package, places=PLACES, layers=LAYERS):
    """Every broken rule, as readable lines (empty when the house is in order)."""
    graph = import_graph(root, package)
    order = {name: i for i, name in enumerate(layers)}
    out = []
    for module in sorted(graph):
        if layer_of(module, places) is None:
            out.append("%s has no layer: add it to PLACES in tests/house/test_layers.py" % module)
    stdlib = getattr(sys, "stdlib_module_names", None)
    for module, deps in sorted(graph.items()):
        mine = layer_of(module, places)
        if mine is None:
            continue
        for dep, line in sorted(deps.items()):
            inside = dep == package or dep.startswith(package + ".")
            if mine == "generated":
                if inside and layer_of(dep, places) != "generated":
                    out.append("%s:%d imports %s: generated code imports only the standard library"
                               % (module, line, dep))
                elif not inside and stdlib is not None and dep not in stdlib:
                    out.append("%s:%d imports %s: generated code imports only the standard library"
                               % (module, line, dep))
                continue
            if not inside:
                continue
            theirs = layer_of(dep, places)
            if theirs is None:
                continue
            if module.startswith(package + ".sandbox") and not dep.startswith(package + ".sandbox"):
                if theirs not in SANDBOX_MAY_USE and dep not in SANDBOX_ALSO:
                    out.append("%s:%d imports %s (%s): the sandbox shares only generated tables and base helpers "
                               "with the client" % (module, line, dep, theirs))
                continue
            if order[theirs] > order[mine]:
                out.append("%s:%d (%s) imports %s (%s): a lower layer never imports a higher one"
                           % (module, line, mine, dep, theirs))
    for circle in cycles(graph):
        out.append("import circle (lazy imports count): " + " -> ".join(circle))
    return out


def test_the_house_keeps_its_rules():
    found = violations(ROOT, "polygon")
    assert found == [], "\n".join(found)


def _write(root, files):
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)


@pytest.mark.parametrize("files, expected", [
    ({"low.py": "def f():\n    from pkg import high\n", "high.py": "import pkg.low\n"},
     ["pkg.low:2 (base) imports pkg.high (data): a lower layer never imports a higher one",
      "import circle (lazy imports count): pkg.high -> pkg.low"]),
    ({"_generated/models.py": "import requests\n", "_generated/__init__.py": ""},
     ["pkg._generated.models:1 imports requests: generated code imports only the standard library"]),
    ({"_generated/models.py": "from pkg import low\n", "_generated/__init__.py": ""},
     ["pkg._generated.models:1 imports pkg.low: generated code imports only the standard library"]),
    ({"sandbox/__init__.py": "", "sandbox/rest.py": "from pkg.high import x\n"},
     ["pkg.sandbox.rest:1 imports pkg.high (data): the sandbox shares only generated tables and base helpers "
      "with the client"]),
    ({"stray.py": ""}, ["pkg.stray has no layer: add it to PLACES in tests/house/test_layers.py"]),
    ({"low.py": "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from pkg import high\n"}, []),
])
def test_the_checker_catches_a_forbidden_import(tmp_path, files, expected):
    if "requests" in str(files) and not hasattr(sys, "stdlib_module_names"):
        pytest.skip("sys.stdlib_module_names needs Python >= 3.10")
    base = {"__init__.py": "", "low.py": "", "high.py": ""}
    base.update(files)
    _write(tmp_path, base)
    places = {"pkg": "apps", "pkg._generated": "generated", "pkg.low": "base", "pkg.high": "data",
              "pkg.sandbox": "apps"}
    assert violations(str(tmp_path), "pkg", places=places) == expected


def test_a_clean_tree_passes_the_checker(tmp_path):
    _write(tmp_path, {"__init__.py": "", "low.py": "import json\n", "high.py": "from pkg import low\n",
                      "_generated/__init__.py": "", "_generated/models.py": "import dataclasses\n"})
    places = {"pkg": "apps", "pkg._generated": "generated", "pkg.low": "base", "pkg.high": "data"}
    assert violations(str(tmp_path), "pkg", places=places) == []
