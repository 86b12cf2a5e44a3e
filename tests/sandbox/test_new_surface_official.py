"""The official client (PyPI ``massive``), unchanged, against the sandbox on the 41 newer non-futures methods
(/work/handoff/new-methods.txt): fundamentals, filings, economy and the partner datasets. Each call goes over a
real socket to a sandbox on 127.0.0.1; the checks hold the datasets to each other: balance sheets balance, ratios
divide the statements into the bars' close, earnings quote the statements, the consensus counts the latest rating
of each firm, ETF positions add up to the fund's assets, short volume splits the day's bar volume.
"""

import datetime as _dt
import itertools

import pytest

from polygon.sandbox import Sandbox

massive = pytest.importorskip("massive")

TODAY = _dt.date.today()


def take(iterator, count=500):
    return list(itertools.islice(iterator, count))


@pytest.fixture(scope="module")
def sb():
    with Sandbox(port=0) as sandbox:
        yield sandbox


@pytest.fixture(scope="module")
def client(sb):
    return massive.RESTClient(api_key=sb.api_key, base=sb.base_url, retries=0)


def close(a, b, tol=1e-6):
    return abs(a - b) <= tol * max(1.0, abs(a), abs(b))


# -- fundamentals ---------------------------------------------------------------------------------------------
def test_balance_sheets_balance(client):
    rows = take(client.list_financials_balance_sheets(tickers="AAPL", timeframe="quarterly", limit=8), 8)
    assert len(rows) == 8 and all(r.tickers == ["AAPL"] and r.timeframe == "quarterly" for r in rows)
    for r in rows:
        assert r.total_assets == r.total_liabilities + r.total_equity == r.total_liabilities_and_equity
        assert r.total_current_assets == (r.cash_and_equivalents + r.short_term_investments + r.receivables
                                          + r.inventories + r.other_current_assets)
        assert r.cash_and_equivalents > 0 and r.other_assets >= 0 and r.filing_date > r.period_end
    ends = [r.period_end for r in rows]
    assert ends == sorted(ends, reverse=True) and ends[0] <= TODAY.isoformat()


def test_income_and_cash_flow_statements_agree(client):
    income = take(client.list_financials_income_statements(tickers_any_of=["MSFT"], timeframe="quarterly",
                                                            limit=4), 4)
    flows = take(client.list_financials_cash_flow_statements(tickers="MSFT", timeframe="quarterly", limit=4), 4)
    assert [i.period_end for i in income] == [f.period_end for f in flows]
    for i, f in zip(income, flows):
        assert i.revenue - i.cost_of_revenue == i.gross_profit
        assert close(i.diluted_earnings_per_share, i.consolidated_net_income_loss / i.diluted_shares_outstanding, 0.01)
        assert f.net_income == i.consolidated_net_income_loss
        assert f.change_in_cash_and_equivalents == (f.net_cash_from_operating_activities
                                                    + f.net_cash_from_investing_activities
                                                    + f.net_cash_from_financing_activities)
    annual = take(client.list_financials_income_statements(tickers="MSFT", timeframe="annual", limit=1), 1)[0]
    quarters = take(client.list_financials_income_statements(tickers="MSFT", timeframe="quarterly",
                                                             fiscal_year=annual.fiscal_year, limit=4), 4)
    assert len(quarters) == 4 and sum(q.revenue for q in quarters) == annual.revenue


def test_ratios_divide_the_statements_into_the_bars(client):
    ratio = take(client.list_financials_ratios(ticker="AAPL"), 1)[0]
    ttm = take(client.list_financials_income_statements(tickers="AAPL", timeframe="trailing_twelve_months",
                                                        limit=1), 1)[0]
    bars = client.get_aggs("AAPL", 1, "day", ratio.date, ratio.date)
    assert len(bars) == 1 and bars[0].close == ratio.price
    assert close(ratio.market_cap, ratio.price * ttm.basic_shares_outstanding, 1e-9)
    assert close(ratio.price_to_earnings, ratio.price / ttm.diluted_earnings_per_share, 1e-3)
    assert close(ratio.price_to_sales, ratio.market_cap / ttm.revenue, 1e-3)
    assert ratio.earnings_per_share == ttm.diluted_earnings_per_share and ratio.date < TODAY.isoformat()


