"""The sandbox's WSGI app: the provider's REST paths, auth, faults, and the ``/stocks`` WebSocket.

werkzeug ``Map([Rule(...)])`` routes each path to an ``on_<endpoint>`` handler returning body bytes;
the app adds authentication (``Authorization: Bearer KEY``, or the provider's ``apiKey`` query
parameter), the fault options and the statistics. This server is for local use (tests, demos,
offline development), not for exposure on a network.
"""

import logging
import time
from typing import Callable, Dict, Optional, Tuple

from werkzeug.exceptions import HTTPException, NotFound
from werkzeug.routing import Map, Rule
from werkzeug.wrappers import Request, Response

from polygon import sessions
from polygon.sandbox import aggs, reference
from polygon.sandbox.faults import RATE_LIMIT_MESSAGE
from polygon.sandbox.state import SandboxState
from polygon.sandbox.wire import WireError, error_body, request_id
from polygon.serving import ClosedResponse

__all__ = ["PATH_TEMPLATES", "SandboxApp", "create_app"]

logger = logging.getLogger(__name__)

URL_MAP = Map([
    Rule("/v2/aggs/ticker/<ticker>/range/<multiplier>/<timespan>/<from_>/<to>", endpoint="aggs"),
    Rule("/v2/aggs/ticker/<ticker>/prev", endpoint="previous_close"),
    Rule("/v2/aggs/grouped/locale/us/market/stocks/<date>", endpoint="grouped_daily"),
    Rule("/v1/open-close/<ticker>/<date>", endpoint="daily_open_close"),
    Rule("/v1/marketstatus/now", endpoint="market_status"),
    Rule("/v1/marketstatus/upcoming", endpoint="market_holidays"),
    Rule("/v3/reference/tickers", endpoint="tickers"),
    Rule("/v3/reference/tickers/<ticker>", endpoint="ticker_details"),
    Rule("/v2/last/trade/<ticker>", endpoint="last_trade"),
    Rule("/v2/last/nbbo/<ticker>", endpoint="last_quote"),
    Rule("/v2/snapshot/locale/us/markets/stocks/tickers/<ticker>", endpoint="snapshot_ticker"),
    Rule("/stocks", endpoint="stocks_stream", websocket=True),
    Rule("/options", endpoint="options_stream", websocket=True),
    Rule("/forex", endpoint="forex_stream", websocket=True),
    Rule("/crypto", endpoint="crypto_stream", websocket=True),
    Rule("/indices", endpoint="indices_stream", websocket=True),
], strict_slashes=False)

#: endpoint -> the provider's path template (the keys of ``stats()['requests']``)
PATH_TEMPLATES = {
    "aggs": "/v2/aggs/ticker/{stocksTicker}/range/{multiplier}/{timespan}/{from}/{to}",
    "previous_close": "/v2/aggs/ticker/{stocksTicker}/prev",
    "grouped_daily": "/v2/aggs/grouped/locale/us/market/stocks/{date}",
    "daily_open_close": "/v1/open-close/{stocksTicker}/{date}",
    "market_status": "/v1/marketstatus/now",
    "market_holidays": "/v1/marketstatus/upcoming",
    "tickers": "/v3/reference/tickers",
    "ticker_details": "/v3/reference/tickers/{ticker}",
    "last_trade": "/v2/last/trade/{stocksTicker}",
    "last_quote": "/v2/last/nbbo/{stocksTicker}",
    "snapshot_ticker": "/v2/snapshot/locale/us/markets/stocks/tickers/{stocksTicker}",
    "stocks_stream": "/stocks",
    "options_stream": "/options",
    "forex_stream": "/forex",
    "crypto_stream": "/crypto",
    "indices_stream": "/indices",
}
_JSON = "application/json; charset=utf-8"


