"""Golden tests of the generator: tests/codegen/data/input -> tests/codegen/data/expected.

Regenerate the expected files after an intended change with
``UPDATE_GOLDEN=1 python -m pytest tests/codegen/test_codegen_golden.py``.
"""

import difflib
import importlib.util
import inspect
import json
import os
import re
import shutil
import sys

import jinja2
import pytest
from hypothesis import given
from hypothesis import strategies as st

from codegen.__main__ import generate
from codegen.loader import SchemaError, load
from codegen.render import (
    HEADER,
    OUTPUT_FILES,
    TEMPLATE_DIR,
    Renderer,
    doc_text,
    format_source,
    import_lines,
    make_environment,
    py_literal,
)

DATA = os.path.join(os.path.dirname(os.path.abspath(__file__)), "data")
INPUT = os.path.join(DATA, "input")
EXPECTED = os.path.join(DATA, "expected")


def _import_package(directory, name):
    spec = importlib.util.spec_from_file_location(
        name, os.path.join(directory, "__init__.py"), submodule_search_locations=[directory]
    )
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


def test_golden_output_matches_expected():
    files = generate(INPUT)
    if os.environ.get("UPDATE_GOLDEN"):
        for name, text in files.items():
            with open(os.path.join(EXPECTED, name), "w", encoding="utf-8", newline="\n") as fh:
                fh.write(text)
    assert sorted(files) == sorted(OUTPUT_FILES)
    for name, text in sorted(files.items()):
        with open(os.path.join(EXPECTED, name), encoding="utf-8") as fh:
            expected = fh.read()
        if text != expected:
            diff = "".join(difflib.unified_diff(expected.splitlines(True), text.splitlines(True), "expected", "got"))
            pytest.fail("golden %s differs (UPDATE_GOLDEN=1 to accept):\n%s" % (name, diff[:4000]))


