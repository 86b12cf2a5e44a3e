"""Pagination guards and transport faults against a scripted loopback server."""

import json

import pytest

from polygon.core import PolygonClient
from polygon.core.rate_limit import RateLimiter
from polygon.exceptions import PolygonResponseError

AGGS = "/v2/aggs/ticker/AAPL/range/1/day/2024-03-04/2024-03-08"
BAR = {"t": 1709528400000, "o": 1.0, "h": 2.0, "l": 0.5, "c": 1.5, "v": 10.0, "vw": 1.2, "n": 3}


def page(next_url=None, results=(BAR,)):
    body = {"status": "OK", "ticker": "AAPL", "results": list(results), "resultsCount": len(results)}
    if next_url:
        body["next_url"] = next_url
    return 200, {}, json.dumps(body).encode()


@pytest.fixture
def client_on(fake_clock):
    clients = []

    def factory(server, **kw):
        client = PolygonClient(api_key="secret-key-xyz", base_url=server.url, sleep=fake_clock.sleep,
                               rate_limiter=RateLimiter(clock=fake_clock, sleep=fake_clock.sleep), **kw)
        clients.append(client)
        return client

    yield factory
    for client in clients:
        client.close()


def test_foreign_next_url_is_refused_and_gets_no_key(scripted_server, other_server, client_on):
    other_server.routes["/v2/next?cursor=x"] = page()
    scripted_server.routes[AGGS] = page(other_server.url + "/v2/next?cursor=x")
    client = client_on(scripted_server)
    with pytest.raises(PolygonResponseError, match="another host"):
        client.get_aggs("AAPL", 1, "day", "2024-03-04", "2024-03-08")
    assert other_server.requests == []
    assert scripted_server.requests[0][1]["Authorization"] == "Bearer secret-key-xyz"
    assert "secret-key-xyz" not in scripted_server.requests[0][0]


def test_repeated_next_url_is_a_loop_error(scripted_server, client_on):
    loop = scripted_server.url + "/v2/page2?cursor=a"
    scripted_server.routes[AGGS] = page(loop)
    scripted_server.routes["/v2/page2?cursor=a"] = page(loop)
    client = client_on(scripted_server)
    with pytest.raises(PolygonResponseError, match="loop"):
        client.get_aggs("AAPL", 1, "day", "2024-03-04", "2024-03-08")
    assert len(scripted_server.requests) == 2


def test_pages_are_merged_in_order(scripted_server, client_on):
    second = dict(BAR, t=BAR["t"] + 86400000)
    scripted_server.routes[AGGS] = page(scripted_server.url + "/v2/p2?cursor=b")
    scripted_server.routes["/v2/p2?cursor=b"] = page(None, [second])
    client = client_on(scripted_server)
    aggs = client.get_aggs("AAPL", 1, "day", "2024-03-04", "2024-03-08")
    assert [b.timestamp for b in aggs.results] == [BAR["t"], second["t"]]
    assert aggs.results_count == 2 and aggs.next_url is None
    cols = client.get_bars_columns("AAPL", "1day", "2024-03-04", "2024-03-08")
    assert cols["t"].tolist() == [BAR["t"], second["t"]] and cols["n"].tolist() == [3, 3]


def test_missing_optional_fields_become_nan(scripted_server, client_on):
    bare = {k: BAR[k] for k in ("t", "o", "h", "l", "c", "v")}
    scripted_server.routes[AGGS] = page(None, [BAR, bare])
    cols = client_on(scripted_server).get_bars_columns("AAPL", "1day", "2024-03-04", "2024-03-08")
    assert cols["vw"][0] == 1.2 and cols["vw"][1] != cols["vw"][1]
    assert cols["n"][0] == 3 and cols["n"][1] != cols["n"][1]


def test_bar_without_price_is_an_error(scripted_server, client_on):
    broken = {k: BAR[k] for k in ("t", "o", "h", "l")}
    scripted_server.routes[AGGS] = page(None, [BAR, broken])
    with pytest.raises(PolygonResponseError, match="'c'"):
        client_on(scripted_server).get_bars_columns("AAPL", "1day", "2024-03-04", "2024-03-08")


def test_connection_cut_mid_body_is_a_response_error(scripted_server, client_on, fake_clock):
    scripted_server.routes[AGGS] = (200, {}, ("cut", b'{"status":"OK","results":[{"t":1', 5000))
    client = client_on(scripted_server)
    with pytest.raises(PolygonResponseError) as info:
        client.get_aggs("AAPL", 1, "day", "2024-03-04", "2024-03-08")
    assert "truncated" in str(info.value)
    assert len(scripted_server.requests) == client.config.max_retries + 1
    assert len(fake_clock.sleeps) == client.config.max_retries


def test_non_object_json_is_an_error(scripted_server, client_on):
    scripted_server.routes[AGGS] = (200, {}, b"[1, 2, 3]")
    with pytest.raises(PolygonResponseError):
        client_on(scripted_server).get_aggs("AAPL", 1, "day", "2024-03-04", "2024-03-08")


def test_retry_after_http_date_is_honoured(scripted_server, client_on, fake_clock):
    import email.utils
    import time

    when = email.utils.formatdate(time.time() + 30, usegmt=True)
    scripted_server.routes[AGGS] = (429, {"Retry-After": when}, b'{"status":"ERROR","error":"slow down"}')
    client = client_on(scripted_server)
    with pytest.raises(Exception) as info:
        client.get_aggs("AAPL", 1, "day", "2024-03-04", "2024-03-08")
    assert info.value.status_code == 429 and 25 <= info.value.retry_after <= 31
    assert "slow down" in str(info.value)
    # every retry waited the server's time (through the limiter's block), not a short backoff
    assert all(25 <= s <= 31 for s in fake_clock.sleeps) and len(fake_clock.sleeps) >= 1


@pytest.mark.parametrize("bad_bar", [["not", "a", "dict"], dict(BAR, c="high")])
def test_malformed_bars_are_errors(scripted_server, client_on, bad_bar):
    scripted_server.routes[AGGS] = page(None, [BAR, bad_bar])
    with pytest.raises(PolygonResponseError, match="malformed"):
        client_on(scripted_server).get_bars_columns("AAPL", "1day", "2024-03-04", "2024-03-08")


def test_connections_are_reused(scripted_server, client_on):
    scripted_server.routes[AGGS] = page()
    client = client_on(scripted_server)
    for _ in range(6):
        client.get_aggs("AAPL", 1, "day", "2024-03-04", "2024-03-08")
    pools = client._session.get_adapter(scripted_server.url).poolmanager.pools
    counts = [(pools[key].num_connections, pools[key].num_requests) for key in pools.keys()]
    assert counts == [(1, 6)]  # one keep-alive connection served every request
