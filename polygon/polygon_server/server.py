"""The local polygon server (port 8200): bars over HTTP, a fan-out stream endpoint and a live dashboard.

Run it with ``python -m polygon.polygon_server.server`` (``--sandbox`` serves the offline sandbox's market).
It is for local use: it binds 127.0.0.1 by default, has no authentication of its own, and holds the provider
key only to talk to the provider (the key is never part of a response).

Routes::

    GET  /                    the dashboard (static/dashboard.html: charts, tick tape, clients, cache)
    GET  /static/{name}       the dashboard's files (static/, vendored lightweight-charts among them)
    GET  /favicon.ico         the icon
    GET  /api/v1/health       {"status": "ok" | "degraded", "version", "reason"?}: degraded without a key
    GET  /api/v1/status       server counters, provider mode, stream relay clients and upstream, rate-limit usage
    POST /api/v1/bars         {"symbol", "timeframe", "start_date"?, "end_date"?} -> bars through the cache
    GET  /api/v1/cache        what the file cache holds
    GET  /api/v1/cache/coverage?symbol=S&timeframe=TF   one entry's coverage intervals (epoch ms)
    WS   /ws/{client_id}      subscribe / unsubscribe / ping (see :mod:`polygon.polygon_server.relay`)

Without a provider key the server still starts: it logs a warning, health says ``degraded`` and why, cached
bars are served and anything else answers 503 ``no_api_key``.

Errors are JSON ``{"error": {"code", "message"}}`` with status 400 for bad input (bad JSON, a body that does
not match ``schema/server/bars_request.json``, invalid symbol, timeframe or dates), 404/405 for unknown
routes, 429 when the provider's rate limit holds, 502/504 when the provider fails. The process keeps serving.
"""

import argparse
import collections
import contextlib
import functools
import json
import logging
import math
import signal
import threading
import time
from importlib import resources
from typing import Any, Dict, Iterator, List, Optional, Tuple

import numpy as np
from werkzeug.exceptions import HTTPException, MethodNotAllowed, RequestEntityTooLarge
from werkzeug.routing import Map, Rule
from werkzeug.routing.exceptions import WebsocketMismatch
from werkzeug.wrappers import Request, Response

from polygon._version import __version__
from polygon.exceptions import (
    InvalidDateRangeError,
    InvalidInputError,
    InvalidSymbolError,
    InvalidTimeframeError,
    PolygonAPIError,
    PolygonAuthenticationError,
    PolygonConnectionError,
    PolygonError,
    PolygonNotEntitledError,
    PolygonNotFoundError,
    PolygonRateLimitError,
    UnknownSymbolError,
)
from polygon.markets.frames import BAR_COLUMNS, COLUMN_TO_WIRE, FLOAT_COLUMNS, INDEX_NAME
from polygon.markets.timeframes import parse_timeframe
from polygon.polygon_server import bars_answer
from polygon.polygon_server.messages import MAX_BODY, read_body, validate_message
from polygon.polygon_server.origins import parse_host, parse_origin, same_origin
from polygon.polygon_server.relay import StreamRelay
from polygon.polygon_server.serving import ClosedResponse
from polygon.polygon_server.stream_endpoint import check_handshake, serve_client

__all__ = ["DEFAULT_PORT", "PolygonServer", "ServerApp", "bars_payload", "create_app", "iso_timestamps", "main"]

logger = logging.getLogger(__name__)

#: The port of the guides (``http://localhost:8200``).
DEFAULT_PORT = 8200
_JSON = "application/json; charset=utf-8"
#: Content types of the dashboard's static files, by extension (other files are not served).
_STATIC_TYPES = {".html": "text/html; charset=utf-8", ".js": "text/javascript; charset=utf-8",
                 ".css": "text/css; charset=utf-8", ".svg": "image/svg+xml", ".txt": "text/plain; charset=utf-8",
                 ".md": "text/plain; charset=utf-8"}
#: The dashboard loads nothing from another origin (and the browser test checks it).
_PAGE_CSP = ("default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; "
             "connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'")
