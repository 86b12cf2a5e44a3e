"""An empty result explains itself on the command line (issue 21 item 7): a range in the future or without a
session says so without a request; another empty result prints the manager's ``empty_reason``."""


def test_future_range_says_so_without_a_request(cli, sandbox):
    before = sandbox.stats()["requests_total"]
    out = cli("fetch", "AAPL", "1day", "--start", "2030-01-01", "--end", "2030-01-31").stdout
    assert out.startswith("0 bars: no bars yet: the range 2030-01-01 .. 2030-01-31 starts after today (")
    assert len(out.strip().splitlines()) == 1
    assert sandbox.stats()["requests_total"] == before


def test_holiday_and_weekend_ranges_say_so_without_a_request(cli, sandbox):
    before = sandbox.stats()["requests_total"]
    out = cli("fetch", "AAPL", "1day", "--start", "2024-12-25", "--end", "2024-12-25").stdout
    assert out.strip() == "0 bars: no bars: AAPL has no trading session from 2024-12-25 to 2024-12-25 " \
                          "(exchange holiday 2024-12-25)"
    out = cli("fetch", "SPY,MSFT", "5min", "--start", "2024-12-28", "--end", "2024-12-29").stdout
    assert out.splitlines() == [
        "SPY: 0 bars: no bars: SPY has no trading session from 2024-12-28 to 2024-12-29 (a weekend)",
        "MSFT: 0 bars: no bars: MSFT has no trading session from 2024-12-28 to 2024-12-29 (a weekend)",
    ]
    assert sandbox.stats()["requests_total"] == before


def test_before_listing_prints_the_managers_reason(cli, sandbox):
    """PYPL was listed on 2015-07-06 (the sandbox's reference data): only the provider knows that."""
    before = sandbox.stats()["requests_total"]
    out = cli("fetch", "PYPL", "1day", "--start", "2014-01-02", "--end", "2014-01-31").stdout
    assert out.strip() == "0 bars, source=api: PYPL has no bars before its listing date 2015-07-06"
    assert 1 <= sandbox.stats()["requests_total"] - before <= 2  # the bars, and the ticker's reference data
