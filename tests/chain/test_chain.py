"""options_chain against the sandbox's chain snapshot (Black-Scholes priced, greeks included)."""

import datetime as dt

import pytest

from polygon.chain import CHAIN_COLUMNS, options_chain
from polygon.exceptions import InvalidParameterError


@pytest.fixture(scope="module")
def config():
    from polygon.sandbox import Sandbox

    with Sandbox(port=0, clock="2024-01-04") as sb:
        yield sb.config()


@pytest.fixture(scope="module")
def chain(config):
    """The chain's first two weekly expiries (the whole chain is large to price)."""
    return options_chain("SPY", expiration_lte="2024-01-12", config=config)


def test_the_chain_is_tidy_and_plausible(chain):
    assert tuple(chain.columns) == CHAIN_COLUMNS and len(chain) > 100
    assert set(chain["type"]) == {"call", "put"} and set(chain["underlying"]) == {"SPY"}
    assert chain["ticker"].str.startswith("O:SPY").all() and chain["ticker"].is_unique
    keys = list(zip(chain["expiration"], chain["strike"], chain["type"]))
    assert keys == sorted(keys) and all(isinstance(e, dt.date) for e in chain["expiration"])
    quoted = chain.dropna(subset=["bid", "ask"])
    assert len(quoted) and (quoted["bid"] <= quoted["ask"]).all()
    calls, puts = chain[chain["type"] == "call"], chain[chain["type"] == "put"]
    assert calls["delta"].between(0, 1).all() and puts["delta"].between(-1, 0).all()
    assert (chain["implied_volatility"] > 0).all() and (chain["gamma"] >= 0).all()


def test_filters_by_expiry_strike_range_and_type(config, chain):
    assert sorted(set(chain["expiration"])) == [dt.date(2024, 1, 5), dt.date(2024, 1, 12)]
    expiry = dt.date(2024, 1, 12)
    mid = float(chain["strike"].median())
    part = options_chain("SPY", expiration=expiry, strike_min=mid - 10, strike_max=mid + 10, contract_type="put",
                         config=config)
    assert len(part) > 0
    assert set(part["expiration"]) == {expiry} and set(part["type"]) == {"put"}
    assert part["strike"].between(mid - 10, mid + 10).all()
    expected = chain[(chain["expiration"] == expiry) & (chain["type"] == "put")
                     & chain["strike"].between(mid - 10, mid + 10)]
    assert part["ticker"].tolist() == expected["ticker"].tolist()
    later = options_chain("SPY", expiration_gte=expiry, expiration_lte="2024-01-19", config=config)
    assert sorted(set(later["expiration"])) == [expiry, dt.date(2024, 1, 19)]


def test_bad_filters_are_rejected_before_any_request(config):
    with pytest.raises(InvalidParameterError, match="'call' or 'put'"):
        options_chain("SPY", contract_type="calls", config=config)
    with pytest.raises(InvalidParameterError, match="above strike_max"):
        options_chain("SPY", strike_min=500, strike_max=400, config=config)
    with pytest.raises(InvalidParameterError, match="not both"):
        options_chain("SPY", expiration="2024-01-19", expiration_lte="2024-02-16", config=config)
