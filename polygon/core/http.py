"""Pure request/response helpers of the REST client (no I/O).

Error mapping, ``Retry-After`` parsing, backoff, URL redaction, JSON decoding and the
``next_url`` guard live here so tests can hit them directly; :mod:`polygon.core` does the I/O.
"""

import email.utils
import json
import random
import re
import time
from typing import Any, Callable, Iterable, Mapping, Optional, Set
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from polygon._version import __version__
from polygon.core import json_codec
from polygon.exceptions import (
    PolygonAPIError,
    PolygonNotEntitledError,
    PolygonRateLimitError,
    PolygonResponseError,
    error_for_status,
)

__all__ = [
    "PROVIDER_HOSTS",
    "USER_AGENT",
    "backoff_delay",
    "check_next_url",
    "decode_json",
    "endpoint_of",
    "error_from_response",
    "is_retryable_status",
    "parse_retry_after",
    "redact_url",
    "scrub",
    "transport_reason",
]

USER_AGENT = "polygon-kit/%s" % __version__
#: Hosts of the provider that may hand out each other's ``next_url``.
PROVIDER_HOSTS = frozenset({"api.polygon.io", "api.massive.com"})
_SECRET_PARAMS = frozenset({"apikey", "api_key", "key", "token", "access_token"})
_ENTITLEMENT_MARKERS = ("not entitled", "not_authorized", "upgrade your plan", "plan doesn't include")


def scrub(text: str, secrets: Iterable[Optional[str]] = ()) -> str:
    """Replace every occurrence of each secret in ``text`` by ``'***'``."""
    for secret in secrets:
        if secret and secret in text:
            text = text.replace(secret, "***")
    return text


def redact_url(url: Optional[str]) -> Optional[str]:
    """Return ``url`` without credentials: key-like query parameters and ``user:pass@`` are removed."""
    if not url:
        return url
    try:
        parts = urlsplit(url)
    except ValueError:
        return "<unparseable url>"
    netloc = parts.netloc.rsplit("@", 1)[-1]
    query = parts.query
    if query:
        pairs = parse_qsl(query, keep_blank_values=True)
        kept = [(k, v) for k, v in pairs if k.lower() not in _SECRET_PARAMS]
        if len(kept) != len(pairs):
            query = urlencode(kept)
    return urlunsplit((parts.scheme, netloc, parts.path, query, parts.fragment))


def parse_retry_after(value: Optional[str], now: Optional[float] = None) -> Optional[float]:
    """Parse a ``Retry-After`` header: delta seconds or an HTTP date.

    :param value: the header value, or ``None``.
    :param now: current wall-clock time (epoch seconds) for the date form; default ``time.time()``.
    :returns: seconds to wait (>= 0), or ``None`` when absent or unparseable.
    """
    if value is None:
        return None
    text = value.strip()
    if not text:
        return None
    try:
        seconds = float(text)
    except ValueError:
        try:
            when = email.utils.parsedate_to_datetime(text)
        except (TypeError, ValueError, IndexError):
            return None
        if when is None:
            return None
        if when.tzinfo is None:  # RFC 7231 dates are GMT
            import datetime as _dt

            when = when.replace(tzinfo=_dt.timezone.utc)
        seconds = when.timestamp() - (time.time() if now is None else now)
    if seconds != seconds or seconds in (float("inf"), float("-inf")):
        return None
    return max(0.0, seconds)


def backoff_delay(
    attempt: int, base: float = 0.5, cap: float = 30.0, rand: Callable[[], float] = random.random
) -> float:
    """Exponential backoff with "equal jitter": half fixed, half random.

    :param attempt: 1 for the first retry, 2 for the second...
    :returns: seconds in ``[d/2, d]`` with ``d = min(cap, base * 2**(attempt-1))``.
    """
    ceiling = min(cap, base * (2 ** max(0, attempt - 1)))
    return ceiling / 2.0 + rand() * ceiling / 2.0


def is_retryable_status(status: int) -> bool:
    """``True`` for 429 and 5xx (except 501 Not Implemented)."""
    return status == 429 or (status >= 500 and status != 501)


def decode_json(content: bytes, url: Optional[str] = None, status: Optional[int] = None) -> Any:
    """Decode a JSON body; anything malformed, truncated or empty is an error, never an empty result.

    :raises PolygonResponseError: with the (redacted) URL and a short excerpt.
    """
    if not content:
        raise PolygonResponseError("empty response body (expected JSON)", url=redact_url(url), status_code=status)
    try:
        return json_codec.loads(content)
    except (ValueError, UnicodeDecodeError) as exc:
        tail = content[-60:].decode("utf-8", "replace")
        raise PolygonResponseError(
            "malformed or truncated JSON (%d bytes, %s; ends with %r)" % (len(content), exc, tail),
            url=redact_url(url),
            status_code=status,
        ) from None


def _provider_text(body: Any) -> str:
    if isinstance(body, Mapping):
        for key in ("message", "error", "errors", "detail"):
            value = body.get(key)
            if value:
                return value if isinstance(value, str) else json.dumps(value)[:500]
        status = body.get("status")
        if isinstance(status, str):
            return status
    return ""


