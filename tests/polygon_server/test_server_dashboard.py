"""What the dashboard stands on: static files (vendored chart library, favicon), health without a key,
the status and coverage endpoints, the startup warning and ``--help``."""

import hashlib
import logging
import re
import time
from pathlib import Path

import pytest
import requests

from polygon.polygon_server import PolygonServer
from polygon.polygon_server.relay import RelayClient

STATIC = Path(__file__).resolve().parents[2] / "polygon" / "polygon_server" / "static"
#: The vendored chart library: version and sha256 as noted in static/VENDORED.md.
LIGHTWEIGHT_CHARTS = ("5.2.1", "e21cc5caa0226ef30bd8549c50b9ef926615f2a4ee6b4e486353477a55f598cf")
DAY = {"symbol": "AAPL", "timeframe": "1day", "start_date": "2024-01-02", "end_date": "2024-01-31"}


def post(server, body):
    return requests.post(server.url + "/api/v1/bars", json=body, timeout=30)


def test_vendored_chart_library_is_the_noted_one():
    version, digest = LIGHTWEIGHT_CHARTS
    lib = (STATIC / "lightweight-charts.standalone.production.js").read_bytes()
    assert hashlib.sha256(lib).hexdigest() == digest
    assert ("Lightweight Charts\u2122 v%s" % version).encode() in lib[:300]
    notes = (STATIC / "VENDORED.md").read_text()
    assert version in notes and digest in notes and "npm pack lightweight-charts" in notes
    assert "Apache License" in (STATIC / "lightweight-charts.LICENSE.txt").read_text()


def test_static_files_favicon_and_page_load_nothing_from_elsewhere(server):
    page = requests.get(server.url + "/", timeout=10)
    assert page.status_code == 200 and "default-src 'self'" in page.headers["Content-Security-Policy"]
    refs = re.findall(r'(?:src|href)="([^"]+)"', page.text)
    assert refs and all(ref.startswith("/static/") for ref in refs), refs
    for ref in refs:
        answer = requests.get(server.url + ref, timeout=10)
        assert answer.status_code == 200, ref
        assert answer.headers["X-Content-Type-Options"] == "nosniff"
    icon = requests.get(server.url + "/favicon.ico", timeout=10)
    assert icon.status_code == 200 and icon.headers["Content-Type"] == "image/svg+xml"
    js = requests.get(server.url + "/static/dashboard.js", timeout=10)
    assert js.headers["Content-Type"].startswith("text/javascript")
    assert "http://" not in js.text and "https://" not in js.text
    errors = requests.get(server.url + "/api/v1/status", timeout=10).json()["server"]["errors"]
    assert "not_found" not in errors


@pytest.mark.parametrize("path", ["/static/nothing.js", "/static/..%2Fserver.py", "/static/server.py",
                                  "/static/..%2F..%2F__init__.py", "/static/%2Fetc%2Fpasswd"])
def test_static_serves_only_its_files(server, path):
    answer = requests.get(server.url + path, timeout=10)
    assert answer.status_code == 404 and answer.json()["error"]["code"] == "not_found"


def test_health_ok_with_a_key_and_status_names_the_mode(server):
    health = requests.get(server.url + "/api/v1/health", timeout=10).json()
    assert health["status"] == "ok" and health["mode"] == "sandbox" and "reason" not in health
    status = requests.get(server.url + "/api/v1/status", timeout=10).json()
    assert status["health"] == health
    assert status["provider"]["api_key"] is True and status["provider"]["base_url"].startswith("http://127.0.0.1:")
    # rate-limit usage even before this server made a request (the process-wide limiter of this key and
    # URL, zero when there is none yet): the gauges always have something to draw
    assert {"used", "limit", "remaining", "reset_in"} <= set(status["rate_limit"]["minute"])
    assert status["rate_limit"]["daily"]["used"] >= 0


def test_without_a_key_the_server_warns_says_degraded_and_serves_the_cache(sandbox, tmp_path, caplog):
    cache = str(tmp_path / "cache")
    with PolygonServer(port=0, config=sandbox.config(cache_dir=cache)) as srv:
        assert post(srv, DAY).status_code == 200  # fills the cache
    with caplog.at_level(logging.WARNING, logger="polygon.polygon_server.server"):
        with PolygonServer(port=0, config=sandbox.config(cache_dir=cache, api_key=None)) as srv:
            warned = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
            assert any("no provider API key" in m for m in warned), warned
            health = requests.get(srv.url + "/api/v1/health", timeout=10).json()
            assert health["status"] == "degraded" and health["mode"] == "no_key"
            assert "POLYGON_API_KEY" in health["reason"] and "cached" in health["reason"]
            cached = post(srv, DAY)
            assert cached.status_code == 200 and cached.json()["source"] == "cache"
            missing = post(srv, dict(DAY, symbol="MSFT"))
            assert missing.status_code == 503 and missing.json()["error"]["code"] == "no_api_key"
            status = requests.get(srv.url + "/api/v1/status", timeout=10).json()
            assert status["health"]["status"] == "degraded" and status["provider"]["api_key"] is False


def test_cache_coverage_endpoint(server):
    assert post(server, DAY).status_code == 200
    answer = requests.get(server.url + "/api/v1/cache/coverage", params={"symbol": "aapl", "timeframe": "1day"},
                          timeout=10).json()
    assert answer["symbol"] == "AAPL" and answer["timeframe"] == "1day" and answer["rows"] > 15
    assert len(answer["coverage"]) == 1
    start, end = answer["coverage"][0]
    assert start < end and time.gmtime(start / 1000)[:3] <= (2024, 1, 2) and time.gmtime(end / 1000)[:2] == (2024, 2)
    none = requests.get(server.url + "/api/v1/cache/coverage", params={"symbol": "IBM", "timeframe": "1min"},
                        timeout=10).json()
    assert none["coverage"] == [] and none["rows"] == 0
    for params, code in (({"symbol": "../etc", "timeframe": "1day"}, "invalid_symbol"),
                         ({"symbol": "AAPL", "timeframe": "3fortnights"}, "invalid_timeframe"),
                         ({"symbol": "AAPL"}, "invalid_request")):
        bad = requests.get(server.url + "/api/v1/cache/coverage", params=params, timeout=10)
        assert bad.status_code == 400 and bad.json()["error"]["code"] == code, bad.text


def test_relay_client_lag_is_the_age_of_its_oldest_queued_message():
    from polygon.polygon_server.outlet import CallbackOutlet

    written = []
    outlet = CallbackOutlet(written.extend)
    client = RelayClient("lagging", outlet)
    assert client.lag == 0.0
    outlet.put_texts(['{"n":1}'])  # queued; the relay's fan-out thread writes it later
    outlet.put_texts(['{"n":2}'])
    first = client.lag
    deadline = time.monotonic() + 10
    while client.lag <= first and time.monotonic() < deadline:  # the clock moves on; bounded
        time.sleep(0.01)
    assert client.pending == 2 and client.lag > first >= 0.0
    assert outlet.flush() and written == ['{"n":1}', '{"n":2}']
    assert client.lag == 0.0 and client.pending == 0
    client.close()


def test_help_names_the_real_default_cache_dir(capsys, monkeypatch, tmp_path):
    from polygon.config import default_cache_dir
    from polygon.polygon_server.server import main

    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    with pytest.raises(SystemExit) as stop:
        main(["--help"])
    assert stop.value.code == 0
    text = "".join(capsys.readouterr().out.split())  # argparse wraps long lines, also at hyphens
    assert default_cache_dir() in text and str(tmp_path / "xdg") in text and "~/.polygon-cache" not in text
