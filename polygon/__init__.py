"""polygon-kit: a sync-first client, file cache and offline sandbox for Polygon.io (Massive) data.

The names below are the public API used by the guides::

    from polygon import fetch_data, PolygonDataManager, PolygonWebSocketClient, get_rate_limit_status

Heavy submodules are imported on first use of one of their names (PEP 562), so
``import polygon`` costs little more than importing pandas.
"""

import importlib
from typing import Any

from polygon._version import __version__
from polygon.exceptions import (
    CacheError,
    DataValidationError,
    InvalidDateRangeError,
    InvalidInputError,
    InvalidParameterError,
    InvalidSymbolError,
    InvalidTimeframeError,
    MaxConnectionsError,
    PolygonAPIError,
    PolygonAuthenticationError,
    PolygonBadRequestError,
    PolygonConfigError,
    PolygonConnectionError,
    PolygonError,
    PolygonNotEntitledError,
    PolygonNotFoundError,
    PolygonRateLimitError,
    PolygonResponseError,
    PolygonServerError,
    StreamConnectionError,
    StreamError,
    SubscriptionError,
    UnknownSymbolError,
)

# public name -> submodule that defines it
_LAZY = {
    "BatchFetcher": "polygon.manager.batch",
    "PolygonClient": "polygon.core",
    "PolygonConfig": "polygon.config",
    "PolygonDataManager": "polygon.manager",
    "PolygonWebSocketClient": "polygon.websocket",
    "RESTClient": "polygon.official",
    "Sandbox": "polygon.sandbox",
    "Timeframe": "polygon.markets.timeframes",
    "fetch_data": "polygon.manager",
    "generate_validation_summary": "polygon.validators",
    "get_config": "polygon.config",
    "get_rate_limit_status": "polygon.core.rate_limit",
    "get_storage_manager": "polygon.storage",
    "parse_timeframe": "polygon.markets.timeframes",
    "validate_symbol": "polygon.markets.symbols",
    "validate_symbol_detailed": "polygon.validators",
}

__all__ = [
    "BatchFetcher",
    "CacheError",
    "DataValidationError",
    "InvalidDateRangeError",
    "InvalidInputError",
    "InvalidParameterError",
    "InvalidSymbolError",
    "InvalidTimeframeError",
    "MaxConnectionsError",
    "PolygonAPIError",
    "PolygonAuthenticationError",
    "PolygonBadRequestError",
    "PolygonClient",
    "PolygonConfig",
    "PolygonConfigError",
    "PolygonConnectionError",
    "PolygonDataManager",
    "PolygonError",
    "PolygonNotEntitledError",
    "PolygonNotFoundError",
    "PolygonRateLimitError",
    "PolygonResponseError",
    "PolygonServerError",
    "PolygonWebSocketClient",
    "RESTClient",
    "Sandbox",
    "StreamConnectionError",
    "StreamError",
    "SubscriptionError",
    "Timeframe",
    "UnknownSymbolError",
    "__version__",
    "fetch_data",
    "generate_validation_summary",
    "get_config",
    "get_rate_limit_status",
    "get_storage_manager",
    "parse_timeframe",
    "validate_symbol",
    "validate_symbol_detailed",
]


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError("module 'polygon' has no attribute %r" % name)
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list:
    return sorted(set(globals()) | set(__all__))
