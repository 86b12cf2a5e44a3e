"""The provider's official client (PyPI ``massive``), unchanged, against the sandbox: every REST method of
``massive.RESTClient`` whose path is in the provider document this project serves, one call each, with sane,
non-empty results.

The newer surface (futures, fundamentals, filings, economy, partner datasets: paths outside the imported
document, written from the official client's source) is called with this client in test_new_surface_official.py
and test_futures_market.py; a test here checks that every method is called somewhere. ``time_mult`` is a helper,
not a request. The SEC filings, IPOs and
vX financials paths are served (see tests/conformance) but this client version has no method for them.
"""

import datetime as _dt
import itertools
import types

import pytest

from polygon.sandbox.router import Router

massive = pytest.importorskip("massive")
from massive.exceptions import BadResponse  # noqa: E402

ROUTER = Router()
OPTION = "option"  # placeholder: replaced by a contract the sandbox lists


def _take(iterator, count=60):
    return list(itertools.islice(iterator, count))


def _bars_sane(bars):
    return bars and all(b.low <= min(b.open, b.close) <= max(b.open, b.close) <= b.high and b.volume > 0 for b in bars)


# method, args, kwargs, a sample path of the endpoint it calls, check(result)
CASES = [
    ("list_aggs", ("AAPL", 1, "day", "2023-01-03", "2023-01-31"), {"limit": 7},
     "/v2/aggs/ticker/AAPL/range/1/day/2023-01-03/2023-01-31", lambda r: len(r) == 20 and _bars_sane(r)),
    ("get_aggs", ("MSFT", 1, "hour", "2023-01-09", "2023-01-09"), {},
     "/v2/aggs/ticker/MSFT/range/1/hour/2023-01-09/2023-01-09", lambda r: len(r) == 7 and _bars_sane(r)),
    ("get_aggs", ("X:BTCUSD", 1, "day", "2023-01-01", "2023-01-07"), {},
     "/v2/aggs/ticker/X:BTCUSD/range/1/day/2023-01-01/2023-01-07", lambda r: len(r) == 7 and _bars_sane(r)),
    ("get_daily_open_close_agg", ("AAPL", "2023-01-09"), {}, "/v1/open-close/AAPL/2023-01-09",
     lambda r: r.symbol == "AAPL" and r.low <= r.open <= r.high and r.volume > 0),
    ("get_grouped_daily_aggs", ("2023-01-09",), {}, "/v2/aggs/grouped/locale/us/market/stocks/2023-01-09",
     lambda r: len(r) > 250 and _bars_sane(r)),
    ("get_previous_close_agg", ("AAPL",), {}, "/v2/aggs/ticker/AAPL/prev",
     lambda r: len(r) == 1 and r[0].ticker == "AAPL" and r[0].close > 0),
    ("get_last_trade", ("AAPL",), {}, "/v2/last/trade/AAPL",
     lambda r: r.ticker == "AAPL" and r.price > 0 and r.size > 0),
    ("get_last_quote", ("AAPL",), {}, "/v2/last/nbbo/AAPL", lambda r: 0 < r.bid_price <= r.ask_price),
    ("get_last_crypto_trade", ("BTC", "USD"), {}, "/v1/last/crypto/BTC/USD", lambda r: r.price > 0),
    ("get_last_forex_quote", ("EUR", "USD"), {}, "/v1/last_quote/currencies/EUR/USD",
     lambda r: 0 < r.last.bid <= r.last.ask),
    ("get_real_time_currency_conversion", ("EUR", "USD"), {"amount": 100, "precision": 2}, "/v1/conversion/EUR/USD",
     lambda r: r.converted > 0 and r.initial_amount == 100),
    ("get_sma", ("AAPL",), {"timespan": "day", "window": 10}, "/v1/indicators/sma/AAPL",
     lambda r: r.values and all(v.value > 0 for v in r.values)),
    ("get_ema", ("X:BTCUSD",), {"timespan": "day", "window": 10}, "/v1/indicators/ema/X:BTCUSD",
     lambda r: r.values and all(v.value > 0 for v in r.values)),
    ("get_rsi", ("MSFT",), {"timespan": "day", "window": 14}, "/v1/indicators/rsi/MSFT",
     lambda r: r.values and all(0 <= v.value <= 100 for v in r.values)),
    ("get_macd", ("C:EURUSD",), {"timespan": "day"}, "/v1/indicators/macd/C:EURUSD",
     lambda r: r.values and all(v.histogram is not None for v in r.values)),
    ("get_snapshot_all", ("stocks", ["AAPL", "MSFT"]), {}, "/v2/snapshot/locale/us/markets/stocks/tickers",
     lambda r: sorted(s.ticker for s in r) == ["AAPL", "MSFT"]),
    ("get_snapshot_direction", ("stocks", "gainers"), {}, "/v2/snapshot/locale/us/markets/stocks/gainers",
     lambda r: len(r) > 0 and all(s.todays_change_percent >= 0 for s in r)),
    ("get_snapshot_ticker", ("stocks", "AAPL"), {}, "/v2/snapshot/locale/us/markets/stocks/tickers/AAPL",
     lambda r: r.ticker == "AAPL" and r.last_trade.price > 0),
    ("get_snapshot_ticker", ("crypto", "X:BTCUSD"), {}, "/v2/snapshot/locale/global/markets/crypto/tickers/X:BTCUSD",
     lambda r: r.ticker == "X:BTCUSD"),
    ("get_snapshot_crypto_book", ("X:BTCUSD",), {}, "/v2/snapshot/locale/global/markets/crypto/tickers/X:BTCUSD/book",
     lambda r: r.bids and r.asks and r.bids[0].price < r.asks[0].price),
    ("get_snapshot_option", ("SPY", OPTION), {}, "/v3/snapshot/options/SPY/O:SPY251219C00500000",
     lambda r: r.details.ticker.startswith("O:SPY") and r.greeks is not None),
    ("list_snapshot_options_chain", ("SPY",), {"params": {"limit": 250}}, "/v3/snapshot/options/SPY",
     lambda r: all(s.details.ticker.startswith("O:SPY") for s in r) and r),
    ("get_snapshot_indices", (["I:SPX"],), {}, "/v3/snapshot/indices", lambda r: len(r) == 1 and r[0].value > 0),
    ("list_snapshot_indices", (), {"ticker_any_of": ["I:SPX", "I:NDX"]}, "/v3/snapshot/indices",
     lambda r: sorted(s.ticker for s in r) == ["I:NDX", "I:SPX"] and all(s.value > 0 for s in r)),
    ("list_universal_snapshots", (), {"ticker_any_of": ["AAPL", "X:BTCUSD"]}, "/v3/snapshot",
     lambda r: sorted(s.ticker for s in r) == ["AAPL", "X:BTCUSD"]),
    ("get_summaries", (["AAPL", "MSFT"],), {}, "/v1/summaries",
     lambda r: sorted(s.ticker for s in r) == ["AAPL", "MSFT"]),
    ("list_trades", ("AAPL",), {"timestamp": "2023-01-09", "limit": 100}, "/v3/trades/AAPL",
     lambda r: len(r) == 300 and all(t.price > 0 and t.size > 0 for t in r)),
    ("list_quotes", ("AAPL",), {"timestamp": "2023-01-09", "limit": 100}, "/v3/quotes/AAPL",
     lambda r: len(r) == 300 and all(q.bid_price <= q.ask_price for q in r)),
    ("list_trades", ("X:BTCUSD",), {"timestamp": "2023-01-09", "limit": 20}, "/v3/trades/X:BTCUSD",
     lambda r: all(t.price > 0 for t in r) and r),
    ("get_market_status", (), {}, "/v1/marketstatus/now", lambda r: r.market in ("open", "closed", "extended-hours")),
    ("get_market_holidays", (), {}, "/v1/marketstatus/upcoming", lambda r: r and all(h.date for h in r)),
    ("list_tickers", (), {"market": "stocks", "limit": 100}, "/v3/reference/tickers",
     lambda r: len({t.ticker for t in r}) == len(r) >= 250 and {t.market for t in r} == {"stocks"}),
    ("get_ticker_details", ("AAPL",), {}, "/v3/reference/tickers/AAPL",
     lambda r: r.ticker == "AAPL" and r.name == "Apple Inc." and r.list_date == "1980-12-12"),
    ("get_ticker_types", (), {}, "/v3/reference/tickers/types", lambda r: "CS" in {t.code for t in r}),
    ("get_ticker_events", ("META",), {}, "/vX/reference/tickers/META/events",
     lambda r: [e["ticker_change"]["ticker"] for e in r.events] == ["META", "FB"]),
    ("get_related_companies", ("AAPL",), {}, "/v1/related-companies/AAPL",
     lambda r: len(r) == 5 and "AAPL" not in {c.ticker for c in r}),
    ("list_ticker_news", (), {"ticker": "AAPL", "published_utc_gte": "2023-01-01", "published_utc_lte": "2023-03-31",
                              "limit": 10}, "/v2/reference/news",
     lambda r: r and all("AAPL" in n.tickers and "2023-01" <= n.published_utc[:7] <= "2023-03"
                                for n in r)),
    ("get_exchanges", (), {"asset_class": "stocks"}, "/v3/reference/exchanges",
     lambda r: {e.mic for e in r} >= {"XNYS", "XNAS", "ARCX"}),
    ("list_conditions", (), {"asset_class": "stocks"}, "/v3/reference/conditions",
     lambda r: 37 in {c.id for c in r}),
    ("list_dividends", (), {"limit": 10}, "/v3/reference/dividends",
     lambda r: r and all(d.cash_amount > 0 for d in r)),
    ("list_splits", (), {"ticker": "AAPL"}, "/v3/reference/splits",
     lambda r: ("2020-08-31", 4, 1) in {(s.execution_date, s.split_to, s.split_from) for s in r}),
    ("list_options_contracts", (), {"underlying_ticker": "SPY", "limit": 10}, "/v3/reference/options/contracts",
     lambda r: r and all(c.underlying_ticker == "SPY" and c.strike_price > 0 for c in r)),
    ("get_options_contract", (OPTION,), {}, "/v3/reference/options/contracts/O:SPY251219C00500000",
     lambda r: r.ticker.startswith("O:SPY") and r.contract_type in ("call", "put")),
]