def test_floats_short_interest_and_short_volume(client, sb):
    floats = take(client.list_stocks_floats(ticker_any_of=["AAPL", "MSFT"]), 5)
    assert sorted(f.ticker for f in floats) == ["AAPL", "MSFT"] and all(0 < f.free_float_percent < 100 for f in floats)
    sb.reset_stats()
    interest = take(client.list_short_interest(ticker="MSFT", limit=5, sort="settlement_date.desc"), 12)
    assert sb.stats()["requests_total"] == 3  # three pages of five rows: the cursor is followed
    assert len(interest) == 12 and [i.settlement_date for i in interest] == sorted(
        (i.settlement_date for i in interest), reverse=True)
    assert all(close(i.days_to_cover, i.short_interest / i.avg_daily_volume, 0.01) for i in interest)
    volume = take(client.list_short_volume(ticker="AAPL", limit=3), 3)
    day = volume[0].date
    bar = client.get_aggs("AAPL", 1, "day", day, day, adjusted=False)[0]
    assert volume[0].total_volume == bar.volume
    for v in volume:
        assert v.short_volume == (v.adf_short_volume + v.nasdaq_carteret_short_volume + v.nyse_short_volume
                                  + v.nasdaq_chicago_short_volume) == v.exempt_volume + v.non_exempt_volume


def test_v1_splits_and_dividends_match_the_v3_reference(client):
    splits = take(client.list_stocks_splits(ticker="AAPL"), 20)
    four = [s for s in splits if s.execution_date == "2020-08-31"][0]
    assert (four.split_from, four.split_to, four.adjustment_type) == (1, 4, "forward_split")
    assert close(four.historical_adjustment_factor, 0.25)
    v1 = take(client.list_stocks_dividends(ticker="AAPL", limit=8), 8)
    v3 = take(client.list_dividends(ticker="AAPL", limit=8), 8)
    assert [d.ex_dividend_date for d in v1] == [d.ex_dividend_date for d in v3]
    assert all(0.99 < d.historical_adjustment_factor < 1 and d.frequency == 4 for d in v1)


# -- filings --------------------------------------------------------------------------------------------------
def test_filings_index_sections_and_8k_text_follow_the_statements(client):
    index = take(client.list_stocks_filings_index(ticker="AAPL", limit=50), 50)
    assert {"10-Q", "8-K", "4"} <= {f.form_type for f in index} and all(f.cik == index[0].cik for f in index)
    sections = take(client.list_stocks_filings_10k_sections(ticker="AAPL", limit=2), 2)
    assert {s.section for s in sections} == {"business", "risk_factors"}
    annual = take(client.list_financials_income_statements(tickers="AAPL", timeframe="annual", limit=1), 1)[0]
    business = [s for s in sections if s.section == "business"][0]
    assert business.period_end == annual.period_end and "{:,.1f}".format(annual.revenue / 1e6) in business.text
    text = take(client.list_stocks_filings_8k_text(ticker="AAPL", limit=1), 1)[0]
    quarter = take(client.list_financials_income_statements(tickers="AAPL", timeframe="quarterly", limit=1), 1)[0]
    assert "{:,.1f}".format(quarter.revenue / 1e6) in text.items_text and quarter.period_end in text.items_text


def test_disclosures_and_risk_factors_use_their_taxonomies(client):
    disclosure_kinds = {t.tertiary_category for t in take(client.list_stocks_taxonomies_disclosures(), 200)}
    risk_kinds = {t.tertiary_category for t in take(client.list_stocks_taxonomies_risk_factors(), 200)}
    disclosures = take(client.list_stocks_filings_8k_disclosures(tickers="MSFT", limit=8), 8)
    assert len(disclosures) == 8 and {d.tertiary_category for d in disclosures} <= disclosure_kinds
    risks = take(client.list_stocks_filings_risk_factors(ticker="MSFT", limit=20), 20)
    assert risks and {r.tertiary_category for r in risks} <= risk_kinds


def test_forms_3_4_and_13f(client):
    form3 = take(client.list_stocks_filings_form_3(tickers="AAPL"), 10)
    assert len(form3) == 3 and all(f.shares_owned > 0 for f in form3)
    form4 = take(client.list_stocks_filings_form_4(tickers="AAPL", owner_cik=form3[0].owner_cik, limit=6), 6)
    assert form4 and all(f.transaction_code == "S" and f.transaction_price_per_share > 0 for f in form4)
    held = [f.shares_owned_following_transaction for f in form4]  # newest first: holdings grow backwards
    assert held == sorted(held) and held[-1] < form3[0].shares_owned
    holdings = take(client.list_stocks_filings_13f(limit=20), 20)
    assert holdings and all(h.market_value > 0 and h.voting_authority_sole + h.voting_authority_none
                            == h.shares_or_principal_amount for h in holdings)


# -- economy --------------------------------------------------------------------------------------------------
def test_economy_series(client):
    week = take(client.list_treasury_yields(date_gte="2023-10-02", date_lte="2023-10-06", sort="date", order="asc"))
    assert [y.date for y in week] == ["2023-10-0%d" % d for d in range(2, 7)]
    assert all(y.yield_2_year > y.yield_10_year for y in week)  # the 2023 inversion
    months = take(client.list_inflation(date_gte="2022-01-01", date_lte="2023-12-31", sort="date.asc"), 30)
    assert len(months) == 24
    assert close(months[12].cpi_year_over_year, 100 * (months[12].cpi / months[0].cpi - 1), 0.01)
    expectation = take(client.list_inflation_expectations(limit=1), 1)[0]
    assert abs(expectation.forward_years_5_to_10 - (2 * expectation.market_10_year - expectation.market_5_year)) < 0.02
    labor = take(client.list_labor_market_indicators(date="2020-04-01"), 2)
    assert len(labor) == 1 and labor[0].unemployment_rate > 8


