"""Static reference tables of the sandbox: exchanges, trade/quote conditions, ticker types, sectors.

Real identifiers where the sandbox's other bodies use them (the exchange ids of its trades and quotes:
4, 7, 10, 11, 12, 19, 21; condition 37 "Odd Lot Trade"), so lists and market data agree.
"""

from typing import Dict, List, Tuple

from polygon.sandbox.universe import stable_seed

__all__ = ["CONDITIONS", "EXCHANGES", "SECTORS", "TICKER_TYPES", "sector_of"]


def _exchange(id_, asset_class, locale, name, type_="exchange", mic=None, acronym=None, participant=None, url=None):
    row = {"id": id_, "asset_class": asset_class, "locale": locale, "name": name, "type": type_}
    if mic:
        row["mic"] = row["operating_mic"] = mic
    if acronym:
        row["acronym"] = acronym
    if participant:
        row["participant_id"] = participant
    if url:
        row["url"] = url
    return row


EXCHANGES: List[Dict[str, object]] = [
    _exchange(1, "stocks", "us", "NYSE American, LLC", mic="XASE", acronym="AMEX", participant="A",
              url="https://www.nyse.com/markets/nyse-american"),
    _exchange(2, "stocks", "us", "Nasdaq OMX BX, Inc.", mic="XBOS", participant="B", url="https://www.nasdaq.com"),
    _exchange(4, "stocks", "us", "FINRA Alternative Display Facility", type_="TRF", mic="XADF", participant="D",
              url="https://www.finra.org"),
    _exchange(7, "stocks", "us", "Cboe EDGX", mic="EDGX", participant="K", url="https://www.cboe.com"),
    _exchange(8, "stocks", "us", "Cboe BZX", mic="BATS", acronym="BATS", participant="Z", url="https://www.cboe.com"),
    _exchange(10, "stocks", "us", "New York Stock Exchange", mic="XNYS", acronym="NYSE", participant="N",
              url="https://www.nyse.com"),
    _exchange(11, "stocks", "us", "NYSE Arca, Inc.", mic="ARCX", acronym="NYSEArca", participant="P",
              url="https://www.nyse.com/markets/nyse-arca"),
    _exchange(12, "stocks", "us", "Nasdaq", mic="XNAS", acronym="NASDAQ", participant="T",
              url="https://www.nasdaq.com"),
    _exchange(19, "stocks", "us", "Investors Exchange", mic="IEXG", acronym="IEX", participant="V",
              url="https://www.iextrading.com"),
    _exchange(21, "stocks", "us", "MIAX Pearl Equities", mic="EPRL", participant="H", url="https://www.miaxglobal.com"),
    _exchange(62, "stocks", "us", "OTC Equity Security", mic="OOTC", url="https://www.otcmarkets.com"),
    _exchange(300, "options", "us", "NYSE American Options", mic="AMXO", participant="A"),
    _exchange(302, "options", "us", "Cboe Options", mic="XCBO", participant="C", url="https://www.cboe.com"),
    _exchange(312, "options", "us", "Nasdaq Options Market", mic="XNDQ", participant="Q"),
    _exchange(316, "options", "us", "Options Price Reporting Authority", type_="SIP", acronym="OPRA", participant="O"),
    _exchange(1, "crypto", "global", "Coinbase", url="https://www.coinbase.com"),
    _exchange(2, "crypto", "global", "Bitfinex", url="https://www.bitfinex.com"),
    _exchange(6, "crypto", "global", "Bitstamp", url="https://www.bitstamp.net"),
    _exchange(23, "crypto", "global", "Kraken", url="https://www.kraken.com"),
    _exchange(48, "fx", "global", "Currency Banks Aggregate"),
]


def _condition(id_, name, type_, asset_class="stocks", data_types=("trade",), sip=None, abbreviation=None,
               updates=(True, True, True), legacy=False, description=None):
    hl, oc, vol = updates
    rule = {"updates_high_low": hl, "updates_open_close": oc, "updates_volume": vol}
    row = {"id": id_, "name": name, "type": type_, "asset_class": asset_class, "data_types": list(data_types),
           "sip_mapping": dict(sip or {}), "legacy": legacy,
           "update_rules": {"consolidated": dict(rule), "market_center": dict(rule)}}
    if abbreviation:
        row["abbreviation"] = abbreviation
    if description:
        row["description"] = description
    return row


