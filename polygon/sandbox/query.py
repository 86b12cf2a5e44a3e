"""Query helpers shared by the market-data handlers: parameters by wire name, time bounds, cursors, pages.

Handlers receive validated parameters by python name (:class:`~polygon.sandbox.endpoints.Call`);
:func:`effective` maps them back to the provider's wire names through the generated endpoint
table, so handlers read ``timestamp.gte`` or ``stocksTicker`` whatever python names the table
chose. Per-market variants of one URL shape name their ticker differently (``stocksTicker``,
``cryptoTicker``, ``fxTicker`` ...), so :func:`ticker_of` looks for any of them. A cursor (the
``cursor`` query value of a ``next_url``) carries the effective query of the next page and wins
over the other parameters.

:func:`serves` registers a handler under every endpoint name of the generated table whose path
has a given shape (``*`` for any path variable): one handler serves the per-market variants.
"""

import datetime as _dt
import re
from typing import Any, Callable, Dict, List, Mapping, Optional, Sequence, Tuple
from urllib.parse import quote

from polygon.sandbox.endpoints import handles
from polygon.sandbox.wire import WireError, decode_cursor, encode_cursor

__all__ = ["TICKER_PARAMS", "effective", "endpoint_names", "list_page", "matches", "next_url", "ns_bounds",
           "order_limit", "parse_day", "parse_ns", "serves", "ticker_of", "to_bool"]

#: wire (and python) names a ticker path parameter may have, by market variant
TICKER_PARAMS = ("stocksTicker", "stockTicker", "optionsTicker", "cryptoTicker", "fxTicker", "forexTicker",
                 "indicesTicker", "ticker", "stocks_ticker", "stock_ticker", "options_ticker", "crypto_ticker",
                 "fx_ticker", "forex_ticker", "indices_ticker")
_ISO = re.compile(r"^(\d{4}-\d{2}-\d{2})(?:[T ](\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,9}))?)?)?(Z|[+-]\d{2}:?\d{2})?$")
_DAY_NS = 86_400 * 10**9
_VAR = re.compile(r"\{[^}]+\}")


def _shape(path: str) -> str:
    return _VAR.sub("*", path.rstrip("/"))


def endpoint_names(*shapes: str) -> List[str]:
    """Names of the generated endpoints whose path has one of ``shapes`` (``*`` = any variable)."""
    from polygon._generated.endpoints import ENDPOINTS

    wanted = {s.rstrip("/") for s in shapes}
    return sorted(name for name, spec in ENDPOINTS.items() if _shape(spec.path) in wanted)


def serves(*shapes: str) -> Callable[[Callable], Callable]:
    """Register the decorated handler for every endpoint whose path has one of ``shapes``."""

    def register(fn: Callable) -> Callable:
        fn.shapes = shapes  # type: ignore[attr-defined]
        names = endpoint_names(*shapes)
        return handles(*names)(fn) if names else fn

    return register


def effective(call: Any) -> Dict[str, Any]:
    """The call's parameters by wire name (python names kept too), with a ``cursor`` decoded over them."""
    params: Dict[str, Any] = {k: v for k, v in call.params.items() if v is not None}
    try:
        from polygon._generated.endpoints import ENDPOINTS

        spec = ENDPOINTS.get(call.name)
    except ImportError:  # pragma: no cover - the table is always generated
        spec = None
    if spec is not None:
        for p in spec.params:
            if p.name in params:
                params.setdefault(p.wire_name, params[p.name])
    cursor = call.args.get("cursor") if call.args is not None else None
    if cursor:
        params.update(decode_cursor(cursor))
    params.pop("cursor", None)
    return params


def ticker_of(params: Mapping[str, Any]) -> str:
    """The ticker path parameter, whatever the market variant calls it."""
    for name in TICKER_PARAMS:
        value = params.get(name)
        if value:
            return str(value)
    raise WireError(400, "Missing ticker parameter.")


def to_bool(value: Any, name: str, default: bool) -> bool:
    """Provider booleans (``true``/``false``) or python bools."""
    if value is None or value == "":
        return default
    if isinstance(value, bool):
        return value
    low = str(value).lower()
    if low in ("true", "1"):
        return True
    if low in ("false", "0"):
        return False
    raise WireError(400, "Invalid value for '%s': must be true or false." % name)


