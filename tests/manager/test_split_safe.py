"""Issue 12 case 3: the cache holds as-traded bars; splits and dividends are applied when reading.

The proof runs against a private sandbox whose clock is moved across a corporate action: bars cached before the
action keep matching the provider's adjusted bars after it, with no cliff and no refetch of the cached part.
"""

import numpy as np
import pandas as pd
import pytest

from polygon.core import PolygonClient
from polygon.exceptions import InvalidParameterError
from polygon.manager import PolygonDataManager
from polygon.markets.frames import bars_frame_from_columns
from polygon.storage import StorageManager
from polygon.validators import generate_validation_summary

NY = "America/New_York"
AGGS = "/v2/aggs/ticker/{stocksTicker}/range/{multiplier}/{timespan}/{from}/{to}"


@pytest.fixture
def setup(make_sandbox, sandbox_clock, tmp_path):
    sb = make_sandbox()
    clock = sandbox_clock(sb, "2024-06-03T20:00:00-04:00")
    cache = str(tmp_path / "cache")
    with PolygonDataManager(config=sb.config(cache_dir=cache), storage=StorageManager(cache), progress=False,
                            clock=clock) as manager:
        yield sb, clock, manager


def _aggs_sent(sb):
    return sum(n for path, n in sb.stats()["requests"].items() if path.startswith("/v2/aggs/ticker/"))


def _provider(sb, symbol, start, end, adjusted):
    with PolygonClient(config=sb.config()) as client:
        cols = client.get_bars_columns(symbol, "1day", start, end, adjusted=adjusted)
    return bars_frame_from_columns(cols["t"], cols["o"], cols["h"], cols["l"], cols["c"], cols["v"], cols["vw"],
                                   cols["n"], NY)


def test_split_after_caching_changes_old_bars_without_refetch(setup):
    sb, clock, manager = setup
    before = manager.fetch_data("NVDA", "1day", "2024-05-20", "2024-06-03")  # NVDA splits 10:1 on 2024-06-10
    assert len(before) == 10 and before["close"].iloc[-1] > 300  # not yet split (about 430)
    clock.move("2024-06-20T20:00:00-04:00")
    sb.reset_stats()
    df = manager.fetch_data("NVDA", "1day", "2024-05-20", "2024-06-20")
    stats = sb.stats()["requests"]
    assert _aggs_sent(sb) == 1 and df.attrs["source"] == "mixed"  # only the new days: no refetch of cached bars
    assert stats.get("/v3/reference/splits") == 1  # the range reached past the last refresh
    provider = _provider(sb, "NVDA", "2024-05-20", "2024-06-20", adjusted=True)
    prices = ["open", "high", "low", "close"]
    pd.testing.assert_frame_equal(df[prices], provider[prices], check_freq=False, rtol=1e-9)
    # the provider rounds vwap to 4 decimals
    assert np.abs(df["vwap"].to_numpy() - provider["vwap"].to_numpy()).max() <= 0.5e-4 + 1e-12
    # the sandbox's daily volumes are sums of whole-share minute volumes, rounded on each side of the split
    np.testing.assert_allclose(df["volume"].to_numpy(), provider["volume"].to_numpy(), rtol=1e-6)
    assert df["transactions"].equals(provider["transactions"])
    # the cached, pre-split part now reads split-adjusted: no cliff
    closes = df["close"].to_numpy()
    assert np.max(np.abs(np.diff(np.log(closes)))) < 0.2
    report = generate_validation_summary(df, "NVDA", "1day")
    assert "split_like_cliff" not in {f["check"] for f in report["issues"]}
    sent = _aggs_sent(sb)
    raw = manager.fetch_data("NVDA", "1day", "2024-05-20", "2024-06-18", adjusted=False)  # before "today"
    assert raw.attrs["source"] == "cache" and _aggs_sent(sb) == sent
    pd.testing.assert_frame_equal(raw, _provider(sb, "NVDA", "2024-05-20", "2024-06-18", adjusted=False),
                                  check_freq=False)
    cliff = generate_validation_summary(raw, "NVDA", "1day")
    assert cliff["checks"]["split_like_cliff"]["status"] == "failed"
    assert "2024-06-10" in cliff["checks"]["split_like_cliff"]["details"]


