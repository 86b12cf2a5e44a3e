"""``RESTClient``: the official client's call forms and result shapes on our request runtime.

Every official method is generated (``polygon._generated.official``: the models, the method table and the
mixins); this module is the one place that serves them: it picks the route, builds the request with our
endpoint table (typed validation, symbol and date coercion), sends it through :class:`~polygon.core.PolygonClient`
(one session, the shared rate limiter, retries, typed errors) and shapes the result as the official client
does: a list or one model for ``get_*``, a lazy iterator over every page for ``list_*``.
"""

import contextlib
import logging
import os
import threading
from typing import Any, Callable, Dict, Iterator, Optional, Tuple

import requests
from requests.adapters import HTTPAdapter

from polygon._generated._official_runtime import OfficialMethod, RouteError, plan
from polygon._generated.official import OfficialMethods, OfficialVXMethods
from polygon.config import PolygonConfig, get_config
from polygon.core.client import PolygonClient
from polygon.core.http import decode_json, redact_url
from polygon.exceptions import InvalidParameterError, PolygonResponseError
from polygon.official.response import RawResponse

logger = logging.getLogger(__name__)

__all__ = ["RESTClient"]

#: The official client reads its key from this variable; ours (POLYGON_API_KEY, config file) also works.
ENV_KEY = "MASSIVE_API_KEY"


class _HeaderSession(requests.Session):
    """A session that adds the calling thread's ``options=`` headers to the requests it sends."""

    def __init__(self) -> None:
        super().__init__()
        self.local = threading.local()

    def request(self, method: str, url: str, *args: Any, **kwargs: Any) -> requests.Response:  # type: ignore[override]
        extra = getattr(self.local, "headers", None)
        if extra:
            kwargs["headers"] = {**(kwargs.get("headers") or {}), **extra}
        return super().request(method, url, *args, **kwargs)


class _Transport(PolygonClient):
    """``PolygonClient`` with the three request steps the official face composes, as its seam: build a
    request of one of our endpoints, GET it once, follow its pages."""

    def prepare(self, name: str, params: Dict[str, Any]) -> Tuple[str, Dict[str, str]]:
        """URL and query of endpoint ``name`` (python-named ``params`` validated and coerced).

        :raises InvalidParameterError: a bad argument, before any request.
        """
        return self._prepare(name, params)

    def get(self, url: str, query: Optional[Dict[str, str]], decode: Callable[..., Any]) -> Any:
        """One GET through the limiter and retries; the body as ``decode(content, url, status)`` returns it."""
        return self._get_json(url, query, decode)

    def pages(self, url: str, query: Dict[str, str], max_pages: Optional[int], decode: Callable[..., Any]
              ) -> Iterator[Any]:
        """The decoded pages, following ``next_url`` (same host, never twice), at most ``max_pages``."""
        return self._iter_pages(url, query, max_pages, decode=decode)


def _text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(getattr(value, "value", value))


def _result(method: OfficialMethod, body: Any) -> Any:
    """The official ``_get`` result: ``body[key]`` (``[]`` when missing) as a list of models or one model."""
    if method.key is not None:
        if not isinstance(body, dict) or method.key not in body:
            return []
        body = body[method.key]
    if isinstance(body, list):
        return [method.model.from_dict(item) if isinstance(item, dict) else item for item in body]
    if isinstance(body, dict):
        return method.model.from_dict(body)
    return body


