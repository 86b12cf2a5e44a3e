"""PolygonClient against the sandbox over loopback (no mocking of requests/urllib3)."""

import datetime as dt
import inspect
import logging
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest

from polygon.config import PolygonConfig
from polygon.core import MISSING_KEY_MESSAGE, PolygonClient
from polygon.core.rate_limit import RateLimiter
from polygon.exceptions import (
    InvalidDateRangeError,
    InvalidParameterError,
    InvalidSymbolError,
    InvalidTimeframeError,
    PolygonAuthenticationError,
    PolygonConnectionError,
    PolygonNotFoundError,
    PolygonRateLimitError,
    PolygonResponseError,
    PolygonServerError,
)

DAY1, DAY2 = "2024-03-04", "2024-03-08"


@pytest.fixture
def client_for(fake_clock):
    """Clients on a sandbox with a fake clock for backoff and the limiter (no real waiting)."""
    clients = []

    def factory(sb, limiter_sleep=None, **overrides):
        config = sb.config(**overrides)
        limiter = RateLimiter(
            per_minute=config.rate_limit_per_minute, clock=fake_clock, sleep=limiter_sleep or fake_clock.sleep
        )
        client = PolygonClient(config=config, rate_limiter=limiter, sleep=fake_clock.sleep, rand=lambda: 0.5)
        clients.append(client)
        return client

    yield factory
    for client in clients:
        client.close()


def total_requests(sb):
    return sb.stats()["requests_total"]


def test_missing_key_says_how_to_fix(monkeypatch):
    monkeypatch.delenv("POLYGON_API_KEY", raising=False)
    with pytest.raises(PolygonAuthenticationError) as info:
        PolygonClient(config=PolygonConfig(api_key=None))
    assert "POLYGON_API_KEY" in str(info.value) and "python -m polygon.sandbox" in str(info.value)
    assert str(info.value) == MISSING_KEY_MESSAGE


def test_market_status_and_typed_models(sandbox, client_for):
    client = client_for(sandbox)
    status = client.get_market_status()
    assert type(status).__name__ == "MarketStatusResponse"
    holidays = client.get_market_holidays()
    assert isinstance(holidays, list)
    prev = client.get_previous_close("aapl")
    assert type(prev).__name__ == "PreviousCloseResponse"
    assert prev.results and prev.results[0].close > 0


def test_generated_methods_have_signatures_and_docs():
    sig = inspect.signature(PolygonClient.get_previous_close)
    assert list(sig.parameters)[:2] == ["self", "ticker"]
    assert PolygonClient.get_ticker_details.__doc__
    assert "max_pages" in inspect.signature(PolygonClient.list_tickers).parameters


def test_pagination_equals_one_big_page(sandbox, client_for):
    client = client_for(sandbox)
    before = total_requests(sandbox)
    small = client.get_aggs("AAPL", 1, "minute", DAY1, DAY2, limit=300)
    pages = total_requests(sandbox) - before
    big = client.get_aggs("AAPL", 1, "minute", DAY1, DAY2)
    assert pages >= 5
    assert small.next_url is None
    assert len(small.results) == len(big.results) > 1000
    assert [b.to_dict() for b in small.results] == [b.to_dict() for b in big.results]
    raw = list(client.iter_aggs_pages("AAPL", 1, "minute", DAY1, DAY2, limit=300))
    assert len(raw) == pages and all(isinstance(p, dict) for p in raw)


def test_columns_and_frame_match_models(sandbox, client_for):
    client = client_for(sandbox)
    aggs = client.get_aggs("AAPL", 5, "minute", DAY1, DAY2)
    cols = client.get_bars_columns("AAPL", "5min", DAY1, DAY2)
    assert set(cols) == {"t", "o", "h", "l", "c", "v", "vw", "n"}
    assert cols["t"].dtype == np.int64
    assert cols["t"].tolist() == [b.timestamp for b in aggs.results]
    assert cols["c"].tolist() == [b.close for b in aggs.results]
    frame = client.get_bars("AAPL", "5min", DAY1, DAY2)
    assert len(frame) == len(aggs.results)
    assert str(frame.index.tz) == client.config.timezone


