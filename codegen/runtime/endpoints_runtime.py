"""Request building for the generated endpoint table: specs, validation, serialisation.

This file is ordinary, linted python that ``python -m codegen`` copies verbatim (behind the generated-file
header) to ``polygon/_generated/_runtime.py``: the generated package imports only the standard library, and
this is the part of it that is not generated from schema/. ``endpoints.py`` holds the table and the
name-based ``build_request`` / ``parse_response`` built on :func:`prepare` and :func:`parse`.
"""

import datetime
import numbers
import re
from dataclasses import dataclass
from typing import Any, Dict, NamedTuple, Optional, Tuple
from urllib.parse import quote

__all__ = [
    "ColumnSpec",
    "EndpointSpec",
    "ParameterError",
    "ParamSpec",
    "PreparedRequest",
    "TableSpec",
    "parse",
    "prepare",
]


class ParameterError(ValueError):
    """A request parameter was rejected before any I/O; the message names it and what is allowed.

    :ivar param: the python name of the offending parameter (None for an unknown endpoint).
    """

    def __init__(self, message: str, param: Optional[str] = None) -> None:
        super().__init__(message)
        self.param = param


@dataclass(frozen=True)
class ParamSpec:
    """One request parameter: python ``name``, provider ``wire_name``, ``location`` 'path' or 'query'.

    ``type`` is 'string', 'integer', 'number', 'boolean' or 'array' (of ``item_type``, sent comma-separated;
    ``enum``/``pattern``/bounds then apply to each item). ``kind`` (``x-kind`` in schema/rest) says how the
    client coerces values: 'symbol', 'currency', 'date', 'datetime', 'agg_bound', 'timestamp_ns',
    'timestamp_ms' or None.
    """

    name: str
    wire_name: str
    location: str
    type: str
    required: bool = False
    enum: Optional[Tuple[Any, ...]] = None
    default: Any = None
    minimum: Optional[float] = None
    maximum: Optional[float] = None
    description: str = ""
    kind: Optional[str] = None
    item_type: Optional[str] = None
    pattern: Optional[str] = None

    def allowed(self) -> str:
        """Human readable description of the accepted values."""
        if self.type == "array":
            item = ParamSpec(self.name, self.wire_name, self.location, self.item_type or "string", enum=self.enum,
                             pattern=self.pattern)
            return "a list (or comma-separated string) of " + item.allowed()
        if self.enum is not None:
            return "one of " + ", ".join(repr(value) for value in self.enum)
        text = _TYPE_TEXT[self.type]
        if self.pattern is not None:
            text += " matching %s" % self.pattern
        if self.minimum is not None and self.maximum is not None:
            text += " between %s and %s" % (self.minimum, self.maximum)
        elif self.minimum is not None:
            text += " >= %s" % self.minimum
        elif self.maximum is not None:
            text += " <= %s" % self.maximum
        return text


@dataclass(frozen=True)
class EndpointSpec:
    """One provider endpoint: the python method ``name``, HTTP ``method``, ``path`` template (wire names).

    ``variants``: the provider's other paths of the same URL shape (per-market tickers) this endpoint serves;
    ``table``: the DataFrame layout of a tabular result; ``item_model``: the model of the records a
    ``list_*`` method yields; ``records``: the key path of those records in a body; ``max_pages``: how many
    pages one call reads unless the caller asks for more (``x-endpoint.max_pages``; None: every page, up to
    the client's guard). Indicators read one page, as the provider's own client does: their ``next_url``
    walks back through all history.
    """

    name: str
    method: str
    path: str
    params: Tuple[ParamSpec, ...]
    response_model: Any
    paginated: bool = False
    summary: str = ""
    response_is_list: bool = False
    description: str = ""
    variants: Tuple[str, ...] = ()
    table: Optional["TableSpec"] = None
    item_model: Any = None
    records: Tuple[str, ...] = ("results",)
    max_pages: Optional[int] = None

    def page_bound(self, max_pages: Optional[int], guard: int) -> int:
        """The number of pages one call may read: the caller's ``max_pages`` (a positive number), else this
        endpoint's, never more than ``guard`` (the client's page guard)."""
        chosen = max_pages if max_pages else self.max_pages
        return guard if not chosen else min(int(chosen), guard)

    def param(self, name: str) -> ParamSpec:
        """The parameter with python name ``name``.

        :raises KeyError: no such parameter.
        """
        for spec in self.params:
            if spec.name == name:
                return spec
        raise KeyError(name)


@dataclass(frozen=True)
class ColumnSpec:
    """One DataFrame column of a tabular endpoint: ``name``, the key path ``wire`` in a record, ``dtype``.

    ``dtype``: int, float, bool, str, object, date, datetime (ISO text), timestamp_ns/_ms/_s (epoch integers).
    """

    name: str
    wire: Tuple[str, ...]
    dtype: str


