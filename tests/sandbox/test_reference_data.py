"""Reference data of the sandbox over real HTTP: consistent with its universe, market data and each other
(tickers of every market, listing dates, news vs bars, filings vs financials, IPOs vs details, exchanges)."""

import datetime as dt
import zoneinfo

import pytest
import requests


def get(sb, path, **params):
    resp = requests.get(sb.base_url + path, params=params, headers={"Authorization": "Bearer " + sb.api_key},
                        timeout=30)
    return resp


def follow(sb, first, limit_pages=40):
    rows, body, pages = [], first, 1
    rows.extend(body.get("results", []))
    while body.get("next_url") and pages < limit_pages:
        resp = requests.get(body["next_url"], headers={"Authorization": "Bearer " + sb.api_key}, timeout=30)
        assert resp.status_code == 200, resp.text
        body = resp.json()
        rows.extend(body.get("results", []))
        pages += 1
    assert not body.get("next_url")
    return rows, pages


@pytest.mark.parametrize("market,prefix", [("crypto", "X:"), ("fx", "C:"), ("indices", "I:")])
def test_tickers_of_every_market(sandbox, market, prefix):
    rows = get(sandbox, "/v3/reference/tickers", market=market, limit=1000).json()["results"]
    assert rows and all(r["ticker"].startswith(prefix) and r["market"] == market for r in rows)
    details = get(sandbox, "/v3/reference/tickers/" + rows[0]["ticker"]).json()["results"]
    assert details["market"] == market and details["list_date"]


def test_listing_dates_filter_the_list_and_match_details(sandbox):
    universe = sandbox.model.universe
    on_day = get(sandbox, "/v3/reference/tickers", market="stocks", date="2005-01-03", limit=1000).json()["results"]
    listed = {r["ticker"] for r in on_day}
    assert "AAPL" in listed and "META" not in listed and "TSLA" not in listed  # listed 2012, 2010
    assert all(universe.get(t).list_date <= "2005-01-03" for t in listed)
    details = get(sandbox, "/v3/reference/tickers/META").json()["results"]
    assert details["list_date"] == universe.get("META").list_date == "2012-05-18"


def test_delisted_tickers_are_inactive(sandbox):
    gone = [s for s in sandbox.model.universe.securities if getattr(s, "delisted", None)]
    if not gone:
        pytest.skip("the universe has no delisted ticker")
    rows = get(sandbox, "/v3/reference/tickers", active="false", limit=1000).json()["results"]
    assert {r["ticker"] for r in rows} == {s.ticker for s in gone}
    assert all(r["active"] is False and r["delisted_utc"] for r in rows)
    active = get(sandbox, "/v3/reference/tickers", ticker=gone[0].ticker).json()
    assert active["results"] == []
    before = get(sandbox, "/v3/reference/tickers", ticker=gone[0].ticker, date=gone[0].delisted).json()["results"]
    assert [r["ticker"] for r in before] == [gone[0].ticker]  # still trading on its last day


