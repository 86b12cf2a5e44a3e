"""The importer on a small provider-like OpenAPI document of ours, and a regeneration proven end to end.

``data/openapi/provider_like.json`` is written for these tests (not the provider's file): per-market
variants of one URL shape, an array parameter, integer enums, ``oneOf`` date | date-time, dotted range
filters, a currency pair in the path, nested and ``oneOf`` response objects and an example that sends
a field the schema lacks. The last test copies the repository's code into a temp tree, imports the
document, changes it (a new response field, a new endpoint), refreshes with the one-command import,
shows ``--check`` catching the stale tree, regenerates, and calls the new method of the real client
against a stub route on 127.0.0.1.
"""

import json
import os
import shutil
import subprocess
import sys
import threading

import pytest
from werkzeug.serving import make_server
from werkzeug.wrappers import Request, Response

from codegen.__main__ import generate
from codegen.loader import load
from codegen.openapi import ImportError_, import_openapi

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
DOC = os.path.join(ROOT, "tests", "codegen", "data", "openapi", "provider_like.json")
AGGS = "/v2/aggs/ticker/{%s}/range/{multiplier}/{timespan}/{from}/{to}"
NAMES = [
    "get_aggs=" + AGGS % "stocksTicker",
    "get_aggs=" + AGGS % "cryptoTicker",
    "list_trades=/v3/trades/{stockTicker}",
    "list_trades=/v3/trades/{cryptoTicker}",
    "get_real_time_currency_conversion=/v1/conversion/{from}/{to}",
    "get_snapshot_all=/v2/snapshot/locale/us/markets/stocks/tickers",
    "list_ticker_news=/v2/reference/news",
    "get_ticker_events=/vX/reference/tickers/{id}/events",
]


def _read(path):
    with open(path, encoding="utf-8") as fh:
        return json.load(fh)


def _params(schema_dir, name):
    return _read(os.path.join(schema_dir, "rest", name + ".json"))["$defs"]["parameters"]


def test_import_handles_the_whole_document(tmp_path):
    written = import_openapi(DOC, NAMES, str(tmp_path))
    assert len(written) == 6  # eight paths, two per-market variants merged

    aggs = _read(tmp_path / "rest" / "get_aggs.json")
    assert aggs["x-endpoint"]["variants"] == [AGGS % "cryptoTicker"]
    props = aggs["$defs"]["parameters"]["properties"]
    assert set(props) == {"stocksTicker", "multiplier", "timespan", "from", "to", "limit", "sort"}  # united
    assert props["stocksTicker"]["x-python-name"] == "ticker" and props["stocksTicker"]["x-kind"] == "symbol"
    assert props["from"]["x-kind"] == "agg_bound" and props["from"]["x-python-name"] == "from_"
    bar = aggs["$defs"]["response"]["properties"]["results"]["items"]
    assert bar["properties"]["t"]["x-python-name"] == "timestamp" and bar["properties"]["t"]["x-unit"] == "ms"

    conversion = _params(tmp_path, "get_real_time_currency_conversion")["properties"]
    assert conversion["from"]["x-kind"] == "currency" and "pattern" in conversion["from"]  # not a date
    assert conversion["precision"]["enum"] == [0, 1, 2, 3, 4] and conversion["precision"]["type"] == "integer"

    tickers = _params(tmp_path, "get_snapshot_all")["properties"]["tickers"]
    assert tickers["type"] == "array" and tickers["items"] == {"type": "string"} and tickers["x-kind"] == "symbol"

    news = _params(tmp_path, "list_ticker_news")["properties"]
    assert news["published_utc"]["type"] == "string" and news["published_utc"]["x-formats"] == ["date", "date-time"]
    assert news["published_utc.gte"]["x-python-name"] == "published_utc_gte"
    assert news["published_utc.gte"]["x-kind"] == "datetime"

    trades = _read(tmp_path / "rest" / "list_trades.json")
    tparams = trades["$defs"]["parameters"]["properties"]
    assert tparams["timestamp"]["x-kind"] == tparams["timestamp.gte"]["x-kind"] == "timestamp_ns"
    response = trades["$defs"]["response"]
    assert response["required"] == ["status"]  # the example leaves request_id out: optional
    item = response["properties"]["results"]["items"]
    assert item["properties"]["sip_timestamp"]["x-unit"] == "ns"
    assert item["properties"]["trf_id"]["x-from-example"] is True and item["properties"]["trf_id"]["type"] == "integer"
    assert "exchange" in item["properties"]  # the crypto variant's field, united

    events = _read(tmp_path / "rest" / "get_ticker_events.json")["$defs"]["response"]["properties"]["results"]
    event = events["properties"]["events"]["items"]
    assert set(event["properties"]) == {"date", "event_type", "ticker_change"}  # oneOf objects united
    assert event["properties"]["ticker_change"]["x-model"]

    spec = load(str(tmp_path))
    names = {e.name: e for e in spec.endpoints}
    assert names["list_trades"].item_model and names["get_aggs"].variants == (AGGS % "cryptoTicker",)
    assert set(spec.response_schemas) == set(names)


