"""One JSON codec for the library: orjson when installed (the ``fast`` extra), else the standard library.

Both paths give the same Python values for the provider's documents; tests run both. ``loads`` accepts
``bytes`` or ``str``; ``dumps`` returns compact UTF-8 ``bytes`` (NaN and infinities are not valid JSON:
callers replace them before encoding).
"""

import json
from typing import Any, Union

__all__ = ["BACKEND", "dumps", "loads"]

try:  # pragma: no cover - which branch runs depends on the installed extras
    import orjson as _orjson
except ImportError:  # pragma: no cover
    _orjson = None

#: ``'orjson'`` or ``'json'``: the decoder in use.
BACKEND = "orjson" if _orjson is not None else "json"


def _std_loads(data: Union[bytes, bytearray, memoryview, str]) -> Any:
    if isinstance(data, (bytearray, memoryview)):
        data = bytes(data)
    return json.loads(data)


def _std_dumps(obj: Any) -> bytes:
    return json.dumps(obj, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


if _orjson is not None:
    loads = _orjson.loads

    def dumps(obj: Any) -> bytes:
        """Compact JSON as UTF-8 bytes."""
        return _orjson.dumps(obj, option=_orjson.OPT_NON_STR_KEYS)
else:
    loads = _std_loads
    dumps = _std_dumps

#: The standard-library pair, for tests of the fallback and for callers that need it explicitly.
std_loads = _std_loads
std_dumps = _std_dumps