def test_golden_package_works():
    pkg = _import_package(EXPECTED, "codegen_golden_pkg")
    endpoints = sys.modules["codegen_golden_pkg.endpoints"]
    models = sys.modules["codegen_golden_pkg.models"]
    stream = sys.modules["codegen_golden_pkg.stream"]
    server = sys.modules["codegen_golden_pkg.server_messages"]
    assert pkg.INPUTS_SHA256 == load(INPUT, TEMPLATE_DIR).inputs_hash or os.environ.get("UPDATE_GOLDEN")

    req = endpoints.build_request("get_bars", ticker="A B", from_="2024-01-02", limit=3, adjusted=False)
    assert req == ("GET", "/v1/bars/A%20B/2024-01-02", {"limit": "3", "adjusted": "false"})
    assert endpoints.ENDPOINTS["get_bars"].paginated is True
    assert endpoints.ENDPOINTS["list_days"].response_is_list is True
    assert [d.is_open for d in endpoints.parse_response("list_days", [{"date": "x", "isOpen": True}])] == [True]
    assert "is_open: Optional[bool]" in open(os.path.join(EXPECTED, "models.py")).read()  # x-override

    body = {"results": [{"o": 1.5, "t": 7, "zz": 1}], "queryCount": 1, "meta": {"tags": ["a"], "extra": {"k": 1}}}
    resp = models.BarsResponse.from_wire(body)
    assert resp.results == [models.Bar(open=1.5, timestamp=7, extra_fields={"zz": 1})]  # unknown keys are kept
    assert resp.results[0].zz == 1 and resp.results[0].extra_fields == {"zz": 1}
    assert resp.query_count == 1 and resp.meta.tags == ["a"] and resp.meta.extra == {"k": 1}
    assert resp.to_dict()["results"] == [{"open": 1.5, "timestamp": 7, "zz": 1}]
    assert resp.to_wire() == body
    with pytest.raises(AttributeError, match="'Bar' object has no attribute 'yy'"):
        resp.results[0].yy  # noqa: B018

    event = stream.parse_event({"ev": "X", "sym": "A", "o": 2.0, "t": 1})
    assert isinstance(event, stream.XEvent) and event.symbol == "A" and event.open == 2.0
    normalized = stream.NORMALIZERS["X"]({"ev": "X", "sym": "A", "o": 2.0})
    assert normalized == {"event_type": "x", "symbol": "A", "price": 2.0}
    assert stream.CHANNELS == ("X",)
    assert stream.subscribe_message(["X.A", "X.B"]) == {"action": "subscribe", "params": "X.A,X.B"}
    assert stream.subscribe_message("X.A") == {"action": "subscribe", "params": "X.A"}
    assert stream.auth_message("k") == {"action": "auth", "params": "k"}
    assert stream.parse_event({"ev": "nope"}) is None

    # arrays (list or comma text, items checked), enum/pattern, dotted range filters, currency-pair paths
    req = endpoints.build_request("list_trades", ticker="AAPL", timestamp_gte="2024-01-02", exchanges=[1, 3],
                                  tickers="AB,CD", order="asc")
    assert req == ("GET", "/v3/trades/AAPL", {"timestamp.gte": "2024-01-02", "exchanges": "1,3", "tickers": "AB,CD",
                                               "order": "asc"})
    for bad, words in [(dict(exchanges=[4]), "one of 1, 2, 3"), (dict(exchanges=["1"]), "got '1'"),
                       (dict(tickers=["ab"]), "matching ^[A-Z]+$"), (dict(tickers=[]), "a list"),
                       (dict(tickers=5), "a list"), (dict(limit=5), "between 1 and 4")]:
        with pytest.raises(endpoints.ParameterError, match=re.escape(words)):
            endpoints.build_request("list_trades", ticker="AAPL", **bad)
    assert endpoints.build_request("get_conversion", from_="AUD", to="USD", amount=2.5).path == "/v1/conversion/AUD/USD"
    with pytest.raises(endpoints.ParameterError, match="'from_'"):
        endpoints.build_request("get_conversion", from_="2024-01-02", to="USD")
    spec = endpoints.ENDPOINTS["list_trades"]
    assert spec.variants == ("/v3/trades/{cryptoTicker}",) and spec.item_model is models.Trade
    assert spec.param("ticker").kind == "symbol" and spec.param("tickers").item_type == "string"
    assert [(c.name, c.wire, c.dtype) for c in spec.table.columns] == [
        ("price", ("p",), "float"), ("sip_timestamp", ("sip_timestamp",), "timestamp_ns"),
        ("published_utc", ("published_utc",), "datetime"), ("day", ("day",), "date"),
        ("conditions", ("conditions",), "object"), ("venue_id", ("venue", "id"), "int"),
        ("venue_open", ("venue", "open"), "bool"),
    ]
    schemas = sys.modules["codegen_golden_pkg.response_schemas"].RESPONSE_SCHEMAS
    assert schemas["list_trades"]["properties"]["results"]["items"]["required"] == ["p"]
    assert "x-model" not in json.dumps(schemas) and "$ref" not in json.dumps(schemas["get_bars"])

    # the client mixin: typed methods, hand-written endpoints left out, *_df for tabular endpoints
    client = sys.modules["codegen_golden_pkg.client"].EndpointMethods
    assert not hasattr(client, "get_bars")  # x-endpoint.hand_written
    assert {"get_conversion", "list_days", "list_trades", "list_trades_df"} <= set(vars(client))
    signature = inspect.signature(client.list_trades)
    assert list(signature.parameters)[:3] == ["self", "ticker", "timestamp_gte"]
    assert signature.parameters["ticker"].default is inspect.Parameter.empty
    assert signature.return_annotation.__args__ == (models.Trade,)  # Iterator[Trade]
    assert ":param timestamp_gte:" in client.list_trades.__doc__
    assert "``venue_open`` boolean" in client.list_trades_df.__doc__

    class Echo(client):
        def _call(self, name, params, max_pages=None):
            return name, params, max_pages

    assert Echo().list_trades("X", limit=2, max_pages=3) == (
        "list_trades", {"ticker": "X", "timestamp_gte": None, "exchanges": None, "tickers": None, "order": None,
                        "limit": 2}, 3)

    assert server.ACTION_MESSAGES == {"ping": server.Ping}
    assert server.parse_message({"action": "ping"}) == server.Ping()
    assert server.SCHEMAS["ping"]["properties"]["symbols"] == {"type": "string", "x-python-name": "symbol"}


def test_output_is_deterministic_and_has_header():
    first = generate(INPUT)
    second = Renderer(load(INPUT, TEMPLATE_DIR)).render_all()
    assert first == second
    for name, text in first.items():
        lines = text.splitlines()
        assert lines[0] == HEADER, name
        assert lines[1].startswith("# inputs sha256: ") and len(lines[1].split()[-1]) == 64, name
        assert "datetime.now" not in text and text.endswith("\n") and not text.endswith("\n\n")


def test_inputs_hash_changes_with_schema(tmp_path):
    copy = tmp_path / "schema"
    shutil.copytree(INPUT, copy)
    before = load(str(copy)).inputs_hash
    path = copy / "rest" / "list_days.json"
    doc = json.loads(path.read_text())
    doc["x-endpoint"]["summary"] = "Changed."
    path.write_text(json.dumps(doc))
    assert load(str(copy)).inputs_hash != before


def test_environment_is_strict():
    env = make_environment()
    assert env.undefined is jinja2.StrictUndefined
    with pytest.raises(jinja2.UndefinedError):
        env.from_string("{{ missing }}").render()