@dataclass(frozen=True)
class TableSpec:
    """Where the records of a response are (``records``: key path, e.g. ``('results', 'values')``) and
    their columns."""

    records: Tuple[str, ...]
    columns: Tuple[ColumnSpec, ...]


class PreparedRequest(NamedTuple):
    """A validated request: ``path`` filled in (URL-quoted), ``query`` as wire names -> strings."""

    method: str
    path: str
    query: Dict[str, str]


_TYPE_TEXT = {
    "string": "a string",
    "integer": "an integer",
    "number": "a number",
    "boolean": "True or False",
}


def _fail(endpoint: str, spec: ParamSpec, value: Any) -> ParameterError:
    return ParameterError(
        "%s(): parameter %r must be %s, got %r" % (endpoint, spec.name, spec.allowed(), value), spec.name
    )


def _serialize(endpoint: str, spec: ParamSpec, value: Any) -> str:
    kind = spec.type
    if kind == "array":
        if isinstance(value, str):
            items = [item.strip() for item in value.split(",")]
        elif isinstance(value, (list, tuple)):
            items = list(value)
        else:
            raise _fail(endpoint, spec, value)
        item_spec = ParamSpec(spec.name, spec.wire_name, spec.location, spec.item_type or "string",
                              enum=spec.enum, minimum=spec.minimum, maximum=spec.maximum, pattern=spec.pattern)
        texts = [_serialize(endpoint, item_spec, item) for item in items]
        if not texts or any(not text for text in texts):
            raise _fail(endpoint, spec, value)
        return ",".join(texts)
    if kind == "boolean":
        if not isinstance(value, bool):
            raise _fail(endpoint, spec, value)
        return "true" if value else "false"
    if kind == "integer":
        if isinstance(value, bool) or not isinstance(value, numbers.Integral):
            raise _fail(endpoint, spec, value)
        value = int(value)
    elif kind == "number":
        if isinstance(value, bool) or not isinstance(value, numbers.Real):
            raise _fail(endpoint, spec, value)
    elif isinstance(value, datetime.datetime):
        raise _fail(endpoint, spec, value)
    elif isinstance(value, datetime.date):
        value = value.isoformat()
    elif isinstance(value, numbers.Integral) and not isinstance(value, bool):
        # the aggregates window also takes epoch milliseconds
        value = str(int(value))
    elif not isinstance(value, str):
        raise _fail(endpoint, spec, value)
    if spec.enum is not None and value not in spec.enum:
        raise _fail(endpoint, spec, value)
    if spec.minimum is not None and value < spec.minimum:
        raise _fail(endpoint, spec, value)
    if spec.maximum is not None and value > spec.maximum:
        raise _fail(endpoint, spec, value)
    if spec.pattern is not None and (not isinstance(value, str) or re.fullmatch(spec.pattern, value) is None):
        raise _fail(endpoint, spec, value)
    if kind == "string" and spec.location == "path" and value.strip() in ("", ".", ".."):
        raise ParameterError("%s(): parameter %r must not be empty, '.' or '..'" % (endpoint, spec.name), spec.name)
    return value if isinstance(value, str) else str(value)


def prepare(endpoint: EndpointSpec, params: Dict[str, Any]) -> PreparedRequest:
    """Validate python-named parameters of ``endpoint`` and build its request.

    None values count as not given. Booleans become 'true'/'false'; lists become comma-separated;
    path values are URL-quoted.

    :returns: the :class:`PreparedRequest` (query keys are wire names).
    :raises ParameterError: unknown or missing required parameter, wrong type, value outside the enum,
        the pattern or the minimum/maximum.
    """
    name = endpoint.name
    known = {spec.name: spec for spec in endpoint.params}
    for key in params:
        if key not in known:
            hint = [spec.name for spec in endpoint.params if spec.wire_name == key]
            raise ParameterError(
                "%s(): unknown parameter %r%s; allowed: %s"
                % (name, key, " (did you mean %r?)" % hint[0] if hint else "", ", ".join(sorted(known))),
                key,
            )
    path = endpoint.path
    query = {}
    for spec in endpoint.params:
        value = params.get(spec.name)
        if value is None:
            if spec.required:
                raise ParameterError(
                    "%s(): missing required parameter %r (%s)" % (name, spec.name, spec.allowed()), spec.name
                )
            continue
        text = _serialize(name, spec, value)
        if spec.location == "path":
            path = path.replace("{" + spec.wire_name + "}", quote(text, safe=":"))
        else:
            query[spec.wire_name] = text
    return PreparedRequest(endpoint.method, path, query)


def parse(endpoint: EndpointSpec, body: Any) -> Any:
    """Decode a response body of ``endpoint`` into its model (a list of models for list endpoints)."""
    if endpoint.response_is_list:
        return [endpoint.response_model.from_wire(item) for item in body or ()]
    return endpoint.response_model.from_wire(body)
