"""The dashboard in a real browser: headless Debian chromium driven by Playwright, against the local server
backed by a sandbox replaying a session 30x faster.

One page load, then: watch AAPL -> candles drawn on the chart canvas, the tick tape grows, the client table
shows this page's own connection, no console errors, no request leaves 127.0.0.1. A screenshot is saved
(path printed; ``POLYGON_TEST_ARTIFACTS=dir`` keeps it somewhere of your choosing).
"""

import os
import shutil
import time
from pathlib import Path
from urllib.parse import urlsplit

import pytest
import requests

from polygon.polygon_server import PolygonServer

sync_api = pytest.importorskip("playwright.sync_api", reason="the browser test needs playwright (the test extra)")

CHROMIUM_FLAGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                  "--disable-background-networking", "--disable-component-update", "--disable-sync"]
#: Seconds any one browser wait may take (the machine may be busy; nothing here sleeps).
WAIT = 60


def _chromium() -> str:
    for candidate in (os.environ.get("POLYGON_TEST_CHROMIUM"), "/usr/bin/chromium", shutil.which("chromium"),
                      shutil.which("chromium-browser")):
        if candidate and os.path.exists(candidate):
            return candidate
    pytest.skip("no chromium found (Debian: apt-get install chromium; or set POLYGON_TEST_CHROMIUM)")


@pytest.fixture(scope="module")
def dashboard_server(tmp_path_factory):
    from polygon.sandbox import Sandbox

    cache = tmp_path_factory.mktemp("dashboard-cache")
    with Sandbox(port=0, clock="2024-03-14", speed=30, max_connections=5) as sandbox:
        with PolygonServer(port=0, config=sandbox.config(cache_dir=str(cache))) as server:
            yield server


@pytest.fixture(scope="module")
def artifacts(tmp_path_factory):
    folder = os.environ.get("POLYGON_TEST_ARTIFACTS")
    if folder:
        Path(folder).mkdir(parents=True, exist_ok=True)
        return Path(folder)
    return tmp_path_factory.mktemp("browser-artifacts")


@pytest.fixture
def browser_page(tmp_path):
    """A fresh chromium profile; every request the page makes is recorded, and any that would leave
    127.0.0.1 is aborted."""
    executable = _chromium()
    log = {"requests": [], "outside": [], "console_errors": [], "websockets": []}
    with sync_api.sync_playwright() as pw:
        try:
            context = pw.chromium.launch_persistent_context(
                str(tmp_path / "profile"), executable_path=executable, headless=True, args=CHROMIUM_FLAGS,
                viewport={"width": 1400, "height": 1000}, service_workers="block",
                bypass_csp=True)  # playwright evaluates its wait expressions; the page itself needs no eval
        except sync_api.Error as exc:
            pytest.skip("chromium at %s cannot be started by playwright: %s" % (executable, str(exc)[:300]))

        def route(route):
            url = route.request.url
            log["requests"].append(url)
            if urlsplit(url).hostname != "127.0.0.1":
                log["outside"].append(url)
                route.abort()
            else:
                route.continue_()

        context.route("**/*", route)
        page = context.pages[0] if context.pages else context.new_page()
        page.on("console", lambda msg: msg.type == "error" and log["console_errors"].append(msg.text))
        page.on("pageerror", lambda exc: log["console_errors"].append("pageerror: %s" % exc))
        page.on("websocket", lambda ws: log["websockets"].append(ws.url))
        try:
            yield page, log
        finally:
            context.close()


_CANDLE_PIXELS = """(symbol) => {
  // pixels in the candle colours (#26a69a up, #ef5350 down) on the watched symbol's chart canvases
  const card = document.querySelector('.card[data-symbol="' + symbol + '"]');
  let count = 0;
  for (const canvas of card.querySelectorAll('canvas')) {
    if (!canvas.width || !canvas.height) continue;
    const data = canvas.getContext('2d').getImageData(0, 0, canvas.width, canvas.height).data;
    for (let i = 0; i < data.length; i += 4) {
      const r = data[i], g = data[i + 1], b = data[i + 2], a = data[i + 3];
      if (a < 200) continue;
      if ((Math.abs(r - 0x26) < 12 && Math.abs(g - 0xa6) < 12 && Math.abs(b - 0x9a) < 12) ||
          (Math.abs(r - 0xef) < 12 && Math.abs(g - 0x53) < 12 && Math.abs(b - 0x50) < 12)) count++;
    }
  }
  return count;
}"""


