"""Issue 26 item 5: ``fetch_data`` checks its symbol once; the later layers trust the validated value.

The check itself (:func:`polygon.markets.symbols._check`) is counted while real calls run against the sandbox
over 127.0.0.1: cold, cached and ``use_cache=False``, for each market, and per symbol in a batch.
"""

import copy
import pickle

import pytest

import polygon.markets.symbols as symbols
from polygon.exceptions import InvalidSymbolError
from polygon.manager import PolygonDataManager
from polygon.markets.symbols import Symbol, market_of, validate_symbol

CASES = [
    ("MSFT", "stocks", "2024-01-02", "2024-01-05"),
    ("X:BTCUSD", "crypto", "2024-01-02", "2024-01-05"),
    ("C:EURUSD", "fx", "2024-01-02", "2024-01-05"),
    ("I:SPX", "indices", "2024-01-02", "2024-01-05"),
    ("O:AAPL240119C00150000", "options", "2024-01-02", "2024-01-05"),
    ("ESZ6", "futures", "2026-09-02", "2026-09-04"),
]


@pytest.fixture
def checks(monkeypatch):
    """The symbols the one real check ran on, in order."""
    seen = []
    real = symbols._check

    def counting(symbol):
        seen.append(symbol)
        return real(symbol)

    monkeypatch.setattr(symbols, "_check", counting)
    return seen


@pytest.fixture
def manager(sandbox_env):
    with PolygonDataManager() as mgr:
        yield mgr


@pytest.mark.parametrize("symbol,market,start,end", CASES, ids=[c[1] for c in CASES])
def test_fetch_data_checks_the_symbol_once(manager, checks, symbol, market, start, end):
    lower = symbol.lower()  # normalised by the one check
    cold = manager.fetch_data(lower, "1min", start, end)
    assert checks == [lower], "cold call"
    assert len(cold) > 0 and cold.attrs["symbol"] == symbol and type(cold.attrs["symbol"]) is str
    del checks[:]
    warm = manager.fetch_data(lower, "1min", start, end)
    assert checks == [lower], "cached call"
    assert warm.attrs["source"] == "cache" and len(warm) == len(cold)
    del checks[:]
    manager.fetch_data(lower, "1day", start, end, use_cache=False)
    assert checks == [lower], "use_cache=False"


def test_a_batch_checks_each_symbol_once(manager, checks):
    names = ["aapl", "msft", "x:btcusd"]
    out = manager.fetch_multiple_symbols(names, "1day", "2024-01-02", "2024-01-31")
    assert sorted(checks) == ["AAPL", "MSFT", "X:BTCUSD"]  # normalised once for de-duplication, checked once
    assert {k: len(v) > 0 for k, v in out.items()} == {"AAPL": True, "MSFT": True, "X:BTCUSD": True}


def test_a_bad_symbol_is_still_refused_before_any_request(sandbox_env, manager, checks):
    before = sandbox_env.stats()["requests_total"]
    with pytest.raises(InvalidSymbolError, match="letters A-Z"):
        manager.fetch_data("../etc", "1day", "2024-01-02", "2024-01-05")
    assert checks == ["../etc"]
    assert sandbox_env.stats()["requests_total"] == before


def test_symbol_is_the_validated_value():
    sym = validate_symbol("  brk.b ")
    assert type(sym) is Symbol and sym == "BRK.B" and sym.market == "stocks"
    assert validate_symbol(sym) is sym  # trusted, not checked again
    assert [market_of(s) for s in ("X:BTCUSD", "C:EURUSD", "I:SPX", "O:AAPL240119C00150000", "CLF26", "AAPL")] \
        == ["crypto", "fx", "indices", "options", "futures", "stocks"]
    clone = pickle.loads(pickle.dumps(sym))
    assert type(clone) is Symbol and clone == sym and clone.market == "stocks"
    assert copy.deepcopy(sym).market == "stocks"


def test_a_symbol_cannot_be_made_around_the_check():
    with pytest.raises(TypeError, match="validate_symbol"):
        Symbol("../../etc", "stocks")
    with pytest.raises(InvalidSymbolError):
        market_of("../../etc")
