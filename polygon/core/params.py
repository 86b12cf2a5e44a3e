"""Coercion of python-side endpoint arguments to the values the generated request builder accepts.

Pure functions, no I/O. Each parameter of the generated table carries a ``kind`` (``x-kind`` in
schema/rest) that says what its values mean:

=============== ==========================================================================================
``symbol``      a ticker (path parameters, the ``tickers`` list): :func:`polygon.markets.symbols.validate_symbol`
``currency``    a currency code of a pair (``/v1/conversion/{from}/{to}``): left as given, checked by the
                schema's pattern; never read as a date
``agg_bound``   the aggregates window: a day stays ``YYYY-MM-DD``, an instant becomes epoch milliseconds
``date``        a calendar day ``YYYY-MM-DD`` (dates, datetimes and ISO strings accepted)
``datetime``    a day or an instant as text (``published_utc``): datetimes become ISO-8601 UTC
``timestamp_ns`` a day or an instant: datetimes become epoch nanoseconds (exact for pandas Timestamps)
``timestamp_ms`` the same in epoch milliseconds (indicators)
=============== ==========================================================================================

Naive datetimes are read in the configured timezone.
"""

import datetime as _dt
from typing import Any, Dict

from polygon.exceptions import InvalidParameterError
from polygon.markets.dates import format_agg_bound, format_date, get_zone
from polygon.markets.symbols import validate_symbol

__all__ = ["coerce_params", "coerce_value"]

_EPOCH = _dt.datetime(1970, 1, 1, tzinfo=_dt.timezone.utc)
_ONE_US = _dt.timedelta(microseconds=1)


def _aware(value: _dt.datetime, tz: str) -> _dt.datetime:
    if value.tzinfo is None or value.tzinfo.utcoffset(value) is None:
        return value.replace(tzinfo=get_zone(tz))
    return value


def _epoch_ns(value: _dt.datetime, tz: str) -> int:
    if hasattr(value, "tz_localize") and hasattr(value, "value"):  # pandas Timestamp: keep its nanoseconds
        stamp: Any = value if value.tzinfo is not None else value.tz_localize(tz)  # type: ignore[attr-defined]
        return int(stamp.value)
    return (_aware(value, tz) - _EPOCH) // _ONE_US * 1000


def _timestamp(value: Any, tz: str, unit: str, name: str) -> Any:
    if isinstance(value, _dt.datetime):
        ns = _epoch_ns(value, tz)
        return ns if unit == "ns" else ns // 1_000_000
    if isinstance(value, _dt.date):
        return value.isoformat()
    if isinstance(value, bool) or not isinstance(value, (int, str)):
        raise InvalidParameterError(
            "parameter %r must be a date, a datetime, epoch %s or a string, got %r" % (name, unit, value))
    return value


def coerce_value(kind: Any, value: Any, tz: str, name: str) -> Any:
    """One argument of parameter kind ``kind`` (None: left as given) made ready for the request builder.

    :raises InvalidInputError: a bad symbol, date or timestamp (the message names the parameter).
    """
    if kind == "symbol":
        if isinstance(value, (list, tuple)):
            return [validate_symbol(item) for item in value]
        if isinstance(value, str) and "," in value:
            return [validate_symbol(item) for item in value.split(",")]
        return validate_symbol(value)
    if kind == "agg_bound":
        return format_agg_bound(value, tz, name=name)
    if kind == "date":
        return format_date(value, name=name)
    if kind == "datetime":
        if isinstance(value, _dt.datetime):
            return _aware(value, tz).astimezone(_dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
        if isinstance(value, _dt.date):
            return value.isoformat()
        return value
    if kind in ("timestamp_ns", "timestamp_ms"):
        return _timestamp(value, tz, kind[-2:], name)
    if kind != "currency" and isinstance(value, _dt.date):
        return format_date(value, name=name) if not isinstance(value, _dt.datetime) else value
    return value


def coerce_params(spec: Any, params: Dict[str, Any], tz: str) -> Dict[str, Any]:
    """Coerce python-named ``params`` of the endpoint ``spec`` by their kinds; ``None`` values are dropped.

    Unknown names are passed through so the request builder names them in its error.
    """
    by_name = {p.name: p for p in spec.params}
    out: Dict[str, Any] = {}
    for key, value in params.items():
        if value is None:
            continue
        param = by_name.get(key)
        out[key] = value if param is None else coerce_value(param.kind, value, tz, key)
    return out
