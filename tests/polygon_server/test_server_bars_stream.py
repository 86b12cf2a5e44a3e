"""POST /api/v1/bars for ranges of any size (issue 27 item 2): a range past the server's max_bars is refused
with the limit and how to page; long ranges are streamed window by window with the same answer shape; pages
follow next_cursor with every bar exactly once. Failed on the code before the fix (one whole answer, any size)."""

import json

import pytest
import requests

from polygon.markets.timeframes import parse_timeframe
from polygon.polygon_server import PolygonServer, bars_answer
from polygon.polygon_server.messages import validate_message

RANGE = {"symbol": "AAPL", "timeframe": "1min", "start_date": "2024-01-02", "end_date": "2024-01-31"}


@pytest.fixture
def small_server(sandbox, tmp_path, monkeypatch):
    """A server that sends 5,000 bars per answer at most and fetches 2,000-bar windows."""
    monkeypatch.setattr(bars_answer, "WINDOW_BARS", 2000)
    monkeypatch.setattr(bars_answer, "ENCODE_ROWS", 700)
    with PolygonServer(port=0, config=sandbox.config(cache_dir=str(tmp_path / "c")), max_bars=5000) as srv:
        yield srv


def _whole(srv, body):
    """The same range as the manager returns it in one piece (the answer before streaming existed)."""
    from polygon.polygon_server.server import bars_payload

    df = srv.app.manager.fetch_data(body["symbol"], body["timeframe"], body["start_date"], body["end_date"])
    return json.loads(json.dumps(bars_payload(df)))


def test_a_range_past_max_bars_is_422_with_the_limit_and_how_to_page(small_server):
    answer = requests.post(small_server.url + "/api/v1/bars", json=RANGE, timeout=60)
    assert answer.status_code == 422, answer.text[:300]
    error = answer.json()["error"]
    assert error["code"] == "too_many_bars" and error["max_bars"] == 5000
    assert error["bars_up_to"] == 30 * 1440
    assert '"limit": 5000' in error["message"] and "next_cursor" in error["message"]
    too_big = requests.post(small_server.url + "/api/v1/bars", json=dict(RANGE, limit=5001), timeout=60)
    assert too_big.status_code == 422 and too_big.json()["error"]["code"] == "limit_too_large"
    assert "5000" in too_big.json()["error"]["message"]


def test_pages_follow_next_cursor_with_every_bar_once(small_server):
    body, pages, bars = dict(RANGE, limit=5000), 0, []
    while pages < 20:  # bounded
        answer = requests.post(small_server.url + "/api/v1/bars", json=body, timeout=60)
        assert answer.status_code == 200, answer.text[:300]
        page = answer.json()
        assert not validate_message("bars_response", page)
        assert page["count"] == len(page["bars"]) <= 5000
        bars += page["bars"]
        pages += 1
        if "next_cursor" not in page:
            break
        body["cursor"] = page["next_cursor"]
    whole = _whole(small_server, RANGE)
    assert pages == -(-whole["count"] // 5000) and pages > 1
    assert bars == whole["bars"], "the pages hold exactly the bars of the range, in order, each once"
    bad = requests.post(small_server.url + "/api/v1/bars", json=dict(RANGE, limit=10, cursor="123"), timeout=60)
    assert bad.status_code == 400 and bad.json()["error"]["code"] == "invalid_cursor"


def test_a_long_range_is_streamed_with_the_same_shape(sandbox, tmp_path, monkeypatch):
    monkeypatch.setattr(bars_answer, "WINDOW_BARS", 2000)
    monkeypatch.setattr(bars_answer, "ENCODE_ROWS", 700)
    with PolygonServer(port=0, config=sandbox.config(cache_dir=str(tmp_path / "c"))) as srv:
        answer = requests.post(srv.url + "/api/v1/bars", json=RANGE, timeout=60, stream=True)
        assert answer.status_code == 200
        assert answer.headers.get("Transfer-Encoding") == "chunked"
        chunks = list(answer.iter_content(None))
        assert len(chunks) > 10, "written window by window, not in one piece"
        streamed = json.loads(b"".join(chunks))
        assert not validate_message("bars_response", streamed)
        whole = _whole(srv, RANGE)
        assert streamed.pop("source") in ("api", "mixed") and whole.pop("source") == "cache"  # fetched, then cached
        assert streamed == whole, "same members, same bars as the whole answer"
        small = requests.post(srv.url + "/api/v1/bars", json=dict(RANGE, end_date="2024-01-02"), timeout=60)
        assert "Transfer-Encoding" not in small.headers and small.json()["count"] == 390  # as it always was


def test_windows_and_bounds_are_exact():
    tf = parse_timeframe("1min")
    spans = bars_answer.windows(0, 10_000 * 60_000 + 1, tf, window_bars=3000)
    assert spans[0] == (0, 3000 * 60_000) and spans[-1][1] == 10_000 * 60_000 + 1 and len(spans) == 4
    assert all(a[1] == b[0] for a, b in zip(spans, spans[1:]))
    assert bars_answer.windows(0, 10 ** 12, parse_timeframe("1day")) == [(0, 10 ** 12)]
    assert bars_answer.bar_bound(0, 60_000 * 90, tf) == 90
    assert bars_answer.bar_bound(0, 86_400_000 * 365, parse_timeframe("1month")) == 14
    assert bars_answer.parse_cursor("120000", 0, 10 ** 9) == 120000
    for bad in ("x", "-5", "99999999999999999", 5):
        with pytest.raises(ValueError):
            bars_answer.parse_cursor(bad, 0, 10 ** 9)
