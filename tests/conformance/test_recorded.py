"""Every response the provider is recorded sending (tests/recorded: the official client's test mocks and the
examples of the provider's API documents, see NOTICE.md) against what we generate from schema/:

* the body validates against our response schema (schema/rest, corrections included);
* our model parses it without dropping a key (unknown keys land in ``extra_fields``) and no value contradicts
  the type of its field (a float in an integer field, text in a list field);
* where the endpoint has a DataFrame form, every cell equals the JSON value, every record key has a column,
  and days / ISO times are datetime columns, not text.

Where the provider's document and its data disagree, schema/rest carries an ``x-override`` with
``x-evidence`` naming the recorded file; :func:`test_every_correction_names_existing_evidence` keeps those
names true.
"""

import json

import pytest

from polygon._generated.endpoints import ENDPOINTS, parse_response
from polygon.core.tables import records_frame

from .recorded import RECORDED, frame_problems, load, records_at, rest_bodies, sources, type_problems
from .schemas import SCHEMA_DIR, model_differences, schema_errors

BODIES = rest_bodies()
IDS = [rel[len("rest/"):-len(".json")] for rel, _ in BODIES]


def test_the_corpus_is_complete():
    """Every stored body is listed in SOURCES.json with its origin and licence, and every endpoint that the
    provider's document gives an example for has at least one body."""
    listed = sources()
    on_disk = {str(p.relative_to(RECORDED)) for p in RECORDED.glob("*/**/*.json")}
    assert on_disk == set(listed), sorted(on_disk ^ set(listed))
    for rel, meta in listed.items():
        assert meta["licence"] == "MIT" and meta["source"] == "massive-com/client-python", rel
        assert meta.get("commit") or meta.get("document"), rel
    covered = {endpoint for _, endpoint in BODIES}
    assert len(BODIES) >= 120 and len(covered) >= 55, (len(BODIES), sorted(set(ENDPOINTS) - covered))


@pytest.mark.parametrize("rel,endpoint", BODIES, ids=IDS)
def test_recorded_body_validates_against_our_schema(rel, endpoint):
    problems = schema_errors(endpoint, load(rel))
    assert not problems, problems[:10]


@pytest.mark.parametrize("rel,endpoint", BODIES, ids=IDS)
def test_recorded_body_parses_without_loss(rel, endpoint):
    body = load(rel)
    parsed = parse_response(endpoint, body)
    lost = model_differences(body, parsed)
    assert not lost, lost[:10]
    unknown = _unknown_keys(parsed)
    assert not unknown, "keys our schema does not name (kept in extra_fields): %s" % unknown[:10]
    models = parsed if isinstance(parsed, list) else [parsed]
    mistyped = [p for model in models for p in type_problems(model)]
    assert not mistyped, mistyped[:10]


@pytest.mark.parametrize("rel,endpoint", [b for b in BODIES if ENDPOINTS[b[1]].table],
                         ids=[i for i, b in zip(IDS, BODIES) if ENDPOINTS[b[1]].table])
def test_recorded_records_frame_equals_the_json(rel, endpoint):
    table = ENDPOINTS[endpoint].table
    records = records_at(load(rel), table.records)
    frame = records_frame(table, records, "America/New_York")
    assert len(frame) == len(records)
    problems = frame_problems(table, records, frame)
    assert not problems, problems[:10]


def _unknown_keys(model, where=""):
    """Dotted paths of the ``extra_fields`` anywhere in a parsed model: keys the schema does not describe."""
    out = []
    if isinstance(model, list):
        for i, item in enumerate(model):
            out += _unknown_keys(item, "%s[%d]" % (where, i))
        return out
    if isinstance(model, dict):
        for key, item in model.items():
            out += _unknown_keys(item, "%s.%s" % (where, key))
        return out
    if not hasattr(model, "extra_fields"):
        return out
    out += ["%s.%s" % (where, key) if where else key for key in sorted(model.extra_fields or {})]
    for name in model.WIRE_TO_PYTHON.values():
        out += _unknown_keys(getattr(model, name), "%s.%s" % (where, name) if where else name)
    return out


def _corrections(node, pointer=""):
    if isinstance(node, dict):
        if "x-override" in node:
            yield pointer, node
        for key, value in node.items():
            yield from _corrections(value, pointer + "/" + key)
    elif isinstance(node, list):
        for i, value in enumerate(node):
            yield from _corrections(value, "%s/%d" % (pointer, i))


def test_every_correction_names_existing_evidence():
    """An ``x-override`` of schema/rest says why: ``x-evidence`` lists recorded files (tests/recorded/...) or
    the official client's source that show the provider's real data."""
    found = 0
    for path in sorted((SCHEMA_DIR / "rest").glob("*.json")):
        for pointer, node in _corrections(json.loads(path.read_text())):
            evidence = node.get("x-evidence") or node["x-override"].get("x-evidence")
            assert evidence, "%s%s: x-override without x-evidence" % (path.name, pointer)
            for item in evidence if isinstance(evidence, list) else [evidence]:
                if item.startswith("tests/recorded/"):
                    assert (RECORDED.parent.parent / item).exists(), "%s%s: %s" % (path.name, pointer, item)
            found += 1
    assert found
