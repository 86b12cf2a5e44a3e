"""Every generated client method builds its endpoint's request, over real sockets, against a local
werkzeug app that records what it receives; paging (next_url, limit, max_pages) and DataFrames of the
tabular endpoints, against scripted pages.

The sandbox serves bodies with the provider's shapes (its own conformance test); here the point is the
client side: path and query for every endpoint of the generated table, with sample values chosen from
each parameter's spec, so a new endpoint in schema/ is covered without editing this file.
"""

import datetime as dt
import inspect
import json
import re
import threading
from urllib.parse import parse_qsl, quote

import numpy as np
import pandas as pd
import pytest
from werkzeug.serving import make_server
from werkzeug.wrappers import Request, Response

from polygon._generated.endpoints import ENDPOINTS
from polygon.config import get_config
from polygon.core import PolygonClient
from polygon.core.rate_limit import RateLimiter
from polygon.exceptions import PolygonResponseError

KEY = "test-key-123"
DAY = dt.date(2024, 1, 2)
TZ = "America/New_York"


class Recorder:
    """A werkzeug app on 127.0.0.1:0 that records (path, query, headers) and answers with ``respond``."""

    def __init__(self):
        self.requests = []
        self.respond = lambda request: {}
        self._lock = threading.Lock()
        self._server = make_server("127.0.0.1", 0, self, threaded=True)
        self.url = "http://127.0.0.1:%d" % self._server.server_port
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    def __call__(self, environ, start_response):
        request = Request(environ)
        with self._lock:
            self.requests.append((request.path, dict(parse_qsl(request.query_string.decode())), dict(request.headers)))
        body = self.respond(request)
        return Response(json.dumps(body), content_type="application/json")(environ, start_response)

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(10)


@pytest.fixture(scope="module")
def recorder():
    with Recorder() as server:
        yield server


@pytest.fixture
def client(recorder):
    recorder.requests.clear()
    recorder.respond = lambda request: {}
    config = get_config(api_key=KEY, base_url=recorder.url, timezone=TZ, max_retries=0)
    with PolygonClient(config=config, rate_limiter=RateLimiter(per_minute=None)) as c:
        yield c


def sample(spec):
    """``(argument, expected wire text)`` for one parameter, from its spec alone."""
    if spec.kind == "symbol":
        return (["AAPL", "msft"], "AAPL,MSFT") if spec.type == "array" else ("aapl", "AAPL")
    if spec.kind == "currency":
        return ("AUD", "AUD") if spec.wire_name == "from" else ("USD", "USD")
    if spec.kind == "agg_bound":
        return ("2024-01-02", "2024-01-02") if spec.wire_name == "from" else (dt.date(2024, 1, 5), "2024-01-05")
    if spec.kind in ("date", "datetime", "timestamp_ns", "timestamp_ms"):
        return DAY, "2024-01-02"
    if spec.enum:
        value = spec.enum[0]
        if spec.type == "array":
            return [value], str(value)
        return value, str(value).lower() if isinstance(value, bool) else str(value)
    if spec.type == "integer":
        value = int(spec.minimum) if spec.minimum is not None else 2
        return value, str(value)
    if spec.type == "number":
        return 2.5, "2.5"
    if spec.type == "boolean":
        return True, "true"
    if spec.type == "array":
        return ["a1", "b2"], "a1,b2"
    if spec.pattern:
        value = next(v for v in ("20240102", "x1", "X1", "1") if re.fullmatch(spec.pattern, v))
        return value, value
    return "x1", "x1"


def _call(client, name, arguments):
    result = getattr(client, name)(**arguments)
    return list(result) if inspect.isgenerator(result) else result


def _expected(spec, params):
    path, query = spec.path, {}
    for param in params:
        _, text = sample(param)
        if param.location == "path":
            path = path.replace("{%s}" % param.wire_name, quote(text, safe=":"))
        else:
            query[param.wire_name] = text
    return path, query


CLIENT_METHODS = sorted(name for name in ENDPOINTS if name != "get_aggs")  # get_aggs: hand-written, below


def test_every_endpoint_has_a_client_method():
    for name, spec in ENDPOINTS.items():
        method = getattr(PolygonClient, name)
        assert method.__doc__ and spec.path in method.__doc__ or name == "get_aggs"
        names = list(inspect.signature(method).parameters)
        assert set(p.name for p in spec.params) <= set(names) or name == "get_aggs"
        if spec.table is not None:
            assert callable(getattr(PolygonClient, name + "_df"))