def test_dates_datetimes_and_ms_are_accepted(sandbox, client_for):
    client = client_for(sandbox)
    by_text = client.get_aggs("AAPL", 1, "day", DAY1, DAY2)
    by_date = client.get_aggs("AAPL", 1, "day", dt.date(2024, 3, 4), dt.date(2024, 3, 8))
    assert [b.timestamp for b in by_text.results] == [b.timestamp for b in by_date.results]
    # naive datetime = configured zone (New York): the 09:30 bar is the first one
    start = dt.datetime(2024, 3, 4, 9, 30)
    minute = client.get_aggs(ticker="AAPL", multiplier=1, timespan="minute", start=start,
                             end=dt.datetime(2024, 3, 4, 9, 34))
    first_ms = int(dt.datetime(2024, 3, 4, 14, 30, tzinfo=dt.timezone.utc).timestamp() * 1000)
    assert minute.results[0].timestamp == first_ms
    ms = client.get_aggs("AAPL", 1, "minute", first_ms, first_ms + 4 * 60000)
    assert [b.timestamp for b in ms.results] == [b.timestamp for b in minute.results]


@pytest.mark.parametrize(
    "call, error",
    [
        (lambda c: c.get_aggs("AA/PL", 1, "day", DAY1, DAY2), InvalidSymbolError),
        (lambda c: c.get_aggs("AAPL", 1, "fortnight", DAY1, DAY2), InvalidParameterError),
        (lambda c: c.get_aggs("AAPL", 0, "day", DAY1, DAY2), InvalidParameterError),
        (lambda c: c.get_aggs("AAPL", 1, "day", DAY2, DAY1), InvalidDateRangeError),
        (lambda c: c.get_aggs("AAPL", 1, "day", "2024-02-30", DAY2), InvalidDateRangeError),
        (lambda c: c.get_aggs("AAPL", 1, "day", DAY1, DAY2, limit=0), InvalidParameterError),
        (lambda c: c.get_aggs("AAPL", 1, "day", DAY1, DAY2, sort="up"), InvalidParameterError),
        (lambda c: c.get_aggs("AAPL", 1, "day", DAY1, DAY2, bogus=1), InvalidParameterError),
        (lambda c: c.get_bars("AAPL", "7fortnights", DAY1, DAY2), InvalidTimeframeError),
        (lambda c: c.get_previous_close("../etc"), InvalidSymbolError),
        (lambda c: c.get_ticker_details(None), InvalidParameterError),
        (lambda c: c.get_ticker_details(), TypeError),  # python's own check of a real signature
        (lambda c: c.list_trades("../x"), InvalidSymbolError),
        (lambda c: c.list_trades("AAPL", limit=0), InvalidParameterError),
        (lambda c: c.get_snapshot_all(tickers=["AAPL", "A/B"]), InvalidSymbolError),
        (lambda c: c.get_real_time_currency_conversion("2024-01-02", "USD"), InvalidParameterError),
        (lambda c: c.list_ticker_news(published_utc_gte=1.5), InvalidParameterError),
    ],
)
def test_bad_inputs_fail_before_any_request(make_sandbox, client_for, call, error):
    sb = make_sandbox()
    client = client_for(sb)
    with pytest.raises(error) as info:
        call(client)
    assert isinstance(info.value, ValueError) or error is TypeError
    assert total_requests(sb) == 0


def test_404_is_not_found(sandbox, client_for):
    client = client_for(sandbox)
    with pytest.raises(PolygonNotFoundError) as info:
        client.get_ticker_details("ZZZZNOPE")
    assert info.value.status_code == 404
    assert info.value.request_id and info.value.request_id in str(info.value)
    assert "/v3/reference/tickers/ZZZZNOPE" in info.value.url


def test_unknown_key_is_auth_error_without_the_key(sandbox, fake_clock, caplog):
    secret = "wrong-key-DO-NOT-LEAK-1234"
    client = PolygonClient(config=sandbox.config(api_key=secret), sleep=fake_clock.sleep,
                           rate_limiter=RateLimiter(clock=fake_clock, sleep=fake_clock.sleep))
    with caplog.at_level(logging.DEBUG):
        with pytest.raises(PolygonAuthenticationError) as info:
            client.get_market_status()
    err = info.value
    assert err.status_code == 401
    assert secret not in str(err) and secret not in (err.url or "") and secret not in repr(err.args)
    assert secret not in caplog.text
    assert fake_clock.sleeps == []  # 401 is not retried
    assert secret not in repr(client)
    client.close()


