"""The one exception tree of polygon-kit.

Every error the library raises on purpose derives from :class:`PolygonError`::

    PolygonError
    ├── PolygonConfigError (ValueError)          bad configuration value
    ├── PolygonAPIError                          an HTTP response said no
    │   ├── PolygonBadRequestError               400
    │   ├── PolygonAuthenticationError           401/403, missing key, stream auth_failed
    │   │   └── PolygonNotEntitledError          403: the plan does not include the data
    │   ├── PolygonNotFoundError                 404
    │   ├── PolygonRateLimitError                429 (``retry_after`` seconds when known)
    │   └── PolygonServerError                   5xx
    ├── PolygonConnectionError (ConnectionError) network failure, timeout, retries exhausted
    ├── PolygonResponseError                     malformed, truncated or unexpected body
    ├── InvalidInputError (ValueError)           rejected locally, before any I/O
    │   ├── InvalidSymbolError
    │   │   └── UnknownSymbolError               the provider does not know the ticker (``suggestions``)
    │   ├── InvalidTimeframeError
    │   ├── InvalidDateRangeError
    │   └── InvalidParameterError
    ├── CacheError                               the file cache could not do what was asked
    ├── DataValidationError                      ``strict=True`` validation failed
    └── StreamError                              WebSocket client errors
        ├── StreamConnectionError (ConnectionError)  drop after the reconnect budget
        ├── MaxConnectionsError                  provider refused: too many connections
        └── SubscriptionError (ValueError)       bad channel / symbol / empty list

Errors that come from HTTP carry ``status_code``, ``url`` (never with the API key),
the provider's ``message`` and ``request_id`` when present.
"""

from typing import Any, Optional

__all__ = [
    "CacheError",
    "DataValidationError",
    "InvalidDateRangeError",
    "InvalidInputError",
    "InvalidParameterError",
    "InvalidSymbolError",
    "InvalidTimeframeError",
    "MaxConnectionsError",
    "PolygonAPIError",
    "PolygonAuthenticationError",
    "PolygonBadRequestError",
    "PolygonConfigError",
    "PolygonConnectionError",
    "PolygonError",
    "PolygonNotEntitledError",
    "PolygonNotFoundError",
    "PolygonRateLimitError",
    "PolygonResponseError",
    "PolygonServerError",
    "StreamConnectionError",
    "StreamError",
    "SubscriptionError",
    "UnknownSymbolError",
    "error_for_status",
]


class PolygonError(Exception):
    """Root of every error polygon-kit raises on purpose."""


class PolygonConfigError(PolygonError, ValueError):
    """A configuration value is missing or invalid."""


class PolygonAPIError(PolygonError):
    """The provider (or the sandbox) answered with an error status.

    :param message: human readable text, including the provider's own message.
    :param status_code: HTTP status, or ``None`` when not from HTTP.
    :param url: the request URL with any credential removed.
    :param request_id: the provider's ``request_id`` when the body had one.
    :param attempts: how many attempts were made before giving up.
    """

    def __init__(
        self,
        message: str,
        status_code: Optional[int] = None,
        url: Optional[str] = None,
        request_id: Optional[str] = None,
        attempts: int = 1,
        body: Any = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.status_code = status_code
        self.url = url
        self.request_id = request_id
        self.attempts = attempts
        self.body = body

    def __str__(self) -> str:
        parts = [self.message]
        if self.status_code is not None:
            parts.append("status=%s" % self.status_code)
        if self.url:
            parts.append("url=%s" % self.url)
        if self.request_id:
            parts.append("request_id=%s" % self.request_id)
        if self.attempts > 1:
            parts.append("after %d attempts" % self.attempts)
        return " | ".join(parts)


class PolygonBadRequestError(PolygonAPIError):
    """400: the provider rejected the parameters."""


class PolygonAuthenticationError(PolygonAPIError):
    """The API key is missing, unknown, or was refused (REST 401/403, stream ``auth_failed``)."""


class PolygonNotEntitledError(PolygonAuthenticationError):
    """403: the key is valid but the plan does not include this data."""


class PolygonNotFoundError(PolygonAPIError):
    """404: no such resource."""


class PolygonRateLimitError(PolygonAPIError):
    """429: too many requests. ``retry_after`` is the server's hint in seconds, when given."""

    def __init__(self, message: str, retry_after: Optional[float] = None, **kwargs: Any) -> None:
        super().__init__(message, **kwargs)
        self.retry_after = retry_after


class PolygonServerError(PolygonAPIError):
    """5xx: the provider failed."""


class PolygonConnectionError(PolygonError, ConnectionError):
    """The request never got an HTTP answer (refused, reset, timed out)."""

    def __init__(self, message: str, url: Optional[str] = None, attempts: int = 1) -> None:
        super().__init__(message)
        self.message = message
        self.url = url
        self.attempts = attempts

    def __str__(self) -> str:
        text = self.message
        if self.url:
            text += " | url=%s" % self.url
        if self.attempts > 1:
            text += " | after %d attempts" % self.attempts
        return text


class PolygonResponseError(PolygonError):
    """The body was malformed, truncated, or not the expected shape."""

    def __init__(self, message: str, url: Optional[str] = None, status_code: Optional[int] = None) -> None:
        super().__init__(message)
        self.message = message
        self.url = url
        self.status_code = status_code


class InvalidInputError(PolygonError, ValueError):
    """An argument was rejected locally, before any I/O."""


class InvalidSymbolError(InvalidInputError):
    """The symbol is not a valid provider ticker."""


class UnknownSymbolError(InvalidSymbolError):
    """The ticker is well formed but the provider does not know it (found when a range came back empty).

    :ivar symbol: the normalised ticker.
    :ivar suggestions: near-miss tickers, best first (``[{'ticker', 'name', 'active'}]``).
    """

    def __init__(self, message: str, symbol: Optional[str] = None, suggestions: Any = None) -> None:
        super().__init__(message)
        self.symbol = symbol
        self.suggestions = list(suggestions or [])


class InvalidTimeframeError(InvalidInputError):
    """The timeframe string is not one we understand."""


class InvalidDateRangeError(InvalidInputError):
    """A date could not be parsed, or start is not before end."""


class InvalidParameterError(InvalidInputError):
    """An endpoint parameter has the wrong type, value or is missing."""


class CacheError(PolygonError):
    """The file cache could not complete an operation."""


class DataValidationError(PolygonError):
    """Validation with ``strict=True`` found failures.

    :param failures: the failed findings (dicts from the validation report).
    """

    def __init__(self, message: str, failures: Any = None, report: Any = None) -> None:
        super().__init__(message)
        self.failures = list(failures or [])
        self.report = report


class StreamError(PolygonError):
    """Base of WebSocket client errors."""


class StreamConnectionError(StreamError, ConnectionError):
    """The stream dropped and could not be restored within the reconnect budget."""


class MaxConnectionsError(StreamError):
    """The provider refused the connection: the key already has its maximum number of sockets."""


class SubscriptionError(StreamError, ValueError):
    """A subscription request was malformed (channel, symbol, empty list) or refused."""


_STATUS_CLASSES = {
    400: PolygonBadRequestError,
    401: PolygonAuthenticationError,
    403: PolygonAuthenticationError,
    404: PolygonNotFoundError,
    429: PolygonRateLimitError,
}


def error_for_status(status_code: int) -> type:
    """Return the exception class for an HTTP error status.

    :param status_code: the HTTP status (>= 400).
    :returns: a subclass of :class:`PolygonAPIError`.
    """
    if status_code >= 500:
        return PolygonServerError
    return _STATUS_CLASSES.get(status_code, PolygonAPIError)
