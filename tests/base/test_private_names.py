"""No module reaches into another module's underscored names (the public seams are the only seams).

A name ``_x`` used as ``obj._x`` is private to the module that defines it: inside that module (another
instance of its own class), on ``self``/``cls`` (members a class inherits from its own bases) and a
namedtuple's ``_replace`` it is fine; on another module's object it is a seam that should be public.
The check parses every hand-written module of ``polygon/``.
"""

import ast
import pathlib

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[2] / "polygon"
NAMEDTUPLE_API = {"_replace", "_asdict", "_fields", "_make"}
# Known crossings in modules another part of the project owns; listed so no new one slips in.
TOLERATED = {("sandbox/reference.py", "_day_cache"), ("sandbox/stream.py", "_tape_source"),
             ("sandbox/endpoints/market_reference.py", "_expiry_kind")}


def _defined(tree: ast.AST) -> set:
    """Underscored names the module itself defines: functions, classes, assignments, attributes it sets,
    and ``__slots__`` entries."""
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            names.add(node.name)
        elif isinstance(node, ast.Attribute) and isinstance(node.ctx, ast.Store):
            names.add(node.attr)
        elif isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store):
            names.add(node.id)
        elif isinstance(node, ast.Constant) and isinstance(node.value, str) and node.value.startswith("_"):
            names.add(node.value)  # __slots__ = ("_x", ...)
    return {n for n in names if n.startswith("_")}


def crossings(source: str) -> list:
    """``[(line, 'expr._name')]`` of underscored names used on another module's objects."""
    tree = ast.parse(source)
    own = _defined(tree)
    out = []
    for node in ast.walk(tree):
        if not isinstance(node, ast.Attribute):
            continue
        name = node.attr
        if not name.startswith("_") or name.startswith("__") or name in NAMEDTUPLE_API or name in own:
            continue
        if isinstance(node.value, ast.Name) and node.value.id in ("self", "cls"):
            continue  # an object's own (possibly inherited) members
        out.append((node.lineno, "%s.%s" % (ast.unparse(node.value), name)))
    return out


def test_no_module_uses_another_modules_private_names():
    found = []
    for path in sorted(ROOT.rglob("*.py")):
        rel = path.relative_to(ROOT).as_posix()
        if rel.startswith("_generated/"):
            continue
        for line, text in crossings(path.read_text(encoding="utf-8")):
            if (rel, text.rsplit(".", 1)[1]) not in TOLERATED:
                found.append("polygon/%s:%d %s" % (rel, line, text))
    assert not found, "private names used across modules (make the seam public):\n" + "\n".join(found)


@pytest.mark.parametrize("source, bad", [
    ("from polygon import manager\nm = manager.PolygonDataManager()\nm._finish(None)\n", ["m._finish"]),
    ("from polygon import sessions\nsessions._year(2024)\n", ["sessions._year"]),
    ("class A:\n    def __init__(self):\n        self._x = 1\n    def eq(self, o):\n        return o._x\n", []),
    ("import collections\nP = collections.namedtuple('P', 'a')\nP(1)._replace(a=2)\n", []),
])
def test_the_check_catches_a_crossing(source, bad):
    assert [text for _, text in crossings(source)] == bad
