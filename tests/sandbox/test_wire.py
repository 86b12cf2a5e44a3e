"""wire.py is the bottom of the sandbox: the market model imports it, so it imports no sandbox module at run time
(it used to import market.Bars, a circle that forced a lazy import inside market.py)."""

import ast
from pathlib import Path

import polygon.sandbox.wire as wire


def _runtime_imports(tree):
    for node in tree.body:
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.dump(node.test):
            continue  # annotations only
        for sub in ast.walk(node):
            if isinstance(sub, ast.ImportFrom) and sub.module:
                yield sub.module
            elif isinstance(sub, ast.Import):
                yield from (alias.name for alias in sub.names)


def test_wire_imports_no_sandbox_module():
    tree = ast.parse(Path(wire.__file__).read_text())
    imported = list(_runtime_imports(tree))
    assert "polygon.core.json_codec" in imported or "polygon.core" in imported
    assert not [name for name in imported if name.startswith("polygon.sandbox")], imported


def test_request_ids_are_32_hex_and_unique():
    ids = {wire.request_id() for _ in range(1000)}
    assert len(ids) == 1000 and all(len(i) == 32 and int(i, 16) >= 0 for i in ids)
