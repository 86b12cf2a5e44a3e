"""Fault options of the sandbox: latency, rate limit, 5xx, truncation, run-time configure."""

import json
import time

import pytest
import requests

from polygon.exceptions import PolygonConfigError

STATUS = "/v1/marketstatus/now"
AGGS = "/v2/aggs/ticker/AAPL/range/1/day/2023-01-03/2023-01-20"


def get(sb, path=AGGS):
    return requests.get(sb.base_url + path, headers={"Authorization": "Bearer " + sb.api_key}, timeout=30)


def test_latency_is_added(make_sandbox):
    sb = make_sandbox(latency=0.3)
    start = time.monotonic()
    assert get(sb, STATUS).status_code == 200
    assert time.monotonic() - start >= 0.3


def test_rate_limit_gives_429_with_retry_after(make_sandbox):
    sb = make_sandbox(rate_limit_per_minute=5)
    codes = [get(sb, STATUS).status_code for _ in range(5)]
    assert codes == [200] * 5
    resp = get(sb, STATUS)
    assert resp.status_code == 429
    assert 1 <= int(resp.headers["Retry-After"]) <= 60
    body = resp.json()
    assert body["status"] == "ERROR" and body["error"].startswith("You've exceeded the maximum requests per minute")
    sb.configure(rate_limit_per_minute=None)
    assert get(sb, STATUS).status_code == 200


def test_short_rate_limit_window_for_fast_tests(make_sandbox):
    sb = make_sandbox(rate_limit_per_minute=2, rate_limit_window=1.0)
    assert [get(sb, STATUS).status_code for _ in range(3)] == [200, 200, 429]
    resp = get(sb, STATUS)
    assert resp.status_code == 429 and resp.headers["Retry-After"] == "1"


def test_error_burst_then_recovery(make_sandbox):
    sb = make_sandbox(error_burst=2)
    assert [get(sb).status_code for _ in range(3)] == [500, 500, 200]
    assert get(sb).json()["status"] == "OK"
    sb.configure(error_burst=1, error_status=503)
    resp = get(sb)
    assert resp.status_code == 503 and resp.json()["status"] == "ERROR"
    assert sb.stats()["status_counts"][500] == 2


def test_error_rate_is_seeded_and_roughly_right(make_sandbox):
    runs = []
    for _ in range(2):
        sb = make_sandbox(error_rate=0.5, fault_seed=7)
        runs.append([get(sb, STATUS).status_code for _ in range(40)])
        sb.stop()
    assert runs[0] == runs[1]
    assert 8 <= runs[0].count(500) <= 32


def test_truncate_next_cuts_the_body_mid_json(make_sandbox):
    sb = make_sandbox(truncate_next=1)
    cut = get(sb)
    assert cut.status_code == 200
    with pytest.raises(ValueError):
        json.loads(cut.content)
    whole = get(sb)
    assert whole.json()["status"] == "OK"
    assert whole.content.startswith(cut.content) and len(cut.content) < len(whole.content)


def test_configure_rejects_unknown_options(make_sandbox):
    sb = make_sandbox()
    with pytest.raises(PolygonConfigError):
        sb.configure(no_such_option=1)
    with pytest.raises(PolygonConfigError):
        sb.configure(latency=-1)


def test_stats_count_requests_per_path(make_sandbox):
    sb = make_sandbox()
    get(sb)
    get(sb)
    get(sb, STATUS)
    stats = sb.stats()
    assert stats["requests"]["/v2/aggs/ticker/{stocksTicker}/range/{multiplier}/{timespan}/{from}/{to}"] == 2
    assert stats["requests"]["/v1/marketstatus/now"] == 1
    assert stats["requests_total"] == 3 and stats["status_counts"] == {200: 3}
    sb.reset_stats()
    assert sb.stats()["requests_total"] == 0


def test_stats_report_the_peak_of_concurrent_rest_requests(make_sandbox):
    from concurrent.futures import ThreadPoolExecutor

    sb = make_sandbox(latency=0.2, max_connections=10)
    get(sb)
    assert sb.stats()["rest_in_flight_peak"] == 1
    sb.reset_stats()
    assert sb.stats()["rest_in_flight_peak"] == 0
    with ThreadPoolExecutor(4) as pool:
        codes = [r.status_code for r in pool.map(lambda _: get(sb), range(4))]
    assert codes == [200] * 4
    assert sb.stats()["rest_in_flight_peak"] == 4  # 0.2 s latency each: all four overlap
