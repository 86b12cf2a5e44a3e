"""The local polygon server (``python -m polygon.polygon_server.server``): ``POST /api/v1/bars`` through the
file cache, a ``/ws/{client_id}`` endpoint fanning one provider stream out to many local clients, and a live
dashboard at ``/``. For local use (binds 127.0.0.1 by default).

Names are imported on first use (PEP 562), so ``python -m polygon.polygon_server.server`` runs the module
once, as ``__main__``.
"""

import importlib
from typing import Any

__all__ = ["DEFAULT_PORT", "PolygonServer", "StreamRelay", "create_app"]

_EXPORTS = {
    "DEFAULT_PORT": "polygon.polygon_server.server",
    "PolygonServer": "polygon.polygon_server.server",
    "StreamRelay": "polygon.polygon_server.relay",
    "create_app": "polygon.polygon_server.server",
}


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError("module %r has no attribute %r" % (__name__, name))
    return getattr(importlib.import_module(module), name)


def __dir__() -> Any:
    return sorted(list(globals()) + __all__)
