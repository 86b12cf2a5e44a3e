"""Aggregate pages to columns (polygon.core.pages): the straight-to-columns path gives exactly what decoding
each bar as a dict gives, with the stdlib codec and with orjson, and steps aside for anything unusual."""

import json

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from polygon.core import json_codec
from polygon.core import pages as bar_pages
from polygon.core.pages import PageColumns, columns_from_pages, decode_aggs_page
from polygon.exceptions import PolygonResponseError
from polygon.markets.frames import WIRE_COLUMNS

CODECS = ["json"] + (["orjson"] if json_codec.BACKEND == "orjson" else [])


@pytest.fixture(autouse=True)
def small_pages_too(monkeypatch):
    """The straight-to-columns path also for the small pages of these tests."""
    monkeypatch.setattr(bar_pages, "_MIN_FAST_BYTES", 0)


@pytest.fixture(params=CODECS)
def codec(request, monkeypatch):
    if request.param == "json":
        monkeypatch.setattr(json_codec, "loads", json_codec.std_loads)
    return request.param


def _bar(i, price=150.25):
    return {"v": 1000 + i, "vw": price + 0.0125, "o": price, "c": price + 0.01, "h": price + 0.5,
            "l": price - 0.5, "t": 1_704_205_800_000 + 60_000 * i, "n": 10 + i}


def _page(bars, **extra):
    body = {"ticker": "AAPL", "queryCount": len(bars), "resultsCount": len(bars), "adjusted": True,
            "results": bars, "status": "OK", "request_id": "r1"}
    body.update(extra)
    return json.dumps(body, separators=(",", ":")).encode()


def _same(a, b):
    assert set(a) == set(b) == set(WIRE_COLUMNS)
    for key in WIRE_COLUMNS:
        assert a[key].dtype == b[key].dtype, key
        assert a[key].tobytes() == b[key].tobytes(), key


def _by_dicts(content):
    return columns_from_pages([json.loads(content)])


def test_provider_page_is_decoded_straight_into_columns(codec):
    content = _page([_bar(i) for i in range(50)], next_url="http://127.0.0.1:1/next?cursor=x")
    page = decode_aggs_page(content)
    assert isinstance(page["results"], PageColumns)  # the fast path ran
    assert page["next_url"] == "http://127.0.0.1:1/next?cursor=x" and page["ticker"] == "AAPL"
    _same(columns_from_pages([page]), _by_dicts(content))


finite = st.floats(allow_nan=False, allow_infinity=False, width=64)


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(finite, finite, finite, finite, finite, st.integers(0, 2**53),
                          st.integers(0, 2**62)), min_size=1, max_size=30))
def test_any_numbers_decode_to_the_same_bits_on_both_paths(rows):
    for loads in {json_codec.loads, json_codec.std_loads}:
        original = json_codec.loads
        json_codec.loads = loads
        try:
            bars = [{"v": v, "vw": vw, "o": o, "c": c, "h": h, "l": o, "t": t, "n": n}
                    for o, h, c, v, vw, t, n in rows]
            content = _page(bars)
            page = decode_aggs_page(content)
            assert isinstance(page["results"], PageColumns) or max(max(r[6], r[5]) for r in rows) >= 2**53
            _same(columns_from_pages([page]), _by_dicts(content))
        finally:
            json_codec.loads = original


@pytest.mark.parametrize("n", [2**53 - 1, 2**53, 2**53 + 1, 2**62])
def test_counts_near_two_to_the_53_keep_their_exact_value(n):
    """2**53 + 1 reads as the float 2**53: such a page must not take the float path (found by hypothesis in CI)."""
    bars = [_bar(i) for i in range(200)]
    bars[7]["n"] = n
    content = _page(bars)
    cols = columns_from_pages([decode_aggs_page(content)])
    assert int(cols["n"][7]) == n
    _same(cols, _by_dicts(content))


