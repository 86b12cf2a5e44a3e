"""``python -m codegen import-openapi``: a tiny OpenAPI fixture, and the provider's document (schema/provider)."""

import importlib
import importlib.util
import json
import os
import shutil
import subprocess
import sys

import pytest

from codegen.__main__ import generate
from codegen.loader import load
from codegen.names import snake_case
from codegen.openapi import ImportError_, import_openapi, short_description

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
MINI = os.path.join(ROOT, "tests", "codegen", "data", "openapi", "mini.json")
PROVIDER = os.path.join(ROOT, "schema", "provider", "rest.json")


def _read(path):
    with open(path, encoding="utf-8") as fh:
        return json.load(fh)


def test_import_mini_document(tmp_path):
    written = import_openapi(MINI, ["/v2/last/trade/{stocksTicker}", "day_bars=/v1/bars/{date}"], str(tmp_path))
    assert [os.path.basename(p) for p in written] == ["last_trade.json", "day_bars.json"]

    trade = _read(tmp_path / "rest" / "last_trade.json")
    assert trade["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    assert trade["x-endpoint"] == {
        "name": "last_trade", "method": "GET", "path": "/v2/last/trade/{stocksTicker}",
        "summary": "Last Trade", "paginated": True,
    }
    params = trade["$defs"]["parameters"]
    assert params["required"] == ["stocksTicker"]
    assert params["properties"]["stocksTicker"]["x-in"] == "path"
    assert params["properties"]["stocksTicker"]["x-python-name"] == "ticker"
    assert params["properties"]["order"] == {
        "type": "string", "enum": ["asc", "desc"], "description": "Order.", "x-in": "query", "x-python-name": "order",
    }
    assert params["properties"]["limit"]["maximum"] == 100
    assert params["properties"]["ticker.gte"]["x-python-name"] == "ticker_gte"
    response = trade["$defs"]["response"]
    assert response["x-model"] == "LastTradeResponse"
    assert set(response["properties"]) == {"status", "next_url", "results"}  # allOf flattened, $ref resolved
    assert response["required"] == ["status"]
    results = response["properties"]["results"]
    assert results["x-model"] == "LastTradeResult"
    assert results["properties"]["T"]["description"] == "The symbol ."
    assert results["properties"]["c"]["items"] == {"type": "integer"}

    bars = _read(tmp_path / "rest" / "day_bars.json")
    assert bars["$defs"]["response"]["type"] == "array"
    item = bars["$defs"]["response"]["items"]
    assert item["x-model"] == "DayBars"
    assert {k: v["x-python-name"] for k, v in item["properties"].items()} == {
        "o": "open", "h": "high", "l": "low", "c": "close", "queryCount": "query_count", "next_url": "next_url",
    }

    files = generate(str(tmp_path))
    package = tmp_path / "mini_generated"
    package.mkdir()
    for name, source in files.items():
        (package / name).write_text(source)
    spec = importlib.util.spec_from_file_location("mini_generated", str(package / "__init__.py"),
                                                  submodule_search_locations=[str(package)])
    module = importlib.util.module_from_spec(spec)
    sys.modules["mini_generated"] = module
    try:
        spec.loader.exec_module(module)
        models = importlib.import_module("mini_generated.models")
    finally:
        for name in [n for n in sys.modules if n == "mini_generated" or n.startswith("mini_generated.")]:
            del sys.modules[name]
    model = models.LastTradeResponse.from_wire({"status": "OK", "results": {"T": "AAPL", "p": 1.5, "c": [1]}})
    assert model.results.T == "AAPL" and model.results.c == [1]


def test_refresh_keeps_hand_made_annotations(tmp_path):
    import_openapi(MINI, ["/v2/last/trade/{stocksTicker}"], str(tmp_path))
    path = tmp_path / "rest" / "last_trade.json"
    doc = _read(path)
    results = doc["$defs"]["response"]["properties"]["results"]
    results["x-model"] = "LastTrade"
    results["properties"]["T"]["x-python-name"] = "ticker"
    results["properties"]["c"] = {"$ref": "../common/conditions.json#/$defs/conditions"}
    doc["$defs"]["parameters"]["properties"]["order"]["default"] = "asc"
    doc["$defs"]["parameters"]["properties"]["limit"]["maximum"] = 999  # the document's own bound wins
    path.write_text(json.dumps(doc))

    import_openapi(MINI, ["/v2/last/trade/{stocksTicker}"], str(tmp_path))  # name found from the path
    fresh = _read(path)
    results = fresh["$defs"]["response"]["properties"]["results"]
    assert results["x-model"] == "LastTrade"
    assert results["properties"]["T"]["x-python-name"] == "ticker"
    assert results["properties"]["c"] == {"$ref": "../common/conditions.json#/$defs/conditions"}
    assert fresh["$defs"]["parameters"]["properties"]["order"]["default"] == "asc"
    assert fresh["$defs"]["parameters"]["properties"]["limit"]["maximum"] == 100


def test_unknown_path_is_an_error(tmp_path):
    with pytest.raises(ImportError_, match="/v9/nothing"):
        import_openapi(MINI, ["/v9/nothing"], str(tmp_path))


def test_import_cli(tmp_path):
    result = subprocess.run(
        [sys.executable, "-m", "codegen", "--schema", str(tmp_path), "import-openapi", MINI, "x=/v1/bars/{date}"],
        cwd=ROOT, capture_output=True, text=True, timeout=60,
    )
    assert result.returncode == 0, result.stderr
    assert "x.json" in result.stdout
    assert load(str(tmp_path)).endpoints[0].name == "x"


def test_short_description():
    assert short_description("One <b>two</b>. Three.") == "One two ."
    assert short_description("See [docs](https://x.test) now") == "See docs now"
    assert len(short_description("word " * 100)) == 160


@pytest.mark.parametrize(
    "wire, python",
    [("queryCount", "query_count"), ("ticker.gte", "ticker_gte"), ("from", "from_"), ("T", "T"),
     ("todaysChangePerc", "todays_change_perc"), ("HTTPCode", "http_code"), ("1d", "_1d")],
)
def test_snake_case(wire, python):
    assert snake_case(wire) == python


def test_refresh_from_provider_document_is_a_no_op(tmp_path):
    """Re-importing the whole provider document (``--all``) leaves the committed files unchanged."""
    schema = tmp_path / "schema"
    shutil.copytree(os.path.join(ROOT, "schema"), schema)
    notes = []
    written = import_openapi(PROVIDER, [], str(schema), all_paths=True, notes=notes)
    assert notes == []  # every path of the document is known: as an endpoint or one of its variants
    assert len(written) == 58  # the newer surface's files (issue 24, sourced elsewhere) are left as they are
    variants = sum(len(_read(p)["x-endpoint"].get("variants", [])) for p in written)
    assert len(written) + variants == len(_read(PROVIDER)["paths"]) == 89
    for fname in sorted(os.listdir(schema / "rest")):
        with open(schema / "rest" / fname, encoding="utf-8") as fh, \
                open(os.path.join(ROOT, "schema", "rest", fname), encoding="utf-8") as ref:
            assert fh.read() == ref.read(), fname