def test_5xx_burst_then_success(make_sandbox, client_for, fake_clock):
    sb = make_sandbox(error_burst=3)
    client = client_for(sb, max_retries=5)
    status = client.get_market_status()
    assert status is not None
    assert len(fake_clock.sleeps) == 3
    assert fake_clock.sleeps[0] < fake_clock.sleeps[1] < fake_clock.sleeps[2]  # exponential
    assert total_requests(sb) == 4


def test_5xx_beyond_retries_says_attempts(make_sandbox, client_for):
    sb = make_sandbox(error_burst=10)
    client = client_for(sb, max_retries=2)
    with pytest.raises(PolygonServerError) as info:
        client.get_market_status()
    assert info.value.attempts == 3 and "after 3 attempts" in str(info.value)
    assert info.value.status_code >= 500


def test_retry_budget_stops_early(make_sandbox, client_for, fake_clock):
    sb = make_sandbox(error_burst=10)
    client = client_for(sb, max_retries=10, retry_budget=2.0)
    with pytest.raises(PolygonServerError) as info:
        client.get_market_status()
    assert "budget" in str(info.value)
    assert sum(fake_clock.sleeps) <= 2.0


def test_429_with_retry_after_then_success(make_sandbox, client_for, fake_clock):
    sb = make_sandbox(rate_limit_per_minute=2)
    waits = []

    def limiter_sleep(seconds):
        # the fake minute passes: lift the sandbox limit, advance the fake clock
        waits.append(seconds)
        sb.configure(rate_limit_per_minute=None)
        fake_clock.sleep(seconds)

    client = client_for(sb, limiter_sleep=limiter_sleep)  # our limiter unlimited: the provider says no
    for _ in range(3):
        client.get_previous_close("AAPL")
    assert sb.stats()["status_counts"].get(429, sb.stats()["status_counts"].get("429")) == 1
    assert len(waits) == 1 and 1 <= waits[0] <= 60


def test_429_retry_after_over_budget_raises_rate_limit_error(make_sandbox, client_for):
    sb = make_sandbox(rate_limit_per_minute=1)
    client = client_for(sb, retry_budget=0.5)
    client.get_previous_close("AAPL")
    with pytest.raises(PolygonRateLimitError) as info:
        client.get_previous_close("AAPL")
    assert info.value.status_code == 429 and info.value.retry_after >= 1


def test_truncated_body_is_an_error_never_empty(make_sandbox, client_for):
    sb = make_sandbox(truncate_rate=1.0)
    client = client_for(sb, max_retries=2)
    with pytest.raises(PolygonResponseError) as info:
        client.get_aggs("AAPL", 1, "minute", DAY1, DAY2)
    assert "after 3 attempts" in str(info.value)


def test_truncated_once_is_retried(make_sandbox, client_for, fake_clock):
    sb = make_sandbox(truncate_next=1)
    client = client_for(sb, max_retries=2)
    aggs = client.get_aggs("AAPL", 1, "day", DAY1, DAY2)
    assert len(aggs.results) == 5
    assert len(fake_clock.sleeps) == 1


def test_read_timeout_on_stalled_server(make_sandbox, client_for):
    sb = make_sandbox(latency=2.0)
    client = client_for(sb, read_timeout=0.2, max_retries=1)
    with pytest.raises(PolygonConnectionError) as info:
        client.get_market_status()
    assert "read timeout" in str(info.value) and info.value.attempts == 2


def test_connection_refused_is_connection_error(fake_clock):
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]  # closed again before use: nothing listens
    client = PolygonClient(api_key="k", base_url="http://127.0.0.1:%d" % port,
                           rate_limiter=RateLimiter(clock=fake_clock, sleep=fake_clock.sleep),
                           sleep=fake_clock.sleep)
    with client, pytest.raises(PolygonConnectionError) as info:
        client.get_market_status()
    assert info.value.attempts == client.config.max_retries + 1
    assert isinstance(info.value, ConnectionError)


