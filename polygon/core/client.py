"""The synchronous REST client: :class:`PolygonClient`.

One :class:`requests.Session` with a connection pool sized for the batch fetcher, the API key
only in the ``Authorization: Bearer`` header, client-side rate limiting
(:mod:`polygon.core.rate_limit`), retries with backoff for 429/5xx/connection errors, and typed
errors from :mod:`polygon.exceptions`.

There is one method per endpoint of the generated table (``polygon._generated.endpoints``): they are
real, typed methods of the generated mixin :class:`polygon._generated.client.EndpointMethods`, which
:class:`PolygonClient` inherits. ``get_*`` return the generated response models; ``list_*`` iterate
their records (models) over every page; ``<name>_df`` (tabular endpoints) return DataFrames built by
:mod:`polygon.core.tables`::

    from polygon.core import PolygonClient

    with PolygonClient() as client:
        status = client.get_market_status()
        aggs = client.get_aggs('AAPL', 1, 'day', '2024-01-02', '2024-01-31')
        frame = client.get_bars('AAPL', '5min', '2024-01-02', '2024-01-05')
        prices = [trade.price for trade in client.list_trades('AAPL', timestamp='2024-01-02', limit=1000)]
        trades = client.list_trades_df('AAPL', timestamp='2024-01-02')

Proxies (``HTTP_PROXY``/``HTTPS_PROXY``/``NO_PROXY``) and ``REQUESTS_CA_BUNDLE`` are honoured
through requests' environment handling; ``SSL_CERT_FILE`` is used when ``REQUESTS_CA_BUNDLE``
is not set.
"""

import logging
import numbers
import os
import random
import time
from typing import Any, Callable, Dict, Iterator, List, Optional, Tuple
from urllib.parse import urlsplit

import numpy as np
import requests
import urllib3
from requests.adapters import HTTPAdapter

from polygon._generated.client import EndpointMethods
from polygon._generated.endpoints import ENDPOINTS, ParameterError, build_request
from polygon._generated.models import AggsResponse
from polygon.config import PolygonConfig, get_config
from polygon.core.http import (
    USER_AGENT,
    backoff_delay,
    check_next_url,
    decode_json,
    error_from_response,
    is_retryable_status,
    redact_url,
    scrub,
    transport_reason,
)
from polygon.core.pages import columns_from_pages, decode_aggs_page
from polygon.core.params import coerce_params
from polygon.core.rate_limit import RateLimiter, endpoint_family, get_shared_limiter
from polygon.exceptions import (
    InvalidParameterError,
    PolygonAPIError,
    PolygonAuthenticationError,
    PolygonConnectionError,
    PolygonError,
    PolygonResponseError,
)
from polygon.markets.dates import check_date_range
from polygon.markets.frames import WIRE_COLUMNS
from polygon.markets.symbols import validate_symbol
from polygon.markets.timeframes import to_multiplier_timespan

__all__ = ["BAR_COLUMNS", "MISSING_KEY_MESSAGE", "PolygonClient", "columns_from_pages"]

logger = logging.getLogger(__name__)

MISSING_KEY_MESSAGE = (
    "no API key configured: set the POLYGON_API_KEY environment variable "
    "(export POLYGON_API_KEY=your-key) or pass PolygonClient(api_key=...); to work offline, start "
    "the sandbox with `python -m polygon.sandbox` and use the key and POLYGON_BASE_URL it prints"
)
#: Column names of :meth:`PolygonClient.get_bars_columns`, in order (the wire names of :mod:`polygon.markets.frames`).
BAR_COLUMNS = WIRE_COLUMNS
MAX_AGGS_LIMIT = 50000
MAX_PAGES = 100000
_POOL_HEADROOM = 4


class _BearerAuth(requests.auth.AuthBase):
    """Sets ``Authorization: Bearer <key>``; also stops requests from reading ``~/.netrc``."""

    def __init__(self, key: str) -> None:
        self._key = key

    def __call__(self, request: requests.PreparedRequest) -> requests.PreparedRequest:
        request.headers["Authorization"] = "Bearer " + self._key
        return request

    def __repr__(self) -> str:
        return "<BearerAuth ***>"


