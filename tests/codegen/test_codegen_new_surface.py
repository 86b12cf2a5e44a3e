"""The regeneration story on the provider's real change (issue 24, item 5): from the 89-path schema set the client
was first generated from, add the descriptions of the newer surface, regenerate, and the new methods work
against the sandbox while every old generated method, endpoint entry and model is unchanged.

Runs in a copy of the repository (polygon/, codegen/, schema/) under a temp dir, each step a real
``python -m codegen`` subprocess; the client talks to a sandbox on 127.0.0.1 started from the copy.
"""

import json
import os
import shutil

import pytest
from test_codegen_regenerate import _run as run_in_tree  # a python subprocess in the copied tree

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
#: path prefixes of the surface added after the provider's 89-path document (issue 24)
NEW_PREFIXES = ("/stocks/financials/", "/stocks/v1/", "/stocks/vX/", "/stocks/filings/", "/stocks/taxonomies/",
                "/fed/", "/benzinga/", "/etf-global/", "/tmx/", "/consumer-spending/", "/futures/")

FINGERPRINTS = r"""
import hashlib, inspect, json, sys
from polygon._generated import client, endpoints, models
names = json.loads(sys.argv[1])
out = {}
for name in names:
    parts = [repr(endpoints.ENDPOINTS[name])]
    if hasattr(client.EndpointMethods, name):  # hand-written methods (get_aggs) have only their table entry here
        parts.append(inspect.getsource(getattr(client.EndpointMethods, name)))
    if hasattr(client.EndpointMethods, name + "_df"):
        parts.append(inspect.getsource(getattr(client.EndpointMethods, name + "_df")))
    out[name] = hashlib.sha256("\n".join(parts).encode()).hexdigest()
for cls in sorted(n for n, v in vars(models).items() if inspect.isclass(v) and v.__module__ == models.__name__):
    out["model:" + cls] = hashlib.sha256(inspect.getsource(getattr(models, cls)).encode()).hexdigest()
print(json.dumps(out))
"""

CALLS = r"""
import json, sys
from polygon import PolygonClient
from polygon.sandbox import Sandbox
import requests
out = {}
with Sandbox(port=0) as sb:
    client = PolygonClient(config=sb.config())
    head = {"Authorization": "Bearer " + sb.api_key}
    out["status"] = {p: requests.get(sb.base_url + p, headers=head, timeout=60).status_code for p in
                     ("/stocks/v1/short-interest", "/fed/v1/treasury-yields", "/benzinga/v1/consensus-ratings/AAPL",
                      "/v3/reference/tickers/AAPL")}
    out["methods"] = sorted(n for n in ("list_short_interest", "list_financials_ratios", "list_treasury_yields",
                                        "list_benzinga_consensus_ratings", "get_etf_global_constituents")
                            if hasattr(client, n))
    out["old"] = client.get_ticker_details("AAPL").results.name
    if len(out["methods"]) == 5:
        rows = list(client.list_short_interest(ticker="MSFT", limit=5))  # limit: the number of records
        out["short_interest"] = [r.ticker for r in rows]
        ratios = client.list_financials_ratios_df(ticker="AAPL")
        out["ratios"] = {"rows": len(ratios), "pe": float(ratios["price_to_earnings"].iloc[0])}
        out["yields"] = [y.date for y in client.list_treasury_yields(date_gte="2024-01-02", date_lte="2024-01-05",
                                                                      sort="date.asc")]
        out["consensus"] = [c.ratings_contributors for c in client.list_benzinga_consensus_ratings("AAPL")]
        out["qqq"] = len(client.get_etf_global_constituents(composite_ticker="QQQ").results)  # one page (get_*)
print(json.dumps(out))
"""


def _run(tree, *args):
    return run_in_tree(tree, *args, timeout=900)


def _is_new(doc):
    meta = doc["x-endpoint"]
    return any(p.startswith(NEW_PREFIXES) for p in [meta["path"]] + list(meta.get("variants", [])))


def _official_entries(schema, keep):
    """Drop schema/official method entries of endpoints not in ``keep`` and the models no kept entry uses."""
    methods, models = os.path.join(schema, "official", "methods"), os.path.join(schema, "official", "models")
    if not os.path.isdir(methods):
        return
    used = set()
    for fname in sorted(os.listdir(methods)):
        with open(os.path.join(methods, fname), encoding="utf-8") as fh:
            entry = json.load(fh)
        if not {r["endpoint"] for r in entry["routes"]} <= keep:
            os.remove(os.path.join(methods, fname))
        else:
            used.add(entry["model"])
    pending = list(used)
    while pending:
        path = os.path.join(models, pending.pop() + ".json")
        if os.path.exists(path):
            with open(path, encoding="utf-8") as fh:
                for field in json.load(fh)["fields"]:
                    if field.get("model") and field["model"] not in used:
                        used.add(field["model"])
                        pending.append(field["model"])
    for fname in os.listdir(models):
        if fname[:-5] not in used:
            os.remove(os.path.join(models, fname))