class SandboxApp:
    """WSGI application of one sandbox.

    :param state: the sandbox's shared options, stats and market model.
    :param stream_handler: ``callable(state, environ)`` serving an upgraded ``/stocks`` socket.
    """

    def __init__(self, state: SandboxState, stream_handler: Optional[Callable] = None) -> None:
        self.state = state
        self.stream_handler = stream_handler
        self.url_map = URL_MAP

    def __call__(self, environ, start_response):
        request = Request(environ)
        response = self.dispatch_request(request)
        return response(environ, start_response)

    # -- dispatch ---------------------------------------------------------------------------------
    def dispatch_request(self, request: Request) -> Response:
        adapter = self.url_map.bind_to_environ(request.environ)
        rid = request_id(request.path, request.args)
        try:
            rule, values = adapter.match(return_rule=True)
        except NotFound:
            self.state.count_request("<not found>", 404)
            err = WireError(404, "The requested path was not found.", "NOT_FOUND", "message")
            return self._error(err, rid)
        except HTTPException as exc:  # 405 and friends
            self.state.count_request("<invalid>", exc.code or 400)
            return self._error(WireError(exc.code or 400, exc.description or "bad request"), rid)
        if rule.endpoint.endswith("_stream"):
            return self._stream(request, rule.endpoint[:-len("_stream")])
        self.state.rest_started()
        try:
            status, body, headers = self._serve(request, rule.endpoint, values, rid)
        finally:
            self.state.rest_finished()
        self.state.count_request(PATH_TEMPLATES[rule.endpoint], status)
        response = Response(body, status=status, content_type=_JSON)
        response.headers["X-Sandbox-Calendar"] = sessions.calendar_source()
        response.headers["X-Request-Id"] = rid
        for name, value in headers.items():
            response.headers[name] = value
        return response

    def _serve(self, request: Request, endpoint: str, values: Dict[str, str],
               rid: str) -> Tuple[int, bytes, Dict[str, str]]:
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
            body = getattr(self, "on_" + endpoint)(request, rid, **values)
        except WireError as err:
            return err.status, error_body(err, rid), err.headers
        except Exception:  # a sandbox bug must still answer like a server would
            logger.exception("sandbox handler %s failed", endpoint)
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
        for name, value in err.headers.items():
            response.headers[name] = value
        return response

    def _stream(self, request: Request, market: str) -> Response:
        upgrade = request.headers.get("Upgrade", "").lower() == "websocket"
        if not upgrade or self.stream_handler is None:
            self.state.count_request("/" + market, 400)
            return self._error(WireError(400, "This path serves WebSocket connections only."), "")
        self.state.count_request("/" + market, 101)
        self.stream_handler(self.state, request.environ, market)
        return ClosedResponse()

    # -- helpers for handlers ---------------------------------------------------------------------
    def _base_url(self, request: Request) -> str:
        return request.host_url.rstrip("/")

    def _now(self) -> int:
        return self.state.clock.rest_now_ms()

    # -- endpoints ----------------------------------------------------------------------------------
    def on_aggs(self, request, rid, ticker, multiplier, timespan, from_, to):
        body, _count = aggs.aggs_body(self.state.model, ticker, multiplier, timespan, from_, to, request.args,
                                      self._base_url(request), rid, until_ms=_wall_now_ms())
        return body

    def on_previous_close(self, request, rid, ticker):
        return reference.previous_close(self.state.model, ticker, request.args, rid, self._now())

    def on_grouped_daily(self, request, rid, date):
        return reference.grouped_daily(self.state.model, date, request.args, rid, _wall_now_ms())

    def on_daily_open_close(self, request, rid, ticker, date):
        return reference.daily_open_close(self.state.model, ticker, date, request.args, _wall_now_ms())

    def on_market_status(self, request, rid):
        return reference.market_status(self._now())

    def on_market_holidays(self, request, rid):
        return reference.market_holidays(self._now())

    def on_tickers(self, request, rid):
        return reference.list_tickers(self.state.model.universe, request.args, self._base_url(request), rid)

    def on_ticker_details(self, request, rid, ticker):
        return reference.ticker_details(self.state.model, ticker, rid, _wall_now_ms())

    def on_last_trade(self, request, rid, ticker):
        return reference.last_trade(self.state.model, ticker, rid, self._now())

    def on_last_quote(self, request, rid, ticker):
        return reference.last_quote(self.state.model, ticker, rid, self._now())

    def on_snapshot_ticker(self, request, rid, ticker):
        return reference.snapshot_ticker(self.state.model, ticker, rid, self._now())


def _wall_now_ms() -> int:
    return int(time.time() * 1000)


def create_app(state: SandboxState, stream_handler: Optional[Callable] = None) -> SandboxApp:
    """Build the WSGI app for ``state`` (the ``/stocks`` path needs ``stream_handler``)."""
    return SandboxApp(state, stream_handler)
