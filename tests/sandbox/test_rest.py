"""REST wire format of the sandbox: shapes, auth, pagination, errors, determinism, calendar."""

import json
import subprocess
import sys

import pytest
import requests

from polygon.markets import futures_calendar, sessions

AGGS = "/v2/aggs/ticker/%s/range/%d/%s/%s/%s"
HAS_XCALS = sessions.calendar_source() == "exchange_calendars"


def get(sb, path, key=None, **params):
    headers = {"Authorization": "Bearer %s" % (key or sb.api_key)}
    return requests.get(sb.base_url + path, headers=headers, params=params, timeout=30)


def aggs(sb, ticker, mult, span, start, end, **params):
    return get(sb, AGGS % (ticker, mult, span, start, end), **params)


def test_aggs_shape_matches_provider(sandbox):
    resp = aggs(sandbox, "AAPL", 1, "day", "2023-01-03", "2023-01-06")
    assert resp.status_code == 200
    assert resp.headers["Content-Type"].startswith("application/json")
    body = resp.json()
    assert list(body) == ["ticker", "queryCount", "resultsCount", "adjusted", "results", "status", "request_id"]
    assert body["ticker"] == "AAPL" and body["status"] == "OK" and body["adjusted"] is True
    assert body["resultsCount"] == len(body["results"]) == 4
    assert body["queryCount"] == 4 * 390
    bar = body["results"][0]
    assert list(bar) == ["v", "vw", "o", "c", "h", "l", "t", "n"]
    assert bar["t"] == 1672722000000  # 2023-01-03 00:00 America/New_York
    assert bar["l"] <= min(bar["o"], bar["c"]) <= max(bar["o"], bar["c"]) <= bar["h"]
    assert bar["l"] <= bar["vw"] <= bar["h"]
    assert len(body["request_id"]) == 32


def test_calendar_header_and_stats(sandbox):
    resp = aggs(sandbox, "MSFT", 1, "day", "2023-01-03", "2023-01-03")
    assert resp.headers["X-Sandbox-Calendar"] == sessions.calendar_source()
    assert sandbox.stats()["calendar"] == sessions.calendar_source()
    assert sandbox.stats()["futures_calendar"] == futures_calendar.calendar_source()


@pytest.mark.parametrize("header,message", [(None, "API Key was not provided"), ("Bearer wrong", "Unknown API Key")])
def test_bad_or_missing_key_is_refused_like_the_provider(sandbox, header, message):
    headers = {"Authorization": header} if header else {}
    resp = requests.get(sandbox.base_url + AGGS % ("AAPL", 1, "day", "2023-01-03", "2023-01-04"),
                        headers=headers, timeout=10)
    assert resp.status_code == 401
    body = resp.json()
    assert body["status"] == "ERROR" and body["error"] == message and body["request_id"]


def test_apikey_query_parameter_is_accepted(sandbox):
    resp = requests.get(sandbox.base_url + "/v1/marketstatus/now", params={"apiKey": sandbox.api_key}, timeout=10)
    assert resp.status_code == 200 and "market" in resp.json()


def test_unknown_symbol_gives_empty_result(sandbox):
    body = aggs(sandbox, "NOSUCH", 1, "day", "2023-01-03", "2023-01-06").json()
    assert body["resultsCount"] == 0 and body["queryCount"] == 0 and body["status"] == "OK"
    assert "results" not in body and "next_url" not in body


@pytest.mark.parametrize("path", [
    AGGS % ("AAPL", 1, "dayz", "2023-01-03", "2023-01-06"),
    AGGS % ("AAPL", 0, "day", "2023-01-03", "2023-01-06"),
    AGGS % ("AAPL", 1, "day", "yesterday", "2023-01-06"),
    AGGS % ("AAPL", 1, "day", "2023-01-03", "2023-13-45"),
])
def test_bad_parameters_give_400_shape(sandbox, path):
    resp = get(sandbox, path)
    assert resp.status_code == 400
    body = resp.json()
    assert body["status"] == "ERROR" and isinstance(body["error"], str) and body["request_id"]


