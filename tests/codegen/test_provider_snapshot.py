"""schema/provider: the pinned structural snapshot of the provider's documents (``python -m codegen.snapshot``).

The snapshot files are what SOURCE.json says (sha256), carry no prose, keep names and example values, and the
importer derives from a snapshot the same schema as from the full document (descriptions already in schema/rest
are kept where the snapshot has none).
"""

import copy
import hashlib
import json
import os
import subprocess
import sys

from codegen.openapi import import_openapi
from codegen.snapshot import PROSE, strip

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
PROVIDER = os.path.join(ROOT, "schema", "provider")
MINI = os.path.join(ROOT, "tests", "codegen", "data", "openapi", "mini.json")

# a small document with the prose the importer reads: a nanosecond timestamp filter and an epoch field
TIMED = {
    "openapi": "3.0.3",
    "info": {"title": "timed", "description": "An API.", "version": "1"},
    "tags": [{"name": "stocks", "description": "Stocks API"}],
    "paths": {
        "/v3/trades/{stockTicker}": {
            "get": {
                "summary": "Trades",
                "description": "Get trades. Long prose.",
                "parameters": [
                    {"name": "stockTicker", "in": "path", "required": True, "schema": {"type": "string"}},
                    {"name": "timestamp", "in": "query", "schema": {"type": "string"},
                     "description": "Query by trade timestamp. Either a date or a nanosecond timestamp."},
                ],
                "responses": {"200": {"description": "OK", "content": {"application/json": {
                    "example": {"results": [{"sip_timestamp": 1, "description": "an example text"}]},
                    "examples": {"one": {"summary": "One trade", "value": {"results": []}}},
                    "schema": {"type": "object", "properties": {"results": {"type": "array", "items": {
                        "type": "object", "title": "Trade",
                        "properties": {
                            "sip_timestamp": {"type": "integer",
                                              "description": "The nanosecond accuracy SIP Unix Timestamp."},
                            "description": {"type": "string", "description": "A field called description."},
                        }}}}},
                }}}},
            }
        }
    },
}


def _read(path):
    with open(path, encoding="utf-8") as fh:
        return json.load(fh)


def _keys(node, found):
    """Every key of ``node``'s OpenAPI objects (not of name maps or example values)."""
    if isinstance(node, list):
        for item in node:
            _keys(item, found)
    elif isinstance(node, dict):
        for key, value in node.items():
            found.add(key)
            if key in ("example", "examples", "default", "enum"):
                continue
            if key in ("properties", "paths", "responses", "content", "schemas", "parameters") \
                    and isinstance(value, dict):
                for sub in value.values():
                    _keys(sub, found)
            else:
                _keys(value, found)
    return found


def test_snapshot_files_are_those_recorded():
    source = _read(os.path.join(PROVIDER, "SOURCE.json"))
    assert source["repository"] == "https://github.com/massive-com/client-python"
    assert len(source["commit"]) == 40
    assert set(source["files"]) == {"rest.json", "websocket.json"}
    for name, entry in source["files"].items():
        with open(os.path.join(PROVIDER, name), "rb") as fh:
            data = fh.read()
        assert hashlib.sha256(data).hexdigest() == entry["snapshot_sha256"], name
        assert len(data) == entry["snapshot_bytes"] < entry["source_bytes"], name
        assert len(entry["source_sha256"]) == 64
    with open(os.path.join(PROVIDER, "LICENSE"), encoding="utf-8") as fh:
        licence = fh.read()
    assert "Permission is hereby granted, free of charge" in licence  # MIT


def test_snapshot_files_have_no_prose_and_keep_the_examples():
    for name in ("rest.json", "websocket.json"):
        doc = _read(os.path.join(PROVIDER, name))
        assert strip(copy.deepcopy(doc)) == doc, name  # nothing left to strip
        assert not set(PROSE) & _keys(doc, set()), name
    rest = _read(os.path.join(PROVIDER, "rest.json"))
    assert len(rest["paths"]) == 89
    news = rest["paths"]["/v2/reference/news"]["get"]["responses"]["200"]["content"]["application/json"]
    article = news["example"]["results"][0]
    assert article["title"] and article["description"]  # example values are data, kept verbatim
    item = news["schema"]["properties"]["results"]["items"]
    assert {"title", "description"} <= set(item["properties"])  # field names are kept