# -- Benzinga -------------------------------------------------------------------------------------------------
def test_benzinga_ratings_consensus_and_insights(client):
    firms = take(client.list_benzinga_firms(), 20)
    analysts = take(client.list_benzinga_analysts(), 50)
    assert len(firms) == 10 and {a.benzinga_firm_id for a in analysts} == {f.benzinga_id for f in firms}
    ratings = take(client.list_benzinga_ratings(ticker="AAPL", limit=100), 1000)
    latest = {}
    for r in sorted(ratings, key=lambda r: r.date):
        latest[r.benzinga_firm_id] = r
    consensus = take(client.list_benzinga_consensus_ratings("AAPL"), 2)
    assert len(consensus) == 1 and consensus[0].ratings_contributors == len(latest)
    assert consensus[0].buy_ratings == sum(1 for r in latest.values() if r.rating == "Buy")
    assert close(consensus[0].consensus_price_target, sum(r.price_target for r in latest.values()) / len(latest), 1e-3)
    insights = take(client.list_benzinga_analyst_insights(ticker="AAPL", limit=5), 5)
    assert {i.benzinga_rating_id for i in insights} <= {r.benzinga_id for r in ratings}


def test_benzinga_earnings_guidance_news_and_cases(client):
    earnings = [e for e in take(client.list_benzinga_earnings(ticker="AAPL", limit=10), 10)
                if e.date_status == "confirmed"]
    quarter = take(client.list_financials_income_statements(tickers="AAPL", timeframe="quarterly", limit=1), 1)[0]
    assert earnings[0].actual_eps == quarter.diluted_earnings_per_share
    assert earnings[0].actual_revenue == quarter.revenue
    guidance = take(client.list_benzinga_guidance(ticker="AAPL", limit=2), 2)
    assert guidance and all(g.min_eps_guidance <= g.estimated_eps_guidance <= g.max_eps_guidance for g in guidance)
    news = take(client.list_benzinga_news(tickers="MSFT", limit=5), 5)
    news_v2 = take(client.list_benzinga_news_v2(stocks="MSFT", limit=5), 5)
    assert news and [n.benzinga_id for n in news] == [n.benzinga_id for n in news_v2]
    assert all("MSFT" in n.tickers for n in news)
    cases = take(client.list_benzinga_bulls_bears_say(ticker="AAPL"), 2)
    assert len(cases) == 1 and "Apple" in cases[0].bull_case


# -- ETF Global, TMX, EU consumer spending -------------------------------------------------------------------
def test_etf_global_positions_add_up_to_the_fund(client):
    positions = take(client.get_etf_global_constituents(composite_ticker="QQQ", limit=1000), 1000)
    profile = take(client.get_etf_global_profiles(composite_ticker="QQQ"), 2)[0]
    assert positions and close(sum(p.market_value for p in positions), profile.aum, 1e-6)
    assert profile.num_holdings == len(positions) and close(sum(profile.sector_exposure.values()), 1.0, 1e-4)
    assert {p.effective_date for p in positions} == {profile.effective_date}
    flows = take(client.get_etf_global_fund_flows(composite_ticker="SPY", limit=3), 3)
    assert len(flows) == 3 and all(f.nav > 0 for f in flows)
    taxonomy = take(client.get_etf_global_taxonomies(composite_ticker="GLD"), 2)
    assert taxonomy[0].asset_class == "Commodity"
    scores = take(client.get_etf_global_analytics(composite_ticker_any_of=["SPY", "QQQ"]), 5)
    assert len(scores) == 2 and all(s.quant_grade in "ABCDF" and 0 <= s.quant_total_score <= 100 for s in scores)


def test_tmx_events_and_eu_consumer_spending(client):
    events = take(client.list_tmx_corporate_events(ticker="AAPL", limit=50), 50)
    assert {"earnings", "dividend"} <= {e.type for e in events}
    merchants = take(client.list_eu_merchant_hierarchy(), 50)
    spend = take(client.list_eu_merchant_aggregates(name="FRISCHMARKT", user_country="DE", channel="online",
                                                    limit=7), 7)
    assert len(merchants) == 8 and len(spend) == 7
    assert all(close(s.total_spend, s.spend_in_spend + s.spend_out_spend, 1e-6) for s in spend)
    assert spend[0].parent_name in {m.parent_name for m in merchants}