@pytest.mark.parametrize("name", CLIENT_METHODS)
def test_method_builds_the_request(client, recorder, name):
    spec = ENDPOINTS[name]
    recorder.respond = lambda request: [] if spec.response_is_list else {"status": "OK"}
    required = [p for p in spec.params if p.required]
    _call(client, name, {p.name: sample(p)[0] for p in required})
    everything = list(spec.params)
    _call(client, name, {p.name: sample(p)[0] for p in everything})
    (path1, query1, headers1), (path2, query2, _) = recorder.requests
    assert (path1, query1) == _expected(spec, required)
    assert (path2, query2) == _expected(spec, everything)
    assert headers1["Authorization"] == "Bearer " + KEY and KEY not in path1 + json.dumps(query1)


def test_aggs_variants_share_one_method(client, recorder):
    recorder.respond = lambda request: {"status": "OK", "results": [] if "/aggs/" in request.path else {}}
    for ticker in ("AAPL", "X:BTCUSD", "C:EURUSD", "I:SPX", "O:AAPL240119C00150000"):
        client.get_aggs(ticker, 1, "day", "2024-01-02", "2024-01-05")
        client.get_sma(ticker, timestamp_gte=dt.datetime(2024, 1, 2, 9, 30), timespan="day")
    paths = [path for path, _, _ in recorder.requests]
    assert paths[0::2] == ["/v2/aggs/ticker/%s/range/1/day/2024-01-02/2024-01-05" % t
                           for t in ("AAPL", "X:BTCUSD", "C:EURUSD", "I:SPX", "O:AAPL240119C00150000")]
    assert paths[3] == "/v1/indicators/sma/X:BTCUSD"
    assert recorder.requests[1][1]["timestamp.gte"] == "1704205800000"  # 09:30 New York in epoch ms


def test_timestamps_and_dates_by_kind(client, recorder):
    recorder.respond = lambda request: {"results": []}
    stamp = pd.Timestamp("2024-01-02 09:30:00.123456789", tz=TZ)
    list(client.list_trades("AAPL", timestamp_gte=stamp, timestamp_lt=dt.datetime(2024, 1, 2, 10, 0)))
    list(client.list_ticker_news(published_utc_gte=dt.datetime(2024, 1, 2, 9, 30), published_utc_lt=DAY))
    client.get_real_time_currency_conversion("EUR", "USD", amount=10)
    (_, trades, _), (_, news, _), (conversion, _, _) = recorder.requests
    assert trades["timestamp.gte"] == str(stamp.value)  # nanoseconds, exact
    assert trades["timestamp.lt"] == "1704207600000000000"  # naive: the configured timezone
    assert news == {"published_utc.gte": "2024-01-02T14:30:00Z", "published_utc.lt": "2024-01-02"}
    assert conversion == "/v1/conversion/EUR/USD"  # a currency pair, not dates


def _pages(recorder, path, records, per_page, key=("results",)):
    """Serve ``records`` at ``path`` in pages of ``per_page`` linked by next_url (the page size is fixed)."""

    def respond(request):
        start = int(request.args.get("cursor", 0))
        chunk = records[start:start + per_page]
        body = {"status": "OK", "request_id": "r%d" % start}
        node = body
        for part in key[:-1]:
            node = node.setdefault(part, {})
        node[key[-1]] = chunk
        if start + per_page < len(records):
            body["next_url"] = "%s%s?cursor=%d" % (recorder.url, path, start + per_page)
        return body

    recorder.respond = respond


TRADES = [{"price": 100.0 + i, "size": 10 + i, "sip_timestamp": 1704205800123456789 + i, "exchange": 4,
           "conditions": [12, 37], "id": str(i)} for i in range(10)]