def test_refresh_is_idempotent_and_keeps_local_corrections(tmp_path):
    import_openapi(DOC, NAMES, str(tmp_path))
    path = tmp_path / "rest" / "list_trades.json"
    doc = _read(path)
    doc["x-endpoint"]["table"] = "results"  # hand-set keys of x-endpoint survive
    doc["$defs"]["response"]["properties"]["results"]["items"]["properties"]["size"]["x-override"] = {"type": "integer"}
    path.write_text(json.dumps(doc))
    before = {f: (tmp_path / "rest" / f).read_text() for f in os.listdir(tmp_path / "rest")}
    notes = []
    import_openapi(DOC, [], str(tmp_path), all_paths=True, notes=notes)  # names from the files
    assert notes == []
    fresh = _read(path)
    assert fresh["x-endpoint"]["table"] == "results"
    assert fresh["$defs"]["response"]["properties"]["results"]["items"]["properties"]["size"]["x-override"]
    again = {f: (tmp_path / "rest" / f).read_text() for f in os.listdir(tmp_path / "rest")}
    assert again.keys() == before.keys() and again["get_aggs.json"] == before["get_aggs.json"]


def test_every_problem_is_reported_and_nothing_written(tmp_path):
    doc = _read(DOC)
    params = doc["paths"]["/v3/trades/{stockTicker}"]["get"]["parameters"]
    params += [
        {"name": "session", "in": "cookie", "schema": {"type": "string"}},
        {"name": "filter", "in": "query", "schema": {"type": "object"}},
        {"name": "pairs", "in": "query", "schema": {"type": "array", "items": {"type": "object"}}},
        {"$ref": "other.json#/components/parameters/X"},
    ]
    broken = tmp_path / "doc.json"
    broken.write_text(json.dumps(doc))
    schema = tmp_path / "schema"
    with pytest.raises(ImportError_) as info:
        import_openapi(str(broken), NAMES + ["/v9/missing", "bad name=/v2/reference/news"], str(schema))
    problems = info.value.problems
    expected = ["'session' in 'cookie'", "filter has unsupported schema type 'object'", "pairs has items of type",
                "only local $ref", "path not in the OpenAPI document: /v9/missing", "'bad name' is not a python"]
    for words in expected:
        assert any(words in p for p in problems), (words, problems)
    assert len(problems) == len(expected)
    assert str(len(problems)) in str(info.value)
    assert not (schema / "rest").exists() or not os.listdir(schema / "rest")


def test_all_names_a_new_path_and_says_so(tmp_path):
    import_openapi(DOC, NAMES, str(tmp_path))
    doc = _read(DOC)
    doc["paths"]["/v1/things/{ticker}"] = {"get": {"operationId": "GetThing", "summary": "A thing", "parameters": [
        {"name": "ticker", "in": "path", "required": True, "schema": {"type": "string"}}],
        "responses": {"200": {"description": "OK", "content": {"application/json": {"schema": {
            "type": "object", "properties": {"name": {"type": "string"}}}}}}}}}
    options = json.loads(json.dumps(doc["paths"]["/v3/trades/{cryptoTicker}"]).replace("cryptoTicker", "optionsTicker"))
    doc["paths"]["/v3/trades/{optionsTicker}"] = options
    changed = tmp_path / "doc.json"
    changed.write_text(json.dumps(doc))
    notes = []
    import_openapi(str(changed), [], str(tmp_path), all_paths=True, notes=notes)
    assert notes == ["new endpoint /v1/things/{ticker} named get_thing "
                     "(rename: python -m codegen import-openapi DOC NAME=/v1/things/{ticker})"]
    trades = _read(tmp_path / "rest" / "list_trades.json")
    assert "/v3/trades/{optionsTicker}" in trades["x-endpoint"]["variants"]  # same URL shape: a variant
    assert _params(tmp_path, "get_thing")["properties"]["ticker"]["x-kind"] == "symbol"
    assert "get_thing" in {e.name for e in load(str(tmp_path)).endpoints}
    assert "client.py" in generate(str(tmp_path))