@pytest.mark.parametrize(
    "value, text",
    [
        (None, "None"),
        (True, "True"),
        (3, "3"),
        (1.5, "1.5"),
        ("a\"b\n", '"a\\"b\\n"'),
        (("x",), '("x",)'),
        (("x", 1), '("x", 1)'),
        ({"a": [1, {"b": False}]}, '{"a": [1, {"b": False}]}'),
    ],
)
def test_py_literal(value, text):
    assert py_literal(value) == text
    assert eval(text) == value  # noqa: S307 - literal round trip


_json = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False, allow_infinity=False) | st.text(),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=4),
    max_leaves=20,
)


@given(_json)
def test_py_literal_round_trips_json_data(value):
    assert eval(py_literal(value)) == value  # noqa: S307


@given(st.text(max_size=30))
def test_doc_text_is_safe_in_a_docstring(text):
    source = '"""%s"""' % doc_text(text)
    assert eval(source).rstrip(" ") == " ".join("".join(c if c.isprintable() else " " for c in text).split())  # noqa: S307


def test_py_literal_long_dict_is_multiline_and_evaluates():
    value = {"k%d" % i: list(range(10)) for i in range(10)}
    text = py_literal(value)
    assert text.count("\n") == 11
    assert eval(text) == value  # noqa: S307


def test_import_lines_sorted_and_grouped():
    lines = import_lines(
        {("typing", "Optional"), ("typing", "Any"), ("numbers", None), ("dataclasses", "dataclass")},
        [(".models", {"B", "A"})],
    )
    assert lines == [
        "import numbers",
        "from dataclasses import dataclass",
        "from typing import Any, Optional",
        "",
        "from .models import A, B",
    ]


def test_format_source_collapses_blank_lines():
    assert format_source("a  \n\n\n\n\nb\n\n") == "a\n\n\nb\n"


def _broken_tree(tmp_path, relpath, mutate):
    copy = tmp_path / "schema"
    shutil.copytree(INPUT, copy)
    path = copy / relpath
    doc = json.loads(path.read_text())
    mutate(doc)
    path.write_text(json.dumps(doc))
    return str(copy)


@pytest.mark.parametrize(
    "relpath, mutate, message",
    [
        ("rest/get_bars.json", lambda d: d["$defs"]["response"].pop("x-model"), "x-model"),
        ("rest/get_bars.json", lambda d: d["$defs"]["parameters"]["properties"]["limit"].pop("x-in"), "x-in"),
        ("rest/get_bars.json", lambda d: d["$defs"]["parameters"]["properties"].pop("from"), "{from}"),
        ("rest/get_bars.json",
         lambda d: d["$defs"]["parameters"]["properties"]["sort"].update({"x-python-name": "limit"}), "python name"),
        ("rest/get_bars.json",
         lambda d: d["$defs"]["response"]["properties"]["queryCount"].update({"x-python-name": "class"}),
         "not a python identifier"),
        ("rest/list_days.json", lambda d: d["x-endpoint"].update({"name": "other"}), "file name"),
        ("rest/list_days.json",
         lambda d: d["$defs"]["response"]["items"].update({"x-model": "Bar", "properties": {"o": {"type": "string"}}}),
         "Bar.o"),
        ("rest/get_bars.json",
         lambda d: d["$defs"]["response"]["properties"].update({"x": {"$ref": "../common/bars.json#/$defs/nope"}}),
         "unresolved $ref"),
        ("stream/X.json", lambda d: d["properties"].pop("ev"), "ev.const"),
        ("stream/X.json", lambda d: d["x-normalized"].append({"key": "k"}), "x-normalized"),
        ("server/ping.json", lambda d: d["properties"]["action"].pop("const"), "const"),
    ],
)
def test_loader_errors_name_the_problem(tmp_path, relpath, mutate, message):
    root = _broken_tree(tmp_path, relpath, mutate)
    with pytest.raises(SchemaError) as info:
        load(root)
    assert message in str(info.value)


def test_loader_reports_every_problem_at_once(tmp_path):
    root = _broken_tree(tmp_path, "rest/get_bars.json", lambda d: d["$defs"]["parameters"]["properties"].update({
        "bad": {"type": "object", "x-in": "query"},
        "worse": {"type": "string"},
        "arr": {"type": "array", "items": {"type": "object"}, "x-in": "query"},
    }))
    path = os.path.join(root, "rest", "list_trades.json")
    with open(path, encoding="utf-8") as fh:
        doc = json.load(fh)
    doc["x-endpoint"]["table"] = "nothing"
    with open(path, "w", encoding="utf-8") as fh:
        json.dump(doc, fh)
    with pytest.raises(SchemaError) as info:
        load(root)
    text = str(info.value)
    assert "4 problem(s)" in text
    for words in ("bad has unsupported type 'object'", "worse needs x-in", "arr: arrays are query parameters",
                  "list_trades.json: x-endpoint.table 'nothing'"):
        assert words in text
