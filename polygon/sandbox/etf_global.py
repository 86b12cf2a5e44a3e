"""The ETF Global partner datasets of the sandbox (``/etf-global/v1/*``): each ETF of the universe with its
holdings, fund flows, profile, taxonomy and analytics scores.

Holdings follow the fund's mandate over the sandbox's companies (the S&P 500 and total-market funds hold
them all, the Nasdaq-100 fund the Nasdaq listings, sector funds their sector, the Russell 2000 fund the
smallest), weighted by market value (price level x shares outstanding); a fund's assets are its price
level times its shares outstanding, and each position's market value is its weight of those assets, so
constituent values add up to the fund's AUM. Exposures in the profile sum the holdings' weights by sector.
Funds without stock holdings (gold, Treasury bonds, emerging markets) hold one representative position.
"""

import datetime as _dt
import functools
from typing import Any, Dict, List, Tuple

from polygon.sandbox.bars import anchor_price
from polygon.sandbox.fundamentals import companies
from polygon.sandbox.refdata import sector_of
from polygon.sandbox.reference import shares_outstanding
from polygon.sandbox.universe import Security, Universe, stable_fraction, stable_seed

__all__ = ["constituents", "etfs", "fund_size", "isin_of", "issuer_of", "profile", "sector_exposure", "taxonomy"]

_ISSUERS = (("SPDR", "State Street Global Advisors"), ("iShares", "BlackRock"), ("Vanguard", "Vanguard"),
            ("Invesco", "Invesco"), ("Financial Select", "State Street Global Advisors"),
            ("Energy Select", "State Street Global Advisors"))
# fund -> (asset class, category, single holding name when it holds no sandbox stock)
_NON_EQUITY = {"GLD": ("Commodity", "Precious Metals", "GOLD BULLION"),
               "TLT": ("Fixed Income", "Government, Treasury", "UNITED STATES TREASURY BOND 4.25% 2054"),
               "EEM": ("Equity", "Emerging Markets", "ISHARES MSCI EM CORE BASKET")}


def etfs(universe: Universe) -> List[Security]:
    """The universe's exchange-traded funds."""
    return [s for s in universe.securities if s.type == "ETF"]


def issuer_of(fund: Security) -> str:
    for prefix, issuer in _ISSUERS:
        if prefix in fund.name:
            return issuer
    return "Sandbox Funds"


def isin_of(ticker: str) -> str:
    """A US ISIN-shaped identifier of ``ticker`` (with its CUSIP-shaped ``us_code``)."""
    digits = "%08d" % (stable_seed("cusip", ticker) % 10**8)
    cusip = digits[:6] + "10" + str(sum(int(c) for c in digits) % 10)
    return "US%s%d" % (cusip, stable_seed("isin", cusip) % 10)


def _members(universe: Universe, fund: Security) -> List[Security]:
    every = companies(universe)
    size = {s.ticker: anchor_price(s, _dt.date(2024, 1, 2)) * shares_outstanding(s) for s in every}
    if fund.ticker in ("SPY", "VOO", "VTI"):
        return every
    if fund.ticker == "QQQ":
        return [s for s in every if s.primary_exchange == "XNAS"]
    if fund.ticker == "DIA":
        return sorted(every, key=lambda s: -size[s.ticker])[:30]
    if fund.ticker == "IWM":
        return sorted(every, key=lambda s: size[s.ticker])[:150]
    if fund.ticker in ("XLF", "XLE"):
        wanted = "financials" if fund.ticker == "XLF" else "energy"
        return [s for s in every if sector_of(s.ticker)[0] == wanted]
    if fund.ticker in _NON_EQUITY:
        return []
    return [s for s in every if stable_fraction("fund-member", fund.ticker, s.ticker) < 0.12]


def fund_size(universe: Universe, fund: Security, day: _dt.date) -> Tuple[float, int]:
    """``(net asset value per share, shares outstanding)`` of ``fund`` on ``day`` (shares drift with flows)."""
    base = shares_outstanding(fund) // 20  # a fund's shares: a twentieth of a company's with the same volume
    drift = 1.0 + 0.05 * ((day.toordinal() % 365) / 365.0 - 0.5) * (stable_fraction("flow-dir", fund.ticker) - 0.4)
    shares = int(base * drift * (1.0 + 0.002 * (stable_fraction("flow", fund.ticker, day.isoformat()) - 0.5)))
    nav = anchor_price(fund, day) * universe.split_factor(fund.ticker, day.isoformat())
    return round(nav, 4), shares