def _ca_bundle_from_env() -> Optional[str]:
    """``SSL_CERT_FILE`` when set and requests' own variables are not."""
    if os.environ.get("REQUESTS_CA_BUNDLE") or os.environ.get("CURL_CA_BUNDLE"):
        return None
    return os.environ.get("SSL_CERT_FILE") or None


def _records_of(page: Any, path: Tuple[str, ...]) -> Any:
    """The value at key path ``path`` of a decoded page (None when a key is missing)."""
    node = page
    for key in path:
        if not isinstance(node, dict):
            return None
        node = node.get(key)
    return node


def _merge_pages(pages: List[Any], path: Tuple[str, ...] = ("results",)) -> Any:
    """One response body from several pages: the records at ``path`` (e.g. ``results`` or
    ``results.values``) concatenated, counts updated, no next_url.

    ``results`` is always a list (empty when the provider sent none) for the default path.
    """
    first = pages[0]
    if not isinstance(first, dict):
        return first
    if len(pages) == 1:
        if path == ("results",) and first.get("results") is None:
            return dict(first, results=[])
        return first
    if not isinstance(_records_of(first, path), list):
        return first  # the records are not a list: nothing to concatenate
    records: List[Any] = []
    for page in pages:
        records.extend(_records_of(page, path) or [])
    merged = dict(first)
    node = merged
    for key in path[:-1]:
        node[key] = dict(node[key])
        node = node[key]
    node[path[-1]] = records
    merged["next_url"] = None
    for key in ("resultsCount", "count"):
        if key in merged:
            merged[key] = len(records)
    return merged


