"""Issue 26 item 2: an auxiliary request that fails never sinks the main call.

A provider stand-in on 127.0.0.1 forwards every request to a private sandbox, except the endpoint under test,
which it refuses: 401 (a key refused there), 403 (a plan without it), 404 (an endpoint the provider does not
serve), 500 (after the client's retries) or slow (longer than the read timeout). Each case is checked over real
sockets.
"""

import logging
import threading
import time

import numpy as np
import pandas as pd
import pytest
import requests
from werkzeug.serving import make_server
from werkzeug.wrappers import Request, Response

import polygon.manager.adjust as manager_module
from polygon.core import PolygonClient
from polygon.exceptions import PolygonAPIError
from polygon.manager import PolygonDataManager
from polygon.markets.frames import arrays_from_wire_columns, arrays_to_frame
from polygon.storage import StorageManager, corporate_actions

NY = "America/New_York"
SPLITS, DIVIDENDS, TICKERS = "/v3/reference/splits", "/v3/reference/dividends", "/v3/reference/tickers/"
KINDS = ("401", "403", "404", "500", "slow")
SLOW_S = 2.0


class StandIn:
    """Forwards to ``upstream``; requests whose path starts with ``refuse`` get the fault ``kind``."""

    def __init__(self, upstream):
        self.upstream = upstream
        self.refuse, self.kind = None, None
        self.refused = 0
        self._session = requests.Session()
        self._server = make_server("127.0.0.1", 0, self, threaded=True)
        self.url = "http://127.0.0.1:%d" % self._server.server_port
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()

    def __call__(self, environ, start_response):
        request = Request(environ)
        if self.refuse and request.path.startswith(self.refuse):
            self.refused += 1
            response = self._fault(request)
        else:
            upstream = self._session.get(self.upstream + request.full_path, headers={
                "Authorization": request.headers.get("Authorization", "")}, timeout=30)
            body = upstream.content.replace(self.upstream.encode(), self.url.encode())
            response = Response(body, status=upstream.status_code, content_type="application/json")
        return response(environ, start_response)

    def _fault(self, request):
        if self.kind == "401":
            return Response('{"status":"ERROR","request_id":"x","error":"Unknown API Key"}', status=401,
                            content_type="application/json")
        if self.kind == "403":
            return Response('{"status":"NOT_AUTHORIZED","request_id":"x","message":"You are not entitled to this '
                            'data. Please upgrade your plan at https://massive.com/pricing"}', status=403,
                            content_type="application/json")
        if self.kind == "404":
            return Response("404 page not found", status=404, content_type="text/plain")
        if self.kind == "500":
            return Response('{"status":"ERROR","message":"Internal server error."}', status=500,
                            content_type="application/json")
        time.sleep(SLOW_S)  # slow: past the client's read timeout
        return Response('{"status":"OK","results":[]}', content_type="application/json")

    def close(self):
        self._server.shutdown()
        self._server.server_close()
        self._session.close()


@pytest.fixture
def standin(make_sandbox, monkeypatch):
    sb = make_sandbox(clock="2024-06-20T20:00:00-04:00")
    server = StandIn(sb.base_url)
    monkeypatch.setattr(manager_module, "_warned", set())  # "once per process" starts over for each case
    yield sb, server
    server.close()