@functools.lru_cache(maxsize=256)
def constituents(universe: Universe, ticker: str, day: _dt.date) -> List[Dict[str, Any]]:
    """The positions of fund ``ticker`` on ``day``, largest first; market values add up to its AUM."""
    fund = universe.get(ticker)
    nav, shares = fund_size(universe, fund, day)
    aum = nav * shares
    members = _members(universe, fund)
    if not members:
        asset_class, _, name = _NON_EQUITY[ticker]
        return [{"constituent_name": name, "constituent_ticker": None, "asset_class": asset_class, "weight": 1.0,
                 "market_value": round(aum, 2), "shares_held": round(aum / 100.0, 2), "security_type": asset_class,
                 "country_of_exchange": "US", "currency_traded": "USD", "exchange": None}]
    prices = {s.ticker: anchor_price(s, day) * universe.split_factor(s.ticker, day.isoformat()) for s in members}
    values = {s.ticker: prices[s.ticker] * shares_outstanding(s) for s in members}
    total = sum(values.values())
    out = []
    for s in sorted(members, key=lambda m: -values[m.ticker]):
        weight = values[s.ticker] / total
        isin = isin_of(s.ticker)
        out.append({"constituent_ticker": s.ticker, "constituent_name": s.name, "asset_class": "Equity",
                    "security_type": "Common Stock", "weight": round(weight, 8), "market_value": round(weight * aum, 2),
                    "shares_held": round(weight * aum / prices[s.ticker], 2), "exchange": s.primary_exchange,
                    "country_of_exchange": "US", "currency_traded": "USD", "isin": isin, "us_code": isin[2:11],
                    "figi": "BBG%09d" % (stable_seed("figi", s.ticker) % 10**9),
                    "sedol": "%07d" % (stable_seed("sedol", s.ticker) % 10**7)})
    return out


def sector_exposure(universe: Universe, ticker: str, day: _dt.date) -> Dict[str, float]:
    """The fund's weights summed by sector (sector tag -> weight)."""
    out: Dict[str, float] = {}
    for row in constituents(universe, ticker, day):
        key = sector_of(row["constituent_ticker"])[0] if row["constituent_ticker"] else row["asset_class"].lower()
        out[key] = round(out.get(key, 0.0) + row["weight"], 6)
    return out


def _asset_class(fund: Security) -> Tuple[str, str]:
    if fund.ticker in _NON_EQUITY:
        return _NON_EQUITY[fund.ticker][:2]
    return "Equity", "Sector" if fund.ticker in ("XLF", "XLE") else "Size and Style"


def profile(universe: Universe, fund: Security, day: _dt.date) -> Dict[str, Any]:
    """The fund's profile on ``day``."""
    nav, shares = fund_size(universe, fund, day)
    holdings = constituents(universe, fund.ticker, day)
    asset_class, category = _asset_class(fund)
    fee = round(0.0003 + 0.006 * stable_fraction("fee", fund.ticker), 4)
    return {"composite_ticker": fund.ticker, "issuer": issuer_of(fund), "advisor": issuer_of(fund),
            "description": "%s seeks to track its benchmark before fees." % fund.name,
            "asset_class": asset_class, "category": category, "focus": category, "development_class": "Developed",
            "region": "North America", "inception_date": fund.list_date, "listing_exchange": fund.primary_exchange,
            "aum": round(nav * shares, 2), "num_holdings": float(len(holdings)), "management_fee": fee,
            "other_expenses": 0.0, "fee_waivers": 0.0, "total_expenses": fee, "net_expenses": fee,
            "avg_daily_trading_volume": float(fund.base_volume), "bid_ask_spread": 0.01,
            "discount_premium": round(0.1 * (stable_fraction("premium", fund.ticker, day.isoformat()) - 0.5), 4),
            "creation_unit_size": 50000.0, "creation_fee": 500.0, "distribution_frequency": "Quarterly",
            "fiscal_year_end": "09-30", "leverage_style": "Unleveraged", "levered_amount": 1.0,
            "management_classification": "Passive", "product_type": "ETF", "tax_classification": "RIC",
            "options_available": 1, "primary_benchmark": fund.name.replace(" ETF", "") + " Index",
            "custodian": "Sandbox Trust Company", "distributor": "Sandbox Distributors LLC",
            "transfer_agent": "Sandbox Trust Company", "trustee": "Sandbox Trust Company",
            "portfolio_manager": "Index Team", "administrator": "Sandbox Trust Company",
            "sector_exposure": sector_exposure(universe, fund.ticker, day),
            "geographic_exposure": {"United States": 1.0}, "currency_exposure": {"USD": 1.0}}


def taxonomy(fund: Security) -> Dict[str, Any]:
    """The fund's classification."""
    asset_class, category = _asset_class(fund)
    return {"composite_ticker": fund.ticker, "asset_class": asset_class, "category": category,
            "country": "United States", "region": "North America", "development_class": "Developed",
            "description": "%s: %s, %s." % (fund.name, asset_class.lower(), category.lower()),
            "esg": "No", "exposure_mechanism": "Physical", "factor": "Market Cap", "focus": category,
            "holdings_disclosure_frequency": "Daily", "inception_date": fund.list_date, "isin": isin_of(fund.ticker),
            "us_code": isin_of(fund.ticker)[2:11], "issuer": issuer_of(fund), "leverage_style": "Unleveraged",
            "levered_amount": 1.0, "management_classification": "Passive", "management_style": "Index",
            "objective": "Track the benchmark", "primary_benchmark": fund.name.replace(" ETF", "") + " Index",
            "product_type": "ETF", "rebalance_frequency": "Quarterly", "reconstitution_frequency": "Annually",
            "selection_methodology": "Rules-based", "selection_universe": "US listed equities",
            "strategic_focus": category, "targeted_focus": category, "tax_classification": "RIC",
            "weighting_methodology": "Market Cap"}