@pytest.mark.parametrize("params", [{"sort": "sideways"}, {"adjusted": "maybe"}, {"limit": "ten"}])
def test_bad_query_values_give_400(sandbox, params):
    assert aggs(sandbox, "AAPL", 1, "day", "2023-01-03", "2023-01-06", **params).status_code == 400


def test_stream_path_without_upgrade_is_400(sandbox):
    resp = get(sandbox, "/stocks")
    assert resp.status_code == 400 and resp.json()["status"] == "ERROR"


def test_unknown_path_is_404(sandbox):
    resp = get(sandbox, "/v9/nothing")
    assert resp.status_code == 404 and resp.json()["status"] == "NOT_FOUND"


def test_timestamps_in_ms_and_desc_sort(sandbox):
    asc = aggs(sandbox, "AAPL", 1, "minute", "2023-01-03", "2023-01-03").json()["results"]
    start, end = asc[10]["t"], asc[19]["t"]
    part = aggs(sandbox, "AAPL", 1, "minute", str(start), str(end)).json()["results"]
    assert part == asc[10:20]
    desc = aggs(sandbox, "AAPL", 1, "minute", str(start), str(end), sort="desc").json()["results"]
    assert desc == list(reversed(part))


def _follow(sb, url, limit_pages=50):
    rows, pages = [], 0
    while url and pages < limit_pages:
        resp = requests.get(url, headers={"Authorization": "Bearer " + sb.api_key}, timeout=30)
        assert resp.status_code == 200
        body = resp.json()
        rows.extend(body.get("results", []))
        url = body.get("next_url")
        pages += 1
    return rows, pages


@pytest.mark.parametrize("sort", ["asc", "desc"])
def test_pagination_with_cursor_covers_everything_once(sandbox, sort):
    full = aggs(sandbox, "AAPL", 5, "minute", "2023-01-03", "2023-01-05", sort=sort).json()["results"]
    assert len(full) == 3 * 78
    first = aggs(sandbox, "AAPL", 5, "minute", "2023-01-03", "2023-01-05", sort=sort, limit=50).json()
    assert first["resultsCount"] == 50 and "cursor=" in first["next_url"]
    assert first["next_url"].startswith(sandbox.base_url + "/v2/aggs/ticker/AAPL/range/5/minute/")
    rows, pages = _follow(sandbox, sandbox.base_url + AGGS % ("AAPL", 5, "minute", "2023-01-03", "2023-01-05")
                          + "?limit=50&sort=" + sort)
    assert pages == 5
    assert rows == full


def test_limit_is_capped_at_50000(sandbox):
    body = aggs(sandbox, "SPY", 1, "minute", "2023-01-01", "2023-12-31", limit=60000).json()
    assert body["resultsCount"] == 50000 and "next_url" in body


def test_adjusted_false_shows_pre_split_prices(sandbox):
    adj = aggs(sandbox, "AAPL", 1, "day", "2020-08-28", "2020-08-31").json()["results"]
    raw = aggs(sandbox, "AAPL", 1, "day", "2020-08-28", "2020-08-31", adjusted="false").json()["results"]
    assert raw[0]["c"] == pytest.approx(adj[0]["c"] * 4, abs=0.02)  # 4:1 split on 2020-08-31
    assert raw[0]["v"] == pytest.approx(adj[0]["v"] / 4, abs=1)
    assert raw[1] == adj[1]


@pytest.mark.skipif(not HAS_XCALS, reason="needs exchange-calendars")
def test_no_bars_on_holiday_and_early_close(sandbox):
    days = aggs(sandbox, "AAPL", 1, "day", "2023-07-03", "2023-07-05").json()["results"]
    assert len(days) == 2  # 2023-07-04 closed
    minutes = aggs(sandbox, "AAPL", 1, "minute", "2023-11-24", "2023-11-24").json()["results"]
    assert len(minutes) == 210  # 09:30-13:00
    assert minutes[-1]["t"] == 1700848800000 - 60_000  # last bar 12:59 EST