def test_strip_drops_prose_keeps_names_values_and_the_importers_words():
    out = strip(copy.deepcopy(TIMED))
    assert out["info"] == {"version": "1"}
    assert out["tags"] == [{"name": "stocks"}]
    operation = out["paths"]["/v3/trades/{stockTicker}"]["get"]
    assert "summary" not in operation and "description" not in operation
    assert operation["parameters"][1] == {"name": "timestamp", "in": "query", "schema": {"type": "string"},
                                          "x-text-words": ["timestamp", "nanosecond"]}
    content = operation["responses"]["200"]["content"]["application/json"]
    assert content["example"] == TIMED["paths"]["/v3/trades/{stockTicker}"]["get"]["responses"]["200"][
        "content"]["application/json"]["example"]
    assert content["examples"] == {"one": {"value": {"results": []}}}
    props = content["schema"]["properties"]["results"]["items"]["properties"]
    assert props == {"sip_timestamp": {"type": "integer", "x-text-words": ["timestamp", "nanosecond"]},
                     "description": {"type": "string"}}


def test_import_from_snapshot_derives_what_the_full_document_gives(tmp_path):
    """A new endpoint: same units and kinds; descriptions absent, the summary falls back to the name."""
    full, snap = tmp_path / "full.json", tmp_path / "snap.json"
    full.write_text(json.dumps(TIMED))
    snap.write_text(json.dumps(strip(copy.deepcopy(TIMED))))
    (a,) = import_openapi(str(full), ["trades=/v3/trades/{stockTicker}"], str(tmp_path / "a"))
    (b,) = import_openapi(str(snap), ["trades=/v3/trades/{stockTicker}"], str(tmp_path / "b"))
    from_full, from_snap = _read(a), _read(b)
    assert from_full["$defs"]["parameters"]["properties"]["timestamp"]["x-kind"] == "timestamp_ns"
    assert from_snap["$defs"]["parameters"]["properties"]["timestamp"]["x-kind"] == "timestamp_ns"
    unit = from_snap["$defs"]["response"]["properties"]["results"]["items"]["properties"]["sip_timestamp"]
    assert unit["x-unit"] == "ns"
    assert from_snap["x-endpoint"]["summary"] == from_snap["description"] == "trades"
    assert from_full["x-endpoint"]["summary"] == "Trades"


def test_refresh_from_snapshot_keeps_existing_descriptions(tmp_path):
    schema = tmp_path / "schema"
    import_openapi(MINI, ["/v2/last/trade/{stocksTicker}"], str(schema))
    before = (schema / "rest" / "last_trade.json").read_text()
    assert '"description": "Order."' in before and '"summary": "Last Trade"' in before
    snap = tmp_path / "mini-snapshot.json"
    snap.write_text(json.dumps(strip(_read(MINI))))
    import_openapi(str(snap), ["/v2/last/trade/{stocksTicker}"], str(schema))
    assert (schema / "rest" / "last_trade.json").read_text() == before


def test_snapshot_cli_is_deterministic(tmp_path):
    outs = []
    for name in ("one.json", "two.json"):
        result = subprocess.run([sys.executable, "-m", "codegen.snapshot", MINI, str(tmp_path / name)],
                                cwd=ROOT, capture_output=True, text=True, timeout=60)
        assert result.returncode == 0, result.stderr
        digest = hashlib.sha256((tmp_path / name).read_bytes()).hexdigest()
        assert digest in result.stdout
        outs.append((tmp_path / name).read_bytes())
    assert outs[0] == outs[1]
    assert _read(tmp_path / "one.json") == strip(_read(MINI))
