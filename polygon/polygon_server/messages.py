"""Checking the server's messages against ``schema/server`` (via the generated ``SCHEMAS`` and jsonschema).

Shared by the HTTP routes and the WebSocket endpoint; kept apart from ``server.py`` so that running
``python -m polygon.polygon_server.server`` never loads that module a second time.
"""

import functools
from typing import Any, List

__all__ = ["MAX_BODY", "read_body", "validate_message"]

#: Largest accepted request body / WebSocket message (bytes).
MAX_BODY = 64 * 1024


def read_body(request: Any, limit: int = MAX_BODY) -> bytes:
    """The body of a werkzeug ``request``, never reading more than ``limit + 1`` bytes of it.

    :raises werkzeug.exceptions.RequestEntityTooLarge: the declared ``Content-Length`` or the bytes sent
        (chunked bodies included) exceed ``limit``; the rest of the body is left unread.
    :raises werkzeug.exceptions.BadRequest: a malformed chunked body (a chunk size that is not hex, chunk
        extensions, trailers), or the body ended early.
    """
    from werkzeug.exceptions import BadRequest, RequestEntityTooLarge

    length = request.content_length
    if length is not None and length > limit:
        raise RequestEntityTooLarge()
    environ = request.environ
    if length is None and environ.get("wsgi.input_terminated"):  # chunked: the server de-chunks, no length
        stream = environ["wsgi.input"]
    else:
        stream = request.stream
    chunks, size = [], 0
    while size <= limit:  # bounded: each read returns at least one byte or ends the loop
        try:
            chunk = stream.read(limit + 1 - size)
        except OSError as exc:  # werkzeug's de-chunking: "Invalid chunk header", "Missing chunk terminating..."
            raise BadRequest("the chunked request body is malformed (%s); send a Content-Length body, or chunks "
                             "as <hex size>CRLF<data>CRLF ending with 0CRLF CRLF, without extensions or "
                             "trailers" % exc) from None
        if not chunk:
            break
        chunks.append(chunk)
        size += len(chunk)
    if size > limit:
        raise RequestEntityTooLarge()
    return b"".join(chunks)


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