def test_sixteen_threads_share_one_client(sandbox):
    symbols = ["AAPL", "MSFT", "SPY", "QQQ"]
    with PolygonClient(config=sandbox.config(max_workers=16), rate_limiter=RateLimiter()) as client:
        expected = {s: client.get_bars_columns(s, "5min", DAY1, DAY2)["c"].tolist() for s in symbols}
        errors = []

        def job(i):
            symbol = symbols[i % len(symbols)]
            got = client.get_bars_columns(symbol, "5min", DAY1, DAY2)["c"].tolist()
            return symbol, got

        with ThreadPoolExecutor(16) as pool:
            results = list(pool.map(job, range(48)))
        for symbol, got in results:
            if got != expected[symbol]:
                errors.append(symbol)
        assert not errors
        assert client.get_rate_limit_status()["minute"]["used"] >= 48


@pytest.fixture
def sandbox_on_fake_clock(monkeypatch, fake_clock):
    """Make the sandbox's rate-limit window read the test's fake clock (shared with our limiter)."""
    import types

    from polygon.sandbox import faults

    monkeypatch.setattr(faults, "time", types.SimpleNamespace(monotonic=fake_clock))
    return fake_clock


@pytest.mark.parametrize("ours", [5, None])
def test_free_tier_limiter_prevents_429(make_sandbox, sandbox_on_fake_clock, ours):
    """Free tier: 5/minute at the sandbox; with our limiter at 5/minute, 12 requests see zero 429s.

    Sandbox window and limiter share a fake clock, so the two simulated minutes take no real time.
    Without our limiter (``ours=None``) the same run does hit 429s: the test can fail.
    """
    clock = sandbox_on_fake_clock
    sb = make_sandbox(rate_limit_per_minute=5)
    limiter = RateLimiter(per_minute=ours, clock=clock, sleep=clock.sleep)
    config = sb.config(rate_limit_per_minute=5, max_retries=0)
    with PolygonClient(config=config, rate_limiter=limiter, sleep=clock.sleep) as client:
        refused = 0
        for _ in range(12):
            try:
                client.get_previous_close("AAPL")
            except PolygonRateLimitError:
                refused += 1
    counts = sb.stats()["status_counts"]
    got_429 = counts.get(429, counts.get("429", 0))
    if ours:
        assert refused == 0 and got_429 == 0
        assert sb.stats()["requests_total"] == 12
        assert clock() - 1000.0 >= 120.0  # two full (fake) minutes of waiting
    else:
        assert refused == got_429 == 7


def test_http_proxy_env_is_honoured(sandbox, monkeypatch, forward_proxy):
    monkeypatch.setenv("HTTP_PROXY", forward_proxy.url)
    monkeypatch.setenv("http_proxy", forward_proxy.url)
    monkeypatch.delenv("NO_PROXY", raising=False)
    monkeypatch.delenv("no_proxy", raising=False)
    with PolygonClient(config=sandbox.config(), rate_limiter=RateLimiter()) as client:
        client.get_market_status()
    assert len(forward_proxy.requests) == 1
    line, headers = forward_proxy.requests[0]
    assert line.startswith("GET %s/v1/marketstatus/now" % sandbox.base_url)
    assert headers["Authorization"] == "Bearer " + sandbox.api_key
    assert sandbox.api_key not in line
    assert headers["User-Agent"].startswith("polygon-kit/")


def test_ssl_cert_file_used_when_requests_bundle_unset(sandbox, monkeypatch, tmp_path):
    bundle = tmp_path / "ca.pem"
    bundle.write_text("")
    monkeypatch.delenv("REQUESTS_CA_BUNDLE", raising=False)
    monkeypatch.delenv("CURL_CA_BUNDLE", raising=False)
    monkeypatch.setenv("SSL_CERT_FILE", str(bundle))
    with PolygonClient(config=sandbox.config()) as client:
        assert client._verify == str(bundle)
    other = tmp_path / "other.pem"
    other.write_text("")
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", str(other))
    with PolygonClient(config=sandbox.config()) as client:
        assert client._verify == str(other)  # requests' own variable wins; resolved once, at creation


def test_timeouts_and_pool_come_from_config(sandbox):
    with PolygonClient(config=sandbox.config(connect_timeout=1.5, read_timeout=2.5, max_workers=12)) as client:
        assert client._timeout == (1.5, 2.5)
        adapter = client._session.get_adapter(sandbox.base_url)
        assert adapter._pool_maxsize >= 12