def _check_agg(bars, minutes):
    assert bars["o"] == minutes[0]["o"] and bars["c"] == minutes[-1]["c"]
    assert bars["h"] == max(m["h"] for m in minutes) and bars["l"] == min(m["l"] for m in minutes)
    assert bars["v"] == sum(m["v"] for m in minutes) and bars["n"] == sum(m["n"] for m in minutes)
    vwap = sum(m["vw"] * m["v"] for m in minutes) / sum(m["v"] for m in minutes)
    assert bars["vw"] == pytest.approx(vwap, abs=1e-4)


@pytest.mark.parametrize("mult,span", [(5, "minute"), (1, "hour"), (1, "day"), (1, "week"), (1, "month")])
def test_coarser_bars_are_exact_aggregations_of_minutes(sandbox, mult, span):
    minutes = aggs(sandbox, "MSFT", 1, "minute", "2023-01-01", "2023-02-28", limit=50000).json()["results"]
    coarse = aggs(sandbox, "MSFT", mult, span, "2023-01-01", "2023-02-28").json()["results"]
    assert coarse
    edges = [b["t"] for b in coarse[1:]] + [10**15]
    i = 0
    for bar, edge in zip(coarse, edges):
        group = []
        while i < len(minutes) and minutes[i]["t"] < edge:
            assert minutes[i]["t"] >= bar["t"]
            group.append(minutes[i])
            i += 1
        _check_agg(bar, group)
    assert i == len(minutes)


def test_reference_endpoints_shapes(sandbox):
    details = get(sandbox, "/v3/reference/tickers/AAPL").json()
    assert details["status"] == "OK" and details["results"]["ticker"] == "AAPL"
    assert details["results"]["name"] == "Apple Inc."
    assert get(sandbox, "/v3/reference/tickers/NOSUCH").status_code == 404
    status = get(sandbox, "/v1/marketstatus/now").json()
    assert status["market"] in ("open", "closed", "extended-hours") and "serverTime" in status
    upcoming = get(sandbox, "/v1/marketstatus/upcoming").json()
    assert isinstance(upcoming, list)
    prev = get(sandbox, "/v2/aggs/ticker/AAPL/prev").json()
    assert prev["resultsCount"] == 1 and prev["results"][0]["T"] == "AAPL"
    grouped = get(sandbox, "/v2/aggs/grouped/locale/us/market/stocks/2023-01-09").json()
    assert grouped["resultsCount"] > 250 and {"T", "o", "c"} <= set(grouped["results"][0])
    oc = get(sandbox, "/v1/open-close/AAPL/2023-01-09").json()
    assert oc["symbol"] == "AAPL" and oc["from"] == "2023-01-09"
    day = aggs(sandbox, "AAPL", 1, "day", "2023-01-09", "2023-01-09").json()["results"][0]
    assert (oc["open"], oc["close"], oc["volume"]) == (day["o"], day["c"], day["v"])
    trade = get(sandbox, "/v2/last/trade/AAPL").json()["results"]
    quote = get(sandbox, "/v2/last/nbbo/AAPL").json()["results"]
    assert quote["p"] <= trade["p"] <= quote["P"]
    # the snapshot is as of the last closed minute; the last trade is as of now (while the market is open the
    # current minute may already have trades): the snapshot's last trade is that minute's close, never later
    snap = get(sandbox, "/v2/snapshot/locale/us/markets/stocks/tickers/AAPL").json()["ticker"]
    latest = get(sandbox, "/v2/last/trade/AAPL").json()["results"]
    assert snap["ticker"] == "AAPL" and snap["lastTrade"]["p"] == snap["min"]["c"]
    assert snap["lastTrade"]["t"] <= latest["t"] and snap["min"]["t"] <= snap["lastTrade"]["t"] // 1_000_000