class _Stub:
    """A werkzeug app on 127.0.0.1:0 answering ``routes[path]`` as JSON (404 otherwise)."""

    def __init__(self, routes):
        self.routes = routes
        self.server = make_server("127.0.0.1", 0, self, threaded=True)
        self.url = "http://127.0.0.1:%d" % self.server.server_port
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __call__(self, environ, start_response):
        path = Request(environ).path
        body = self.routes.get(path)
        response = Response(json.dumps(body if body is not None else {"status": "NOT_FOUND"}),
                            status=200 if body is not None else 404, content_type="application/json")
        return response(environ, start_response)

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(10)


CLIENT_SCRIPT = r"""
import json, sys
from polygon.core import PolygonClient
client = PolygonClient(api_key="k", base_url=sys.argv[1])
out = {"trades": [t.to_dict() for t in client.list_trades("AAPL")]}
if hasattr(client, "get_thing"):
    out["thing"] = client.get_thing("aapl").to_dict()
    out["doc"] = type(client).get_thing.__doc__
print(json.dumps(out))
"""


def _run(tree, *args, timeout=120):
    env = dict(os.environ, PYTHONPATH=str(tree))
    return subprocess.run([sys.executable] + list(args), cwd=str(tree), env=env, capture_output=True, text=True,
                          timeout=timeout)


def test_regeneration_when_the_api_changes(tmp_path):
    tree = tmp_path / "tree"
    ignore = shutil.ignore_patterns("__pycache__")
    for part in ("polygon", "codegen", "schema"):
        shutil.copytree(os.path.join(ROOT, part), tree / part, ignore=ignore)
    # start from a schema/ holding only our aggregates file (its local corrections, e.g. the bar model ``Agg``
    # that polygon.markets.frames reads the wire map from, survive the import) and let the document bring the rest
    for name in os.listdir(tree / "schema" / "rest"):
        if name != "get_aggs.json":
            os.remove(tree / "schema" / "rest" / name)
    doc = _read(DOC)
    (tmp_path / "rest.json").write_text(json.dumps(doc))
    first = _run(tree, "-m", "codegen", "import-openapi", str(tmp_path / "rest.json"), *NAMES)
    assert first.returncode == 0, first.stderr
    assert _run(tree, "-m", "codegen").returncode == 0
    assert _run(tree, "-m", "codegen", "--check").returncode == 0

    trade = {"price": 1.5, "sip_timestamp": 1704205800123456789, "venue": "Q"}
    routes = {"/v3/trades/AAPL": {"status": "OK", "results": [trade]},
              "/v1/things/AAPL": {"status": "OK", "name": "Apple", "score": 9.5}}
    with _Stub(routes) as stub:
        before = _run(tree, "-c", CLIENT_SCRIPT, stub.url)
        assert before.returncode == 0, before.stderr
        # a field the schema does not know yet is kept (under its wire name), never dropped
        assert json.loads(before.stdout) == {"trades": [{"price": 1.5, "size": None, "sip_timestamp": trade[
            "sip_timestamp"], "conditions": None, "trf_id": None, "exchange": None, "venue": "Q"}]}

        # the provider adds a response field and an endpoint
        item = doc["paths"]["/v3/trades/{stockTicker}"]["get"]["responses"]["200"]["content"]["application/json"]
        item["schema"]["properties"]["results"]["items"]["properties"]["venue"] = {"type": "string"}
        doc["paths"]["/v1/things/{ticker}"] = {"get": {
            "operationId": "GetThing", "summary": "One thing", "description": "A thing of a ticker.",
            "parameters": [{"name": "ticker", "in": "path", "required": True, "schema": {"type": "string"}}],
            "responses": {"200": {"description": "OK", "content": {"application/json": {"schema": {
                "type": "object", "properties": {"name": {"type": "string"}, "score": {"type": "number"}}}}}}}}}
        (tmp_path / "rest.json").write_text(json.dumps(doc))

        refresh = _run(tree, "-m", "codegen", "import-openapi", str(tmp_path / "rest.json"), "--all")
        assert refresh.returncode == 0, refresh.stderr
        assert "note: new endpoint /v1/things/{ticker} named get_thing" in refresh.stdout
        stale = _run(tree, "-m", "codegen", "--check")
        assert stale.returncode == 1
        assert "client.py: stale" in stale.stderr and "models.py: stale" in stale.stderr
        assert _run(tree, "-m", "codegen").returncode == 0
        assert _run(tree, "-m", "codegen", "--check").returncode == 0

        after = _run(tree, "-c", CLIENT_SCRIPT, stub.url)
        assert after.returncode == 0, after.stderr
        result = json.loads(after.stdout)
    assert result["trades"][0]["venue"] == "Q"
    assert result["thing"] == {"name": "Apple", "score": 9.5, "status": "OK"}  # status: not in its schema, kept
    assert "``GET /v1/things/{ticker}``" in result["doc"] and ":param ticker:" in result["doc"]
