"""Every public name imports from its documented path: the guides' and the README's, and each module's __all__."""

import importlib
import pkgutil

import pytest

import polygon

#: the import paths the guides and the README show (they stay, whatever moves behind them)
DOCUMENTED = {
    "polygon": ["fetch_data", "PolygonDataManager", "PolygonWebSocketClient", "Sandbox", "UnknownSymbolError",
                "RESTClient"],
    "polygon.official": ["RESTClient", "RequestOptionBuilder", "RawResponse"],
    "polygon.websocket": ["PolygonWebSocketClient", "StorageSink"],
    "polygon.core": ["PolygonClient"],
    "polygon.storage": ["get_storage_manager", "StorageManager"],
    "polygon.config": ["get_config", "PolygonConfig"],
    "polygon.validators": ["generate_validation_summary", "validate_symbol_detailed", "format_report"],
    "polygon.markets": ["session_bounds", "trading_intervals", "day_zone"],
    "polygon.markets.symbols": ["validate_symbol", "validate_symbols", "market_of"],
    "polygon.polygon_server.server": ["PolygonServer", "create_app", "main"],
    "polygon.manager": ["fetch_data", "PolygonDataManager"],
    "polygon.sandbox": ["Sandbox"],
    "polygon.flatfiles": ["sync_flatfiles", "TickStore"],
    "polygon.sql": ["query", "refresh_mirror"],
    "polygon.ticks": ["fetch_trades", "fetch_quotes"],
    "polygon.chain": ["options_chain"],
    "polygon.options": ["parse_option_ticker", "build_option_ticker"],
}


@pytest.mark.parametrize("module", sorted(DOCUMENTED))
def test_documented_names_import_from_their_paths(module):
    mod = importlib.import_module(module)
    missing = [name for name in DOCUMENTED[module] if getattr(mod, name, None) is None]
    assert missing == [], "%s no longer has %s" % (module, missing)


def _modules():
    for info in pkgutil.walk_packages(polygon.__path__, "polygon."):
        if not info.name.endswith("__main__"):
            yield info.name


def test_every_all_name_resolves():
    broken = []
    for name in _modules():
        mod = importlib.import_module(name)
        broken += ["%s.%s" % (name, item) for item in getattr(mod, "__all__", ()) if not hasattr(mod, item)]
    assert broken == []
