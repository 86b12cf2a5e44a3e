"""Tests mirror the package: each package has its tests folder, each top-level module is exercised by name."""

import os
import re

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
PACKAGE = os.path.join(ROOT, "polygon")
TESTS = os.path.join(ROOT, "tests")
#: polygon/<package>/ -> tests/<folder>/
PACKAGE_TESTS = {"_generated": "generated", "cli": "cli", "core": "core", "flatfiles": "flatfiles",
                 "manager": "manager", "markets": "markets", "official": "official", "polygon_server": "polygon_server",
                 "sandbox": "sandbox",
                 "storage": "storage", "validators": "validators", "websocket": "websocket"}


def _test_texts():
    out = {}
    for folder, _dirs, files in os.walk(TESTS):
        if "/data" in folder.replace(os.sep, "/") or "__pycache__" in folder:
            continue
        for name in files:
            if name.endswith(".py"):
                with open(os.path.join(folder, name), encoding="utf-8") as fh:
                    out[os.path.relpath(os.path.join(folder, name), TESTS)] = fh.read()
    return out


def test_every_package_has_its_tests_folder():
    packages = sorted(e.name for e in os.scandir(PACKAGE) if e.is_dir() and not e.name.startswith(("__", ".")))
    missing = [p for p in packages if p not in PACKAGE_TESTS or not any(
        n.startswith("test_") for n in os.listdir(os.path.join(TESTS, PACKAGE_TESTS[p])))]
    assert missing == [], "packages without a tests folder (add it to PACKAGE_TESTS): %s" % missing


def test_every_top_level_module_is_exercised_by_name():
    texts = "\n".join(_test_texts().values())
    modules = sorted(n[:-3] for n in os.listdir(PACKAGE) if n.endswith(".py") and not n.startswith("__"))
    untested = [m for m in modules if not re.search(r"polygon\.%s\b|from polygon import [^\n]*\b%s\b" % (m, m), texts)]
    assert untested == [], "modules no test names: %s" % untested


def test_no_test_module_sits_at_the_top_of_tests():
    stray = sorted(n for n in os.listdir(TESTS) if n.startswith("test_") and n.endswith(".py"))
    assert stray == [], "put these in the folder of what they test: %s" % stray
