"""Filtering, sorting and cursor pages for the sandbox's reference-data lists.

The provider's list endpoints share one grammar: ``field=value``, range filters ``field.gte``,
``.gt``, ``.lte``, ``.lt``, ``field.any_of=a,b``, then ``sort``/``order``/``limit`` and a ``next_url``
whose opaque ``cursor`` carries the whole query of the next page. Handlers describe their rows
(plain dicts) and which query names filter which values; this module does the rest.
"""

import datetime as _dt
from typing import Any, Callable, Dict, List, Mapping, Optional
from urllib.parse import quote

from polygon._generated.endpoints import ENDPOINTS
from polygon.sandbox.wire import WireError, decode_cursor, encode_cursor

__all__ = ["effective_query", "filter_rows", "list_body", "path_value", "request_path"]

_RANGE_OPS = ("gte", "gt", "lte", "lt")


def effective_query(call: Any) -> Dict[str, str]:
    """The request's query (wire names -> text) without the key; a ``cursor`` replaces it whole."""
    cursor = call.args.get("cursor") if call.args is not None else None
    if cursor:
        return decode_cursor(cursor)
    return {k: v for k, v in call.args.items() if k not in ("apiKey", "cursor")}


def path_value(call: Any, wire_name: str) -> str:
    """The value of the path parameter ``wire_name`` (whatever python name the generated table gives it).

    :raises WireError: 400 when the endpoint has no such path parameter.
    """
    for param in ENDPOINTS[call.name].params:
        if param.location == "path" and param.wire_name == wire_name and param.name in call.params:
            return str(call.params[param.name])
    raise WireError(400, "Missing path parameter '%s'." % wire_name)


def request_path(call: Any) -> str:
    """The request's path rebuilt from its endpoint template and path parameters (for ``next_url``)."""
    spec = ENDPOINTS[call.name]
    path = spec.path
    for param in spec.params:
        if param.location == "path" and param.name in call.params:
            path = path.replace("{%s}" % param.wire_name, quote(str(call.params[param.name]), safe=":"))
    return path


def _bound(value: str, op: str) -> str:
    """A date-only bound against date-time values: the day's first instant, or its last for lte/gt."""
    if len(value) == 10 and value[4] == "-":
        return value + ("T23:59:59.999999Z" if op in ("lte", "gt") else "T00:00:00Z")
    if value.isdigit() and len(value) >= 10:  # epoch seconds/ms/ns -> ISO
        number = int(value)
        seconds = number / (1e9 if len(value) > 16 else 1e3 if len(value) > 11 else 1.0)
        return _dt.datetime.fromtimestamp(seconds, _dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
    return value


def _compare(actual: Any, op: str, text: str, is_time: bool) -> bool:
    if isinstance(actual, bool):
        wanted: Any = text.lower() in ("true", "1")
    elif isinstance(actual, (int, float)):
        try:
            wanted = float(text)
        except ValueError:
            raise WireError(400, "Invalid numeric filter value '%s'." % text) from None
    elif is_time:
        wanted = _bound(text, op)
    else:
        wanted = text
    if op == "":
        if is_time and len(text) == 10:
            return str(actual)[:10] == text
        return actual == wanted
    if op == "gte":
        return actual >= wanted
    if op == "gt":
        return actual > wanted
    if op == "lte":
        return actual <= wanted
    return actual < wanted


def filter_rows(rows: List[Dict[str, Any]], query: Mapping[str, str], fields: Mapping[str, Callable],
                times: tuple = ()) -> List[Dict[str, Any]]:
    """Rows passing every filter of ``query`` on ``fields`` (query name -> row value getter).

    :param times: query names whose values are date-times (date-only bounds cover whole days).
    """
    for name, get in fields.items():
        is_time = name in times
        for op in ("",) + _RANGE_OPS:
            text = query.get(name + "." + op if op else name)
            if text in (None, ""):
                continue
            rows = [r for r in rows if _has(get(r)) and _compare(get(r), op, text, is_time)]
        any_of = query.get(name + ".any_of")
        if any_of:
            allowed = set(any_of.split(","))
            rows = [r for r in rows if get(r) in allowed]
    return rows


def _has(value: Any) -> bool:
    return value is not None


def _int(query: Mapping[str, str], name: str, default: int) -> int:
    text = query.get(name)
    if text in (None, ""):
        return default
    try:
        return int(text)
    except ValueError:
        raise WireError(400, "Invalid value for parameter '%s': must be an integer, got '%s'." % (name, text)) from None


def list_body(call: Any, rows: List[Dict[str, Any]], query: Mapping[str, str], sort: str, order: str = "asc",
              limit: int = 10, max_limit: int = 1000, keys: Optional[Mapping[str, Callable]] = None,
              render: Optional[Callable[[Dict[str, Any]], Dict[str, Any]]] = None,
              with_count: bool = True) -> Dict[str, Any]:
    """One page of ``rows`` as the provider's list body (``results``, ``status``, ``request_id``,
    ``count``, ``next_url`` when more rows follow).

    :param sort: the default sort field (``query['sort']`` wins); ``keys`` maps sort names to getters.
    :param render: turns a row of the page into its wire dict (rows can be cheap stubs until then).
    """
    sort_name = query.get("sort") or sort
    getter = (keys or {}).get(sort_name) or (lambda r: r.get(sort_name))
    descending = (query.get("order") or order) in ("desc", "descending")
    rows = sorted(rows, key=lambda r: _sort_key(getter(r)), reverse=descending)
    size = max(1, min(_int(query, "limit", limit), max_limit))
    offset = max(0, _int(query, "offset", 0))
    page = rows[offset:offset + size]
    body: Dict[str, Any] = {"results": [render(r) for r in page] if render else page, "status": "OK",
                            "request_id": call.rid}
    if with_count:
        body["count"] = len(page)
    if offset + size < len(rows):
        nxt = dict(query, offset=str(offset + size), limit=str(size))
        body["next_url"] = "%s%s?cursor=%s" % (call.base_url, request_path(call), encode_cursor(nxt))
    return body


def _sort_key(value: Any):
    if value is None:
        return (0, "")
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return (1, value)
    return (2, str(value))
