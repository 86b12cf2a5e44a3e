import email.utils
import json

import pytest
from hypothesis import given
from hypothesis import strategies as st

from polygon.core.http import (
    USER_AGENT,
    backoff_delay,
    check_next_url,
    decode_json,
    error_from_response,
    is_retryable_status,
    parse_retry_after,
    redact_url,
)
from polygon.exceptions import (
    PolygonAuthenticationError,
    PolygonBadRequestError,
    PolygonNotEntitledError,
    PolygonNotFoundError,
    PolygonRateLimitError,
    PolygonResponseError,
    PolygonServerError,
)

KEY = "sekrit-key-123"


def body(**fields):
    return json.dumps(fields).encode()


def test_user_agent_names_package_and_version():
    from polygon import __version__

    assert USER_AGENT == "polygon-kit/%s" % __version__


def test_redact_url_drops_keys_and_userinfo():
    url = "https://user:pw@api.massive.com/v2/aggs?cursor=abc&apiKey=%s&limit=5" % KEY
    out = redact_url(url)
    assert KEY not in out and "pw" not in out
    assert "cursor=abc" in out and "limit=5" in out
    assert redact_url("http://h/x?a=1") == "http://h/x?a=1"


def test_retry_after_seconds_and_http_date():
    assert parse_retry_after("7") == 7.0
    assert parse_retry_after(" 1.5 ") == 1.5
    assert parse_retry_after("-3") == 0.0
    assert parse_retry_after(None) is None and parse_retry_after("soon") is None
    now = 1_700_000_000.0
    date = email.utils.formatdate(now + 30, usegmt=True)
    assert parse_retry_after(date, now=now) == pytest.approx(30.0)


def test_backoff_grows_with_jitter_and_cap():
    assert backoff_delay(1, base=1, rand=lambda: 0.0) == 0.5
    assert backoff_delay(1, base=1, rand=lambda: 1.0) == 1.0
    assert backoff_delay(4, base=1, rand=lambda: 1.0) == 8.0
    assert backoff_delay(30, base=1, cap=10, rand=lambda: 1.0) == 10.0


@given(st.integers(1, 40), st.floats(0, 1, exclude_max=True))
def test_backoff_bounds(attempt, r):
    delay = backoff_delay(attempt, base=0.5, cap=30.0, rand=lambda: r)
    assert 0.25 <= delay <= 30.0


@pytest.mark.parametrize(
    "status, payload, cls",
    [
        (400, body(status="ERROR", error="Could not parse the time parameter: 'from'.", request_id="r1"),
         PolygonBadRequestError),
        (401, body(status="ERROR", error="Unknown API Key", request_id="r2"), PolygonAuthenticationError),
        (403, body(status="NOT_AUTHORIZED", message="You are not entitled to this data. Please upgrade your plan.",
                   request_id="r3"), PolygonNotEntitledError),
        (404, body(status="NOT_FOUND", message="Ticker not found.", request_id="r4"), PolygonNotFoundError),
        (429, body(status="ERROR", error="You've exceeded the maximum requests per minute"), PolygonRateLimitError),
        (502, b"<html>bad gateway</html>", PolygonServerError),
    ],
)
def test_error_mapping(status, payload, cls):
    url = "http://127.0.0.1:1/v2/x?apiKey=%s" % KEY
    err = error_from_response(status, payload, {"Retry-After": "3"}, url, attempts=2, secrets=[KEY])
    assert type(err) is cls
    assert err.status_code == status
    assert KEY not in str(err) and KEY not in (err.url or "")
    assert "after 2 attempts" in str(err)
    if status != 502:
        provider = json.loads(payload).get("error") or json.loads(payload).get("message")
        assert provider in str(err)
    if status == 429:
        assert err.retry_after == 3.0
    if status == 400:
        assert err.request_id == "r1"


def test_plain_403_is_auth_not_entitlement_and_says_how_to_fix():
    err = error_from_response(403, body(status="ERROR", error="forbidden"), {}, "http://h/x")
    assert type(err) is PolygonAuthenticationError
    assert "POLYGON_API_KEY" in str(err)


def test_error_text_never_contains_key_even_if_echoed():
    err = error_from_response(401, body(error="bad key %s" % KEY), {}, "http://h/x", secrets=[KEY])
    assert KEY not in str(err)


def test_retryable_statuses():
    assert is_retryable_status(429) and is_retryable_status(500) and is_retryable_status(503)
    assert not is_retryable_status(400) and not is_retryable_status(404) and not is_retryable_status(501)


@pytest.mark.parametrize("content", [b"", b'{"results": [1, 2', b"not json", b"\xff\xfe"])
def test_decode_json_rejects_bad_bodies(content):
    with pytest.raises(PolygonResponseError):
        decode_json(content, "http://h/x?apiKey=%s" % KEY)


def test_decode_json_ok():
    assert decode_json(b'{"a": [1]}') == {"a": [1]}


def test_next_url_guard():
    seen = set()
    base = "http://127.0.0.1:8080"
    assert check_next_url(base + "/v2/aggs?cursor=a", base, seen) == base + "/v2/aggs?cursor=a"
    with pytest.raises(PolygonResponseError, match="loop"):
        check_next_url(base + "/v2/aggs?cursor=a", base, seen)
    for foreign in ("http://evil.example/v2?cursor=b", "http://127.0.0.1:8081/v2?cursor=b",
                    "https://127.0.0.1:8080/v2?cursor=b"):
        with pytest.raises(PolygonResponseError, match="another host"):
            check_next_url(foreign, base, seen)
    with pytest.raises(PolygonResponseError):
        check_next_url(12, base, seen)
    # the provider's two hostnames are one service
    assert check_next_url("https://api.polygon.io/v2/aggs?cursor=c", "https://api.massive.com", set())
