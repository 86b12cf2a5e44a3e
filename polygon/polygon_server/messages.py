"""Checking the server's messages against ``schema/server`` (via the generated ``SCHEMAS`` and jsonschema).

Shared by the HTTP routes and the WebSocket endpoint; kept apart from ``server.py`` so that running
``python -m polygon.polygon_server.server`` never loads that module a second time.
"""

import functools
from typing import Any, List

__all__ = ["MAX_BODY", "validate_message"]

#: Largest accepted request body / WebSocket message (bytes).
MAX_BODY = 64 * 1024


@functools.lru_cache(maxsize=None)
def _validator(schema_key: str) -> Any:
    from jsonschema import Draft202012Validator

    from polygon._generated.server_messages import SCHEMAS

    return Draft202012Validator(SCHEMAS[schema_key])


def validate_message(schema_key: str, message: Any) -> List[str]:
    """Check ``message`` against one of the server message schemas (``schema/server``, via jsonschema).

    :param schema_key: e.g. ``'bars_request'``, ``'ws_subscribe'``.
    :returns: readable problems, empty when valid.
    """
    out = []
    for err in sorted(_validator(schema_key).iter_errors(message), key=lambda e: [str(p) for p in e.path]):
        where = ".".join(str(p) for p in err.path)
        out.append(("%s: %s" % (where, err.message)) if where else err.message)
    return out
