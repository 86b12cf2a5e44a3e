"""``params=``, ``raw=``, ``options=``, typed errors and the page guard of ``polygon.official.RESTClient``, seen
on the wire of a recording server (and against the official client where it has the same form)."""

import itertools

import pytest

from polygon.exceptions import InvalidParameterError, PolygonNotFoundError, PolygonResponseError
from polygon.official import RawResponse, RequestOptionBuilder, RESTClient
from polygon.official.models import Agg, Trade

from .conftest import AGG_BODY

KEY = "secret-key-123"
ARGS = ("AAPL", 1, "day", "2023-01-03", "2023-01-06")


@pytest.fixture
def client(recorder):
    with RESTClient(api_key=KEY, base=recorder.url, retries=0) as c:
        yield c


def test_get_aggs_returns_official_aggs_and_keeps_unknown_wire_keys(client, recorder):
    bars = client.get_aggs(*ARGS)
    assert [type(b) for b in bars] == [Agg, Agg]
    assert (bars[0].open, bars[0].close, bars[0].timestamp, bars[0].transactions, bars[0].otc) == (1.5, 1.75,
                                                                                                   1672722000000, 7,
                                                                                                   None)
    assert bars[0]._extra == {"wire_only": "kept"} and bars[1]._extra is None
    assert bars[0] == Agg(1.5, 2.0, 1.0, 1.75, 100.0, 1.6, 1672722000000, 7)  # _extra is not compared
    (request,) = recorder.requests
    assert request["path"] == "/v2/aggs/ticker/AAPL/range/1/day/2023-01-03/2023-01-06"
    assert request["headers"]["Authorization"] == "Bearer " + KEY
    assert KEY not in repr(request["query"]) and KEY not in repr(client)


def test_params_are_sent_and_the_official_arguments_win_over_them(client, recorder):
    client.get_aggs(*ARGS, params={"foo": "bar", "adjusted": False})
    client.get_aggs(*ARGS, adjusted=True, params={"adjusted": "false", "n": 3})
    first, second = (r["query"] for r in recorder.requests)
    assert first == {"foo": ["bar"], "adjusted": ["false"]}
    assert second == {"adjusted": ["true"], "n": ["3"]}


def test_params_must_be_a_dict(client, recorder):
    with pytest.raises(InvalidParameterError, match="params must be a dict"):
        client.get_aggs(*ARGS, params=[("foo", "bar")])
    assert recorder.requests == []


def test_raw_returns_the_undecoded_response(client, recorder):
    raw = client.get_aggs(*ARGS, raw=True)
    assert isinstance(raw, RawResponse) and raw.status == 200
    assert raw.json() == AGG_BODY and raw.data.startswith(b"{")
    assert KEY not in (raw.url or "") and raw.geturl() == raw.url


def test_raw_on_a_list_method_is_its_first_page_only(client, recorder):
    raw = client.list_trades("AAPL", limit=1, raw=True)
    assert raw.json()["results"][0]["price"] == 0.0
    assert len(recorder.requests) == 1


def test_options_send_edge_headers_on_that_call_only(client, recorder):
    options = RequestOptionBuilder(edge_id="edge-1", edge_ip_address="10.0.0.7", edge_user="agent/1")
    client.get_aggs(*ARGS, options=options)
    client.get_aggs(*ARGS)
    with_options, without = (r["headers"] for r in recorder.requests)
    assert with_options["X-Massive-Edge-ID"] == "edge-1"
    assert with_options["X-Massive-Edge-IP-Address"] == "10.0.0.7"
    assert with_options["X-Massive-Edge-User-Agent"] == "agent/1"
    assert with_options["Authorization"] == "Bearer " + KEY
    assert not any(name.startswith("X-Massive-Edge") for name in without)


def test_options_headers_follow_every_page_of_a_list_method(client, recorder):
    options = RequestOptionBuilder().edge_headers("edge-2", "10.0.0.8")
    rows = list(itertools.islice(client.list_trades("AAPL", options=options), 3))
    assert [type(r) for r in rows] == [Trade] * 3
    assert [r["headers"].get("X-Massive-Edge-ID") for r in recorder.requests] == ["edge-2"] * 3


def test_the_official_option_builder_works_too(client, recorder):
    massive_request = pytest.importorskip("massive.rest.models.request")
    client.get_aggs(*ARGS, options=massive_request.RequestOptionBuilder(edge_id="e", edge_ip_address="1.2.3.4"))
    assert recorder.requests[0]["headers"]["X-Massive-Edge-ID"] == "e"


def test_update_edge_header_needs_headers_first():
    with pytest.raises(InvalidParameterError, match="before updating"):
        RequestOptionBuilder().update_edge_header(edge_id="x")
    builder = RequestOptionBuilder("a", "1.1.1.1").update_edge_header(edge_user="ua")
    assert builder.headers == {"X-Massive-Edge-ID": "a", "X-Massive-Edge-IP-Address": "1.1.1.1",
                               "X-Massive-Edge-User-Agent": "ua"}


def test_list_methods_stop_at_the_page_guard(recorder):
    with RESTClient(api_key=KEY, base=recorder.url, retries=0, max_pages=4) as guarded:
        rows = list(guarded.list_trades("AAPL"))  # the server never stops paging
    assert [r.price for r in rows] == [0.0, 1.0, 2.0, 3.0]
    assert len(recorder.requests) == 4


def test_pagination_false_reads_one_page(recorder):
    with RESTClient(api_key=KEY, base=recorder.url, retries=0, pagination=False) as single:
        rows = list(single.list_trades("AAPL", limit=10))
    assert len(rows) == 1 and len(recorder.requests) == 1
    assert recorder.requests[0]["query"] == {"limit": ["10"]}


def test_list_methods_request_lazily(client, recorder):
    rows = client.list_trades("AAPL")
    assert recorder.requests == []  # arguments are checked now, pages requested as they are consumed
    next(rows)
    assert len(recorder.requests) == 1


def test_bad_arguments_fail_before_any_request(client, recorder):
    with pytest.raises(InvalidParameterError, match="market_type='indices'.*served"):
        client.get_snapshot_all("indices")
    with pytest.raises(InvalidParameterError, match="limit"):
        client.list_trades("AAPL", limit="many")
    with pytest.raises(InvalidParameterError):
        client.get_aggs("AAPL", 1, "fortnight", "2023-01-03", "2023-01-06")
    assert recorder.requests == []


def test_error_statuses_are_typed_errors(client, recorder):
    with pytest.raises(PolygonNotFoundError) as info:
        client.get_last_trade("AAPL")
    assert info.value.status_code == 404 and KEY not in str(info.value)


def test_enums_and_lists_become_wire_values(client, recorder):
    massive_models = pytest.importorskip("massive.rest.models")
    client.get_aggs(*ARGS, sort=massive_models.Sort.DESC)
    client.get_aggs(*ARGS, sort="asc")
    assert [r["query"]["sort"] for r in recorder.requests] == [["desc"], ["asc"]]


def test_a_body_the_custom_json_cannot_decode_is_a_typed_error(recorder):
    import json

    class Strict:  # a decoder that rejects every body, as orjson rejects a proxy's HTML page
        @staticmethod
        def loads(text):
            raise json.JSONDecodeError("not JSON", text, 0)

    with RESTClient(api_key=KEY, base=recorder.url, retries=0, custom_json=Strict) as strict:
        with pytest.raises(PolygonResponseError, match="undecodable JSON body") as caught:
            strict.get_aggs(*ARGS)
    assert KEY not in str(caught.value) and "/v2/aggs/ticker/AAPL" in (caught.value.url or "")