class PolygonClient(EndpointMethods):
    """Synchronous, thread-safe client of the provider's REST API (or the sandbox).

    :param api_key: API key; default from config (``POLYGON_API_KEY``).
    :param base_url: REST base URL; default from config.
    :param config: a :class:`~polygon.config.PolygonConfig`; default :func:`~polygon.config.get_config`.
    :param session: a :class:`requests.Session` to use (not closed by :meth:`close`); by default the
        client owns one with a pool of ``config.max_workers`` (+ headroom) connections.
    :param rate_limiter: a :class:`~polygon.core.rate_limit.RateLimiter`; by default the process-wide one
        for this key and base URL, so usage is shared by every client of the process.
    :param acquire_timeout: seconds a request may wait for the rate limiter (``None``: no limit).
    :param sleep: sleep function for retry backoff (injectable for tests).
    :param rand: random source in [0, 1) for jitter (injectable for tests).
    :raises PolygonAuthenticationError: when no API key is configured.
    """

    def __init__(
        self,
        api_key: Optional[str] = None,
        base_url: Optional[str] = None,
        config: Optional[PolygonConfig] = None,
        session: Optional[requests.Session] = None,
        rate_limiter: Optional[RateLimiter] = None,
        acquire_timeout: Optional[float] = None,
        sleep: Optional[Callable[[float], None]] = None,
        rand: Optional[Callable[[], float]] = None,
    ) -> None:
        overrides = {k: v for k, v in (("api_key", api_key), ("base_url", base_url)) if v is not None}
        if config is None:
            config = get_config(**overrides)
        elif overrides:
            config = config.replace(**overrides)
        if not config.api_key:
            raise PolygonAuthenticationError(MISSING_KEY_MESSAGE)
        self.config = config
        self._key = config.api_key
        self._base_url = config.base_url
        self._timeout = (config.connect_timeout, config.read_timeout)
        self._limiter = rate_limiter if rate_limiter is not None else get_shared_limiter(config)
        self._acquire_timeout = acquire_timeout
        self._sleep = sleep or time.sleep
        self._rand = rand or random.random
        self._auth = _BearerAuth(config.api_key)
        self._verify = _ca_bundle_from_env()
        self._headers = {"User-Agent": USER_AGENT, "Accept": "application/json"}
        self._owns_session = session is None
        if session is None:
            session = requests.Session()
            adapter = HTTPAdapter(pool_connections=4, pool_maxsize=config.max_workers + _POOL_HEADROOM, max_retries=0)
            session.mount("https://", adapter)
            session.mount("http://", adapter)
            session.headers.update(self._headers)
            # Resolve HTTP(S)_PROXY / NO_PROXY / REQUESTS_CA_BUNDLE once for our one host instead of on every
            # request (requests re-reads the environment per call: about 1 ms of CPU each); netrc stays unused.
            env = session.merge_environment_settings(self._base_url, {}, None, None, None)
            session.trust_env = False
            session.proxies.update(env.get("proxies") or {})
            if self._verify is None and isinstance(env.get("verify"), str):
                self._verify = env["verify"]
        self._session = session
        self._closed = False

    # -- lifecycle ---------------------------------------------------------------------------
    def close(self) -> None:
        """Close the owned HTTP session (a session passed in is left open)."""
        if not self._closed and self._owns_session:
            self._session.close()
        self._closed = True

    def __enter__(self) -> "PolygonClient":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

    def __repr__(self) -> str:
        return "PolygonClient(base_url=%r, api_key=***)" % self._base_url

    @property
    def base_url(self) -> str:
        """The REST base URL requests go to."""
        return self._base_url

    @property
    def rate_limiter(self) -> RateLimiter:
        """The limiter every request of this client goes through."""
        return self._limiter

    def get_rate_limit_status(self) -> Dict[str, Dict[str, Any]]:
        """Usage of this client's limiter.

        :returns: ``{'minute': {'used', 'limit', 'remaining', 'reset_in'}, 'daily': {...}, 'families': {...}}``
            (see :func:`polygon.core.rate_limit.get_rate_limit_status`).
        """
        return self._limiter.status()

    # -- transport ---------------------------------------------------------------------------
    def _send(self, url: str, params: Optional[Dict[str, str]]) -> Tuple[Optional[requests.Response], Any]:
        """One attempt: returns ``(response, content)`` or ``(None, error)`` for transport failures."""
        kwargs: Dict[str, Any] = {"params": params, "auth": self._auth, "timeout": self._timeout}
        if not self._owns_session:
            kwargs["headers"] = self._headers
        if self._verify is not None:
            kwargs["verify"] = self._verify
        safe = redact_url(url)
        try:
            # stream + one raw read: requests' .content joins 10 KB chunks, measurably slower on
            # multi-megabyte pages; at EOF urllib3 hands the connection back to the pool
            response = self._session.get(url, stream=True, **kwargs)
        except requests.exceptions.Timeout as exc:
            kind = "connect" if isinstance(exc, requests.exceptions.ConnectTimeout) else "read"
            limit = self._timeout[0] if kind == "connect" else self._timeout[1]
            return None, PolygonConnectionError("%s timeout after %.1fs" % (kind, limit), url=safe)
        except requests.exceptions.SSLError as exc:
            # not retried: a certificate problem does not fix itself
            raise PolygonConnectionError(
                "TLS error: %s (set REQUESTS_CA_BUNDLE or SSL_CERT_FILE for a private CA)" % self._clean(exc), url=safe
            ) from None
        except (requests.exceptions.ChunkedEncodingError, requests.exceptions.ContentDecodingError) as exc:
            return None, PolygonResponseError("truncated response body: %s" % self._clean(exc), url=safe)
        except requests.exceptions.ConnectionError as exc:
            return None, PolygonConnectionError("connection failed: %s" % self._clean(exc), url=safe)
        except requests.exceptions.RequestException as exc:
            raise PolygonConnectionError("request could not be sent: %s" % self._clean(exc), url=safe) from None
        try:
            return response, response.raw.read(decode_content=True)
        except urllib3.exceptions.ReadTimeoutError:
            err: PolygonError = PolygonConnectionError("read timeout after %.1fs" % self._timeout[1], url=safe)
        except urllib3.exceptions.SSLError as exc:
            response.close()
            raise PolygonConnectionError("TLS error: %s" % self._clean(exc), url=safe) from None
        except (urllib3.exceptions.ProtocolError, urllib3.exceptions.DecodeError) as exc:
            err = PolygonResponseError("truncated response body: %s" % self._clean(exc), url=safe)
        except (urllib3.exceptions.HTTPError, OSError) as exc:
            err = PolygonConnectionError("connection failed while reading: %s" % self._clean(exc), url=safe)
        response.close()  # the connection is broken: do not reuse it
        return None, err

    def _clean(self, exc: BaseException) -> str:
        """The reason of a transport failure, whole (never cut mid-word), without the key: the innermost
        cause's text (``[Errno 111] Connection refused``) rather than requests' nested reprs."""
        return scrub(transport_reason(exc), (self._key,))

    def _final(self, err: PolygonError, attempts: int, note: str = "") -> PolygonError:
        if isinstance(err, (PolygonAPIError, PolygonConnectionError)):
            err.attempts = attempts
            if note:
                err.message += note
                if isinstance(err, PolygonConnectionError):
                    err.args = (err.message,)
            return err
        if isinstance(err, PolygonResponseError):
            text = err.message + note + (" (after %d attempts)" % attempts if attempts > 1 else "")
            final = PolygonResponseError(text, url=err.url, status_code=err.status_code)
            final.attempts = attempts  # type: ignore[attr-defined]
            return final
        return err

    def _get_json(self, url: str, params: Optional[Dict[str, str]] = None, decode: Callable[..., Any] = decode_json
                  ) -> Any:
        """GET ``url`` with rate limiting and retries; return the body decoded by ``decode``."""
        max_retries = self.config.max_retries
        budget = self.config.retry_budget
        family = endpoint_family(urlsplit(url).path)
        waited = 0.0
        attempts = 0
        while True:
            attempts += 1
            token = self._limiter.acquire(timeout=self._acquire_timeout, family=family)
            started = time.perf_counter()
            try:
                response, result = self._send(url, params)
            finally:
                self._limiter.release(token)
            retry_after = None
            if response is None:
                err = result
            else:
                status = response.status_code
                if logger.isEnabledFor(logging.DEBUG):
                    logger.debug(
                        "GET %s -> %d (%.0f ms, %d bytes)",
                        redact_url(response.url), status, (time.perf_counter() - started) * 1000, len(result),
                    )
                if status < 400:
                    try:
                        return decode(result, response.url, status)
                    except PolygonResponseError as exc:
                        err = exc
                else:
                    err = error_from_response(
                        status, result, response.headers, response.url, attempts, secrets=(self._key,)
                    )
                    if not is_retryable_status(status):
                        raise err
                    retry_after = getattr(err, "retry_after", None)
            if attempts > max_retries:
                raise self._final(err, attempts)
            delay = retry_after if retry_after is not None else backoff_delay(attempts, rand=self._rand)
            if waited + delay > budget:
                note = "; retry budget of %.0fs exhausted (next wait %.1fs)" % (budget, delay)
                raise self._final(err, attempts, note)
            logger.info("retrying in %.2fs (attempt %d of %d): %s", delay, attempts + 1, max_retries + 1, err)
            waited += delay
            if retry_after is not None:
                # hold every thread sharing the limiter; our own next acquire() does the waiting
                self._limiter.block_for(delay)
            else:
                self._sleep(delay)

    def _iter_pages(self, url: str, params: Optional[Dict[str, str]], max_pages: Optional[int] = None,
                    decode: Callable[..., Any] = decode_json) -> Iterator[Any]:
        """Yield decoded pages, following ``next_url`` (same host only, never twice)."""
        seen = {url}
        limit = min(max_pages or MAX_PAGES, MAX_PAGES)
        for count in range(1, limit + 1):
            page = self._get_json(url, params, decode)
            if not isinstance(page, dict):
                kind = type(page).__name__
                raise PolygonResponseError("expected a JSON object page, got %s" % kind, url=redact_url(url))
            yield page
            next_url = page.get("next_url")
            if not next_url or count >= limit:
                return
            url = check_next_url(next_url, self._base_url, seen)
            params = None

    # -- endpoint plumbing -------------------------------------------------------------------
    def _coerce(self, name: str, params: Dict[str, Any]) -> Dict[str, Any]:
        """Validate symbols, format dates and timestamps by parameter kind, drop ``None`` values."""
        return coerce_params(ENDPOINTS[name], params, self.config.timezone)

    def _prepare(self, name: str, params: Dict[str, Any]) -> Tuple[str, Dict[str, str]]:
        try:
            request = build_request(name, **self._coerce(name, params))
        except ParameterError as exc:
            raise InvalidParameterError(str(exc)) from None
        return self._base_url + request.path, request.query

    def _to_model(self, name: str, body: Any) -> Any:
        spec = ENDPOINTS[name]
        model = spec.response_model
        if spec.response_is_list and not isinstance(body, list):
            raise PolygonResponseError("%s: expected a JSON array, got %s" % (name, type(body).__name__))
        if isinstance(body, list):
            return [model.from_wire(item) if isinstance(item, dict) else item for item in body]
        if not isinstance(body, dict):
            raise PolygonResponseError("%s: expected a JSON object, got %s" % (name, type(body).__name__))
        return model.from_wire(body)

    def _call(self, name: str, params: Dict[str, Any], max_pages: Optional[int] = None) -> Any:
        """Call endpoint ``name`` of the generated table with python-named parameters.

        ``list_*`` endpoints return an iterator of their record models (arguments checked now, pages
        requested as it is consumed); the others their response model (every page merged).
        """
        spec = ENDPOINTS[name]
        max_pages = spec.page_bound(max_pages, MAX_PAGES)  # indicators: one page unless asked (x-endpoint)
        if spec.item_model is not None and spec.paginated and name.startswith("list_"):
            model = spec.item_model
            return (model.from_wire(record) if isinstance(record, dict) else record
                    for record in self._iter_records(name, params, max_pages))
        url, query = self._prepare(name, params)
        if spec.paginated:
            pages = list(self._iter_pages(url, query, max_pages))
            # records that are a list (bars, indicator values) are concatenated; others: the first page
            body = _merge_pages(pages, spec.records) if spec.item_model is not None else pages[0]
        else:
            body = self._get_json(url, query)
        return self._to_model(name, body)

    def _iter_records(self, name: str, params: Dict[str, Any], max_pages: Optional[int] = None) -> Iterator[Any]:
        """The raw records (wire dicts) of a paginated endpoint over every page, at most ``limit`` of them.

        The arguments are checked before this returns; ``limit`` becomes the page size, capped at the
        parameter's maximum.
        """
        spec = ENDPOINTS[name]
        limit = params.get("limit")
        page_params = dict(params)
        if isinstance(limit, numbers.Integral) and not isinstance(limit, bool) and limit > 0:
            page_params["limit"] = _page_size(spec, limit)
        url, query = self._prepare(name, page_params)
        return self._records(url, query, spec.records, limit if page_params.get("limit") else None, max_pages)

    def _records(
        self, url: str, query: Dict[str, str], path: Tuple[str, ...], limit: Optional[int], max_pages: Optional[int]
    ) -> Iterator[Any]:
        count = 0
        for page in self._iter_pages(url, query, max_pages):
            records = _records_of(page, path)
            if records is None:
                continue
            if not isinstance(records, list):
                raise PolygonResponseError("expected a list at %r, got %s" % (".".join(path), type(records).__name__),
                                           url=redact_url(url))
            for record in records:
                yield record
                count += 1
                if limit is not None and count >= limit:
                    return

    def iter_records(self, name: str, page_size: Optional[int] = None, **params: Any) -> Iterator[Dict[str, Any]]:
        """Every record (wire dict) of paginated endpoint ``name`` over all its pages, ``page_size`` a page
        (capped at the endpoint's maximum); unlike ``limit`` of the ``list_*`` methods, no total cap.

        :raises InvalidParameterError: for a bad parameter (before any request).
        """
        spec = ENDPOINTS[name]
        query_params = dict(params)
        if page_size:
            query_params["limit"] = _page_size(spec, page_size)
        url, query = self._prepare(name, query_params)
        return self._records(url, query, spec.records, None, None)

    def _call_frame(self, name: str, params: Dict[str, Any], max_pages: Optional[int] = None) -> Any:
        """Endpoint ``name``'s records as a DataFrame (:func:`polygon.core.tables.records_frame`)."""
        from polygon.core.tables import records_frame

        spec = ENDPOINTS[name]
        max_pages = spec.page_bound(max_pages, MAX_PAGES)
        if spec.table is None:
            raise InvalidParameterError("%s has no tabular result" % name)
        if spec.paginated:
            records = list(self._iter_records(name, params, max_pages))
        else:
            url, query = self._prepare(name, params)
            records = _records_of(self._get_json(url, query), spec.table.records) or []
        return records_frame(spec.table, records, self.config.timezone)

    # -- aggregates --------------------------------------------------------------------------
    def _aggs_request(
        self, symbol: Any, multiplier: Any, timespan: Any, from_: Any, to: Any, adjusted: Any, sort: Any, limit: Any
    ) -> Tuple[str, Dict[str, str]]:
        symbol = validate_symbol(symbol)
        if from_ is None or to is None:
            raise InvalidParameterError("get_aggs needs both from_ and to (dates, datetimes, ms or 'YYYY-MM-DD')")
        check_date_range(from_, to, self.config.timezone)
        return self._aggs_url(symbol, multiplier, timespan, from_, to, adjusted, sort, limit)

    def _aggs_url(
        self, symbol: str, multiplier: Any, timespan: Any, from_: Any, to: Any, adjusted: Any, sort: Any, limit: Any,
        trusted: bool = False,
    ) -> Tuple[str, Dict[str, str]]:
        spec = ENDPOINTS["get_aggs"]
        by_wire = {p.wire_name: p.name for p in spec.params}
        values = {
            "from": from_, "to": to, "multiplier": multiplier, "timespan": timespan,
            "adjusted": adjusted, "sort": sort, "limit": limit,
        }
        ticker_wire = next((p.wire_name for p in spec.params if p.location == "path" and p.kind == "symbol"),
                           "stocksTicker")
        values[ticker_wire] = symbol
        params = {by_wire[w]: v for w, v in values.items() if w in by_wire}
        if not trusted:
            return self._prepare("get_aggs", params)
        try:  # a validated symbol and epoch-ms bounds: nothing to coerce
            request = build_request("get_aggs", **params)
        except ParameterError as exc:
            raise InvalidParameterError(str(exc)) from None
        return self._base_url + request.path, request.query

    def iter_aggs_pages(
        self,
        symbol: str,
        multiplier: int,
        timespan: str,
        from_: Any,
        to: Any,
        adjusted: bool = True,
        sort: str = "asc",
        limit: int = MAX_AGGS_LIMIT,
        max_pages: Optional[int] = None,
    ) -> Iterator[Dict[str, Any]]:
        """Yield the raw aggregate pages (decoded dicts) as they arrive, following ``next_url``.

        Arguments as :meth:`get_aggs`. Arguments are validated when this is called, before the
        first request; each page is requested when the previous one has been consumed.

        :returns: an iterator of page dicts (``results`` holds the wire bars ``t, o, h, l, c, v, vw, n``).
        """
        url, query = self._aggs_request(symbol, multiplier, timespan, from_, to, adjusted, sort, limit)
        return self._iter_pages(url, query, max_pages)

    def get_aggs(
        self,
        symbol: Optional[str] = None,
        multiplier: Optional[int] = None,
        timespan: Optional[str] = None,
        from_: Any = None,
        to: Any = None,
        adjusted: bool = True,
        sort: str = "asc",
        limit: int = MAX_AGGS_LIMIT,
        max_pages: Optional[int] = None,
        **aliases: Any,
    ) -> AggsResponse:
        """Aggregate bars over a range, all pages followed and merged into one response.

        :param symbol: ticker (also accepted as ``ticker=``).
        :param multiplier: bar size multiplier, e.g. ``5``.
        :param timespan: ``second``, ``minute``, ``hour``, ``day``, ``week``, ``month``, ``quarter``, ``year``.
        :param from_: start: date, datetime (naive = configured timezone), epoch ms or ``'YYYY-MM-DD'``
            (also accepted as ``start=`` or ``**{'from': ...}``).
        :param to: end, same forms (also ``end=``); a date covers the whole day.
        :param adjusted: split-adjusted prices.
        :param sort: ``'asc'`` or ``'desc'``.
        :param limit: page size (base aggregates per page), maximum and default 50,000.
        :param max_pages: stop after this many pages (default: all).
        :returns: the generated ``AggsResponse`` with every bar in ``results``.
        :raises InvalidInputError: for a bad symbol, date range or parameter (before any request).
        :raises PolygonAPIError: for an error response (after retries where they apply).
        """
        symbol = _pop_alias(aliases, symbol, ("ticker", "stocks_ticker", "stocksTicker"), "symbol")
        from_ = _pop_alias(aliases, from_, ("from", "start"), "from_")
        to = _pop_alias(aliases, to, ("end",), "to")
        if aliases:
            raise InvalidParameterError("get_aggs: unknown parameter(s) %s" % ", ".join(sorted(aliases)))
        pages = list(self.iter_aggs_pages(symbol, multiplier, timespan, from_, to, adjusted, sort, limit, max_pages))
        return self._to_model("get_aggs", _merge_pages(pages))

    def get_bars_columns(
        self, symbol: str, timeframe: Any, start: Any, end: Any, adjusted: bool = True
    ) -> Dict[str, np.ndarray]:
        """Bars as numpy columns, built from the decoded pages without one object per bar.

        :param symbol: ticker.
        :param timeframe: ``'1min'``, ``'5min'``, ``'1hour'``, ``'1day'``... (see :mod:`polygon.markets.timeframes`).
        :param start: first day or instant (inclusive).
        :param end: last day (inclusive, whole day) or instant.
        :returns: ``{'t', 'o', 'h', 'l', 'c', 'v', 'vw', 'n'}`` arrays, ``t`` in epoch ms, ascending.
        """
        multiplier, timespan = to_multiplier_timespan(timeframe)
        url, query = self._aggs_request(symbol, multiplier, timespan, start, end, adjusted, "asc", MAX_AGGS_LIMIT)
        return columns_from_pages(self._iter_pages(url, query, decode=decode_aggs_page))

    def bars_columns(self, symbol: str, timeframe: Any, start_ms: int, end_ms: int, adjusted: bool = True
                     ) -> Dict[str, np.ndarray]:
        """:meth:`get_bars_columns` for the data layer: ``symbol`` is a value :func:`validate_symbol` returned and
        the bounds are epoch milliseconds (``end_ms`` inclusive), so nothing is checked again."""
        multiplier, timespan = to_multiplier_timespan(timeframe)
        url, query = self._aggs_url(symbol, multiplier, timespan, int(start_ms), int(end_ms), adjusted, "asc",
                                    MAX_AGGS_LIMIT, trusted=True)
        return columns_from_pages(self._iter_pages(url, query, decode=decode_aggs_page))

    def get_bars(self, symbol: str, timeframe: Any, start: Any, end: Any, adjusted: bool = True) -> Any:
        """Bars as a pandas DataFrame (index in the configured timezone).

        Built by :func:`polygon.markets.frames.arrays_from_wire_columns` from :meth:`get_bars_columns`.

        Arguments as :meth:`get_bars_columns`.
        """
        from polygon.markets.frames import arrays_from_wire_columns, arrays_to_frame

        cols = self.get_bars_columns(symbol, timeframe, start, end, adjusted)
        return arrays_to_frame(arrays_from_wire_columns(cols), self.config.timezone)


def _page_size(spec: Any, wanted: int) -> int:
    """``wanted`` records a page, capped at the endpoint's maximum ``limit``."""
    try:
        maximum = spec.param("limit").maximum
    except KeyError:
        maximum = None
    return int(min(wanted, maximum)) if maximum else int(wanted)


def _pop_alias(aliases: Dict[str, Any], value: Any, names: Tuple[str, ...], canonical: str) -> Any:
    for name in names:
        if name in aliases:
            alias_value = aliases.pop(name)
            if value is not None and alias_value is not None:
                raise InvalidParameterError("pass %s only once (got %s= too)" % (canonical, name))
            value = alias_value if value is None else value
    return value