def test_list_iterates_every_page_and_stops_at_limit(client, recorder):
    _pages(recorder, "/v3/trades/AAPL", TRADES, 4)
    trades = client.list_trades("AAPL")
    assert recorder.requests == []  # nothing requested before iteration
    assert [t.price for t in trades] == [r["price"] for r in TRADES]
    assert len(recorder.requests) == 3 and recorder.requests[1][1] == {"cursor": "4"}

    recorder.requests.clear()
    assert [t.id for t in client.list_trades("AAPL", limit=5)] == ["0", "1", "2", "3", "4"]
    assert len(recorder.requests) == 2 and recorder.requests[0][1]["limit"] == "5"

    recorder.requests.clear()
    assert len(list(client.list_trades("AAPL", max_pages=2))) == 8 and len(recorder.requests) == 2

    recorder.requests.clear()
    list(client.list_tickers(limit=5000))  # more than a page can hold: pages of the maximum
    assert recorder.requests[0][1]["limit"] == "1000"


def test_paginated_get_merges_nested_records(client, recorder):
    values = [{"timestamp": 1704171600000 + i * 86400000, "value": 10.0 + i} for i in range(5)]
    _pages(recorder, "/v1/indicators/sma/AAPL", values, 2, key=("results", "values"))
    sma = client._call("get_sma", {"ticker": "AAPL"}, max_pages=10)  # more than x-endpoint.max_pages: asked for
    assert [v.value for v in sma.results.values] == [10.0, 11.0, 12.0, 13.0, 14.0]
    frame = client._call_frame("get_sma", {"ticker": "AAPL"}, max_pages=10)
    assert list(frame["value"]) == [10.0, 11.0, 12.0, 13.0, 14.0]
    assert str(frame["timestamp"].dt.tz) == TZ and frame["timestamp"].iloc[0] == pd.Timestamp("2024-01-02", tz=TZ)


def test_indicators_read_one_page_by_default(client, recorder):
    """Their next_url walks back through all history: x-endpoint.max_pages is 1 (it was 1,158 requests)."""
    values = [{"timestamp": 1704171600000 + i * 86400000, "value": 10.0 + i} for i in range(5)]
    _pages(recorder, "/v1/indicators/sma/AAPL", values, 2, key=("results", "values"))
    sma = client.get_sma("AAPL")
    assert [v.value for v in sma.results.values] == [10.0, 11.0] and sma.next_url
    assert list(client.get_sma_df("AAPL")["value"]) == [10.0, 11.0]
    assert len(recorder.requests) == 2


def test_trades_frame_keeps_nanoseconds(client, recorder):
    _pages(recorder, "/v3/trades/AAPL", TRADES, 4)
    frame = client.list_trades_df("AAPL", limit=6)
    assert len(frame) == 6
    assert frame["sip_timestamp"].dtype == "datetime64[ns, %s]" % TZ
    stamps = frame["sip_timestamp"].dt.tz_convert("UTC").astype("int64").to_numpy()
    assert stamps.tolist() == [r["sip_timestamp"] for r in TRADES[:6]]  # exact, never through float
    assert frame["exchange"].dtype == "Int64" and frame["price"].dtype == np.float64
    assert frame["participant_timestamp"].isna().all()  # absent from the records: NaT, not an error
    assert frame["conditions"].iloc[0] == [12, 37]


def test_frame_rejects_a_value_of_the_wrong_type(client, recorder):
    _pages(recorder, "/v3/trades/AAPL", [dict(TRADES[0], sip_timestamp="yesterday")], 4)
    with pytest.raises(PolygonResponseError, match="sip_timestamp"):
        client.list_trades_df("AAPL")


TABULAR = sorted(name for name, spec in ENDPOINTS.items() if spec.table is not None)


@pytest.mark.parametrize("name", TABULAR)
def test_every_table_has_its_documented_columns(client, recorder, name):
    spec = ENDPOINTS[name]
    recorder.respond = lambda request: {"status": "OK"}
    frame = getattr(client, name + "_df")(**{p.name: sample(p)[0] for p in spec.params if p.required})
    assert len(frame) == 0
    assert list(frame.columns) == [c.name for c in spec.table.columns]
    doc = getattr(PolygonClient, name + "_df").__doc__
    for column in spec.table.columns:
        dtype = str(frame[column.name].dtype)
        if column.dtype.startswith("timestamp") or column.dtype == "datetime":
            assert dtype == "datetime64[ns, %s]" % TZ, column
        elif column.dtype == "date":
            assert dtype == "datetime64[ns]", column
        elif column.dtype in ("int", "float", "bool"):
            assert dtype == {"int": "Int64", "float": "float64", "bool": "boolean"}[column.dtype], column
        assert "``%s``" % column.name in " ".join(doc.split())