_NO_KEY = ("no provider API key: only cached bars are served and the live stream is off; set POLYGON_API_KEY "
           "for the server, or start it with --sandbox")

URL_MAP = Map([
    Rule("/", endpoint="dashboard", methods=["GET"]),
    Rule("/api/v1/health", endpoint="health", methods=["GET"]),
    Rule("/api/v1/status", endpoint="status", methods=["GET"]),
    Rule("/api/v1/bars", endpoint="bars", methods=["POST"]),
    Rule("/api/v1/cache", endpoint="cache", methods=["GET"]),
    Rule("/api/v1/cache/coverage", endpoint="coverage", methods=["GET"]),
    Rule("/static/<name>", endpoint="static", methods=["GET"]),
    Rule("/favicon.ico", endpoint="favicon", methods=["GET"]),
    Rule("/ws/<client_id>", endpoint="ws", websocket=True),
], strict_slashes=False)


class ApiError(Exception):
    """An error answer: HTTP ``status``, a machine ``code`` and a message for people."""

    def __init__(self, status: int, code: str, message: str, headers: Optional[Dict[str, str]] = None,
                 extra: Optional[Dict[str, Any]] = None) -> None:
        super().__init__(message)
        self.status, self.code, self.message, self.headers = status, code, message, headers or {}
        self.extra = extra or {}  # more members of the error object (e.g. suggestions)


def error_for(exc: PolygonError) -> ApiError:
    """Map a library exception to the server's error answer (pure; the key is never in library messages)."""
    if isinstance(exc, UnknownSymbolError):
        return ApiError(404, "unknown_symbol", str(exc), extra={"suggestions": exc.suggestions})
    if isinstance(exc, InvalidSymbolError):
        return ApiError(400, "invalid_symbol", str(exc))
    if isinstance(exc, InvalidTimeframeError):
        return ApiError(400, "invalid_timeframe", str(exc))
    if isinstance(exc, InvalidDateRangeError):
        return ApiError(400, "invalid_date_range", str(exc))
    if isinstance(exc, InvalidInputError):
        return ApiError(400, "invalid_request", str(exc))
    if isinstance(exc, PolygonRateLimitError):
        retry = getattr(exc, "retry_after", None)
        headers = {"Retry-After": str(int(math.ceil(retry)))} if retry else {}
        return ApiError(429, "rate_limited", "provider rate limit: %s" % exc, headers)
    if isinstance(exc, PolygonNotEntitledError):
        return ApiError(403, "not_entitled", "the server's plan does not include this data: %s" % exc)
    if isinstance(exc, PolygonAuthenticationError):
        return ApiError(502, "upstream_auth", "the provider refused the server's API key: %s" % exc)
    if isinstance(exc, PolygonNotFoundError):
        return ApiError(404, "not_found", str(exc))
    if isinstance(exc, PolygonAPIError):
        return ApiError(502, "upstream", "the provider answered with an error: %s" % exc)
    if isinstance(exc, PolygonConnectionError):
        return ApiError(504, "upstream_unreachable", "the provider could not be reached: %s" % exc)
    return ApiError(502, "upstream", str(exc))