def test_news_pages_filters_and_agrees_with_the_bars(sandbox):
    first = get(sandbox, "/v2/reference/news", ticker="AAPL", limit=2, **{
        "published_utc.gte": "2023-01-01", "published_utc.lte": "2023-03-31"}).json()
    rows, pages = follow(sandbox, first)
    assert pages >= 2 and len({r["id"] for r in rows}) == len(rows)
    stamps = [r["published_utc"] for r in rows]
    assert stamps == sorted(stamps, reverse=True)  # newest first by default
    assert "2023-01-01" <= stamps[-1] and stamps[0] <= "2023-03-31T23:59:59Z"
    article = [r for r in rows if r["tickers"][0] == "AAPL"][0]
    published = dt.datetime.strptime(article["published_utc"], "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=dt.timezone.utc)
    day = published.astimezone(zoneinfo.ZoneInfo("America/New_York")).date().isoformat()  # the session's day
    insight = [i for i in article["insights"] if i["ticker"] == "AAPL"][0]
    bar = get(sandbox, "/v2/aggs/ticker/AAPL/range/1/day/%s/%s" % (day, day)).json()
    if bar.get("results"):
        change = (bar["results"][0]["c"] - bar["results"][0]["o"]) / bar["results"][0]["o"]
        expected = "positive" if change > 0.005 else "negative" if change < -0.005 else "neutral"
        assert insight["sentiment"] == expected
    utc_day = article["published_utc"][:10]
    one_day = get(sandbox, "/v2/reference/news", published_utc=utc_day, limit=100).json()["results"]
    assert one_day and all(r["published_utc"].startswith(utc_day) for r in one_day)


def test_news_refuses_a_bad_order(sandbox):
    resp = get(sandbox, "/v2/reference/news", order="sideways")
    assert resp.status_code == 400 and "order" in resp.json()["error"]


def test_filings_files_and_financials_agree(sandbox):
    fin = get(sandbox, "/vX/reference/financials", ticker="MSFT", timeframe="annual", limit=3).json()["results"]
    assert fin and all(f["timeframe"] == "annual" and f["fiscal_period"] == "FY" for f in fin)
    report = fin[0]
    filing = requests.get(report["source_filing_url"], headers={"Authorization": "Bearer " + sandbox.api_key},
                          timeout=30).json()["results"]
    assert filing["type"] == "10-K" and filing["period_of_report_date"] == report["end_date"].replace("-", "")
    assert filing["entities"][0]["company_data"]["ticker"] == "MSFT"
    files = get(sandbox, "/v1/reference/sec/filings/%s/files" % filing["id"]).json()["results"]
    assert [f["sequence"] for f in files] == list(range(1, filing["files_count"] + 1))
    one = get(sandbox, "/v1/reference/sec/filings/%s/files/%s" % (filing["id"], files[-1]["id"])).json()
    assert one == files[-1]
    income = report["financials"]["income_statement"]
    details = get(sandbox, "/v3/reference/tickers/MSFT").json()["results"]
    eps = income["net_income_loss"]["value"] / details["share_class_shares_outstanding"]
    assert income["basic_earnings_per_share"]["value"] == pytest.approx(eps, abs=1e-3)
    assert get(sandbox, "/v1/reference/sec/filings/0000000000000000").status_code == 404


def test_ipos_are_the_universes_listings(sandbox):
    rows = get(sandbox, "/vX/reference/ipos", ipo_status="history", limit=1000).json()["results"]
    universe = sandbox.model.universe
    assert rows and all(universe.get(r["ticker"]).list_date == r["listing_date"] for r in rows)
    pending = get(sandbox, "/vX/reference/ipos", ipo_status="pending").json()["results"]
    assert pending and all(universe.get(r["ticker"]) is None for r in pending)


def test_trade_exchanges_and_conditions_are_listed(sandbox):
    exchanges = get(sandbox, "/v3/reference/exchanges", asset_class="stocks").json()["results"]
    trade = get(sandbox, "/v2/last/trade/AAPL").json()["results"]
    assert trade["x"] in {e["id"] for e in exchanges}
    trades = get(sandbox, "/v3/trades/AAPL", timestamp="2023-01-09", limit=1000).json()["results"]
    assert trades and {t["exchange"] for t in trades} <= {e["id"] for e in exchanges}
    first = get(sandbox, "/v3/reference/conditions", asset_class="stocks", limit=3).json()
    conditions, pages = follow(sandbox, first)
    assert pages > 1 and set(trade.get("c", [])) <= {c["id"] for c in conditions}


def test_events_related_and_taxonomies(sandbox):
    events = get(sandbox, "/vX/reference/tickers/META/events").json()["results"]["events"]
    assert [e["ticker_change"]["ticker"] for e in events] == ["META", "FB"]
    related = get(sandbox, "/v1/related-companies/JPM").json()["results"]
    assert len(related) == 5 and "JPM" not in {r["ticker"] for r in related}
    assert get(sandbox, "/v1/related-companies/NOSUCH").status_code == 404
    tags = get(sandbox, "/vX/reference/tickers/taxonomies", ticker="JPM").json()["results"]
    assert tags == [{"ticker": "JPM", "category": "sector", "tag": "financials", "reason": tags[0]["reason"]}]


def test_filings_date_filters_use_the_providers_yyyymmdd(sandbox):
    rows = get(sandbox, "/v1/reference/sec/filings", limit=100, **{
        "entities.company_data.ticker": "AAPL", "filing_date.gte": "20230101", "filing_date.lte": "20231231"}).json()
    dates = sorted(r["filing_date"] for r in rows["results"])
    assert len(dates) == 4 and dates[0] >= "20230101" and dates[-1] <= "20231231"
    assert [r["type"] for r in rows["results"]].count("10-K") == 1
    bad = get(sandbox, "/v1/reference/sec/filings", **{"filing_date.gte": "2023-01-01"})
    assert bad.status_code == 400 and "filing_date.gte" in bad.json()["error"]