class RESTClient(OfficialMethods):
    """Drop-in for ``massive.RESTClient`` (and the older ``polygon.RESTClient``): same methods, arguments and
    results, on polygon-kit's runtime.

    Differences: errors are :mod:`polygon.exceptions` (``PolygonAPIError`` and subclasses, bad arguments
    ``InvalidInputError``) raised before or instead of the official ``BadResponse``; ``raw=True`` gives a
    :class:`~polygon.official.response.RawResponse` (``.data``, ``.status``, ``.json()``); paging stops after
    ``max_pages`` pages (the official client has no bound).

    :param api_key: API key; default ``MASSIVE_API_KEY``, then our configuration (``POLYGON_API_KEY``, file).
    :param connect_timeout: seconds to connect.
    :param read_timeout: seconds to wait for response bytes.
    :param num_pools: HTTP connection pool size.
    :param retries: retries after the first attempt (429, 5xx, connection errors), with backoff.
    :param base: REST base URL; default our configuration's (``POLYGON_BASE_URL``).
    :param pagination: False: ``list_*`` read the first page only.
    :param verbose: log polygon-kit at DEBUG.
    :param trace: log each request URL (key redacted) and its status, at DEBUG.
    :param custom_json: a module with ``loads`` used to decode bodies (e.g. orjson).
    :param config: a :class:`~polygon.config.PolygonConfig` for everything else (rate limits, retry budget).
    :param max_pages: page guard of ``list_*`` iterators (default: polygon-kit's bound).
    :raises PolygonAuthenticationError: no API key anywhere.
    """

    def __init__(
        self,
        api_key: Optional[str] = None,
        connect_timeout: float = 10.0,
        read_timeout: float = 10.0,
        num_pools: int = 10,
        retries: int = 3,
        base: Optional[str] = None,
        pagination: bool = True,
        verbose: bool = False,
        trace: bool = False,
        custom_json: Any = None,
        *,
        config: Optional[PolygonConfig] = None,
        max_pages: Optional[int] = None,
    ) -> None:
        values = {"api_key": api_key or os.environ.get(ENV_KEY) or None, "base_url": base,
                  "connect_timeout": connect_timeout, "read_timeout": read_timeout, "max_retries": retries}
        values = {k: v for k, v in values.items() if v is not None}
        config = config.replace(**values) if config is not None else get_config(**values)
        session = _HeaderSession()
        adapter = HTTPAdapter(pool_connections=4, pool_maxsize=max(1, num_pools), max_retries=0)
        session.mount("https://", adapter)
        session.mount("http://", adapter)
        try:
            self._client = _Transport(config=config, session=session)
        except BaseException:
            session.close()
            raise
        self._session = session
        self.pagination = pagination
        self.max_pages = max_pages
        decoder: Callable[..., Any] = decode_json
        if custom_json is not None:
            def decoder(content: bytes, url: Optional[str] = None, status: Optional[int] = None) -> Any:
                try:
                    return custom_json.loads(content.decode("utf-8"))
                except ValueError as exc:  # JSONDecodeError, orjson's, UnicodeDecodeError: one typed error
                    raise PolygonResponseError("undecodable JSON body (%s)" % exc, url=redact_url(url or ""),
                                               status_code=status) from None
        self._decode = decoder
        if verbose or trace:
            logging.getLogger("polygon").setLevel(logging.DEBUG)
        self.vx = _VX(self)

    # -- lifecycle ---------------------------------------------------------------------------
    @property
    def client(self) -> PolygonClient:
        """The :class:`~polygon.core.PolygonClient` underneath (its own methods, DataFrames, ...)."""
        return self._client

    def close(self) -> None:
        """Close the HTTP session."""
        self._client.close()
        self._session.close()

    def __enter__(self) -> "RESTClient":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

    def __repr__(self) -> str:
        return "RESTClient(base=%r, api_key=***)" % self._client.base_url

    # -- serving official calls ----------------------------------------------------------------
    @contextlib.contextmanager
    def _options(self, options: Any) -> Iterator[None]:
        headers = getattr(options, "headers", None) if options is not None else None
        if headers is not None and not isinstance(headers, dict):
            raise InvalidParameterError("options.headers must be a dict of header names to values")
        local = self._session.local
        local.headers = headers
        try:
            yield
        finally:
            local.headers = None

    def _official(
        self, method: OfficialMethod, args: Dict[str, Any], params: Optional[Dict[str, Any]], raw: bool, options: Any
    ) -> Any:
        try:
            endpoint, call_params = plan(method, args)
        except RouteError as exc:
            raise InvalidParameterError(str(exc)) from None
        if params is not None and not isinstance(params, dict):
            raise InvalidParameterError("params must be a dict of query names to values, got %r" % (params,))
        url, query = self._client.prepare(endpoint, call_params)
        if params:
            # the official client lets its own arguments win over params=
            query = {**{str(k): _text(v) for k, v in params.items() if v is not None}, **query}
        if method.call == "pages" and not raw:
            return self._records(method, url, query, options)
        with self._options(options):
            if raw:
                return self._client.get(url, query, _raw_response)
            return _result(method, self._client.get(url, query, self._decode))

    def _records(self, method: OfficialMethod, url: str, query: Dict[str, str], options: Any) -> Iterator[Any]:
        """The official ``list_*`` iterator: records of every page, requested as it is consumed."""
        pages = self._client.pages(url, query, 1 if not self.pagination else self.max_pages, self._decode)
        key, model = method.key, method.model
        while True:
            with self._options(options):
                page = next(pages, None)
            if page is None or key not in page:
                return
            for record in page[key] or ():
                yield model.from_dict(record) if isinstance(record, dict) else record


def _raw_response(content: bytes, url: Optional[str] = None, status: Optional[int] = None) -> RawResponse:
    return RawResponse(content, status or 200, redact_url(url))


class _VX(OfficialVXMethods):
    """``client.vx``: the official client's experimental methods, served by the same client."""

    def __init__(self, owner: RESTClient) -> None:
        self._owner = owner

    def _official(
        self, method: OfficialMethod, args: Dict[str, Any], params: Optional[Dict[str, Any]], raw: bool, options: Any
    ) -> Any:
        return self._owner._official(method, args, params, raw, options)