def error_from_response(
    status: int,
    content: bytes,
    headers: Optional[Mapping[str, str]] = None,
    url: Optional[str] = None,
    attempts: int = 1,
    secrets: Iterable[Optional[str]] = (),
    now: Optional[float] = None,
) -> PolygonAPIError:
    """Build the typed exception for an error response.

    :param status: HTTP status (>= 400).
    :param content: raw body; JSON bodies give the provider message and ``request_id``.
    :param headers: response headers (``Retry-After``, ``X-Request-Id``).
    :param url: request URL (redacted here).
    :param attempts: attempts made so far.
    :param secrets: strings (the API key) removed from any text.
    :returns: an instance of the class chosen by :func:`polygon.exceptions.error_for_status`,
        :class:`PolygonNotEntitledError` for a 403 plan refusal.
    """
    headers = headers or {}
    secrets = tuple(secrets)
    try:
        body: Any = json_codec.loads(content) if content else None
    except (ValueError, UnicodeDecodeError):
        body = None
    provider = _provider_text(body)
    if not provider and content and body is None:
        provider = content[:200].decode("utf-8", "replace").strip()
    provider = scrub(provider, secrets)
    request_id = None
    if isinstance(body, Mapping) and isinstance(body.get("request_id"), str):
        request_id = body["request_id"]
    request_id = request_id or headers.get("X-Request-Id") or headers.get("x-request-id")
    body_status = body.get("status") if isinstance(body, Mapping) else None
    cls = error_for_status(status)
    lowered = ("%s %s" % (provider, body_status or "")).lower()
    if status == 403 and any(marker in lowered for marker in _ENTITLEMENT_MARKERS):
        cls = PolygonNotEntitledError
        hint = "your plan does not include this data (upgrade the plan or pick other data)"
    elif status in (401, 403):
        hint = "the API key was refused: check POLYGON_API_KEY (or start the sandbox: python -m polygon.sandbox)"
    elif status == 404:
        hint = "not found"
    elif status == 429:
        hint = "rate limited by the provider"
    elif status >= 500:
        hint = "provider server error"
    elif status == 400:
        hint = "bad request"
    else:
        hint = "request failed"
    path = _path_of(url)
    message = ("HTTP %d from %s: %s" % (status, path, hint)) if path else "HTTP %d: %s" % (status, hint)
    if provider:
        message += ": %s" % provider
    kwargs = dict(
        status_code=status,
        url=scrub(redact_url(url) or "", secrets) or None,
        request_id=request_id,
        attempts=attempts,
        body=body,
    )
    if cls is PolygonRateLimitError:
        return PolygonRateLimitError(message, retry_after=parse_retry_after(headers.get("Retry-After"), now), **kwargs)
    err = cls(message, **kwargs)
    if status == 503:
        err.retry_after = parse_retry_after(headers.get("Retry-After"), now)  # type: ignore[attr-defined]
    return err


_ERRNO = re.compile(r"\[Errno -?\d+\][^'\")\]]*")


def transport_reason(exc: BaseException) -> str:
    """A short, whole reason for a transport failure: the ``[Errno N] text`` of its innermost cause when there
    is one (``[Errno 111] Connection refused``), else the innermost exception's text; never truncated."""
    seen = set()
    node: Any = exc
    text = str(exc)
    while node is not None and id(node) not in seen:  # requests -> urllib3 MaxRetryError -> NewConnectionError
        seen.add(id(node))
        found = _ERRNO.search(str(node))
        if found:
            return found.group(0).strip()
        text = str(node) or text
        inner = getattr(node, "reason", None)
        if not isinstance(inner, BaseException) and node.args and isinstance(node.args[0], BaseException):
            inner = node.args[0]
        node = inner if isinstance(inner, BaseException) else (node.__cause__ or node.__context__)
    return text


def _path_of(url: Optional[str]) -> str:
    """The path of a request URL (no host, no query: never a key), to name the endpoint in messages."""
    if not url:
        return ""
    try:
        return urlsplit(url).path
    except ValueError:
        return ""


def endpoint_of(url: Optional[str]) -> str:
    """``GET <path>`` of a request URL, for messages (no query string, so no key can be in it)."""
    path = _path_of(url)
    return "GET %s" % path if path else "the request"


def _origin(url: str):
    parts = urlsplit(url)
    port = parts.port or (443 if parts.scheme == "https" else 80)
    return parts.scheme, (parts.hostname or "").lower(), port


def check_next_url(next_url: Any, base_url: str, seen: Set[str]) -> str:
    """Validate a pagination ``next_url`` before following it, and remember it.

    The bearer token must never go to another host, and a cursor that repeats would loop forever.

    :param next_url: value from the page.
    :param base_url: the client's base URL.
    :param seen: URLs already followed in this listing (updated in place).
    :returns: the URL to request.
    :raises PolygonResponseError: for a non-string, foreign-host or repeated ``next_url``.
    """
    if not isinstance(next_url, str) or not next_url.startswith(("http://", "https://")):
        raise PolygonResponseError("invalid next_url %r in a paginated response" % (redact_url(str(next_url)),))
    try:
        nxt = _origin(next_url)
        base = _origin(base_url)
    except ValueError:
        raise PolygonResponseError("unparseable next_url %r" % redact_url(next_url)) from None
    same = nxt == base or (nxt[1] in PROVIDER_HOSTS and base[1] in PROVIDER_HOSTS and nxt[0] == "https")
    if not same:
        raise PolygonResponseError(
            "refusing to follow next_url to another host (%s://%s:%s; expected %s://%s:%s)" % (nxt + base)
        )
    if next_url in seen:
        raise PolygonResponseError("pagination loop: next_url repeated (%s)" % redact_url(next_url))
    seen.add(next_url)
    return next_url