CONDITIONS: List[Dict[str, object]] = [
    _condition(0, "Regular Trade", "sale_condition", sip={"CTA": "@", "UTP": "@"}),
    _condition(1, "Acquisition", "sale_condition", sip={"UTP": "A"}),
    _condition(2, "Average Price Trade", "sale_condition", sip={"CTA": "B", "UTP": "W"}, updates=(False, False, True)),
    _condition(7, "Cash Sale", "sale_condition", sip={"CTA": "C", "UTP": "C"}, updates=(False, False, True)),
    _condition(12, "Form T", "sale_condition", sip={"CTA": "T", "UTP": "T"}, updates=(False, False, True),
               description="Trade reported outside regular trading hours."),
    _condition(14, "Intermarket Sweep", "sale_condition", sip={"CTA": "F", "UTP": "F"}),
    _condition(15, "Market Center Official Close", "sale_condition", sip={"UTP": "M"}, updates=(False, False, False)),
    _condition(16, "Market Center Official Open", "sale_condition", sip={"UTP": "Q"}, updates=(False, False, False)),
    _condition(37, "Odd Lot Trade", "sale_condition", sip={"CTA": "I", "UTP": "I"}, updates=(False, False, True)),
    _condition(41, "Trade Thru Exempt", "trade_thru_exempt", sip={"CTA": "X", "UTP": "Y"}),
    _condition(53, "Contingent Trade", "sale_condition", sip={"CTA": "V", "UTP": "V"}, updates=(False, False, True)),
    _condition(1, "Regular, Two-Sided Open", "quote_condition", data_types=("nbbo",), sip={"CTA": "R", "UTP": "R"}),
    _condition(8, "Closed Market Maker", "quote_condition", data_types=("nbbo",), sip={"UTP": "L"}),
    _condition(17, "Slow Quote", "quote_condition", data_types=("nbbo",), sip={"CTA": "D"}),
    _condition(209, "Regular", "sale_condition", asset_class="options", sip={"OPRA": " "}),
    _condition(219, "Intermarket Sweep", "sale_condition", asset_class="options", sip={"OPRA": "S"}),
    _condition(227, "Single Leg Auction Non ISO", "sale_condition", asset_class="options", sip={"OPRA": "a"}),
    _condition(1, "Sell Side", "sale_condition", asset_class="crypto"),
    _condition(2, "Buy Side", "sale_condition", asset_class="crypto"),
]

# code, description, asset class, locale
TICKER_TYPES: List[Dict[str, str]] = [
    {"code": code, "description": text, "asset_class": asset, "locale": locale}
    for code, text, asset, locale in [
        ("CS", "Common Stock", "stocks", "us"),
        ("PFD", "Preferred Stock", "stocks", "us"),
        ("WARRANT", "Warrant", "stocks", "us"),
        ("RIGHT", "Rights", "stocks", "us"),
        ("BOND", "Corporate Bond", "stocks", "us"),
        ("ETF", "Exchange Traded Fund", "stocks", "us"),
        ("ETN", "Exchange Traded Note", "stocks", "us"),
        ("ETV", "Exchange Traded Vehicle", "stocks", "us"),
        ("SP", "Structured Product", "stocks", "us"),
        ("ADRC", "American Depository Receipt Common", "stocks", "us"),
        ("FUND", "Fund", "stocks", "us"),
        ("UNIT", "Unit", "stocks", "us"),
        ("OS", "Ordinary Shares", "stocks", "us"),
        ("OTHER", "Other Security Type", "stocks", "us"),
        ("INDEX", "Index", "indices", "us"),
        ("CRYPTO", "Crypto Currency Pair", "crypto", "global"),
        ("FX", "Currency Pair", "fx", "global"),
    ]
]

# sector tag, SIC code, SIC description
SECTORS: List[Tuple[str, str, str]] = [
    ("information_technology", "3571", "ELECTRONIC COMPUTERS"),
    ("communication_services", "7370", "SERVICES-COMPUTER PROGRAMMING, DATA PROCESSING, ETC."),
    ("consumer_discretionary", "5961", "RETAIL-CATALOG & MAIL-ORDER HOUSES"),
    ("financials", "6021", "NATIONAL COMMERCIAL BANKS"),
    ("health_care", "2834", "PHARMACEUTICAL PREPARATIONS"),
    ("energy", "2911", "PETROLEUM REFINING"),
    ("consumer_staples", "2080", "BEVERAGES"),
    ("industrials", "3720", "AIRCRAFT & PARTS"),
]
_KNOWN_SECTORS = {
    "information_technology": "AAPL MSFT NVDA AMD INTC CSCO ADBE AVGO QCOM IBM",
    "communication_services": "GOOGL GOOG META NFLX DIS T VZ",
    "consumer_discretionary": "AMZN TSLA SBUX HD NKE MCD F",
    "financials": "JPM BAC WFC GS V MA PYPL BRK.B",
    "health_care": "JNJ PFE UNH",
    "energy": "XOM CVX",
    "consumer_staples": "PEP COST KO WMT",
    "industrials": "BA CAT GE",
}
_SECTOR_OF = {t: s for s, names in _KNOWN_SECTORS.items() for t in names.split()}
_SIC = {tag: (code, text) for tag, code, text in SECTORS}


def sector_of(ticker: str) -> Tuple[str, str, str]:
    """``(sector tag, SIC code, SIC description)`` of a stock (real for well-known tickers, stable otherwise)."""
    tag = _SECTOR_OF.get(ticker) or SECTORS[stable_seed("sector", ticker) % len(SECTORS)][0]
    code, text = _SIC[tag]
    return tag, code, text