def test_dividend_after_caching_total_return(setup):
    sb, clock, manager = setup
    clock.move("2024-05-10T20:00:00-04:00")  # MSFT goes ex-dividend on 2024-05-14 in the sandbox
    first = manager.fetch_data("MSFT", "1day", "2024-04-22", "2024-05-10", adjusted="total_return")
    assert len(first) == 15 and first.attrs["adjusted"] == "total_return"
    clock.move("2024-05-24T20:00:00-04:00")
    sb.reset_stats()
    df = manager.fetch_data("MSFT", "1day", "2024-04-22", "2024-05-24", adjusted="total_return")
    assert _aggs_sent(sb) == 1 and df.attrs["source"] == "mixed"  # the new days only
    raw = _provider(sb, "MSFT", "2024-04-22", "2024-05-24", adjusted=False)
    with PolygonClient(config=sb.config()) as client:
        divs = [d for d in client.list_dividends(ticker="MSFT") if d.ex_dividend_date == "2024-05-14"]
    cash = divs[0].cash_amount
    before_ex = raw.index < pd.Timestamp("2024-05-14", tz=NY)
    factor = 1.0 - cash / raw["close"][before_ex].iloc[-1]
    expected = raw.copy()
    for col in ("open", "high", "low", "close", "vwap"):
        expected.loc[before_ex, col] = raw.loc[before_ex, col] * factor
    pd.testing.assert_frame_equal(df, expected, check_freq=False, rtol=1e-9)
    # split-only reading of the same cache is unchanged by the dividend (MSFT has no split here)
    sent = _aggs_sent(sb)
    plain = manager.fetch_data("MSFT", "1day", "2024-04-22", "2024-05-23")  # before "today": all cached
    pd.testing.assert_frame_equal(plain, raw.iloc[:-1], check_freq=False)
    assert _aggs_sent(sb) == sent


def test_bad_adjusted_value_is_a_typed_error(setup):
    _sb, _clock, manager = setup
    with pytest.raises(InvalidParameterError) as info:
        manager.fetch_data("AAPL", "1day", "2024-05-01", "2024-05-10", adjusted="dividends")
    assert "total_return" in str(info.value)


def test_an_old_adjusted_cache_is_invalidated_explicitly(sandbox, tmp_path, caplog):
    cache = str(tmp_path / "old")
    storage = StorageManager(cache)
    with PolygonDataManager(config=sandbox.config(cache_dir=cache), storage=storage, progress=False) as m:
        m.fetch_data("AAPL", "1day", "2023-01-03", "2023-01-31")
    import os

    os.remove(os.path.join(cache, ".reference", "bars-format.json"))  # as an older version left it
    assert StorageManager(cache).coverage("AAPL", "1day")
    with PolygonDataManager(config=sandbox.config(cache_dir=cache), storage=StorageManager(cache),
                            progress=False) as m:
        assert m.storage.coverage("AAPL", "1day") == []
    assert "held split-adjusted bars written by an older polygon-kit" in caplog.text


def test_batch_prefetches_splits_in_one_request_and_matches_the_provider(setup):
    sb, clock, manager = setup
    clock.move("2024-06-20T20:00:00-04:00")
    sb.reset_stats()
    result = manager.fetch_multiple_symbols(["NVDA", "MSFT", "AAPL"], "1day", "2024-06-03", "2024-06-18")
    assert result.ok and sb.stats()["requests"].get("/v3/reference/splits") == 1  # one for the whole batch
    provider = _provider(sb, "NVDA", "2024-06-03", "2024-06-18", adjusted=True)
    pd.testing.assert_frame_equal(result["NVDA"][["open", "close"]], provider[["open", "close"]], check_freq=False)
    # an earlier range than the prefetch covered asks for the symbol's whole split history
    sb.reset_stats()
    manager.fetch_data("NVDA", "1day", "2021-07-12", "2021-07-23")  # across its 2021-07-20 4:1 split
    assert sb.stats()["requests"].get("/v3/reference/splits") == 1
    early = manager.fetch_data("NVDA", "1day", "2021-07-12", "2021-07-23")
    pd.testing.assert_frame_equal(early[["open", "close"]],
                                  _provider(sb, "NVDA", "2021-07-12", "2021-07-23", adjusted=True)[["open", "close"]],
                                  check_freq=False)
