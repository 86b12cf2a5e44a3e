"""The local server's HTTP side, over real sockets: bars through the cache, bad input, errors, status."""

import hashlib
import os
import signal

import pandas as pd
import pytest
import requests

from polygon.polygon_server import DEFAULT_PORT, PolygonServer
from polygon.polygon_server.server import bars_payload

GUIDE_BODY = {"symbol": "AAPL", "timeframe": "1day", "start_date": "2023-01-01", "end_date": "2023-12-31"}


def post(srv, body=None, data=None):
    return requests.post(srv.url + "/api/v1/bars", json=body, data=data, timeout=30)


def _tree_digest(path):
    digest = hashlib.sha256()
    for root, dirs, files in sorted(os.walk(path)):
        dirs.sort()
        for name in sorted(files):
            full = os.path.join(root, name)
            digest.update(full.encode())
            with open(full, "rb") as fh:
                digest.update(fh.read())
    return digest.hexdigest()


def test_defaults_are_local_and_port_8200():
    srv = PolygonServer()
    assert srv.host == "127.0.0.1" and srv.port == DEFAULT_PORT == 8200


def test_bars_fetch_then_serve_from_cache(server, sandbox):
    before = sandbox.stats()["requests_total"]
    first = post(server, GUIDE_BODY)
    assert first.status_code == 200, first.text
    data = first.json()
    assert data["symbol"] == "AAPL" and data["timeframe"] == "1day" and data["source"] == "api"
    assert data["count"] == len(data["bars"]) == 250
    bar = data["bars"][0]
    assert list(bar) == ["timestamp", "t", "open", "high", "low", "close", "volume", "vwap", "transactions"]
    assert bar["timestamp"] == "2023-01-03T00:00:00-05:00" and bar["t"] == 1672722000000
    sent = sandbox.stats()["requests_total"] - before
    assert sent >= 1
    second = post(server, GUIDE_BODY).json()
    assert sandbox.stats()["requests_total"] - before == sent, "the second call must come from the cache"
    assert second["source"] == "cache" and second["bars"] == data["bars"]
    # the same bars as the library returns
    df = server.app.manager.fetch_data("AAPL", "1day", "2023-01-01", "2023-12-31")
    assert [b["close"] for b in data["bars"]] == df["close"].tolist()


def test_bars_payload_writes_missing_values_as_null():
    index = pd.DatetimeIndex([pd.Timestamp("2023-01-03 09:30", tz="America/New_York")], name="timestamp")
    df = pd.DataFrame({"open": [1.0], "high": [2.0], "low": [0.5], "close": [1.5], "volume": [10.0],
                       "vwap": [float("nan")], "transactions": pd.array([None], dtype="Int64")}, index=index)
    bar = bars_payload(df)["bars"][0]
    assert bar["vwap"] is None and bar["transactions"] is None and bar["close"] == 1.5


@pytest.mark.parametrize("body, data, code, hint", [
    (None, "{not json", "bad_json", "symbol"),
    (None, "[1, 2]", "invalid_request", "JSON object"),
    ({"symbol": "AAPL"}, None, "invalid_request", "'timeframe' is a required property"),
    ({"symbol": "AAPL", "timeframe": "1day", "colour": "red"}, None, "invalid_request", "colour"),
    ({"symbol": "AAPL", "timeframe": "1day", "start_date": "01/02/2023"}, None, "invalid_request", "start_date"),
    ({"symbol": 5, "timeframe": "1day"}, None, "invalid_request", "symbol"),
    ({"symbol": "../../etc", "timeframe": "1day"}, None, "invalid_symbol", "letters A-Z"),
    ({"symbol": "AAPL", "timeframe": "7parsecs"}, None, "invalid_timeframe", "1min"),
    ({"symbol": "AAPL", "timeframe": "1day", "start_date": "2023-03-01", "end_date": "2023-01-01"}, None,
     "invalid_date_range", "start"),
])
def test_bad_input_is_a_400_that_says_what_is_allowed_and_loses_nothing(server, sandbox, body, data, code, hint):
    assert post(server, GUIDE_BODY).status_code == 200  # something cached to protect
    cache = server.app.manager.storage.cache_dir
    digest = _tree_digest(cache)
    before = sandbox.stats()["requests_total"]
    response = post(server, body, data)
    assert response.status_code == 400, response.text
    error = response.json()["error"]
    assert error["code"] == code and hint in error["message"]
    assert sandbox.stats()["requests_total"] == before, "bad input must not reach the provider"
    assert _tree_digest(cache) == digest, "bad input must not touch the cache"
    assert not os.path.exists(os.path.join(os.path.dirname(cache), "etc"))
    assert post(server, GUIDE_BODY).json()["source"] == "cache"  # and the server keeps serving