def iso_timestamps(index: Any) -> List[str]:
    """ISO 8601 strings of a tz-aware DatetimeIndex, as ``Timestamp.isoformat()`` writes them, vectorised
    (about 20x faster than one ``isoformat()`` per bar)."""
    if not len(index):
        return []
    if hasattr(index, "as_unit"):  # pandas >= 2: the index may hold s/ms/us
        index = index.as_unit("ns")
    utc_ns = np.asarray(index.asi8, dtype=np.int64)
    wall_ns = np.asarray(index.tz_localize(None).asi8, dtype=np.int64)
    rem = wall_ns % 1_000_000_000  # sub-second part (non-negative, also before 1970)
    wall = np.datetime_as_string((wall_ns - rem).astype("datetime64[ns]").astype("datetime64[s]"), unit="s")
    if rem.any():  # as Timestamp.isoformat: nothing for whole seconds, else 6 digits, or 9 with nanoseconds
        frac = ["" if r == 0 else (".%06d" % (r // 1000) if r % 1000 == 0 else ".%09d" % r) for r in rem.tolist()]
        wall = np.asarray([w + f for w, f in zip(wall.tolist(), frac)])
    offsets = (wall_ns - utc_ns) // 1_000_000_000
    names = {}
    for off in np.unique(offsets).tolist():
        minutes, seconds = divmod(abs(off), 60)
        hours, minutes = divmod(minutes, 60)
        names[off] = "%s%02d:%02d%s" % ("+" if off >= 0 else "-", hours, minutes, ":%02d" % seconds if seconds else "")
    return [w + names[o] for w, o in zip(wall.tolist(), offsets.tolist())]


def _nullable(values: Any) -> List[Any]:
    """A float column as a list, NaN -> None (JSON has no NaN)."""
    out = values.tolist()
    if np.isnan(values).any():
        out = [None if v != v else v for v in out]
    return out


def bars_payload(df: Any) -> Dict[str, Any]:
    """The ``/api/v1/bars`` answer for a frame from :meth:`PolygonDataManager.fetch_data` (pure).

    ``bars`` is a list of ``{timestamp (ISO 8601 in the frame's timezone), t (epoch ms), open, high, low, close,
    volume, vwap, transactions}``; missing values are ``null``.
    """
    stamps = iso_timestamps(df.index)
    index = df.index.as_unit("ns") if hasattr(df.index, "as_unit") else df.index
    t_ms = (np.asarray(index.asi8, dtype=np.int64) // 1_000_000).tolist()
    cols = [_nullable(np.asarray(df[name], dtype=np.float64)) for name in FLOAT_COLUMNS]
    tx_col = df["transactions"]
    tx = [None if v is None else int(v) for v in tx_col.astype(object).where(tx_col.notna(), None).tolist()]
    keys = (INDEX_NAME, COLUMN_TO_WIRE[INDEX_NAME]) + BAR_COLUMNS
    bars = [dict(zip(keys, row)) for row in zip(stamps, t_ms, *cols, tx)]
    attrs = df.attrs
    return {
        "symbol": attrs.get("symbol"),
        "timeframe": attrs.get("timeframe"),
        "start": attrs.get("start"),
        "end": attrs.get("end"),
        "source": attrs.get("source"),
        "may_change": bool(attrs.get("may_change")),
        "count": len(bars),
        "bars": bars,
    }


class ServerApp:
    """WSGI application of the local server.

    :param manager: a :class:`polygon.manager.PolygonDataManager` (bars and cache).
    :param relay: a :class:`polygon.polygon_server.relay.StreamRelay` (the ``/ws`` endpoint).
    :param max_bars: bars at most in one ``/api/v1/bars`` answer (longer ranges are paged).
    """

    def __init__(self, manager: Any, relay: StreamRelay, bind_host: str = "127.0.0.1",
                 max_bars: int = bars_answer.DEFAULT_MAX_BARS) -> None:
        if max_bars < 1:
            raise ValueError("max_bars must be >= 1")
        self.manager = manager
        self.relay = relay
        self.max_bars = int(max_bars)
        local = {"127.0.0.1", "localhost", "[::1]", "::1"}
        #: Host names accepted in the Host header (None: any, when bound to a non-loopback address).
        self.allowed_hosts = local | {bind_host.lower()} if bind_host.lower() in local else None
        #: Host names of the browser origins accepted for POST /api/v1/bars and /ws.
        self.allowed_origin_hosts = local | {bind_host.lower()}
        self.url_map = URL_MAP
        self.started = time.time()
        self.stopping = threading.Event()
        self._lock = threading.Lock()
        self.requests: Dict[str, int] = collections.Counter()
        self.errors: Dict[str, int] = collections.Counter()

    def __call__(self, environ, start_response):
        request = Request(environ)
        request.max_content_length = MAX_BODY
        response = self.dispatch_request(request)
        return response(environ, start_response)

    def dispatch_request(self, request: Request) -> Response:
        adapter = self.url_map.bind_to_environ(request.environ)
        endpoint = "<unknown>"
        try:
            self._check_host(request)
            endpoint, values = adapter.match()
            self._count(self.requests, endpoint)
            if endpoint in ("bars", "ws"):
                self._check_origin(request)
            return getattr(self, "on_" + endpoint)(request, **values)
        except ApiError as err:
            return self._error(err, endpoint)
        except MethodNotAllowed as exc:
            allowed = ", ".join(exc.valid_methods or [])
            return self._error(ApiError(405, "method_not_allowed", "use %s for this path" % allowed,
                                        {"Allow": allowed}), endpoint)
        except RequestEntityTooLarge:
            return self._error(ApiError(413, "body_too_large", "request bodies are limited to %d bytes" % MAX_BODY),
                               endpoint)
        except WebsocketMismatch:
            return self._error(ApiError(400, "websocket_required", "this path serves WebSocket connections "
                                        "(ws://host:port/ws/{client_id})"), endpoint)
        except HTTPException as exc:  # 404 and friends
            code = {404: "not_found"}.get(exc.code or 400, "bad_request")
            return self._error(ApiError(exc.code or 400, code, exc.description or code), endpoint)
        except Exception:  # a server bug must still answer, and the server keeps serving
            logger.exception("server: %s failed", endpoint)
            return self._error(ApiError(500, "internal", "internal server error (logged on the server)"), endpoint)

    def _check_host(self, request: Request) -> None:
        """Only loopback names reach a server bound to loopback: a web page cannot rebind a DNS name to it."""
        if self.allowed_hosts is None:
            return
        try:
            host = parse_host(request.host)[0]
        except ValueError:
            host = None
        if host not in self.allowed_hosts:
            raise ApiError(403, "forbidden_host", "Host %r is not served here; use http://127.0.0.1:<port> or "
                           "http://localhost:<port>" % (request.host,))

    def _check_origin(self, request: Request) -> None:
        """Browsers send ``Origin``: only pages served from this machine (or from this server itself) may post
        bars or open the stream, so another site cannot spend the server's key or read its stream. ``null``
        origins (sandboxed frames, ``data:`` and ``file:`` pages) are refused too: any site can make one.
        A browser's POST must also be ``application/json``. Programs send no ``Origin`` and are not affected."""
        origin = request.headers.get("Origin")
        if origin is None:
            return
        if not same_origin(origin, request.host) and _origin_host(origin) not in self.allowed_origin_hosts:
            raise ApiError(403, "forbidden_origin", "requests from pages at %s are not accepted; this server is for "
                           "programs and pages on this machine" % origin)
        if request.method == "POST" and request.mimetype != "application/json":
            raise ApiError(415, "unsupported_media_type", "send the body as JSON with Content-Type: "
                           "application/json")

    def _count(self, counter: Dict[str, int], key: str) -> None:
        with self._lock:
            counter[key] += 1

    def _error(self, err: ApiError, endpoint: str) -> Response:
        self._count(self.errors, err.code)
        logger.info("server: %s -> %d %s: %s", endpoint, err.status, err.code, err.message)
        return _json({"error": dict(err.extra, code=err.code, message=err.message)}, err.status, err.headers)

    # -- endpoints -----------------------------------------------------------------------------------------
    def on_dashboard(self, request: Request) -> Response:
        return self.on_static(request, "dashboard.html")

    def on_static(self, request: Request, name: str) -> Response:
        body = _static_file(name)
        if body is None:
            raise ApiError(404, "not_found", "no static file %r" % name[:100])
        response = Response(body, content_type=_STATIC_TYPES[name[name.rfind("."):]])
        response.headers["X-Content-Type-Options"] = "nosniff"
        if name.endswith(".html"):
            response.headers["Content-Security-Policy"] = _PAGE_CSP
            response.headers["Cache-Control"] = "no-cache"
        else:
            response.headers["Cache-Control"] = "max-age=3600"
        return response

    def on_favicon(self, request: Request) -> Response:
        return self.on_static(request, "favicon.svg")

    def health(self) -> Dict[str, Any]:
        """``{"status": "ok" | "degraded", "version", "mode", "reason"?}`` (the ``/api/v1/health`` answer)."""
        config = self.manager.config
        mode = "sandbox" if _is_sandbox(config) else "provider"
        if not config.api_key:
            return {"status": "degraded", "version": __version__, "mode": "no_key", "reason": _NO_KEY}
        return {"status": "ok", "version": __version__, "mode": mode}

    def on_health(self, request: Request) -> Response:
        return _json(self.health())

    def on_status(self, request: Request) -> Response:
        from polygon.core.rate_limit import get_rate_limit_status

        with self._lock:
            requests, errors = dict(self.requests), dict(self.errors)
        config = self.manager.config
        client = self.manager.created_client  # only when created: a status call never needs the key
        limits = client.get_rate_limit_status() if client is not None else get_rate_limit_status(config)
        health = self.health()
        return _json({
            "health": health,
            "provider": {"mode": health["mode"], "api_key": bool(config.api_key), "base_url": config.base_url,
                         "ws_url": config.ws_url},
            "server": {
                "version": __version__,
                "started_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(self.started)),
                "uptime_seconds": round(time.time() - self.started, 3),
                "requests": requests,
                "errors": errors,
            },
            "stream": self.relay.status(),
            "rate_limit": limits,
            "cache": {"dir": getattr(self.manager.storage, "cache_dir", None),
                      "writable": bool(getattr(self.manager.storage, "writable", False))},
        })

    def on_bars(self, request: Request) -> Response:
        """Bars through the cache; long ranges streamed window by window, pages on request (see
        :mod:`polygon.polygon_server.bars_answer`)."""
        body = self._json_body(request)
        self._validate(body)
        symbol, timeframe, limit = body["symbol"], body["timeframe"], body.get("limit")
        if limit is not None and limit > self.max_bars:
            raise ApiError(422, "limit_too_large", "limit %d is more than the %d bars this server sends in one "
                           "answer: ask for at most %d and follow next_cursor" % (limit, self.max_bars, self.max_bars),
                           extra={"max_bars": self.max_bars})
        with self._upstream_errors():
            tf = parse_timeframe(timeframe)
            start_ms, end_ms = self.manager.resolve_range(body.get("start_date"), body.get("end_date"), tf, symbol)
            if body.get("cursor") is not None:
                try:
                    start_ms = bars_answer.parse_cursor(body["cursor"], start_ms, end_ms)
                except InvalidInputError as exc:
                    raise ApiError(400, "invalid_cursor", str(exc)) from None
            bound = bars_answer.bar_bound(start_ms, end_ms, tf)
            if limit is None and bound > self.max_bars:
                message, extra = bars_answer.too_many_bars(bound, self.max_bars, tf.name)
                raise ApiError(422, "too_many_bars", message, extra=extra)
            spans = bars_answer.windows(start_ms, end_ms, tf)
            if len(spans) == 1 and limit is None and body.get("cursor") is None:  # the answer as it always was
                return _json(bars_payload(self.manager.fetch_data(symbol, timeframe, body.get("start_date"),
                                                                  body.get("end_date"))))
            fetch = functools.partial(self._fetch_window, symbol, timeframe)
            first = fetch(*spans[0])  # before the status line: its errors are still answers
        if len(spans) == 1:
            payload = bars_payload(first)
            if limit is not None and payload["count"] > limit:
                payload["next_cursor"] = str(payload["bars"][limit]["t"])
                del payload["bars"][limit:]
                payload["count"] = limit
            return _json(payload)
        tz = self.manager.config.timezone
        head = {"symbol": first.attrs.get("symbol"), "timeframe": first.attrs.get("timeframe"),
                "start": bars_answer.iso_time(start_ms, tz), "end": bars_answer.iso_time(end_ms - 1, tz)}
        chunks = bars_answer.stream_answer(fetch, lambda df: bars_payload(df)["bars"], spans, head, limit, first)
        return Response(chunks, content_type=_JSON, direct_passthrough=True)

    def _fetch_window(self, symbol: str, timeframe: str, lo_ms: int, hi_ms: int) -> Any:
        return self.manager.fetch_data(symbol, timeframe, lo_ms, hi_ms - 1)  # an instant end is inclusive

    @contextlib.contextmanager
    def _upstream_errors(self) -> Iterator[None]:
        """Library errors of a bars request as the server's answers."""
        try:
            yield
        except PolygonAuthenticationError as exc:
            if not self.manager.config.api_key:
                raise ApiError(503, "no_api_key", "the server has no provider API key for data it has not cached: "
                               "set POLYGON_API_KEY for the server, or start it with --sandbox") from None
            raise error_for(exc) from None
        except PolygonError as exc:
            raise error_for(exc) from None

    def on_cache(self, request: Request) -> Response:
        storage = self.manager.storage
        entries = storage.list_cached() if hasattr(storage, "list_cached") else []
        return _json({"entries": entries, "count": len(entries)})

    def on_coverage(self, request: Request) -> Response:
        """One cached symbol/timeframe: ``coverage`` ([start_ms, end_ms) pairs), ``first``/``last``, ``rows``."""
        symbol, timeframe = request.args.get("symbol"), request.args.get("timeframe")
        if not symbol or not timeframe:
            raise ApiError(400, "invalid_request", "give ?symbol=AAPL&timeframe=1min (both required)")
        try:
            info = self.manager.storage.info(symbol, timeframe)
        except PolygonError as exc:
            raise error_for(exc) from None
        except ValueError as exc:  # an invalid symbol from a storage without the library's typed errors
            raise ApiError(400, "invalid_request", str(exc)) from None
        return _json({"symbol": info["symbol"], "timeframe": info["timeframe"], "rows": info["rows"],
                      "first": info["first"], "last": info["last"],
                      "coverage": [[int(a), int(b)] for a, b in info["coverage"]]})

    def on_ws(self, request: Request, client_id: str) -> Response:
        problem = check_handshake(request.environ)
        if problem is not None:
            status, message = problem
            raise ApiError(status, "bad_handshake", message,
                           {"Sec-WebSocket-Version": "13"} if status == 426 else None)
        serve_client(self, request.environ, client_id)
        return ClosedResponse()

    # -- input -------------------------------------------------------------------------------------------
    def _json_body(self, request: Request) -> Dict[str, Any]:
        raw = read_body(request)
        try:
            body = json.loads(raw)
        except (ValueError, RecursionError) as exc:  # RecursionError: absurdly deep nesting
            raise ApiError(400, "bad_json", "the request body is not valid JSON (%s); send e.g. "
                           '{"symbol": "AAPL", "timeframe": "1day", "start_date": "2023-01-01"}' % exc) from None
        if not isinstance(body, dict):
            raise ApiError(400, "invalid_request", "the request body must be a JSON object, got %s"
                           % type(body).__name__)
        return body

    def _validate(self, body: Dict[str, Any]) -> None:
        problems = validate_message("bars_request", body)
        if problems:
            allowed = "symbol, timeframe (required), start_date, end_date (YYYY-MM-DD)"
            raise ApiError(400, "invalid_request", "%s; fields: %s" % ("; ".join(problems), allowed))


def _static_names() -> Dict[str, Any]:
    folder = resources.files("polygon.polygon_server").joinpath("static")
    return {entry.name: entry for entry in folder.iterdir()
            if entry.is_file() and entry.name[entry.name.rfind("."):] in _STATIC_TYPES}


def _static_file(name: str) -> Optional[bytes]:
    """The bytes of ``static/<name>``, or ``None`` when there is no such file (names are looked up in the
    folder's listing, so no path a client sends reaches the file system)."""
    entry = _static_names().get(name)
    return entry.read_bytes() if entry is not None else None


def _is_sandbox(config: Any) -> bool:
    from polygon.config import SANDBOX_API_KEY

    return config.api_key == SANDBOX_API_KEY


def _jsonable(value: Any) -> Any:
    if hasattr(value, "isoformat"):  # datetimes and pandas Timestamps in cache listings
        return value.isoformat()
    raise TypeError("not JSON serializable: %s" % type(value).__name__)


def _url_host(host: str) -> str:
    if host in ("0.0.0.0", ""):
        return "127.0.0.1"
    if host == "::":
        return "[::1]"
    return "[%s]" % host if ":" in host and not host.startswith("[") else host


def _origin_host(origin: str) -> Optional[str]:
    """``'http://localhost:8200'`` -> ``'localhost'`` (``'[::1]'`` kept bracketed); ``None`` when malformed
    (``null`` included)."""
    try:
        return parse_origin(origin)[1]
    except ValueError:
        return None


def _json(payload: Any, status: int = 200, headers: Optional[Dict[str, str]] = None) -> Response:
    response = Response(json.dumps(payload, separators=(",", ":"), allow_nan=False, default=_jsonable), status=status,
                        content_type=_JSON)
    for name, value in (headers or {}).items():
        response.headers[name] = value
    return response


def create_app(manager: Any = None, relay: Optional[StreamRelay] = None, config: Any = None,
               bind_host: str = "127.0.0.1", max_bars: int = bars_answer.DEFAULT_MAX_BARS) -> ServerApp:
    """Build the WSGI app (defaults: a manager and a relay on ``config`` or :func:`get_config`).

    :param bind_host: the address the server listens on; on loopback only loopback Host names are served.
    :param max_bars: bars at most in one ``/api/v1/bars`` answer.
    """
    if manager is None:
        from polygon.manager import PolygonDataManager

        manager = PolygonDataManager(config=config, progress=False)
    if relay is None:
        relay = StreamRelay(config=manager.config)
    return ServerApp(manager, relay, bind_host, max_bars)


class PolygonServer:
    """The local server in a background thread: ``with PolygonServer(port=0) as server: server.url``.

    :param host: bind address (default 127.0.0.1: local use only).
    :param port: TCP port (default 8200; 0 picks a free one).
    :param manager: data manager (default: one on ``config``).
    :param relay: stream relay (default: one on the manager's config).
    :param config: a :class:`polygon.config.PolygonConfig` (default :func:`polygon.config.get_config`).
    :param server_options: HTTP limits of :class:`polygon.polygon_server.serving.LocalServer`
        (``max_connections``, ``header_timeout``, ``idle_timeout``, ``body_timeout``).
    :param max_bars: bars at most in one ``/api/v1/bars`` answer (longer ranges are paged with ``limit`` and
        ``cursor``).
    """

    def __init__(self, host: str = "127.0.0.1", port: int = DEFAULT_PORT, manager: Any = None,
                 relay: Optional[StreamRelay] = None, config: Any = None,
                 server_options: Optional[Dict[str, Any]] = None,
                 max_bars: int = bars_answer.DEFAULT_MAX_BARS) -> None:
        self.host, self.port = host, int(port)
        self.server_options = dict(server_options or {})
        self.app = create_app(manager, relay, config, bind_host=host, max_bars=max_bars)
        self._server: Any = None

    @property
    def url(self) -> str:
        """``http://host:port`` (IPv6 hosts in brackets; a wildcard bind shown as 127.0.0.1)."""
        return "http://%s:%d" % (_url_host(self.host), self.port)

    @property
    def ws_url(self) -> str:
        return "ws://%s:%d" % (_url_host(self.host), self.port)

    def start(self) -> "PolygonServer":
        """Bind and serve in a background thread.

        :raises OSError: the port is taken.
        """
        from polygon.polygon_server.serving import LocalServer

        server = LocalServer(self.host, self.port, self.app, name="polygon-server", **self.server_options)
        self.port = server.server_port
        if self.app.allowed_hosts is None:
            logger.warning("the server listens on %s: it has no authentication, and anyone who can reach this "
                           "address can use its provider key; bind 127.0.0.1 unless you mean it", self.host)
        server.start()
        self._server = server
        if not self.app.manager.config.api_key:
            logger.warning("%s (the dashboard at %s/ says so too)", _NO_KEY, self.url)
        logger.info("polygon server ready on %s (dashboard: %s/)", self.url, self.url)
        return self

    def stop(self) -> None:
        """Close every client and the upstream stream, free the port (idempotent)."""
        server, self._server = self._server, None
        if server is None:
            return
        self.app.stopping.set()
        server.close()  # cuts open connections first, so no relay sender stays stuck on a silent client
        self.app.relay.close()
        self.app.manager.close()

    def __enter__(self) -> "PolygonServer":
        return self.start()

    def __exit__(self, *exc: Any) -> None:
        self.stop()


def _parse_args(argv: Optional[List[str]], prog: str) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog=prog,
                                     description="Local polygon server: POST /api/v1/bars, /ws/{client_id}, "
                                                 "dashboard at /. For local use.")
    parser.add_argument("--host", default="127.0.0.1", help="bind address (default 127.0.0.1)")
    parser.add_argument("--port", type=int, default=DEFAULT_PORT, help="port (default %d)" % DEFAULT_PORT)
    from polygon.config import default_cache_dir

    parser.add_argument("--cache-dir", help="cache directory (default: POLYGON_CACHE_DIR, else %s)"
                        % default_cache_dir().replace("%", "%%"))
    parser.add_argument("--sandbox", action="store_true",
                        help="serve the offline sandbox market instead of the provider (no key needed)")
    parser.add_argument("--redis", metavar="URL", help="share one provider stream among server processes through "
                        "Redis (e.g. redis://127.0.0.1:6379/0; needs the 'redis' extra); give its password in "
                        "POLYGON_REDIS_PASSWORD (or redis_password in the config file), not in the URL")
    parser.add_argument("--feed", metavar="NAME", help="the provider feed to relay, by the official client's names "
                        "(delayed, business, launchpad...; default: the feed of POLYGON_WS_URL); with --redis the "
                        "process holding the provider connection reads it for all")
    parser.add_argument("--max-bars", type=int, default=bars_answer.DEFAULT_MAX_BARS,
                        help="bars at most in one /api/v1/bars answer; longer ranges are paged (default %d)"
                        % bars_answer.DEFAULT_MAX_BARS)
    parser.add_argument("--log-level", default="INFO", help="logging level (default INFO)")
    return parser.parse_args(argv)


def _config_for(args: argparse.Namespace) -> Tuple[Any, Any]:
    from polygon.config import get_config

    overrides: Dict[str, Any] = {}
    if args.cache_dir:
        overrides["cache_dir"] = args.cache_dir
    if not args.sandbox:
        return get_config(**overrides), None
    from polygon.sandbox import Sandbox

    sandbox = Sandbox(max_connections=5).start()
    return sandbox.config(**overrides), sandbox


def main(argv: Optional[List[str]] = None, prog: str = "python -m polygon.polygon_server.server") -> int:
    """Serve until interrupted (Ctrl+C or SIGTERM).

    :returns: the exit code (2 when the port cannot be bound).
    """
    args = _parse_args(argv, prog)
    logging.basicConfig(level=getattr(logging, str(args.log_level).upper(), logging.INFO),
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    relay = None
    if args.redis or args.feed:
        from polygon.websocket.feeds import feed_name

        try:
            feed = feed_name(args.feed) if args.feed else None
            if args.redis:  # the process holding the Redis lock reads the chosen feed for every process
                from polygon.polygon_server.redis_fanout import relay_on_redis

                relay = relay_on_redis(args.redis, feed=feed)
            else:
                relay = StreamRelay(feed=feed)
        except PolygonError as exc:
            logger.error("%s", exc)
            return 2
    config, sandbox = _config_for(args)
    if relay is not None:
        relay.config = config
    server = PolygonServer(args.host, args.port, config=config, relay=relay, max_bars=args.max_bars)
    try:
        server.start()
    except OSError as exc:
        logger.error("cannot listen on %s:%d: %s", args.host, args.port, exc)
        if sandbox is not None:
            sandbox.stop()
        return 2
    if sandbox is not None:
        logger.info("serving the sandbox market from %s", sandbox.base_url)
    stop = threading.Event()
    if threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGTERM, lambda *_: stop.set())
    try:
        while not stop.wait(1.0):  # Ctrl+C or SIGTERM ends it
            pass
    except KeyboardInterrupt:
        logger.info("stopping")
    finally:
        server.stop()
        if sandbox is not None:
            sandbox.stop()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
