"""The sandbox's REST router, built from the generated endpoint table (``ENDPOINTS``).

One source of paths and parameters: each :class:`~polygon._generated.endpoints.EndpointSpec` path
template becomes a route; a request path is matched against all of them (literal segments win over
variables; per-market variants of one URL shape are told apart by the ticker's prefix ``X:``,
``C:``, ``I:``, ``O:``), then its path and query parameters are checked against the spec's
:class:`~polygon._generated.endpoints.ParamSpec` s and converted to python values. Pure functions,
no I/O: :mod:`polygon.sandbox.rest` serves them.
"""

import datetime as _dt
import logging
import re
from typing import Any, Dict, List, Mapping, NamedTuple, Optional, Tuple

from polygon._generated.endpoints import ENDPOINTS, EndpointSpec, ParamSpec
from polygon.sandbox.wire import WireError

__all__ = ["ALWAYS_ALLOWED", "Route", "Router", "ticker_market"]

logger = logging.getLogger(__name__)

#: query parameters every path accepts: the key (the provider takes it) and our page cursors
ALWAYS_ALLOWED = ("apiKey", "cursor")

#: the market a ticker path variable name stands for (per-market variants of one URL shape)
_VARIABLE_MARKETS = {
    "cryptoTicker": "crypto",
    "fxTicker": "fx",
    "forexTicker": "fx",
    "indicesTicker": "indices",
    "optionsTicker": "options",
}
_PREFIX_MARKETS = {"X": "crypto", "C": "fx", "I": "indices", "O": "options"}
_TRUE = ("true", "1")
_FALSE = ("false", "0")


def ticker_market(ticker: str) -> str:
    """The market of a ticker by its prefix: ``X:`` crypto, ``C:`` fx, ``I:`` indices, ``O:`` options, else stocks."""
    head, sep, _rest = ticker.partition(":")
    return _PREFIX_MARKETS.get(head, "stocks") if sep else "stocks"


class Route(NamedTuple):
    """One endpoint's path template split into segments (``(literal, None)`` or ``(None, wire_name)``)."""

    spec: EndpointSpec
    segments: Tuple[Tuple[Optional[str], Optional[str]], ...]

    @property
    def rank(self) -> Tuple[int, ...]:
        """Sort key: literal segments first, position by position."""
        return tuple(0 if literal is not None else 1 for literal, _ in self.segments)

    def match(self, parts: List[str]) -> Optional[Dict[str, str]]:
        """The path values by wire name when ``parts`` fits this template, else ``None``."""
        if len(parts) != len(self.segments):
            return None
        values = {}
        for part, (literal, variable) in zip(parts, self.segments):
            if literal is not None:
                if part != literal:
                    return None
            elif not part:
                return None
            else:
                values[variable] = part
        return values

    def market(self) -> Optional[str]:
        """The market this route's ticker variable is bound to (``None``: any/stocks)."""
        for _, variable in self.segments:
            if variable in _VARIABLE_MARKETS:
                return _VARIABLE_MARKETS[variable]
        return None


class _Variant(NamedTuple):
    """A per-market variant path, shaped like a spec for :func:`_route`."""

    path: str


def _split(path: str) -> List[str]:
    return path.strip("/").split("/")


def _route(spec: Any) -> Route:
    segments = []
    for part in _split(spec.path):
        if part.startswith("{") and part.endswith("}"):
            segments.append((None, part[1:-1]))
        else:
            segments.append((part, None))
    return Route(spec, tuple(segments))