def test_routes_errors_are_json(server):
    missing = requests.get(server.url + "/api/v1/nothing", timeout=10)
    assert missing.status_code == 404 and missing.json()["error"]["code"] == "not_found"
    wrong = requests.get(server.url + "/api/v1/bars", timeout=10)
    assert wrong.status_code == 405 and wrong.json()["error"]["code"] == "method_not_allowed"
    big = post(server, data="{" + " " * (70 * 1024) + "}")
    assert big.status_code == 413 and big.json()["error"]["code"] == "body_too_large"
    assert requests.get(server.url + "/api/v1/health", timeout=10).json()["status"] == "ok"


def test_provider_rate_limit_is_a_429_with_retry_after(make_sandbox, tmp_path):
    sb = make_sandbox(rate_limit_per_minute=2)  # the first POST sends two: MSFT's bars and its splits
    config = sb.config(cache_dir=str(tmp_path / "c"), max_retries=0)
    with PolygonServer(port=0, config=config) as srv:
        assert post(srv, {"symbol": "MSFT", "timeframe": "1day", "start_date": "2023-01-03",
                          "end_date": "2023-01-06"}).status_code == 200
        limited = post(srv, {"symbol": "IBM", "timeframe": "1day", "start_date": "2023-01-03",
                             "end_date": "2023-01-06"})
        assert limited.status_code == 429 and limited.json()["error"]["code"] == "rate_limited"
        assert int(limited.headers["Retry-After"]) >= 1


def test_a_refused_key_is_a_502_and_the_key_never_leaves_the_server(make_sandbox, tmp_path):
    sb = make_sandbox()
    secret = "wrong-key-0123456789-SECRET"
    config = sb.config(cache_dir=str(tmp_path / "c"), api_key=secret)
    with PolygonServer(port=0, config=config) as srv:
        refused = post(srv, GUIDE_BODY)
        assert refused.status_code == 502 and refused.json()["error"]["code"] == "upstream_auth"
        bodies = [refused.text]
        for path in ("/api/v1/status", "/api/v1/health", "/api/v1/cache", "/"):
            bodies.append(requests.get(srv.url + path, timeout=10).text)
        assert not any(secret in body for body in bodies)


def test_status_cache_and_dashboard(server):
    post(server, GUIDE_BODY)
    status = requests.get(server.url + "/api/v1/status", timeout=10).json()
    assert status["server"]["requests"]["bars"] == 1 and status["server"]["uptime_seconds"] >= 0
    assert status["stream"] == {"clients": {}, "upstream": {
        "connected": False, "url": None, "provider_subscriptions": [], "message_count": 0, "reconnects": 0,
        "dropped_messages": 0, "last_error": None}}
    assert status["rate_limit"]["minute"]["used"] >= 1
    cache = requests.get(server.url + "/api/v1/cache", timeout=10).json()
    assert cache["count"] == 1 and cache["entries"][0]["symbol"] == "AAPL"
    page = requests.get(server.url + "/", timeout=10)
    assert page.status_code == 200 and "text/html" in page.headers["Content-Type"]
    assert "/api/v1/status" in page.text and "/api/v1/bars" in page.text


def test_python_dash_m_server_serves_and_stops_on_sigterm(tmp_path, server_process):
    env = dict(os.environ, POLYGON_CACHE_DIR=str(tmp_path / "cache"))
    proc, url = server_process(["-m", "polygon.polygon_server.server", "--sandbox", "--port", "0"], env=env)
    response = requests.post(url + "/api/v1/bars", json=GUIDE_BODY, timeout=60)
    assert response.status_code == 200 and response.json()["count"] == 250
    proc.send_signal(signal.SIGTERM)
    assert proc.wait(timeout=30) == 0


@pytest.mark.parametrize("tz", ["America/New_York", "UTC", "Asia/Kolkata", "Australia/Lord_Howe", "Europe/London"])
def test_iso_timestamps_match_isoformat_across_dst(tz):
    from polygon.polygon_server.server import iso_timestamps

    index = pd.date_range("2023-01-01", "2024-12-31", freq="17min", tz=tz)
    assert iso_timestamps(index) == [ts.isoformat() for ts in index]
    odd = pd.DatetimeIndex([pd.Timestamp("1880-03-12 01:59:59", tz="America/New_York"),
                            pd.Timestamp("2023-03-12 03:00:00.5", tz="America/New_York"),
                            pd.Timestamp("2023-11-05 05:30:00.123456789", tz="UTC").tz_convert("America/New_York"),
                            pd.Timestamp("2023-11-05 06:30:00", tz="UTC").tz_convert("America/New_York")])
    assert iso_timestamps(odd) == [ts.isoformat() for ts in odd]
    assert iso_timestamps(index[:0]) == []
