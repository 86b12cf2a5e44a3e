"""Offline sandbox: a local emulator of the provider's REST and WebSocket APIs.

It speaks the provider's wire protocol (paths, parameters, JSON field names, status codes, error
bodies, pagination, the WebSocket handshake and events) over a deterministic synthetic
market, so clients, tests, demos and benchmarks run without network access or a real key::

    from polygon.sandbox import Sandbox

    with Sandbox(port=0) as sb:
        config = sb.config()          # a PolygonConfig with sb.base_url, sb.ws_url and sb.api_key

From a shell: ``python -m polygon.sandbox --port 8765``. The built-in server is meant for local use,
not for exposure on a network.

Options (faults and limits off by default), settable at start and later with :meth:`Sandbox.configure`:

- REST faults: ``latency`` (seconds per request), ``rate_limit_per_minute`` (429 with the provider's
  body and ``Retry-After``; ``rate_limit_window`` shortens the 60 s window for tests), ``error_rate``
  (seeded by ``fault_seed``), ``error_burst`` (the next N requests), ``error_status`` (default 500),
  ``truncate_rate`` / ``truncate_next`` (bodies cut mid-JSON).
- Stream: ``max_connections`` per key (default 1), ``auth_timeout`` (default 10 s),
  ``ws_drop_after_messages``, ``ws_drop_after_seconds``, ``ws_stall`` (``True``: silent after auth,
  no frames and no pongs; ``N``: after N frames), ``stream_rate`` (events/s firehose).
- Market: ``illiquid_fraction`` (default 0.1), ``extended_hours`` (04:00-20:00 bars), ``clock``
  (``'auto'``, the default: real time while the market is open, a replay of the last session
  otherwise, so streams flow at any hour; ``'realtime'``; or a date ``'YYYY-MM-DD'`` to replay) and
  ``speed`` (replay factor).
- Flat files: ``flatfiles=True`` (or ``{'bucket': ..., 'plan': ['stocks']}``) also starts an S3 emulator
  (moto) on a loopback port; ``sandbox.flatfiles.publish(start, end)`` writes the days' files and
  :meth:`Sandbox.config` then carries the S3 endpoint and keys (see :mod:`polygon.sandbox.flatfiles`).

REST: every path of the generated endpoint table (:mod:`polygon.sandbox.router`); handlers live in
:mod:`polygon.sandbox.endpoints`, one registry by endpoint name; an endpoint without one answers 501.
Limitations: ``limit`` counts result bars (the provider counts base minute bars); streams other than
``/stocks`` need a stream handler that takes the market.
"""

import logging
from typing import Any, Dict, Optional

from polygon.config import SANDBOX_API_KEY, PolygonConfig, get_config
from polygon.exceptions import PolygonError
from polygon.sandbox.state import DEFAULT_OPTIONS, SandboxState

__all__ = ["DEFAULT_OPTIONS", "Sandbox"]

logger = logging.getLogger(__name__)


