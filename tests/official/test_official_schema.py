"""schema/official/: the committed entries are complete and consistent, the importer reproduces them from the
official client, and the pure parts (route choice, model building) behave as the official client does."""

import json
import os
import shutil

import pytest

from codegen.loader import load
from codegen.official import load_official
from codegen.official_import import dump, import_official
from polygon._generated._official_runtime import OfficialMethod, OfficialRoute, RouteError, model_list, model_one, plan
from polygon._generated.official import OFFICIAL_METHODS, DataPoint, SingleIndicatorResults, TickerSnapshot

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
SCHEMA = os.path.join(ROOT, "schema")


def test_every_entry_names_existing_endpoints_and_parameters():
    spec = load_official(SCHEMA, load(SCHEMA).endpoints, strict=True)
    assert len(spec.methods) == len(OFFICIAL_METHODS) >= 42
    for method in spec.methods:
        assert method.routes, method.name


def test_the_importer_reproduces_the_committed_entries(tmp_path):
    pytest.importorskip("massive")
    shutil.copytree(os.path.join(SCHEMA, "rest"), tmp_path / "rest")
    notes = []
    written = import_official([], str(tmp_path), all_methods=True, notes=notes)
    assert written
    for kind in ("methods", "models"):
        ours = sorted(os.listdir(os.path.join(SCHEMA, "official", kind)))
        assert sorted(os.listdir(tmp_path / "official" / kind)) == ours
        for name in ours:
            with open(os.path.join(SCHEMA, "official", kind, name), encoding="utf-8") as fh:
                committed = fh.read()
            if "x-edited" in json.loads(committed):  # changed by hand after the import; it says what and why
                continue
            assert (tmp_path / "official" / kind / name).read_text(encoding="utf-8") == committed, name
    assert all("not sent" in note for note in notes), notes


def test_dump_is_json_one_line_per_item():
    entry = {"method": "m", "args": [{"name": "a"}, {"name": "b", "default": None}], "key": None}
    text = dump(entry)
    assert json.loads(text) == entry
    assert '    {"name": "b", "default": null}\n' in text


def test_bad_entries_are_reported_all_at_once(tmp_path):
    schema = tmp_path / "schema"
    shutil.copytree(os.path.join(SCHEMA, "rest"), schema / "rest")
    (schema / "official" / "methods").mkdir(parents=True)
    (schema / "official" / "models").mkdir()
    (schema / "official" / "models" / "Thing.json").write_text(json.dumps(
        {"x-source": "s", "model": "Thing", "fields": [{"name": "a", "wire": "a", "model": "Missing"}]}))
    (schema / "official" / "methods" / "get_thing.json").write_text(json.dumps(
        {"x-source": "s", "method": "get_thing", "summary": "s", "args": [{"name": "ticker"}], "call": "fetch",
         "key": None, "model": "Nope", "colour": 1,
         "routes": [{"endpoint": "get_last_trade", "wire": {"ticker": "stocksTicker", "other": "x"}}]}))
    with pytest.raises(ValueError) as info:
        load_official(str(schema), _endpoints(), strict=True)
    text = str(info.value)
    for expected in ("unknown key(s) colour", "call must be 'get' or 'pages'", "model 'Nope'",
                     "wire maps 'other', not an argument", "names unknown model 'Missing'"):
        assert expected in text, (expected, text)


def _endpoints():
    return load(SCHEMA).endpoints


def test_lenient_load_leaves_out_what_schema_rest_lacks(tmp_path):
    schema = tmp_path / "schema"
    shutil.copytree(os.path.join(SCHEMA, "official"), schema / "official")
    spec = load_official(str(schema), [e for e in _endpoints() if e.name != "list_trades"])
    assert "list_trades" not in {m.name for m in spec.methods}
    with pytest.raises(ValueError, match="list_trades"):
        load_official(str(schema), [e for e in _endpoints() if e.name != "list_trades"], strict=True)


METHOD = OfficialMethod(
    name="get_snapshot_all", call="get", key="tickers", model=TickerSnapshot, lists=("tickers",),
    routes=(OfficialRoute("crypto_ep", when={"market_type": ("crypto",)}, params={"tickers": "tickers"}),
            OfficialRoute("stocks_ep", when={"market_type": ("stocks",)},
                          params={"tickers": "tickers", "include_otc": "include_otc"}, fixed={"x": 1})))


def test_plan_chooses_the_route_and_converts_values():
    enum = pytest.importorskip("enum")
    Market = enum.Enum("Market", {"CRYPTO": "crypto"})
    assert plan(METHOD, {"market_type": "stocks", "tickers": ["AAPL", "MSFT"], "include_otc": False}) == (
        "stocks_ep", {"tickers": "AAPL,MSFT", "include_otc": False, "x": 1})
    assert plan(METHOD, {"market_type": Market.CRYPTO, "tickers": None, "include_otc": True}) == ("crypto_ep", {})


def test_plan_says_what_is_served():
    with pytest.raises(RouteError) as info:
        plan(METHOD, {"market_type": "indices", "tickers": None})
    assert str(info.value) == ("get_snapshot_all(): no endpoint serves market_type='indices'; served: "
                               "market_type='crypto'; market_type='stocks'")


def test_models_build_as_the_official_from_dict():
    snap = TickerSnapshot.from_dict({"ticker": "AAPL", "day": {"o": 1, "c": 2}, "lastTrade": {"p": 3.5, "c": None},
                                     "fmv": 9.5, "new_field": [1]})
    assert snap.day.open == 1 and snap.day.close == 2 and snap.last_trade.price == 3.5
    assert snap.last_trade.conditions is None and snap.last_quote is None and snap.fair_market_value == 9.5
    assert snap._extra == {"new_field": [1]}
    empty = SingleIndicatorResults.from_dict({})
    assert empty.values == [] and empty.underlying is not None and empty.underlying.aggregates == []
    assert model_one(DataPoint, {}, "x", True) == DataPoint() and model_one(DataPoint, {}, "x") is None
    assert model_list(None, {"a": [1, 2]}, "a") == [1, 2]
