"""Validators against the offline sandbox: illiquid symbols, symbol checks, and the guide's calls."""

import json

import pytest

from polygon.config import get_config
from polygon.core import PolygonClient
from polygon.markets.frames import bars_frame_from_columns
from polygon.validators import format_report, generate_validation_summary, validate_symbol_detailed

WEEK = ("2024-03-04", "2024-03-08")


@pytest.fixture(scope="module")
def client(sandbox):
    with PolygonClient(config=sandbox.config()) as c:
        yield c


def minute_bars(client, symbol, start=WEEK[0], end=WEEK[1]):
    cols = client.get_bars_columns(symbol, "1min", start, end)
    return bars_frame_from_columns(cols["t"], cols["o"], cols["h"], cols["l"], cols["c"], cols["v"], cols["vw"],
                                   cols["n"], "America/New_York")


def test_liquid_sandbox_symbol_is_excellent(client):
    report = generate_validation_summary(minute_bars(client, "AAPL"), "AAPL", "1min", *WEEK)
    assert report["overall_quality"] == "excellent", report["issues"]
    assert report["completeness"] == 100.0 and report["expected_bar_count"] == 5 * 390


def test_illiquid_sandbox_symbol_is_not_poor_for_missing_minutes_alone(sandbox, client):
    universe = sandbox.model.universe
    illiquid = [t for t in universe.tickers if universe.is_illiquid(t)]
    assert illiquid, "the session sandbox should have illiquid symbols (illiquid_fraction default 0.1)"
    for symbol in illiquid[:3]:
        df = minute_bars(client, symbol)
        report = generate_validation_summary(df, symbol, "1min", *WEEK)
        assert report["completeness"] < 50  # most minutes have no trades ...
        assert report["checks"]["illiquid_gaps"]["status"] == "failed"
        assert report["checks"]["long_gaps"]["status"] == "passed", report["missing_ranges"][:3]
        assert report["checks"]["missing_sessions"]["status"] == "passed"
        assert report["overall_quality"] in ("excellent", "good")  # ... and that alone is not poor
        assert report["no_trade_rate"] > 0.5


def test_illiquid_symbol_with_a_real_hole_is_flagged(sandbox, client):
    universe = sandbox.model.universe
    symbol = next(t for t in universe.tickers if universe.is_illiquid(t))
    df = minute_bars(client, symbol)
    report = generate_validation_summary(df[df.index.day != 6], symbol, "1min", *WEEK)
    assert report["checks"]["missing_sessions"]["severity"] == "high"
    assert report["missing_ranges"][0]["kind"] == "session"  # listed before the many illiquid runs
    assert report["missing_ranges"][0]["start"] == "2024-03-06T09:30:00-05:00"
    assert report["missing_ranges_total"] >= len(report["missing_ranges"]) > 1


def test_validate_symbol_detailed_known(client):
    result = validate_symbol_detailed("aapl", client=client)
    assert result["valid"] is True and result["syntax_valid"] is True and result["exists"] is True
    assert result["normalized"] == "AAPL" and result["reason"] is None
    details = result["details"]
    assert details["name"] == "Apple Inc." and details["market"] == "stocks" and details["type"] == "CS"
    assert details["active"] is True and details["primary_exchange"] == "XNAS"
    json.dumps(result)


def test_validate_symbol_detailed_near_miss_gets_suggestions(client):
    result = validate_symbol_detailed("APPL", client=client)
    assert result["valid"] is False and result["syntax_valid"] is True and result["exists"] is False
    assert result["suggestions"][0]["ticker"] == "AAPL"
    assert "does not know APPL" in result["reason"] and "AAPL" in result["reason"]
    assert "suggestion: AAPL (Apple Inc.)" in format_report(result)


def test_validate_symbol_detailed_bad_syntax_never_asks(sandbox, client):
    before = sandbox.stats()["requests_total"]
    result = validate_symbol_detailed("bad/sym", client=client)
    assert result["syntax_valid"] is False and result["valid"] is False and result["exists"] is None
    assert "invalid symbol" in result["reason"]
    assert sandbox.stats()["requests_total"] == before


def test_validate_symbol_detailed_unreachable_provider_says_so():
    config = get_config(api_key="k", base_url="http://127.0.0.1:9", max_retries=0)  # nothing listens on port 9
    with PolygonClient(config=config) as dead:
        result = validate_symbol_detailed("AAPL", client=dead)
    assert result["syntax_valid"] is True and result["exists"] is None and result["valid"] is False
    assert "could not be asked" in result["reason"]


def test_guide_validate_symbol_detailed_default_client(sandbox_env):
    # the guide: from polygon.validators import validate_symbol_detailed; validate_symbol_detailed('YOUR_SYMBOL')
    result = validate_symbol_detailed("MSFT")
    assert result["valid"] is True and result["details"]["name"]


def test_guide_fetch_with_validation(sandbox_env):
    # the guide: manager.fetch_data('AAPL', '5min', validate=True); generate_validation_summary(df, 'AAPL', '5min')
    from polygon import PolygonDataManager

    manager = PolygonDataManager()
    try:
        df = manager.fetch_data("AAPL", "5min", validate=True)
    finally:
        manager.close()
    attached = df.attrs["validation"]
    assert len(df) > 0 and attached["bar_count"] == len(df)
    report = generate_validation_summary(df, "AAPL", "5min")
    assert report["overall_quality"] == attached["overall_quality"] == "excellent", report["issues"]
    assert report["completeness"] == 100.0
    json.dumps(attached)


def test_cli_validate_table_and_json(sandbox_env, capsys):
    from polygon.cli import main

    assert main(["validate", "AAPL", "1day", "--start", "2024-03-01", "--end", "2024-03-28"]) == 0
    text = capsys.readouterr().out
    assert "AAPL 1day  quality: EXCELLENT" in text and "missing_sessions" in text
    assert main(["validate", "MSFT", "1hour", "--start", "2024-03-04", "--end", "2024-03-05", "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["symbol"] == "MSFT" and report["timeframe"] == "1hour" and report["expected_bar_count"] == 14


def test_cli_validate_across_good_friday_is_excellent_on_a_plain_install(sandbox_env, capsys):
    """Issue 12 case 4: with the calendar always on, clean data spanning a holiday scores excellent."""
    from polygon.cli import main

    assert main(["validate", "AAPL", "1day", "--start", "2023-03-27", "--end", "2023-04-14", "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["calendar_source"] == "exchange_calendars"
    assert report["overall_quality"] == "excellent" and report["score"] >= 95, report["issues"]
    assert report["completeness"] == 100.0 and report["expected_bar_count"] == 14  # 2023-04-07 is a holiday