def parse_day(value: Any, name: str) -> _dt.date:
    """A ``YYYY-MM-DD`` value (or a ``date``) as a date; 400 otherwise."""
    if isinstance(value, _dt.date):
        return value
    try:
        return _dt.date.fromisoformat(str(value)[:10]) if len(str(value)) == 10 else _dt.date.fromisoformat("x")
    except ValueError:
        raise WireError(400, "Invalid value for '%s': %r is not a date (YYYY-MM-DD)." % (name, value)) from None


def parse_ns(value: Any, name: str, end_of_day: bool = False) -> int:
    """A timestamp query value as epoch nanoseconds.

    Accepts a date ``YYYY-MM-DD`` (midnight UTC, or the last nanosecond of the day with
    ``end_of_day``), an RFC 3339 date-time, or an integer in nanoseconds (values below 1e14 are
    read as milliseconds, below 1e17 as microseconds, as the provider does).
    """
    if isinstance(value, _dt.datetime):
        return int(value.timestamp()) * 10**9 + value.microsecond * 1000
    if isinstance(value, _dt.date):
        value = value.isoformat()
    if isinstance(value, int) and not isinstance(value, bool):
        return _scale(value)
    text = str(value).strip()
    if text.isdigit():
        return _scale(int(text))
    m = _ISO.match(text)
    if m:
        try:
            day = _dt.date.fromisoformat(m.group(1))
        except ValueError:
            day = None
        if day is not None:
            base = (day - _dt.date(1970, 1, 1)).days * _DAY_NS
            if m.group(2) is None:
                return base + _DAY_NS - 1 if end_of_day else base
            frac = (m.group(5) or "").ljust(9, "0")
            ns = base + ((int(m.group(2)) * 60 + int(m.group(3))) * 60 + int(m.group(4) or 0)) * 10**9 + int(frac)
            tz = m.group(6)
            if tz and tz != "Z":
                sign = 1 if tz[0] == "+" else -1
                digits = tz[1:].replace(":", "")
                ns -= sign * (int(digits[:2]) * 60 + int(digits[2:])) * 60 * 10**9
            return ns
    raise WireError(400, "Invalid value for '%s': %r; use YYYY-MM-DD, an RFC 3339 time or nanoseconds." % (name, value))


def _scale(n: int) -> int:
    if n < 10**14:
        return n * 1_000_000
    if n < 10**17:
        return n * 1000
    return n


def ns_bounds(params: Mapping[str, Any], name: str = "timestamp") -> Tuple[Optional[int], Optional[int]]:
    """Inclusive ``(lo, hi)`` nanoseconds from ``name`` and its ``.gte/.gt/.lte/.lt`` filters."""
    lo: Optional[int] = None
    hi: Optional[int] = None

    def low(v: int) -> None:
        nonlocal lo
        lo = v if lo is None else max(lo, v)

    def high(v: int) -> None:
        nonlocal hi
        hi = v if hi is None else min(hi, v)

    exact = params.get(name)
    if exact not in (None, ""):
        text = str(exact)
        if len(text) == 10 and text[4] == "-":  # a date: the whole (UTC) day
            low(parse_ns(text, name))
            high(parse_ns(text, name, end_of_day=True))
        else:
            low(parse_ns(exact, name))
            high(parse_ns(exact, name))
    for op in ("gte", "gt", "lte", "lt"):
        value = params.get("%s_%s" % (name, op), params.get("%s.%s" % (name, op)))
        if value in (None, ""):
            continue
        text = str(value)
        is_day = len(text) == 10 and text[4] == "-"
        if op == "gte":
            low(parse_ns(value, name))
        elif op == "gt":
            low(parse_ns(value, name, end_of_day=True) + 1 if is_day else parse_ns(value, name) + 1)
        elif op == "lte":
            high(parse_ns(value, name, end_of_day=is_day))
        else:
            high(parse_ns(value, name) - 1)
    return lo, hi


