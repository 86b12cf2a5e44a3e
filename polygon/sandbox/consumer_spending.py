"""EU consumer spending (``/consumer-spending/eu/v1/*``): a merchant hierarchy and daily card-spend aggregates
per merchant, country and channel over the last 120 days, published three days after each transaction date.

Merchants are fictional; each belongs to a parent group (some listed, with tickers of the form ``XXXX.DE``).
Spend follows a weekly pattern (Saturday high, Sunday low for shops) around a stable level per merchant
and country; totals are the in-country spend plus the cross-border spend, and the rolling account counts
sum the daily active accounts over the previous 8 and 28 days.
"""

import datetime as _dt
import functools
from typing import Any, Dict, List, Tuple

from polygon.sandbox.universe import stable_fraction

__all__ = ["CHANNELS", "COUNTRIES", "MERCHANTS", "aggregates", "hierarchy"]

WINDOW_DAYS = 120
PUBLISH_LAG = _dt.timedelta(days=3)
COUNTRIES = ("DE", "FR", "ES", "IT", "NL")
CHANNELS = ("online", "in_store")
# lookup name, parent, parent ticker, grandparent, sector, industry group, industry, sub-industry, mcc group
MERCHANTS = (
    ("FRISCHMARKT", "Frischmarkt Gruppe", "FRMG.DE", None, "Consumer Staples", "Food Retail", "Food Retail",
     "Supermarkets", "Grocery Stores"),
    ("MAISON CLAIRE", "Claire Retail SA", "CLRS.PA", None, "Consumer Discretionary", "Retailing",
     "Specialty Retail", "Apparel Retail", "Clothing Stores"),
    ("VELOCITA", "Velocita Mobilita SpA", "VMOB.MI", None, "Industrials", "Transportation", "Ground Transport",
     "Ride Sharing", "Transportation Services"),
    ("CASA VERDE", "Grupo Verde SA", "GVRD.MC", None, "Consumer Discretionary", "Retailing", "Home Improvement",
     "Home Improvement Retail", "Home Supply Stores"),
    ("NOORDSTREAM", "Noordstream BV", None, "Northern Media Holding", "Communication Services", "Media",
     "Entertainment", "Streaming Services", "Digital Goods"),
    ("KAFFEEHAUS 24", "Frischmarkt Gruppe", "FRMG.DE", None, "Consumer Discretionary", "Consumer Services",
     "Restaurants", "Cafes", "Eating Places"),
    ("SKYBRIDGE AIR", "Skybridge Aviation plc", "SKYB.AS", None, "Industrials", "Transportation", "Airlines",
     "Passenger Airlines", "Airlines"),
    ("PHARMA PUNKT", "Gesundheit Handel AG", "GSHA.DE", None, "Consumer Staples", "Health Retail",
     "Drug Retail", "Pharmacies", "Drug Stores"),
)


def _ticker(name: str) -> str:
    return "".join(c for c in name if c.isalpha())[:4].upper() + ".EU"


@functools.lru_cache(maxsize=1)
def hierarchy() -> List[Dict[str, Any]]:
    """One row per merchant, with its parent (and grandparent) group and classification."""
    out = []
    for name, parent, parent_ticker, grandparent, sector, group, industry, sub, _ in MERCHANTS:
        row = {"lookup_name": name, "normalized_name": name.title(), "parent_name": parent,
               "sector": sector, "industry_group": group, "industry": industry, "sub_industry": sub,
               "category": sub, "listing_status": "listed" if parent_ticker else "private",
               "active_from": "2019-01-01", "ticker": _ticker(name)}
        if parent_ticker:
            row["parent_ticker"] = parent_ticker
        if grandparent:
            row["grandparent_name"] = grandparent
        out.append(row)
    return out


def _level(name: str, country: str, channel: str) -> Tuple[float, int]:
    """Daily spend (EUR) and active accounts of a merchant in a country and channel."""
    share = 0.2 + 0.6 * stable_fraction("online-share", name) if channel == "online" else 1.0
    spend = 20_000 + 480_000 * stable_fraction("spend", name, country)
    return spend * share, int(spend * share / (25 + 60 * stable_fraction("ticket", name)))


@functools.lru_cache(maxsize=8)
def aggregates(as_of: _dt.date) -> List[Dict[str, Any]]:
    """Daily aggregates of the last ``WINDOW_DAYS`` days published by ``as_of``."""
    out = []
    last = as_of - PUBLISH_LAG
    days = [last - _dt.timedelta(days=i) for i in range(WINDOW_DAYS + 28)]
    for name, parent, parent_ticker, _, _, _, industry, _, mcc in MERCHANTS:
        for country in COUNTRIES:
            for channel in CHANNELS:
                spend, accounts = _level(name, country, channel)
                daily: Dict[_dt.date, int] = {}
                for day in sorted(days):
                    weekly = (0.95, 0.9, 0.95, 1.0, 1.1, 1.3, 0.6 if channel == "in_store" else 1.2)[day.weekday()]
                    noise = 0.9 + 0.2 * stable_fraction("day", name, country, channel, day.isoformat())
                    daily[day] = int(accounts * weekly * noise)
                    if day < last - _dt.timedelta(days=WINDOW_DAYS - 1):
                        continue
                    cross_border = 0.05 + 0.1 * stable_fraction("xb", name, country)
                    total = round(spend * weekly * noise, 2)
                    tx = int(daily[day] * 1.15)
                    eight = sum(daily.get(day - _dt.timedelta(days=k), 0) for k in range(8))
                    twenty_eight = sum(daily.get(day - _dt.timedelta(days=k), 0) for k in range(28))
                    out.append({"name": name, "parent_name": parent, "merchant_ticker": parent_ticker,
                                "merchant_industry": industry, "mcc_group": mcc, "user_country": country,
                                "channel": channel, "consumer_type": "consumer", "type": "merchant",
                                "transaction_date": day.isoformat(),
                                "published_date": (day + PUBLISH_LAG).isoformat(), "transaction_currency": "EUR",
                                "total_spend": total, "total_transactions": tx, "total_accounts": daily[day],
                                "spend_in_spend": round(total * (1 - cross_border), 2),
                                "spend_in_transaction_count": int(tx * (1 - cross_border)),
                                "spend_in_distinct_account_key_count": int(daily[day] * (1 - cross_border)),
                                "spend_out_spend": round(total * cross_border, 2),
                                "spend_out_transaction_count": tx - int(tx * (1 - cross_border)),
                                "spend_out_distinct_account_key_count":
                                    daily[day] - int(daily[day] * (1 - cross_border)),
                                "eight_day_rolling_total_accounts": eight,
                                "eight_day_rolling_category_accounts": int(eight * 3.1),
                                "twenty_eight_day_rolling_total_accounts": twenty_eight,
                                "twenty_eight_day_rolling_category_accounts": int(twenty_eight * 3.1)})
    return out