@pytest.fixture(scope="module")
def client(sandbox):
    return massive.RESTClient(api_key=sandbox.api_key, base=sandbox.base_url, retries=0)


@pytest.fixture(scope="module")
def option_ticker(client):
    today = _dt.date.today().isoformat()
    try:
        contracts = _take(client.list_options_contracts(underlying_ticker="SPY", expiration_date_gte=today,
                                                        limit=5), 5)
    except BadResponse:  # its own case reports the failure; the others still run
        contracts = []
    return contracts[0].ticker if contracts else "O:SPY251219C00500000"


@pytest.mark.parametrize("method,args,kwargs,path,check", CASES,
                         ids=["%s-%d" % (case[0], i) for i, case in enumerate(CASES)])
def test_official_method_against_the_sandbox(client, option_ticker, method, args, kwargs, path, check):
    assert ROUTER.match(path) is not None, "%s is not in the generated endpoint table" % path
    args = tuple(option_ticker if a == OPTION else a for a in args)
    result = getattr(client, method)(*args, **kwargs)
    if isinstance(result, types.GeneratorType):  # list_* methods page lazily: a bounded number of rows
        result = _take(result, 300)
    assert result is not None
    assert check(result), (method, args, kwargs, str(result)[:500])


#: ``time_mult`` is a helper, not a request
CANNOT_WORK = {"time_mult"}
#: the newer surface (issue 24: futures, fundamentals, filings, economy, partner data) is called with the
#: unchanged official client in these files, against the same sandbox, with checks of its own
ELSEWHERE = ("test_new_surface_official.py", "test_futures_market.py")


def _called_elsewhere(names):
    import os

    here = os.path.dirname(os.path.abspath(__file__))
    source = "".join(open(os.path.join(here, name), encoding="utf-8").read() for name in ELSEWHERE)
    return {name for name in names if "." + name + "(" in source or '"%s"' % name in source}


def test_every_official_method_is_tried_or_named_as_impossible():
    methods = {n for n in dir(massive.RESTClient) if not n.startswith("_") and callable(getattr(massive.RESTClient, n))}
    tried = {case[0] for case in CASES}
    assert tried <= methods and not tried & CANNOT_WORK
    untried = methods - tried - CANNOT_WORK
    assert untried == _called_elsewhere(untried), sorted(untried - _called_elsewhere(untried))
    assert len(methods) == 91  # massive 2.9.1: 90 REST methods and time_mult