def _manager(sb, server, tmp_path):
    cache = str(tmp_path / "cache")
    config = sb.config(base_url=server.url, cache_dir=cache, read_timeout=0.5, max_retries=1, retry_budget=2.0)
    clock_ms = int(pd.Timestamp("2024-06-20T20:00:00-04:00").value // 1_000_000)
    return PolygonDataManager(config=config, storage=StorageManager(cache), progress=False, clock=lambda: clock_ms)


def _provider(sb, symbol, start, end, adjusted):
    with PolygonClient(config=sb.config()) as client:
        cols = client.get_bars_columns(symbol, "1day", start, end, adjusted=adjusted)
    return arrays_to_frame(arrays_from_wire_columns(cols), NY)


PRICES = ["open", "high", "low", "close"]


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("endpoint,adjusted", [(SPLITS, True), (DIVIDENDS, "total_return")])
def test_a_failing_corporate_actions_endpoint_serves_the_provider_adjusted_bars(standin, tmp_path, caplog, kind,
                                                                               endpoint, adjusted):
    sb, server = standin
    server.refuse, server.kind = endpoint, kind
    caplog.set_level(logging.WARNING, logger="polygon.manager")
    with _manager(sb, server, tmp_path) as m:
        df = m.fetch_data("NVDA", "1day", "2024-06-03", "2024-06-14", adjusted=adjusted)  # across the 10:1 split
        again = m.fetch_data("NVDA", "1day", "2024-06-03", "2024-06-14", adjusted=adjusted)
        cached = m.storage.read_arrays_with_coverage("NVDA", "1day", df.index[0].value // 1_000_000,
                                                     df.index[-1].value // 1_000_000 + 1)[0]
    assert server.refused >= 1
    provider = _provider(sb, "NVDA", "2024-06-03", "2024-06-14", adjusted=True)
    for frame in (df, again):
        pd.testing.assert_frame_equal(frame[PRICES], provider[PRICES], check_freq=False)
        info = frame.attrs["degraded"]
        assert info["endpoint"] == endpoint and endpoint in info["error"]
        assert info["reason"] == ("HTTP %s" % kind if kind != "slow" else "PolygonConnectionError")
        assert frame.attrs["adjusted_by"] == "provider" and frame.attrs["adjusted"] == "splits"
    warnings = [r for r in caplog.records if r.levelno == logging.WARNING and endpoint in r.getMessage()]
    assert len(warnings) == 1  # once per process, naming the endpoint and the reason
    assert info["reason"] in warnings[0].getMessage()
    # the cache holds the as-traded bars only (the provider's adjusted ones were served, not stored)
    raw = _provider(sb, "NVDA", "2024-06-03", "2024-06-14", adjusted=False)
    np.testing.assert_array_equal(cached.values[3], raw["close"].to_numpy())


def test_after_the_endpoint_recovers_the_cache_adjusts_again(standin, tmp_path, monkeypatch):
    sb, server = standin
    monkeypatch.setattr(corporate_actions, "FAILURE_COOLDOWN_S", 0.0)
    server.refuse, server.kind = SPLITS, "403"
    with _manager(sb, server, tmp_path) as m:
        first = m.fetch_data("NVDA", "1day", "2024-06-03", "2024-06-14")
        server.refuse = None
        sb.reset_stats()
        second = m.fetch_data("NVDA", "1day", "2024-06-03", "2024-06-14")
    assert "degraded" in first.attrs and "degraded" not in second.attrs
    assert second.attrs["source"] == "cache" and second.attrs["adjusted_by"] == "cache"
    assert sb.stats()["requests"].get(SPLITS) == 1 and sb.stats()["requests_total"] == 1
    pd.testing.assert_frame_equal(second[PRICES], first[PRICES], check_freq=False)


@pytest.mark.parametrize("kind", KINDS)
def test_a_failing_ticker_reference_leaves_an_empty_range_unverified(standin, tmp_path, kind):
    sb, server = standin
    server.refuse, server.kind = TICKERS, kind
    with _manager(sb, server, tmp_path) as m:
        df = m.fetch_data("ZEKX", "1day", "2019-01-02", "2019-01-10")  # before its listing (2019-03-15): no bars
        assert len(df) == 0 and df.attrs["empty_reason"].startswith("unverified")
        assert TICKERS.rstrip("/") in df.attrs["empty_reason"]
        assert m.storage.coverage("ZEKX", "1day") == []  # an unverified empty range is not recorded


def test_the_main_request_failing_still_fails_and_names_its_endpoint(standin, tmp_path):
    sb, server = standin
    server.refuse, server.kind = "/v2/aggs/", "403"
    with _manager(sb, server, tmp_path) as m, pytest.raises(PolygonAPIError) as info:
        m.fetch_data("NVDA", "1day", "2024-06-03", "2024-06-14")
    assert "/v2/aggs/ticker/NVDA/range/1/day/" in str(info.value)


def test_batch_with_a_refused_splits_endpoint_serves_every_symbol(standin, tmp_path, caplog):
    sb, server = standin
    server.refuse, server.kind = SPLITS, "403"
    caplog.set_level(logging.WARNING, logger="polygon.manager")
    with _manager(sb, server, tmp_path) as m:
        result = m.fetch_multiple_symbols(["NVDA", "MSFT", "AAPL"], "1day", "2024-06-03", "2024-06-14")
    assert result.ok and set(result) == {"NVDA", "MSFT", "AAPL"}
    assert server.refused == 1  # the endpoint is not asked again while it is known to fail
    for sym, frame in result.items():
        assert frame.attrs["degraded"]["endpoint"] == SPLITS
        provider = _provider(sb, sym, "2024-06-03", "2024-06-14", adjusted=True)
        pd.testing.assert_frame_equal(frame[PRICES], provider[PRICES], check_freq=False)
    assert len([r for r in caplog.records if r.levelno == logging.WARNING and SPLITS in r.getMessage()]) == 1
