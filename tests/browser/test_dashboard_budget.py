"""Issue 26 item 3 in a real browser: the dashboard's "Rate limit" panel shows the requests of each endpoint
family this minute and today, as ``get_rate_limit_status()['families']`` counts them."""

import pytest
import requests

from polygon.polygon_server import PolygonServer

from .test_dashboard import WAIT, browser_page  # noqa: F401 - a fixture, used by name

sync_api = pytest.importorskip("playwright.sync_api", reason="the browser test needs playwright (the test extra)")


@pytest.fixture
def busy_server(tmp_path):
    from polygon.core.rate_limit import reset_shared_limiters
    from polygon.sandbox import Sandbox

    reset_shared_limiters()
    with Sandbox(port=0, clock="2024-06-20") as sandbox:
        with PolygonServer(port=0, config=sandbox.config(cache_dir=str(tmp_path / "cache"))) as server:
            answer = requests.post(server.url + "/api/v1/bars", json={
                "symbol": "NVDA", "timeframe": "1day", "start_date": "2024-06-03", "end_date": "2024-06-14"},
                timeout=60)
            assert answer.status_code == 200
            yield server


def test_the_rate_panel_lists_requests_per_endpoint_family(busy_server, browser_page):  # noqa: F811
    page, log = browser_page
    page.goto(busy_server.url + "/", wait_until="load", timeout=WAIT * 1000)
    page.wait_for_function("document.querySelectorAll('#rate-families tr').length >= 3", timeout=WAIT * 1000)
    rows = {r[0]: r[1:] for r in page.evaluate(
        "Array.from(document.querySelectorAll('#rate-families tr')).slice(1)"
        ".map(tr => Array.from(tr.cells).map(td => td.textContent))")}
    status = requests.get(busy_server.url + "/api/v1/status", timeout=30).json()["rate_limit"]["families"]
    assert set(rows) == set(status) and {"aggregates", "splits"} <= set(rows)
    for family, used in status.items():
        assert rows[family] == [str(used["minute"]), str(used["daily"])]
    assert not log["console_errors"] and not log["outside"]