def order_limit(params: Mapping[str, Any], default_order: str, default_limit: int, max_limit: int,
                sorts: Sequence[str]) -> Tuple[str, int, str]:
    """``(order, limit, sort)`` checked against the allowed values (400 otherwise)."""
    order = str(params.get("order") or default_order)
    if order not in ("asc", "desc"):
        raise WireError(400, "Invalid value for 'order': must be one of asc, desc.")
    sort = str(params.get("sort") or sorts[0])
    if sort not in sorts:
        raise WireError(400, "Invalid value for 'sort': must be one of %s." % ", ".join(sorts))
    raw = params.get("limit")
    try:
        limit = default_limit if raw in (None, "") else int(raw)
    except (TypeError, ValueError):
        raise WireError(400, "Invalid value for 'limit': must be an integer.") from None
    if limit < 1:
        raise WireError(400, "Invalid value for 'limit': must be greater than 0.")
    return order, min(limit, max_limit), sort


def next_url(base_url: str, path: str, cursor_params: Mapping[str, Any]) -> str:
    """``base_url + path + ?cursor=...`` for the page described by ``cursor_params``."""
    clean = {k: ("true" if v is True else "false" if v is False else str(v)) for k, v in cursor_params.items()
             if v is not None}
    return "%s%s?cursor=%s" % (base_url, quote(path, safe="/:.-_"), encode_cursor(clean))


def page(rows: List[Any], limit: int) -> Tuple[List[Any], bool]:
    """``(first limit rows, more?)``."""
    return rows[:limit], len(rows) > limit


def _compare(value: Any, bound: Any) -> Tuple[Any, Any]:
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return value, float(bound)
    if isinstance(value, _dt.date):
        return value, parse_day(bound, "date")
    return str(value), str(bound)


def matches(row: Mapping[str, Any], params: Mapping[str, Any], fields: Sequence[str]) -> bool:
    """``True`` when ``row`` passes the equality and ``.gte/.gt/.lte/.lt`` filters of ``fields``."""
    for field in fields:
        value = row.get(field)
        exact = params.get(field)
        if exact not in (None, ""):
            if isinstance(exact, bool) or isinstance(value, bool):
                if to_bool(exact, field, False) != bool(value):
                    return False
            else:
                a, b = _compare(value, exact)
                if a != b:
                    return False
        for op in ("gte", "gt", "lte", "lt"):
            bound = params.get("%s.%s" % (field, op), params.get("%s_%s" % (field, op)))
            if bound in (None, ""):
                continue
            a, b = _compare(value, bound)
            if not ((op == "gte" and a >= b) or (op == "gt" and a > b) or (op == "lte" and a <= b)
                    or (op == "lt" and a < b)):
                return False
    return True


def list_page(call: Any, rows: List[Dict[str, Any]], path: str, sorts: Sequence[str], default_order: str,
              default_limit: int, max_limit: int, filters: Sequence[str]) -> Dict[str, Any]:
    """A provider list page of ``rows`` (dicts with python values): filtered, sorted, cut, with ``next_url``.

    Rows are filtered by :func:`matches` on ``filters``, sorted by ``sort`` (the first of ``sorts``
    by default, ties by every other field in order), paged by an offset carried in the cursor.
    Dates in rows are ``datetime.date`` and become ``YYYY-MM-DD`` in the answer.
    """
    params = effective(call)
    order, limit, sort = order_limit(params, default_order, default_limit, max_limit, sorts)
    found = [r for r in rows if matches(r, params, filters)]
    found.sort(key=lambda r: tuple(r.get(k) for k in (sort,) + tuple(s for s in sorts if s != sort)),
               reverse=order == "desc")
    try:
        offset = int(params.get("offset", 0) or 0)
    except ValueError:
        raise WireError(400, "Invalid cursor parameter.") from None
    page_rows = found[offset:offset + limit]
    results = [{k: (v.isoformat() if isinstance(v, _dt.date) else v) for k, v in r.items()} for r in page_rows]
    body: Dict[str, Any] = {"request_id": call.rid, "results": results, "status": "OK"}
    if offset + limit < len(found):
        cursor = {k: v for k, v in params.items() if k != "offset"}
        cursor.update(order=order, sort=sort, limit=limit, offset=offset + limit)
        body["next_url"] = next_url(call.base_url, path, cursor)
    return body
