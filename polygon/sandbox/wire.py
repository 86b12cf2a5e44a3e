"""Wire helpers shared by the REST handlers: request ids, error bodies, JSON encoding of bars.

Bodies are compact JSON built deterministically (no clock, no randomness), so the same request
gives the same bytes in every process, apart from ``request_id``: unique per request, as the
provider's. This module imports nothing else of the sandbox (the market model imports it).
"""

import base64
import json
import uuid
from typing import TYPE_CHECKING, Dict, Mapping, Optional

from polygon.core import json_codec

if TYPE_CHECKING:  # pragma: no cover - annotations only: market.py imports this module
    from polygon.sandbox.market import Bars

__all__ = [
    "WireError",
    "bar_rows",
    "bars_json",
    "decode_cursor",
    "dumps",
    "encode_cursor",
    "error_body",
    "request_id",
]

_PLACEHOLDER = "\x00results\x00"


class WireError(Exception):
    """An error answer: HTTP ``status`` with the provider's JSON ``payload``.

    :param status: HTTP status code.
    :param message: the provider-style error text.
    :param status_text: the body's ``status`` field (``ERROR``, ``NOT_FOUND``...).
    :param key: body field holding the text (``error`` or ``message``).
    """

    def __init__(self, status: int, message: str, status_text: str = "ERROR", key: str = "error",
                 headers: Optional[Dict[str, str]] = None) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.status_text = status_text
        self.key = key
        self.headers = dict(headers or {})


def request_id() -> str:
    """A new 32-hex-digit request id (random: unique per request, like the provider's)."""
    return uuid.uuid4().hex


def dumps(obj: object) -> bytes:
    """Compact JSON bytes (:mod:`polygon.core.json_codec`)."""
    return json_codec.dumps(obj)


def error_body(err: WireError, rid: str) -> bytes:
    """The provider's error shape: ``{"status": ..., "request_id": ..., "error"|"message": ...}``."""
    return dumps({"status": err.status_text, "request_id": rid, err.key: err.message})


def dumps_with_results(obj: Dict[str, object], results_json: str) -> bytes:
    """JSON of ``obj`` whose ``results`` value is the pre-encoded array ``results_json``."""
    text = json.dumps(obj, separators=(",", ":"), ensure_ascii=False)
    return text.replace(json.dumps(_PLACEHOLDER), results_json, 1).encode("utf-8")


RESULTS = _PLACEHOLDER


def bars_json(bars: "Bars", ticker: Optional[str] = None, with_n: bool = True) -> str:
    """Encode bars as the provider's ``results`` array (``{"v","vw","o","c","h","l","t","n"}``)."""
    cols = [col.tolist() for col in (bars.v, bars.vw, bars.o, bars.c, bars.h, bars.l, bars.t, bars.n)]
    head = '{"T":%s,' % json.dumps(ticker) if ticker is not None else "{"
    if with_n:
        fmt = head + '"v":%d,"vw":%r,"o":%r,"c":%r,"h":%r,"l":%r,"t":%d,"n":%d}'
        rows = [fmt % row for row in zip(*cols)]
    else:
        fmt = head + '"v":%d,"vw":%r,"o":%r,"c":%r,"h":%r,"l":%r,"t":%d}'
        rows = [fmt % row for row in zip(*cols[:7])]
    return "[" + ",".join(rows) + "]"


def bar_rows(bars: "Bars"):
    """One JSON object string per bar (aggregates ``results`` items, without ``T``)."""
    cols = [col.tolist() for col in (bars.v, bars.vw, bars.o, bars.c, bars.h, bars.l, bars.t, bars.n)]
    return list(map('{{"v":{},"vw":{!r},"o":{!r},"c":{!r},"h":{!r},"l":{!r},"t":{},"n":{}}}'.format, *cols))


def encode_cursor(params: Mapping[str, str]) -> str:
    """Opaque page cursor: URL-safe base64 of the sorted query, without padding (as the provider)."""
    text = "&".join("%s=%s" % (k, params[k]) for k in sorted(params))
    return base64.urlsafe_b64encode(text.encode("utf-8")).decode("ascii").rstrip("=")


def decode_cursor(cursor: str) -> Dict[str, str]:
    """Invert :func:`encode_cursor`; raises :class:`WireError` (400) for a cursor we did not make."""
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode("utf-8")
        pairs = [item.split("=", 1) for item in raw.split("&") if item]
        return {k: v for k, v in pairs}
    except (ValueError, UnicodeDecodeError):
        raise WireError(400, "Invalid cursor parameter.") from None