@pytest.mark.parametrize("mutate", [
    lambda bars: [dict(b, vw=None) if i % 2 else b for i, b in enumerate(bars)],  # nulls
    lambda bars: [{k: v for k, v in b.items() if k != "n"} if i == 1 else b for i, b in enumerate(bars)],  # missing
    lambda bars: [dict(reversed(list(b.items()))) if i == 2 else b for i, b in enumerate(bars)],  # key order
    lambda bars: [dict(b, otc=True) for b in bars],  # a boolean field
    lambda bars: [dict(b, t=float(b["t"]) + 0.5) for b in bars],  # fractional timestamps
])
def test_unusual_pages_take_the_ordinary_path_with_the_same_result(codec, mutate):
    content = _page(mutate([_bar(i) for i in range(5)]))
    page = decode_aggs_page(content)
    assert isinstance(page["results"], list)
    _same(columns_from_pages([page]), _by_dicts(content))


def test_whitespace_and_a_nested_results_key_take_the_ordinary_path(codec):
    pretty = json.dumps({"results": [_bar(0), _bar(1)], "status": "OK"}, indent=1).encode()
    assert isinstance(decode_aggs_page(pretty)["results"], list)
    nested = _page([_bar(0)], extra={"results": [1, 2]})
    page = decode_aggs_page(nested)
    assert isinstance(page["results"], list) and page["extra"] == {"results": [1, 2]}
    _same(columns_from_pages([page]), _by_dicts(nested))


def test_a_key_that_only_looks_like_a_bar_key_is_not_misread(codec):
    # "v1" loses its digit in the skeleton; the translated numbers no longer parse, so the dict path decides
    content = _page([dict(_bar(i), v1=5) for i in range(3)])
    assert isinstance(decode_aggs_page(content)["results"], list)


def test_empty_and_missing_results(codec):
    page = decode_aggs_page(_page([]))
    cols = columns_from_pages([page])
    assert all(len(cols[k]) == 0 for k in WIRE_COLUMNS) and cols["t"].dtype == np.int64
    assert columns_from_pages([decode_aggs_page(b'{"status":"OK"}')])["c"].size == 0


def test_bars_without_a_price_are_an_error(codec):
    bars = [_bar(0), {k: v for k, v in _bar(1).items() if k != "c"}]
    with pytest.raises(PolygonResponseError, match="'c'"):
        columns_from_pages([decode_aggs_page(_page(bars))])


def test_malformed_body_is_a_typed_error(codec):
    with pytest.raises(PolygonResponseError, match="malformed or truncated"):
        decode_aggs_page(_page([_bar(0), _bar(1)])[:-40])


def test_a_page_decoded_in_many_slices_gives_the_same_columns(codec, monkeypatch):
    monkeypatch.setattr(bar_pages, "_CHUNK_BYTES", 150)  # with orjson: about two bars per slice
    content = _page([_bar(i, price=100 + i / 7) for i in range(41)])
    page = decode_aggs_page(content)
    assert isinstance(page["results"], PageColumns)
    _same(columns_from_pages([page]), _by_dicts(content))


def test_numbers_in_every_json_form_give_the_same_columns(codec):
    content = _page([_bar(i, price=100 + i / 7) for i in range(41)])
    for old, new in ((b'"o":100.0,', b'"o":1.0E+2,'), (b'"l":99.5,', b'"l":9.95e1,'), (b'"h":100.5,', b'"h":1.005E2,')):
        assert old in content
        content = content.replace(old, new, 1)
    page = decode_aggs_page(content)
    assert isinstance(page["results"], PageColumns)  # numpy's parser read them in one call
    _same(columns_from_pages([page]), _by_dicts(content))


def test_a_page_whose_numbers_do_not_add_up_is_decoded_the_ordinary_way(codec):
    content = _page([_bar(i) for i in range(60)]).replace(b'"c":', b'"c":1-', 1)  # "1-150.26" is no number
    with pytest.raises(PolygonResponseError):
        decode_aggs_page(content)


def test_small_pages_are_decoded_the_ordinary_way(monkeypatch):
    monkeypatch.setattr(bar_pages, "_MIN_FAST_BYTES", 4096)
    small, large = _page([_bar(i) for i in range(5)]), _page([_bar(i) for i in range(100)])
    assert len(small) < 4096 <= len(large)
    assert isinstance(decode_aggs_page(small)["results"], list)
    assert isinstance(decode_aggs_page(large)["results"], PageColumns)


def test_results_that_are_a_json_object_are_a_typed_error(codec):
    page = decode_aggs_page(b'{"status":"OK","results":{"t":1}}')
    with pytest.raises(PolygonResponseError, match="non-list results"):
        columns_from_pages([page])