class Sandbox:
    """A local provider emulator on ``host:port`` (REST and the ``/stocks`` WebSocket on one port).

    :param host: interface to bind (default loopback).
    :param port: TCP port; ``0`` picks a free one (see :attr:`base_url` after :meth:`start`).
    :param api_key: the only key accepted; others are refused as the provider refuses them.
    :param options: see the module docstring.
    :param server_options: HTTP limits of :class:`polygon.polygon_server.serving.LocalServer` (``max_connections``,
        ``header_timeout``, ``idle_timeout``).
    :raises PolygonConfigError: for an unknown option or invalid value.
    """

    def __init__(self, host: str = "127.0.0.1", port: int = 0, api_key: str = SANDBOX_API_KEY,
                 server_options: Optional[Dict[str, Any]] = None, flatfiles: Any = False, **options: Any) -> None:
        self.server_options = dict(server_options or {})
        self.host = host
        self.port = int(port)
        self.api_key = api_key
        self._state = SandboxState(api_key, options)
        self._server = None
        #: ``True`` or a dict of :class:`~polygon.sandbox.flatfiles.FlatFilesServer` options (``bucket``, ``plan``)
        self._flatfiles_options = ({} if flatfiles is True else dict(flatfiles)) if flatfiles else None
        self.flatfiles = None

    # -- lifecycle ----------------------------------------------------------------------------------
    def start(self) -> "Sandbox":
        """Bind and serve in a background thread; returns ``self``.

        :raises PolygonError: when already running.
        """
        from polygon.polygon_server.serving import LocalServer
        from polygon.sandbox.rest import create_app
        from polygon.sandbox.stream import serve_stream

        if self._server is not None:
            raise PolygonError("sandbox already running at %s" % self.base_url)
        self._state.stopping.clear()
        server = LocalServer(self.host, self.port, create_app(self._state, serve_stream), name="polygon-sandbox",
                             **self.server_options)
        self.port = server.server_port
        server.start()
        self._server = server
        if self._flatfiles_options is not None:
            from polygon.sandbox.flatfiles import FlatFilesServer

            try:
                self.flatfiles = FlatFilesServer(self._state.model, host=self._url_host,
                                                 **self._flatfiles_options).start()
            except BaseException:
                self.stop()
                raise
        logger.info("sandbox serving on %s", self.base_url)
        return self

    def stop(self) -> None:
        """Close every connection and free the port (idempotent)."""
        server, self._server = self._server, None
        if server is None:
            return
        self._state.stopping.set()
        if self.flatfiles is not None:
            self.flatfiles.stop()
            self.flatfiles = None
        from polygon.sandbox.stream import close_all

        close_all(self._state)
        server.close()
        close_all(self._state, wait=True)

    @property
    def running(self) -> bool:
        """``True`` between :meth:`start` and :meth:`stop`."""
        return self._server is not None

    def __enter__(self) -> "Sandbox":
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # -- addresses ----------------------------------------------------------------------------------
    @property
    def base_url(self) -> str:
        """REST base URL, e.g. ``http://127.0.0.1:8765``."""
        return "http://%s:%d" % (self._url_host, self.port)

    @property
    def ws_url(self) -> str:
        """WebSocket host URL (the stocks stream is ``ws_url + '/stocks'``)."""
        return "ws://%s:%d" % (self._url_host, self.port)

    @property
    def _url_host(self) -> str:
        return "127.0.0.1" if self.host in ("0.0.0.0", "") else self.host

    def config(self, **overrides: Any) -> PolygonConfig:
        """A :class:`~polygon.config.PolygonConfig` pointing at this sandbox (``overrides`` win)."""
        values: Dict[str, Any] = {"api_key": self.api_key, "base_url": self.base_url, "ws_url": self.ws_url}
        if self.flatfiles is not None:
            values.update(self.flatfiles.config_values())
        values.update(overrides)
        return get_config(**values)

    # -- options and stats --------------------------------------------------------------------------
    def configure(self, **options: Any) -> None:
        """Change options while running (faults, limits, clock...).

        :raises PolygonConfigError: for an unknown option or invalid value.
        """
        self._state.configure(**options)

    @property
    def options(self) -> Dict[str, Any]:
        """A copy of the current options."""
        return dict(self._state.options)

    def stats(self) -> Dict[str, Any]:
        """Counters: ``requests`` per path template, ``requests_total``, ``status_counts``,
        ``rest_in_flight_peak`` (most REST requests served at once), ``ws_connections``,
        ``ws_messages_sent``, ``ws_events_sent``, the ``calendar`` in use for stocks, options and indices (XNYS) and
        the ``futures_calendar`` (CMES): ``'exchange_calendars'``, or ``'weekdays'`` for the fallback rule."""
        return self._state.stats()

    def reset_stats(self) -> None:
        """Zero every counter."""
        self._state.reset_stats()

    def __repr__(self) -> str:
        state = "running" if self.running else "stopped"
        return "<Sandbox %s %s>" % (self.base_url if self.running else "%s:%s" % (self.host, self.port), state)

    @property
    def model(self) -> Optional[object]:
        """The market model (for tests comparing REST bodies with the model)."""
        return self._state.model