@pytest.mark.timeout(1800)  # four codegen runs and two sandboxes in subprocesses: minutes on a loaded machine
def test_adding_the_new_descriptions_regenerates_new_methods_and_keeps_the_old(tmp_path):
    tree = tmp_path / "tree"
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc")
    for part in ("polygon", "codegen", "schema"):
        shutil.copytree(os.path.join(ROOT, part), tree / part, ignore=ignore)
    rest = tree / "schema" / "rest"
    new_files = {}
    for fname in sorted(os.listdir(rest)):
        with open(rest / fname, encoding="utf-8") as fh:
            doc = json.load(fh)
        if _is_new(doc):
            new_files[fname] = (rest / fname).read_text(encoding="utf-8")
            os.remove(rest / fname)
    old_docs = [json.loads((rest / f).read_text(encoding="utf-8")) for f in sorted(os.listdir(rest))]
    old_names = sorted(d["x-endpoint"]["name"] for d in old_docs)
    assert len(old_docs) == 58  # the provider's 89 paths: 58 endpoints and their per-market variants
    assert sum(1 + len(d["x-endpoint"].get("variants", [])) for d in old_docs) == 89
    assert len(new_files) >= 41
    _official_entries(str(tree / "schema"), set(old_names))

    # the old schema set: generate, then note every old method, endpoint entry and model
    gen = _run(tree, "-m", "codegen")
    assert gen.returncode == 0, gen.stderr
    assert _run(tree, "-m", "codegen", "--check").returncode == 0
    before = _run(tree, "-c", FINGERPRINTS, json.dumps(old_names))
    assert before.returncode == 0, before.stderr
    calls_before = _run(tree, "-c", CALLS)
    assert calls_before.returncode == 0, calls_before.stderr
    old_world = json.loads(calls_before.stdout)
    assert old_world["methods"] == [] and old_world["old"] == "Apple Inc."
    assert old_world["status"]["/v3/reference/tickers/AAPL"] == 200
    assert {old_world["status"][p] for p in old_world["status"] if not p.startswith("/v3/")} == {404}

    # the provider's change arrives as schema files: the generated tree is now stale
    for fname, text in new_files.items():
        (rest / fname).write_text(text, encoding="utf-8")
    shutil.rmtree(tree / "schema" / "official", ignore_errors=True)
    if os.path.isdir(os.path.join(ROOT, "schema", "official")):
        shutil.copytree(os.path.join(ROOT, "schema", "official"), tree / "schema" / "official")
    stale = _run(tree, "-m", "codegen", "--check")
    assert stale.returncode == 1 and "endpoints.py: stale" in stale.stderr and "client.py: stale" in stale.stderr
    regen = _run(tree, "-m", "codegen")
    assert regen.returncode == 0, regen.stderr
    assert _run(tree, "-m", "codegen", "--check").returncode == 0

    # the regenerated tree is the repository's own, and no old method, endpoint or model changed
    for fname in sorted(os.listdir(os.path.join(ROOT, "polygon", "_generated"))):
        if fname.endswith(".py"):
            ours = (tree / "polygon" / "_generated" / fname).read_text(encoding="utf-8")
            with open(os.path.join(ROOT, "polygon", "_generated", fname), encoding="utf-8") as fh:
                assert ours == fh.read(), fname
    after = _run(tree, "-c", FINGERPRINTS, json.dumps(old_names))
    assert after.returncode == 0, after.stderr
    old_prints, new_prints = json.loads(before.stdout), json.loads(after.stdout)
    assert {k: new_prints.get(k) for k in old_prints} == old_prints

    # the new methods work against the sandbox (its routes come from the same regenerated table)
    calls_after = _run(tree, "-c", CALLS)
    assert calls_after.returncode == 0, calls_after.stderr
    world = json.loads(calls_after.stdout)
    assert set(world["status"].values()) == {200} and world["old"] == "Apple Inc."
    assert len(world["methods"]) == 5 and world["short_interest"] == ["MSFT"] * 5
    assert world["ratios"]["rows"] == 1 and world["ratios"]["pe"] > 0
    assert world["yields"] == ["2024-01-02", "2024-01-03", "2024-01-04", "2024-01-05"]
    assert world["consensus"][0] >= 3 and world["qqq"] > 50  # QQQ holds the Nasdaq listings: one page of them