def test_tickers_list_paginates(sandbox):
    rows, pages = _follow(sandbox, sandbox.base_url + "/v3/reference/tickers?limit=100")
    tickers = [r["ticker"] for r in rows]
    assert pages >= 3 and len(tickers) == len(set(tickers)) >= 300
    assert {"AAPL", "MSFT", "GOOGL", "AMZN", "TSLA", "SPY", "QQQ", "IWM", "DIA"} <= set(tickers)
    assert tickers == sorted(tickers)
    etfs = get(sandbox, "/v3/reference/tickers", type="ETF", limit=1000).json()["results"]
    assert etfs and all(r["type"] == "ETF" for r in etfs)


_SCRIPT = """
import re, sys, requests
from polygon.sandbox import Sandbox
with Sandbox(port=0) as sb:
    h = {"Authorization": "Bearer " + sb.api_key}
    for path in sys.argv[1:]:
        body = requests.get(sb.base_url + path, headers=h, timeout=30).content.decode()
        body = re.sub('"request_id":"[0-9a-f]{32}"', '"request_id":"ID"', body)
        sys.stdout.write(body.replace(sb.base_url, "BASE") + "\\n")
"""


def test_bodies_are_byte_identical_across_processes():
    paths = [AGGS % ("AAPL", 1, "minute", "2023-03-01", "2023-03-03") + "?limit=500",
             AGGS % ("ZAB", 1, "day", "2021-01-01", "2021-12-31"),
             "/v3/reference/tickers/TSLA"]
    procs = [subprocess.Popen([sys.executable, "-c", _SCRIPT] + paths, stdout=subprocess.PIPE) for _ in range(2)]
    outs = [proc.communicate(timeout=120)[0] for proc in procs]
    assert [proc.returncode for proc in procs] == [0, 0]
    assert outs[0] == outs[1]
    first = json.loads(outs[0].splitlines()[0])
    assert first["resultsCount"] == 500 and "next_url" in first


def test_request_id_is_unique_per_request(sandbox):
    # the provider's ids are per request; they used to be a digest of the request (same for a repeat)
    answers = [aggs(sandbox, "AAPL", 1, "day", "2023-01-03", "2023-01-06") for _ in range(3)]
    answers.append(get(sandbox, "/v3/reference/tickers/NOSUCH"))
    ids = [resp.json()["request_id"] for resp in answers]
    assert len(set(ids)) == 4 and all(len(rid) == 32 for rid in ids)
    assert [resp.headers["X-Request-Id"] for resp in answers] == ids


@pytest.mark.parametrize("mult", ["99999999999999999999", "1000001"])
def test_out_of_range_multiplier_is_400_not_500(sandbox, mult):
    # regression: a multiplier too large for int64 raised OverflowError in the model (a 500)
    resp = get(sandbox, "/v2/aggs/ticker/AAPL/range/%s/day/2024-03-14/2024-03-14" % mult)
    assert resp.status_code == 400
    body = resp.json()
    assert body["status"] == "ERROR" and len(body["request_id"]) == 32
    assert "multiplier" in body["error"] and "1000000" in body["error"]
    assert aggs(sandbox, "AAPL", 1000000, "day", "2024-03-14", "2024-03-14").status_code == 200


@pytest.mark.parametrize("sort", ["asc", "desc"])
def test_far_off_dates_are_clamped_not_500(sandbox, sort):
    # regression: to=9999-12-31 overflowed the date arithmetic (a 500); far dates now mean "everything"
    resp = aggs(sandbox, "IBM", 1, "day", "1000-01-01", "9999-12-31", limit=3, sort=sort)
    assert resp.status_code == 200, resp.text
    body = resp.json()
    assert body["resultsCount"] == 3 and "next_url" in body
    first = body["results"][0]["t"]
    assert (first < 10 ** 9) if sort == "asc" else (first > 1.7e12)  # from 1970 (IBM was listed before), or up to now
    nxt = requests.get(body["next_url"], headers={"Authorization": "Bearer %s" % sandbox.api_key}, timeout=30)
    assert nxt.status_code == 200 and nxt.json()["resultsCount"] == 3
    assert aggs(sandbox, "AAPL", 1, "day", "2024-03-14", "2024-03-14").status_code == 200  # still serving
