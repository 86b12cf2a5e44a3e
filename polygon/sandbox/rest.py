"""The sandbox's WSGI app: every REST path of the generated endpoint table, auth, faults, the streams.

Requests are matched and their parameters checked by :class:`~polygon.sandbox.router.Router` (built
from the generated ``ENDPOINTS``), then answered by the handler registered under the endpoint's
name in :mod:`polygon.sandbox.endpoints`; an endpoint without a handler answers 501. The app adds
authentication (``Authorization: Bearer KEY``, or the provider's ``apiKey`` query parameter), the
fault options, the statistics (keyed by the provider's path templates) and ``X-Request-Id``. The
WebSocket paths ``/stocks``, ``/options``, ``/forex``, ``/crypto`` and ``/indices`` go to the stream
handler. This server is for local use (tests, demos, offline development), not for a network.
"""

import inspect
import logging
import time
from typing import Any, Callable, Dict, Optional, Tuple

from werkzeug.wrappers import Request, Response

from polygon.markets import sessions
from polygon.polygon_server.serving import ClosedResponse
from polygon.sandbox.endpoints import Call, load_all
from polygon.sandbox.faults import RATE_LIMIT_MESSAGE
from polygon.sandbox.router import Router
from polygon.sandbox.state import SandboxState
from polygon.sandbox.stream_events import STREAM_MARKETS, split_stream_path
from polygon.sandbox.wire import WireError, dumps, error_body, request_id

__all__ = ["STREAM_MARKETS", "SandboxApp", "create_app"]

logger = logging.getLogger(__name__)

_JSON = "application/json; charset=utf-8"
_ALLOWED_METHODS = ("GET", "HEAD")


class SandboxApp:
    """WSGI application of one sandbox.

    :param state: the sandbox's shared options, stats and market model.
    :param stream_handler: ``callable(state, environ)`` serving an upgraded ``/stocks`` socket; when it
        also takes a ``market`` keyword it serves ``/options``, ``/forex``, ``/crypto`` and ``/indices``.
    :param router: the REST router (default: built from the generated endpoint table).
    """

    def __init__(self, state: SandboxState, stream_handler: Optional[Callable] = None,
                 router: Optional[Router] = None) -> None:
        self.state = state
        self.stream_handler = stream_handler
        self.router = router or Router()
        self.handlers = load_all()
        self._stream_markets = _accepts_market(stream_handler)

    def __call__(self, environ, start_response):
        request = Request(environ)
        response = self.dispatch_request(request)
        return response(environ, start_response)

    # -- dispatch ---------------------------------------------------------------------------------
    def dispatch_request(self, request: Request) -> Response:
        rid = request_id()
        path = "/" + request.path.strip("/")
        market = split_stream_path(path)[1]  # also /<feed>/<market> and the futures venues
        if market is not None and (market == "stocks" or self._stream_markets):
            return self._stream(request, path, market)
        found = self.router.match(path)
        if found is None:
            self.state.count_request("<not found>", 404)
            return self._error(WireError(404, "The requested path was not found.", "NOT_FOUND", "message"), rid)
        spec, values = found
        if request.method not in _ALLOWED_METHODS:
            self.state.count_request(spec.path, 405)
            err = WireError(405, "Method %s is not allowed on %s; allowed: GET." % (request.method, spec.path),
                            headers={"Allow": ", ".join(_ALLOWED_METHODS)})
            return self._error(err, rid)
        self.state.rest_started()
        try:
            status, body, headers = self._serve(request, spec, values, rid)
        finally:
            self.state.rest_finished()
        self.state.count_request(self.router.template(spec, values), status)
        response = Response(body, status=status, content_type=_JSON)
        response.headers["X-Sandbox-Calendar"] = sessions.calendar_source()
        response.headers["X-Request-Id"] = rid
        for name, value in headers.items():
            response.headers[name] = value
        return response

    def _serve(self, request: Request, spec, values: Dict[str, str], rid: str) -> Tuple[int, bytes, Dict[str, str]]:
        state = self.state
        latency = state.faults.latency()
        if latency > 0:
            state.stopping.wait(latency)
        try:
            key = self._authenticate(request)
            retry_after = state.faults.rate_limited(key)
            if retry_after is not None:
                raise WireError(429, RATE_LIMIT_MESSAGE, headers={"Retry-After": str(retry_after)})
            if state.faults.server_error():
                code = int(state.option("error_status") or 500)
                raise WireError(code, "Internal server error (injected by the sandbox).")
            handler = self.handlers.get(spec.name)
            params = self.router.validate(spec, values, request.args, request.path,
                                          strict=bool(state.option("strict_params")))
            if handler is None:
                raise WireError(501, "The sandbox does not serve %s (%s) yet." % (spec.path, spec.name),
                                "NOT_IMPLEMENTED")
            call = Call(state=state, name=spec.name, params=params, args=request.args,
                        base_url=request.host_url.rstrip("/"), rid=rid, now_ms=state.clock.rest_now_ms(),
                        wall_ms=_wall_now_ms())
            body = _encode(handler(call))
        except WireError as err:
            return err.status, error_body(err, rid), err.headers
        except Exception:  # a sandbox bug must still answer like a server would
            logger.exception("sandbox handler %s failed", spec.name)
            return 500, error_body(WireError(500, "Internal server error."), rid), {}
        if state.faults.truncate() and len(body) > 1:
            body = body[: max(1, len(body) // 2)]
        return 200, body, {}

    def _authenticate(self, request: Request) -> str:
        header = request.headers.get("Authorization", "")
        key = header[7:].strip() if header[:7].lower() == "bearer " else None
        if key is None:
            key = request.args.get("apiKey")  # the provider accepts it; our clients never send it
        if not key:
            raise WireError(401, "API Key was not provided")
        if key != self.state.api_key:
            raise WireError(401, "Unknown API Key")
        return key

    def _error(self, err: WireError, rid: str) -> Response:
        response = Response(error_body(err, rid), status=err.status, content_type=_JSON)
        response.headers["X-Sandbox-Calendar"] = sessions.calendar_source()
        if rid:
            response.headers["X-Request-Id"] = rid
        for name, value in err.headers.items():
            response.headers[name] = value
        return response

    def _stream(self, request: Request, path: str, market: str) -> Response:
        upgrade = request.headers.get("Upgrade", "").lower() == "websocket"
        if not upgrade or self.stream_handler is None:
            self.state.count_request(path, 400)
            return self._error(WireError(400, "This path serves WebSocket connections only."), "")
        self.state.count_request(path, 101)
        if market == "stocks" and not self._stream_markets:
            self.stream_handler(self.state, request.environ)
        else:
            self.stream_handler(self.state, request.environ, market=market)
        return ClosedResponse()


def _accepts_market(handler: Optional[Callable]) -> bool:
    """``True`` when ``handler`` takes a ``market`` keyword (it serves every market's stream)."""
    if handler is None:
        return False
    try:
        params = inspect.signature(handler).parameters
    except (TypeError, ValueError):
        return False
    return "market" in params or any(p.kind is p.VAR_KEYWORD for p in params.values())


def _encode(body: Any) -> bytes:
    if isinstance(body, bytes):
        return body
    if isinstance(body, str):
        return body.encode("utf-8")
    return dumps(body)


def _wall_now_ms() -> int:
    return int(time.time() * 1000)


def create_app(state: SandboxState, stream_handler: Optional[Callable] = None) -> SandboxApp:
    """Build the WSGI app for ``state`` (the stream paths need ``stream_handler``)."""
    return SandboxApp(state, stream_handler)