def test_guide_troubleshooting_snippet_and_shared_status(sandbox_env):
    from polygon import get_rate_limit_status
    from polygon.core.rate_limit import reset_shared_limiters

    reset_shared_limiters()
    client = PolygonClient()  # the guide's form: key and URL from the environment
    client.get_market_status()
    client.close()
    again = PolygonClient()  # a second client of the same key shares the usage
    again.get_market_status()
    status = get_rate_limit_status()
    shared = again.get_rate_limit_status()

    def counts(st):  # reset_in is read at two instants: it may differ by a millisecond
        return {window: {k: v for k, v in values.items() if k != "reset_in"} for window, values in st.items()}

    assert counts(status) == counts(shared)
    assert all(abs(status[w]["reset_in"] - shared[w]["reset_in"]) < 1.0 for w in ("minute", "daily"))
    assert status["minute"]["used"] == 2 and status["daily"]["used"] == 2
    assert status["minute"]["limit"] is None and status["minute"]["remaining"] is None
    again.close()
    reset_shared_limiters()


def test_list_tickers_iterates_records(sandbox, client_for):
    client = client_for(sandbox)
    before = total_requests(sandbox)
    pages = client.list_tickers(limit=10)  # arguments checked now, nothing requested until iterated
    assert total_requests(sandbox) == before
    two = list(pages)
    assert len(two) == 10 and len({t.ticker for t in two}) == 10
    assert total_requests(sandbox) - before == 1  # one page of 10
    five = list(client.list_tickers(limit=5, max_pages=1))
    assert [t.ticker for t in five] == [t.ticker for t in two][:5]


def test_other_endpoints_return_models(sandbox, client_for):
    client = client_for(sandbox)
    assert type(client.get_grouped_daily(dt.date(2024, 3, 4))).__name__ == "GroupedDailyResponse"
    oc = client.get_daily_open_close("AAPL", "2024-03-04")
    assert type(oc).__name__ == "DailyOpenCloseResponse" and oc.close > 0
    assert type(client.get_ticker_details(ticker="AAPL")).__name__ == "TickerDetailsResponse"
    assert type(client.get_last_trade("AAPL")).__name__ == "LastTradeResponse"
    assert type(client.get_last_quote("AAPL")).__name__ == "LastQuoteResponse"
    assert type(client.get_snapshot_ticker("AAPL")).__name__ == "SnapshotTickerResponse"


def test_tls_failure_is_not_retried(sandbox, fake_clock):
    # https to a plain-http port: the handshake fails, which no retry would fix
    https_url = sandbox.base_url.replace("http://", "https://")
    client = PolygonClient(config=sandbox.config(base_url=https_url), sleep=fake_clock.sleep,
                           rate_limiter=RateLimiter(clock=fake_clock, sleep=fake_clock.sleep))
    with client, pytest.raises(PolygonConnectionError, match="TLS error") as info:
        client.get_market_status()
    assert fake_clock.sleeps == [] and info.value.attempts == 1
    assert sandbox.api_key not in str(info.value)


def test_sixteen_threads_on_free_tier_see_no_429(make_sandbox, sandbox_on_fake_clock):
    clock = sandbox_on_fake_clock
    sb = make_sandbox(rate_limit_per_minute=5)
    # max_in_flight is a real-time safety valve; the fake clock races past it on a busy machine
    limiter = RateLimiter(per_minute=5, clock=clock, sleep=clock.sleep, max_in_flight=1e9)
    with PolygonClient(config=sb.config(max_retries=0, max_workers=16), rate_limiter=limiter,
                       sleep=clock.sleep) as client:
        with ThreadPoolExecutor(16) as pool:
            results = list(pool.map(lambda _: client.get_previous_close("MSFT"), range(16)))
    assert len(results) == 16 and all(r.results for r in results)
    counts = sb.stats()["status_counts"]
    assert counts.get(429, counts.get("429", 0)) == 0
    assert sb.stats()["requests_total"] == 16


def test_empty_range_gives_empty_results_not_none(sandbox, client_for):
    client = client_for(sandbox)
    weekend = client.get_aggs("AAPL", 1, "minute", "2024-03-09", "2024-03-10")
    assert weekend.results == []
    cols = client.get_bars_columns("AAPL", "1min", "2024-03-09", "2024-03-10")
    assert all(len(v) == 0 for v in cols.values()) and cols["t"].dtype == np.int64
    assert client.get_bars("AAPL", "1min", "2024-03-09", "2024-03-10").empty