class Router:
    """Match request paths against ``endpoints`` and validate their parameters.

    :param endpoints: the endpoint table (default: the generated ``ENDPOINTS``).
    """

    def __init__(self, endpoints: Optional[Mapping[str, EndpointSpec]] = None) -> None:
        table = ENDPOINTS if endpoints is None else endpoints
        self.routes: List[Route] = sorted((_route(spec) for spec in table.values()), key=lambda r: r.rank)
        self._by_length: Dict[int, List[Route]] = {}
        for route in self.routes:
            self._by_length.setdefault(len(route.segments), []).append(route)

    def match(self, path: str) -> Optional[Tuple[EndpointSpec, Dict[str, str]]]:
        """``(spec, path values by wire name)`` for ``path``, or ``None`` when no template fits."""
        parts = _split(path)
        found: List[Tuple[Route, Dict[str, str]]] = []
        for route in self._by_length.get(len(parts), ()):
            values = route.match(parts)
            if values is None:
                continue
            if found and route.rank != found[0][0].rank:
                break  # a more literal template already matched
            found.append((route, values))
        if not found:
            return None
        if len(found) > 1:  # per-market variants of one URL shape: the ticker's prefix decides
            for route, values in found:
                tickers = [v for k, v in values.items() if k in _VARIABLE_MARKETS or k.lower().endswith("ticker")]
                market = route.market() or "stocks"
                if tickers and ticker_market(tickers[0]) == market:
                    return route.spec, values
        return found[0][0].spec, found[0][1]

    def template(self, spec: EndpointSpec, path_values: Mapping[str, str]) -> str:
        """The provider's path template of this request: one of the spec's per-market ``variants``
        (``/v3/trades/{cryptoTicker}``) when its ticker's prefix names that market, else ``spec.path``."""
        for variant in getattr(spec, "variants", ()) or ():
            route = _route(_Variant(variant))
            market = route.market()
            if market is None:
                continue
            position = [i for i, (_, var) in enumerate(route.segments) if var in _VARIABLE_MARKETS][0]
            main_var = _route(spec).segments[position][1]
            value = path_values.get(main_var) if main_var else None
            if value is not None and ticker_market(value) == market:
                return variant
        return spec.path

    # -- parameters ---------------------------------------------------------------------------------
    def validate(self, spec: EndpointSpec, path_values: Mapping[str, str],
                 query: Mapping[str, str], path: str = "", strict: bool = False) -> Dict[str, Any]:
        """Check and convert the path and query parameters of a request to ``spec``.

        A query parameter the endpoint does not know is ignored (logged at debug), as the provider does:
        the official client always sends ``include_otc=false``, also where the provider's document lists no
        such parameter. With ``strict`` it is refused, except when its value repeats a segment of the
        request ``path`` (the official client sends its path arguments again in the query:
        ``/v3/reference/tickers/AAPL?ticker=AAPL``, ``...?locale=us&market_type=stocks``).

        :param path_values: wire name -> raw text from :meth:`match`.
        :param query: the query string (wire names -> text; the first value of repeated keys).
        :param path: the request path (for the repeated path values).
        :param strict: refuse unknown query parameters (the sandbox's ``strict_params`` option).
        :returns: python name -> value (defaults applied; absent optional parameters left out).
        :raises WireError: 400 naming the parameter and what is allowed (bad value, missing required
            parameter; an unknown parameter when ``strict``).
        """
        by_wire = {p.wire_name: p for p in spec.params}
        allowed = sorted(p.wire_name for p in spec.params if p.location == "query")
        echoes = set(_split(path)) | set(path_values.values())
        for key in query:
            param = by_wire.get(key)
            if key in ALWAYS_ALLOWED:
                continue
            if param is None or param.location != "query":
                if query.get(key) in echoes:
                    continue
                if not strict:
                    logger.debug("ignored unknown query parameter %r for %s (the provider ignores it)",
                                 key, spec.path)
                    continue
                raise WireError(400, "Unknown query parameter '%s' for %s; allowed: %s."
                                % (key, spec.path, ", ".join(allowed + list(ALWAYS_ALLOWED))))
        out: Dict[str, Any] = {}
        for param in spec.params:
            raw = path_values.get(param.wire_name) if param.location == "path" else query.get(param.wire_name)
            if raw is None or (raw == "" and param.location == "query"):
                if param.required and "cursor" not in query:
                    raise WireError(400, "Missing required parameter '%s': %s." % (param.wire_name, _allowed(param)))
                if param.default is not None:
                    out[param.name] = param.default
                continue
            out[param.name] = convert(param, raw)
        return out


def _allowed(param: ParamSpec) -> str:
    try:
        return param.allowed()
    except KeyError:  # a type the generated table knows but has no text for
        return "a %s" % param.type


def _bad(param: ParamSpec, raw: str) -> WireError:
    return WireError(400, "Invalid value for parameter '%s': must be %s, got '%s'."
                     % (param.wire_name, _allowed(param), raw))


def _is_date(text: str) -> bool:
    try:
        _dt.date.fromisoformat(text)
    except ValueError:
        return False
    return len(text) == 10


def convert(param: ParamSpec, raw: str) -> Any:
    """The python value of ``raw`` for ``param`` (``limit`` above its maximum is capped, as the provider).

    :raises WireError: 400 when ``raw`` is not an allowed value.
    """
    kind = param.type
    value: Any = raw
    if kind == "integer":
        try:
            value = int(raw)
        except ValueError:
            raise _bad(param, raw) from None
    elif kind == "number":
        try:
            value = float(raw)
        except ValueError:
            raise _bad(param, raw) from None
        if value != value or value in (float("inf"), float("-inf")):
            raise _bad(param, raw)
    elif kind == "boolean":
        low = raw.lower()
        if low not in _TRUE + _FALSE:
            raise _bad(param, raw)
        value = low in _TRUE
    elif kind == "array":
        value = [item.strip() for item in raw.split(",") if item.strip()]
        if not value or (param.enum is not None and any(item not in param.enum for item in value)):
            raise _bad(param, raw)
        if getattr(param, "pattern", None) and any(re.fullmatch(param.pattern, item) is None for item in value):
            raise _bad(param, raw)
        return value
    elif getattr(param, "pattern", None) and re.fullmatch(param.pattern, raw) is None:
        raise _bad(param, raw)
    elif getattr(param, "kind", None) == "date" and not _is_date(raw):
        raise WireError(400, "Invalid value for parameter '%s': must be a date YYYY-MM-DD, got '%s'."
                        % (param.wire_name, raw))
    if param.enum is not None and value not in param.enum:
        raise _bad(param, raw)
    if param.minimum is not None and isinstance(value, (int, float)) and value < param.minimum:
        raise _bad(param, raw)
    if param.maximum is not None and isinstance(value, (int, float)) and value > param.maximum:
        if param.wire_name == "limit":
            return type(value)(param.maximum)
        raise _bad(param, raw)
    return value
