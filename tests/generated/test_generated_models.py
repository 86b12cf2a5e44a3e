"""polygon._generated.models: our own payload fixtures, round trips, and the stdlib-only rule."""

import ast
import dataclasses
import json
import os
import sys

import pytest
from hypothesis import given
from hypothesis import strategies as st

import polygon._generated as generated
from polygon._generated import models
from polygon._generated.endpoints import ENDPOINTS, parse_response

HERE = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))  # tests/
FIXTURES = os.path.join(HERE, "codegen", "data", "fixtures")
GENERATED_DIR = os.path.dirname(generated.__file__)

MODEL_CLASSES = [
    obj for obj in vars(models).values() if isinstance(obj, type) and dataclasses.is_dataclass(obj)
]


def _fixture(name):
    with open(os.path.join(FIXTURES, name + ".json"), encoding="utf-8") as fh:
        return json.load(fh)


# Our own hand-made payloads of the first eleven endpoints; every endpoint's bodies are checked against its
# schema by the sandbox conformance test.
FIXTURE_ENDPOINTS = sorted(f[:-5] for f in os.listdir(FIXTURES) if f[:-5] in ENDPOINTS)


def test_fixtures_cover_the_original_endpoints():
    assert len(FIXTURE_ENDPOINTS) == 11


@pytest.mark.parametrize("name", FIXTURE_ENDPOINTS)
def test_every_endpoint_parses_its_fixture_losslessly(name):
    payload = _fixture(name)
    parsed = parse_response(name, payload)
    if ENDPOINTS[name].response_is_list:
        assert [item.to_wire() for item in parsed] == payload
        assert all(isinstance(item, ENDPOINTS[name].response_model) for item in parsed)
    else:
        assert isinstance(parsed, ENDPOINTS[name].response_model)
        assert parsed.to_wire() == payload  # no wire key of ours is unknown to the model
        assert type(parsed).from_wire(parsed.to_wire()) == parsed


def test_aggs_fixture_python_names():
    resp = parse_response("get_aggs", _fixture("get_aggs"))
    bar = resp.results[1]
    assert (bar.open, bar.high, bar.low, bar.close, bar.volume, bar.vwap, bar.timestamp, bar.transactions, bar.otc) == (
        410.9, 412.25, 410.8, 412.0, 8000.5, 411.7, 1709303700000, 95, True,
    )
    assert resp.results[0].otc is None
    assert resp.next_url.startswith("https://") and resp.query_count == 3 and resp.results_count == 2
    assert resp.to_dict()["results"][0] == {
        "ticker": None, "open": 410.5, "high": 411.0, "low": 410.1, "close": 410.9, "volume": 12000,
        "vwap": 410.62, "timestamp": 1709303400000, "transactions": 140, "otc": None,
    }


def test_nested_python_names():
    snap = parse_response("get_snapshot_ticker", _fixture("get_snapshot_ticker")).ticker
    assert snap.min.accumulated_volume == 17823404 and snap.prev_day.close == 411.27
    assert snap.last_quote.bid_price == 415.48 and snap.last_quote.ask_size == 3
    assert snap.last_trade.trade_id == "77" and snap.todays_change_perc == 1.03
    quote = parse_response("get_last_quote", _fixture("get_last_quote")).results
    assert (quote.bid_exchange, quote.ask_exchange, quote.sip_timestamp) == (11, 12, 1709326799000000001)
    trade = parse_response("get_last_trade", _fixture("get_last_trade")).results
    assert (trade.price, trade.size, trade.conditions, trade.tape) == (415.49, 100, [12, 37], 3)
    details = parse_response("get_ticker_details", _fixture("get_ticker_details")).results
    assert details.address.postal_code == "98052" and details.branding.icon_url is None
    assert parse_response("get_daily_open_close", _fixture("get_daily_open_close")).from_ == "2024-03-01"


@pytest.mark.parametrize("cls", MODEL_CLASSES, ids=lambda c: c.__name__)
def test_model_contract(cls):
    fields = [f.name for f in dataclasses.fields(cls)]
    assert fields == list(cls.WIRE_TO_PYTHON.values()) + ["extra_fields"]
    empty = cls()
    assert all(getattr(empty, name) is None for name in fields)
    assert empty.to_wire() == {} and cls.from_wire({}) == empty
    assert list(empty.to_dict()) == fields[:-1]
    unknown = cls.from_wire({"unknown-key": 1})  # kept, never dropped: reachable and written back
    assert unknown.extra_fields == {"unknown-key": 1} and unknown.to_wire() == {"unknown-key": 1}
    assert getattr(unknown, "unknown-key") == 1 and dataclasses.replace(unknown, extra_fields=None) == empty


def test_agg_fields_of_the_contract():
    assert models.Agg.WIRE_TO_PYTHON == {
        "T": "ticker", "o": "open", "h": "high", "l": "low", "c": "close", "v": "volume",
        "vw": "vwap", "t": "timestamp", "n": "transactions", "otc": "otc",
    }


_numbers = st.one_of(st.none(), st.integers(-(10 ** 15), 10 ** 15), st.floats(allow_nan=False))


@given(st.fixed_dictionaries({}, optional={
    "o": _numbers, "h": _numbers, "l": _numbers, "c": _numbers, "v": _numbers, "vw": _numbers,
    "t": _numbers, "n": _numbers, "T": st.text(max_size=8), "otc": st.booleans(), "zzz": st.integers(),
}))
def test_agg_round_trip(wire):
    bar = models.Agg.from_wire(wire)
    expected = {k: v for k, v in wire.items() if v is not None}
    assert bar.to_wire() == expected
    assert models.Agg.from_wire(bar.to_wire()) == bar
    assert bar.extra_fields == ({"zzz": wire["zzz"]} if "zzz" in wire else None)
    named = {models.Agg.WIRE_TO_PYTHON[k]: wire.get(k) for k in models.Agg.WIRE_TO_PYTHON}
    assert bar.to_dict() == dict(named, **({"zzz": wire["zzz"]} if "zzz" in wire else {}))


def _imports(path):
    tree = ast.parse(open(path, encoding="utf-8").read())
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield alias.name, 0
        elif isinstance(node, ast.ImportFrom):
            yield node.module or "", node.level


@pytest.mark.parametrize("fname", sorted(f for f in os.listdir(GENERATED_DIR) if f.endswith(".py")))
def test_generated_code_imports_only_the_stdlib(fname):
    stdlib = getattr(sys, "stdlib_module_names", None)
    if stdlib is None:
        pytest.skip("sys.stdlib_module_names needs python >= 3.10")
    for module, level in _imports(os.path.join(GENERATED_DIR, fname)):
        if level:
            assert module in ("", "models", "_helpers", "_runtime", "_official_runtime"), (fname, module)
        else:
            assert module.split(".")[0] in stdlib, (fname, module)
