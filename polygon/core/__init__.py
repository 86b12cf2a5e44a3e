"""The REST side: :class:`PolygonClient` and what it is built from::

    from polygon.core import PolygonClient

The client lives in :mod:`polygon.core.client`; beside it: :mod:`~polygon.core.http` (error mapping and backoff,
pure), :mod:`~polygon.core.rate_limit` (the shared limiter), :mod:`~polygon.core.pages` (aggregate pages decoded
into columns), :mod:`~polygon.core.params` (argument coercion for the generated methods),
:mod:`~polygon.core.tables` (list results as DataFrames), :mod:`~polygon.core.ticker_reference` ("does the
provider know this ticker") and :mod:`~polygon.core.json_codec` (JSON, orjson when installed).

Names are imported on first use (PEP 562): importing a helper such as :mod:`polygon.core.json_codec` (the sandbox
does) does not load the client.
"""

import importlib
from typing import Any

__all__ = ["BAR_COLUMNS", "MISSING_KEY_MESSAGE", "PolygonClient", "columns_from_pages"]


def __getattr__(name: str) -> Any:
    if name not in __all__:
        raise AttributeError("module %r has no attribute %r" % (__name__, name))
    value = getattr(importlib.import_module("polygon.core.client"), name)
    globals()[name] = value
    return value


def __dir__() -> Any:
    return sorted(set(globals()) | set(__all__))
