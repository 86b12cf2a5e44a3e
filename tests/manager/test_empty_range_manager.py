"""Issue 21 item 7 in the manager: a range with no bars, knowably, costs no request (the pure check is helper
"fresh"'s ``polygon.markets.empty_range``; this test runs once both branches are merged)."""

import pytest

pytest.importorskip("polygon.markets.empty_range")


@pytest.mark.parametrize("use_cache", [True, False])
def test_a_future_range_sends_nothing_and_says_why(manager, requests_sent, use_cache):
    df = manager.fetch_data("AAPL", "1day", "2030-01-01", "2030-01-31", use_cache=use_cache)
    assert len(df) == 0 and df.attrs["empty_reason"].startswith("no bars yet:")
    assert requests_sent() == 0


def test_a_holiday_only_range_sends_nothing(manager, requests_sent):
    df = manager.fetch_data("MSFT", "1day", "2024-05-25", "2024-05-27")  # a weekend and Memorial Day
    assert len(df) == 0 and "2024-05-27" in df.attrs["empty_reason"]
    assert requests_sent() == 0
