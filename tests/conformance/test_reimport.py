"""The local corrections of schema/rest (``x-override`` with ``x-evidence``, ``$ref`` s to schema/common)
survive a refresh from the provider's document: ``python -m codegen import-openapi <rest.json> --all`` over a
copy of schema/ leaves every file as it is, and the recorded bodies still validate and parse."""

import json
import shutil
import subprocess
import sys

import pytest

from .provider import ROOT, provider_path

REST = provider_path("rest.json")


@pytest.mark.skipif(REST is None, reason="no copy of the provider's rest.json (see tests/conformance/provider.py)")
def test_reimport_keeps_every_correction(tmp_path):
    schema = tmp_path / "schema"
    shutil.copytree(ROOT / "schema", schema)
    run = subprocess.run([sys.executable, "-m", "codegen", "--schema", str(schema), "import-openapi", str(REST),
                          "--all"], cwd=str(ROOT), capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, run.stdout + run.stderr
    changed = []
    overrides = 0
    for path in sorted((ROOT / "schema" / "rest").glob("*.json")):
        before, after = path.read_text(), (schema / "rest" / path.name).read_text()
        overrides += before.count('"x-override"')
        if before != after:
            changed.append(path.name)
        assert after.count('"x-override"') == before.count('"x-override"'), path.name
        assert after.count('"x-evidence"') == before.count('"x-evidence"'), path.name
    assert overrides >= 20
    assert not changed, "a refresh rewrote %s" % changed
    # and what is generated from the refreshed tree is what we generate now
    check = subprocess.run([sys.executable, "-m", "codegen", "--schema", str(schema), "--check"], cwd=str(ROOT),
                           capture_output=True, text=True, timeout=300)
    assert check.returncode == 0, check.stdout + check.stderr
    assert json.loads((schema / "common" / "financials.json").read_text())["$defs"]["Statement"]
