import os

import pytest
from hypothesis import given
from hypothesis import strategies as st

from polygon.exceptions import InvalidSymbolError
from polygon.markets.symbols import filename_to_symbol, market_of, symbol_to_filename, validate_symbol, validate_symbols


@pytest.mark.parametrize(
    "given_, normal, market",
    [
        ("aapl", "AAPL", "stocks"), (" BRK.B ", "BRK.B", "stocks"), ("X:BTCUSD", "X:BTCUSD", "crypto"),
        ("O:AAPL230616C00150000", "O:AAPL230616C00150000", "options"), ("I:SPX", "I:SPX", "indices"),
        ("C:EURUSD", "C:EURUSD", "fx"), ("BF-B", "BF-B", "stocks"),
    ],
)
def test_provider_tickers_accepted(given_, normal, market):
    assert validate_symbol(given_) == normal
    assert market_of(given_) == market
    assert filename_to_symbol(symbol_to_filename(given_)) == normal


@pytest.mark.parametrize(
    "bad", ["", "   ", "../etc/passwd", "..", ".", "A/B", "A\\B", "A..B", ".AAPL", "AAPL.", "A\x00B", "Z:ABC",
            "X:", "ÄAPL", "A" * 41, None, 123, "AA PL", "~root", "$HOME"],
)
def test_bad_symbols_rejected_with_allowed_forms(bad):
    with pytest.raises(InvalidSymbolError) as info:
        validate_symbol(bad)
    assert isinstance(info.value, ValueError)
    assert "A-Z" in str(info.value)


def test_validate_symbols_dedups_and_refuses_empty():
    assert validate_symbols(["aapl", "AAPL", "msft"]) == ["AAPL", "MSFT"]
    assert validate_symbols("spy") == ["SPY"]
    with pytest.raises(InvalidSymbolError):
        validate_symbols([])


@given(st.text(max_size=30))
def test_accepted_symbols_are_always_safe_file_names(text):
    try:
        name = symbol_to_filename(text)
    except InvalidSymbolError:
        return
    assert os.sep not in name and "/" not in name and "\\" not in name
    assert name not in (".", "..") and not name.startswith(".")
    assert os.path.basename(name) == name
