"""The import graph of a package, read from its source with ``ast`` (nothing is imported or run).

Every ``import`` counts, at module level or inside a function (a lazy import is still a dependency), except
those under ``if TYPE_CHECKING:``, which never run.
"""

import ast
import os
from typing import Dict, Iterable, List, Set, Tuple

__all__ = ["cycles", "import_graph", "module_files"]


def module_files(root: str, package: str) -> Dict[str, str]:
    """``{dotted module name: path}`` for every ``.py`` file under ``root`` (the package's directory)."""
    out = {}
    for folder, dirs, files in os.walk(root):
        dirs[:] = sorted(d for d in dirs if not d.startswith((".", "__pycache__")))
        for name in sorted(files):
            if not name.endswith(".py"):
                continue
            rel = os.path.relpath(os.path.join(folder, name), root)[:-3].replace(os.sep, ".")
            dotted = package if rel == "__init__" else package + "." + (rel[:-9] if rel.endswith(".__init__") else rel)
            out[dotted] = os.path.join(folder, name)
    return out


def _targets(tree: ast.AST, module: str, is_package: bool) -> Iterable[Tuple[str, int]]:
    """``(imported name, line)``; ``from a import b`` yields ``a.b`` (a module, or a name of ``a``)."""
    base = module if is_package else module.rpartition(".")[0]
    skipped = set()
    for node in ast.walk(tree):  # annotations only: `if TYPE_CHECKING:` blocks are never executed
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.dump(node.test):
            skipped.update(id(n) for stmt in node.body for n in ast.walk(stmt))
    for node in ast.walk(tree):
        if id(node) in skipped:
            continue
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield alias.name, node.lineno
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                parts = base.split(".")
                anchor = ".".join(parts[: len(parts) - (node.level - 1)])
                name = anchor + ("." + node.module if node.module else "")
            else:
                name = node.module or ""
            for alias in node.names:
                yield name + "." + alias.name, node.lineno


def import_graph(root: str, package: str) -> Dict[str, Dict[str, int]]:
    """``{module: {imported module of the package or external top-level name: line}}``.

    Imports of the package are resolved to the longest module name that exists; other imports are kept as
    their top-level name (``'numpy'``, ``'json'``).
    """
    files = module_files(root, package)
    graph: Dict[str, Dict[str, int]] = {}
    for module, path in files.items():
        with open(path, "r", encoding="utf-8") as fh:
            tree = ast.parse(fh.read(), path)
        deps: Dict[str, int] = {}
        for name, line in _targets(tree, module, path.endswith("__init__.py")):
            if name == package or name.startswith(package + "."):
                target = name
                while target not in files and "." in target:
                    target = target.rpartition(".")[0]
                # importing a.b.c runs the packages a and a.b first: that is not a dependency of its own
                if target != module and target in files and not module.startswith(target + "."):
                    deps.setdefault(target, line)
            elif name:
                deps.setdefault(name.split(".")[0], line)
        graph[module] = deps
    return graph


def cycles(graph: Dict[str, Dict[str, int]], ignore: Set[str] = frozenset()) -> List[List[str]]:
    """Strongly connected components with more than one module (import circles), each sorted.

    Edges to a package's ``__init__`` from inside the package are ignored when listed in ``ignore``.
    """
    index: Dict[str, int] = {}
    low: Dict[str, int] = {}
    stack: List[str] = []
    on_stack: Set[str] = set()
    out: List[List[str]] = []
    counter = [0]

    def edges(node: str) -> List[str]:
        return [d for d in graph.get(node, {}) if d in graph and d not in ignore]

    def visit(root: str) -> None:  # iterative Tarjan: no recursion limit on deep graphs
        work = [(root, iter(edges(root)))]
        index[root] = low[root] = counter[0]
        counter[0] += 1
        stack.append(root)
        on_stack.add(root)
        while work:
            node, children = work[-1]
            advanced = False
            for child in children:
                if child not in index:
                    index[child] = low[child] = counter[0]
                    counter[0] += 1
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(edges(child))))
                    advanced = True
                    break
                if child in on_stack:
                    low[node] = min(low[node], index[child])
            if advanced:
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[node])
            if low[node] == index[node]:
                component = []
                while True:
                    item = stack.pop()
                    on_stack.discard(item)
                    component.append(item)
                    if item == node:
                        break
                if len(component) > 1:
                    out.append(sorted(component))
    for node in sorted(graph):
        if node not in index:
            visit(node)
    return sorted(out)