def test_dashboard_live_chart_tape_and_clients(dashboard_server, browser_page, artifacts):
    page, log = browser_page
    url = dashboard_server.url + "/"
    page.goto(url, wait_until="load", timeout=WAIT * 1000)
    client_id = page.evaluate("window.dashboard.clientId")
    assert client_id.startswith("dashboard-")
    page.wait_for_function("document.getElementById('ws-state').textContent === 'connected'", timeout=WAIT * 1000)

    page.fill("#watch-symbol", "AAPL")
    page.click("#watch-form button")

    # history through the cache, then live: the card's note names the bars' source
    page.wait_for_function("""() => { const n = document.querySelector('.card[data-symbol="AAPL"] .note');
                               return n && / bars from (api|cache)/.test(n.textContent); }""", timeout=WAIT * 1000)
    page.wait_for_function("(s) => window.dashboard.watches[s].bars.length > 30", arg="AAPL", timeout=WAIT * 1000)
    page.wait_for_function("(s) => (%s)(s) > 300" % _CANDLE_PIXELS, arg="AAPL", timeout=WAIT * 1000)

    # the tick tape grows while we watch
    page.wait_for_function("window.dashboard.ticks > 0", timeout=WAIT * 1000)
    first = page.evaluate("window.dashboard.ticks")
    page.wait_for_function("(n) => window.dashboard.ticks > n + 5 && document.querySelectorAll('#tape .tick').length"
                           " > 5", arg=first, timeout=WAIT * 1000)

    # the client table lists this page's own /ws connection with its subscription
    row = '#clients tr.me[data-client="%s"]' % client_id
    page.wait_for_function("(sel) => { const r = document.querySelector(sel); return r && /AAPL/.test(r.textContent)"
                           " && !/…/.test(r.cells[3].textContent); }", arg=row, timeout=WAIT * 1000)
    # the upstream panel says connected, the rate gauges are drawn
    page.wait_for_function("/connected/.test(document.getElementById('upstream').textContent)", timeout=WAIT * 1000)
    assert page.locator("#rate .gauge .track").count() == 2

    # the "try it" form draws a chart (not a JSON dump)
    page.click("#try-form button")
    page.wait_for_function("/ bars of AAPL from /.test(document.getElementById('try-info').textContent)",
                           timeout=WAIT * 1000)
    assert page.locator("#try-chart canvas").count() > 0
    assert "{" not in page.inner_text("#try-info")
    # the cache browser shows what the page's fetches stored, with a coverage timeline
    page.wait_for_function("document.querySelectorAll('#cache .timeline span').length >= 2", timeout=WAIT * 1000)

    page.mouse.move(5, 5)  # no crosshair in the picture
    shot = artifacts / "dashboard.png"
    page.screenshot(path=str(shot), full_page=True)
    print("dashboard screenshot: %s" % shot)

    assert log["console_errors"] == []
    assert log["outside"] == []
    assert log["requests"] and all(urlsplit(u).hostname == "127.0.0.1" for u in log["requests"])
    assert log["websockets"] and all(urlsplit(u).hostname == "127.0.0.1" for u in log["websockets"])
    # the favicon is found: a page load counts no not_found
    errors = requests.get(dashboard_server.url + "/api/v1/status", timeout=10).json()["server"]["errors"]
    assert "not_found" not in errors


def test_history_loaded_before_any_event_is_reloaded_at_the_replayed_time(dashboard_server, browser_page):
    """A chart whose history came from the wall clock (no event within ``history_wait``) while the stream
    replays an older session loads its history again, cut at the first event, so live bars continue it."""
    page, log = browser_page
    page.goto(dashboard_server.url + "/?history_wait=0&watch=MSFT", wait_until="load", timeout=WAIT * 1000)
    page.wait_for_function("""() => { const w = window.dashboard.watches.MSFT;
                               return w && w.anchored && w.loaded && w.lastTrade && w.bars.length > 30; }""",
                           timeout=WAIT * 1000)
    last_trade, bar_times = page.evaluate("[window.dashboard.watches.MSFT.lastTrade,"
                                          " window.dashboard.watches.MSFT.bars.map((b) => b.time)]")
    assert time.gmtime(last_trade / 1000)[:3] == (2024, 3, 14)  # the replayed session, not today
    assert bar_times == sorted(bar_times)
    # every bar is at or before the live trade's minute (chart times are New York wall time: -4 h in March)
    assert bar_times[-1] <= (last_trade // 60000) * 60 - 4 * 3600
    assert bar_times[-1] >= (last_trade // 60000) * 60 - 4 * 3600 - 3 * 86400
    assert log["console_errors"] == [] and log["outside"] == []


def test_dashboard_without_a_key_says_so_and_charts_cached_bars(sandbox, tmp_path, browser_page, artifacts):
    cache = str(tmp_path / "cache")
    body = {"symbol": "AAPL", "timeframe": "1day", "start_date": "2024-01-02", "end_date": "2024-03-28"}
    with PolygonServer(port=0, config=sandbox.config(cache_dir=cache)) as filler:  # what an earlier run cached
        assert requests.post(filler.url + "/api/v1/bars", json=body, timeout=30).status_code == 200
    page, log = browser_page
    with PolygonServer(port=0, config=sandbox.config(cache_dir=cache, api_key=None)) as server:
        page.goto(server.url + "/", wait_until="load", timeout=WAIT * 1000)
        page.wait_for_function("!document.getElementById('banner').hidden", timeout=WAIT * 1000)
        assert "no provider API key" in page.inner_text("#banner")
        assert page.inner_text("#mode") == "no API key"
        page.click("#try-form button")  # the form's defaults are the cached request
        page.wait_for_function("/ bars of AAPL from cache/.test(document.getElementById('try-info').textContent)",
                               timeout=WAIT * 1000)
        assert page.locator("#try-chart canvas").count() > 0
        page.mouse.move(5, 5)
        page.screenshot(path=str(artifacts / "dashboard-no-key.png"), full_page=True)
    assert log["console_errors"] == [] and log["outside"] == []
