"""The sandbox's endpoint handlers, registered by the generated endpoint name (``ENDPOINTS`` keys).

Each module of this package registers its handlers with :func:`handles`; the router imports every
module here (``load_all``), matches a request against the generated endpoint table, validates its
parameters, then calls ``HANDLERS[name](call)``. A handler returns the body as a ``dict`` or ``list``
(the router encodes it) or as ``bytes``, and raises :class:`polygon.sandbox.wire.WireError` for the
provider's error answers (404 unknown ticker, 400 bad combination ...).
"""

import importlib
import pkgutil
from dataclasses import dataclass
from typing import Any, Callable, Dict, Mapping

__all__ = ["HANDLERS", "Call", "handles", "load_all"]

#: endpoint name -> handler(call)
HANDLERS: Dict[str, Callable[["Call"], Any]] = {}


@dataclass(frozen=True)
class Call:
    """One REST request as a handler sees it.

    :ivar state: the sandbox's :class:`~polygon.sandbox.state.SandboxState` (model, clock, options).
    :ivar name: the endpoint name (a key of the generated ``ENDPOINTS``).
    :ivar params: validated parameters by python name (path and query), defaults applied.
    :ivar args: the raw query string (``werkzeug`` MultiDict), for cursors and pass-through values.
    :ivar base_url: ``http://127.0.0.1:PORT``, for ``next_url``.
    :ivar rid: the request id (unique per request).
    :ivar now_ms: the sandbox clock's "now" in epoch ms (replay-aware).
    :ivar wall_ms: the machine's wall-clock time in epoch ms.
    """

    state: Any
    name: str
    params: Mapping[str, Any]
    args: Any
    base_url: str
    rid: str
    now_ms: int
    wall_ms: int


def handles(*names: str) -> Callable[[Callable], Callable]:
    """Register the decorated function as the handler of the endpoints ``names``."""

    def register(fn: Callable) -> Callable:
        for name in names:
            if name in HANDLERS and HANDLERS[name] is not fn:
                raise RuntimeError("two sandbox handlers for endpoint %r" % name)
            HANDLERS[name] = fn
        return fn

    return register


def load_all() -> Dict[str, Callable[["Call"], Any]]:
    """Import every handler module of this package (registering its handlers) and return the table."""
    for info in pkgutil.iter_modules(__path__):
        importlib.import_module("%s.%s" % (__name__, info.name))
    return HANDLERS
