"""The official client's face, the part that is not generated: method specs, route choice, model helpers.

This file is ordinary, linted python that ``python -m codegen`` copies verbatim (behind the generated-file
header) to ``polygon/_generated/_official_runtime.py``. ``official.py`` (generated from schema/official/)
holds the official models, the table of official methods and their mixins; this module turns one official
call into the python-named parameters of one of our endpoints (pure: no I/O), and builds nested models.
"""

import enum
from dataclasses import dataclass, field
from typing import AbstractSet, Any, Dict, List, Optional, Tuple

__all__ = [
    "OfficialMethod",
    "OfficialRoute",
    "RouteError",
    "extra_keys",
    "model_list",
    "model_map",
    "model_one",
    "plan",
]


class RouteError(ValueError):
    """An official call no route serves (e.g. a ``market_type`` we have no endpoint for); says what is allowed."""


@dataclass(frozen=True)
class OfficialRoute:
    """One way to serve an official method: our ``endpoint``, chosen when every ``when`` pair matches.

    ``when``: ``{official arg: (values...)}``; ``params``: ``{official arg: our python parameter}``;
    ``fixed``: ``{our python parameter: value}`` always sent.
    """

    endpoint: str
    when: Dict[str, Tuple[Any, ...]] = field(default_factory=dict)
    params: Dict[str, str] = field(default_factory=dict)
    fixed: Dict[str, Any] = field(default_factory=dict)

    def matches(self, args: Dict[str, Any]) -> bool:
        """True when every ``when`` argument has one of its values."""
        return all(args.get(arg) in values for arg, values in self.when.items())


@dataclass(frozen=True)
class OfficialMethod:
    """An official method: ``call`` 'get' (one request) or 'pages' (an iterator over every page), the body
    ``key`` holding the result (None: the whole body), the official ``model`` class, its ``routes`` and the
    arguments taking lists (sent comma-joined)."""

    name: str
    call: str
    key: Optional[str]
    model: Any
    routes: Tuple[OfficialRoute, ...]
    lists: Tuple[str, ...] = ()
    on: str = "client"


def _plain(value: Any) -> Any:
    if isinstance(value, enum.Enum):
        return value.value
    return value


def plan(method: OfficialMethod, args: Dict[str, Any]) -> Tuple[str, Dict[str, Any]]:
    """The endpoint and its python-named parameters for one official call (``None`` values left out).

    Enum members become their values; list arguments become comma-separated text.

    :raises RouteError: no route serves these arguments.
    """
    values = {name: _plain(value) for name, value in args.items()}
    for name in method.lists:
        value = values.get(name)
        if isinstance(value, (list, tuple, set, frozenset)):
            values[name] = ",".join(str(_plain(item)) for item in value)
    for route in method.routes:
        if route.matches(values):
            params = {ours: values[arg] for arg, ours in route.params.items() if values.get(arg) is not None}
            params.update(route.fixed)
            return route.endpoint, params
    served = []
    for route in method.routes:
        served.append(", ".join("%s=%s" % (arg, "|".join(repr(v) for v in vals)) for arg, vals in route.when.items()))
    raise RouteError("%s(): no endpoint serves %s; served: %s" % (
        method.name,
        ", ".join("%s=%r" % (arg, values.get(arg)) for arg in sorted({a for r in method.routes for a in r.when})),
        "; ".join(served),
    ))


# -- nested models (the official ``from_dict`` semantics) ----------------------------------------------
def model_one(cls: Any, data: Dict[str, Any], key: str, empty_when_absent: bool = False) -> Any:
    """``cls.from_dict(data[key])``; None when the key is missing or null (an empty ``cls.from_dict({})`` when
    ``empty_when_absent``: official models that build one, e.g. financial data points)."""
    value = data.get(key)
    if isinstance(value, dict):
        return cls.from_dict(value)
    if value is None:
        return cls.from_dict({}) if empty_when_absent else None
    return value


def model_list(cls: Any, data: Dict[str, Any], key: str, empty_when_absent: bool = False) -> Optional[List[Any]]:
    """``[cls.from_dict(item) ...]`` of ``data[key]``; None (or ``[]``) when missing; non-dict items kept."""
    value = data.get(key)
    if value is None:
        return [] if empty_when_absent else None
    if cls is None:
        return value
    return [cls.from_dict(item) if isinstance(item, dict) else item for item in value]


def model_map(cls: Any, data: Dict[str, Any], key: str, empty_when_absent: bool = False) -> Optional[Dict[str, Any]]:
    """``{name: cls.from_dict(item)}`` of the dict ``data[key]``; None (or ``{}``) when missing."""
    value = data.get(key)
    if value is None:
        return {} if empty_when_absent else None
    return {name: cls.from_dict(item) if isinstance(item, dict) else item for name, item in value.items()}


def extra_keys(data: Dict[str, Any], known: AbstractSet[str]) -> Optional[Dict[str, Any]]:
    """The wire keys an official model does not name (kept, never dropped); None when there are none."""
    if data.keys() <= known:  # the usual case, checked in C
        return None
    return {key: value for key, value in data.items() if key not in known}
