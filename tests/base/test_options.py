"""OCC option tickers: parse and build, with clear errors."""

import datetime as dt

import pytest
from hypothesis import given
from hypothesis import strategies as st

from polygon.exceptions import InvalidParameterError, InvalidSymbolError
from polygon.options import OptionContract, build_option_ticker, is_option_ticker, parse_option_ticker


def test_parse_the_guide_ticker():
    c = parse_option_ticker("O:SPY251219C00500000")
    assert c == OptionContract("SPY", dt.date(2025, 12, 19), "call", 500.0)
    assert c.ticker == "O:SPY251219C00500000"
    assert parse_option_ticker("o:aapl230616p00152500") == OptionContract("AAPL", dt.date(2023, 6, 16), "put", 152.5)
    assert parse_option_ticker("BRK.B240119C00350000").underlying == "BRK.B"  # prefix optional


def test_build():
    assert build_option_ticker("spy", "2025-12-19", "call", 500) == "O:SPY251219C00500000"
    assert build_option_ticker("AAPL", dt.date(2023, 6, 16), "P", 152.5) == "O:AAPL230616P00152500"
    assert build_option_ticker("F", dt.datetime(2024, 1, 19, 16), "put", "12.125") == "O:F240119P00012125"


@pytest.mark.parametrize("bad, why", [
    ("O:SPY25C0050", "too short"),
    ("O:SPY2512C00500000", "does not end in"),
    ("O:SPY251319C00500000", "not a real date"),
    ("O:SPY251219X00500000", "does not end in"),
    ("O:TOOLONGX251219C00500000", "longer than 6"),
    ("O:SPY251219C00000000", "strike is zero"),
    (42, "expected a string"),
])
def test_parse_errors_name_the_bad_part(bad, why):
    with pytest.raises(InvalidSymbolError) as info:
        parse_option_ticker(bad)
    assert why in str(info.value) and "O:SPY251219C00500000" in str(info.value)
    assert not is_option_ticker(bad)


@pytest.mark.parametrize("args, name", [
    (("", "2025-12-19", "call", 500), "underlying"),
    (("SPY", "2025-13-19", "call", 500), "expiry"),
    (("SPY", "1999-12-19", "call", 500), "expiry"),
    (("SPY", "2025-12-19", "straddle", 500), "right"),
    (("SPY", "2025-12-19", "call", 0), "strike"),
    (("SPY", "2025-12-19", "call", 500.0001), "strike"),
    (("SPY", "2025-12-19", "call", True), "strike"),
    (("SPY", "2025-12-19", "call", 100000), "strike"),
])
def test_build_errors_name_the_bad_part(args, name):
    with pytest.raises(InvalidParameterError) as info:
        build_option_ticker(*args)
    assert str(info.value).startswith("invalid %s" % name)


@given(st.sampled_from(["SPY", "AAPL", "F", "BRK.B", "QQQ1"]), st.dates(dt.date(2000, 1, 1), dt.date(2099, 12, 31)),
       st.sampled_from(["call", "put"]), st.integers(1, 99_999_999))
def test_build_parse_round_trip(root, expiry, right, thousandths):
    ticker = build_option_ticker(root, expiry, right, thousandths / 1000)
    assert parse_option_ticker(ticker) == OptionContract(root, expiry, right, thousandths / 1000)
