import pandas as pd
import pytest

from polygon.exceptions import InvalidInputError, InvalidSymbolError
from polygon.manager.batch import BatchResult
from polygon.sandbox.universe import ALWAYS_LIQUID, Universe


def test_one_bad_symbol_among_twenty(manager, sandbox):
    names = sorted(ALWAYS_LIQUID)[:19]
    symbols = names[:10] + ["../BAD"] + names[10:]
    result = manager.fetch_multiple_symbols(symbols, "1day", "2023-01-01", "2023-03-31")
    assert isinstance(result, BatchResult)
    assert len(result) == 19 and set(result) == set(names)
    assert list(result.errors) == ["../BAD"]
    assert isinstance(result.errors["../BAD"], InvalidSymbolError)
    assert not result.ok
    assert all(len(df) > 0 for df in result.values())


def test_batch_validates_range_once(manager):
    with pytest.raises(InvalidInputError):
        manager.fetch_multiple_symbols(["AAPL", "MSFT"], "1day", "2023-03-01", "2023-01-01")
    with pytest.raises(InvalidInputError):
        manager.fetch_multiple_symbols([], "1day", "2023-01-01", "2023-01-31")


def test_guide_multiple_symbols(manager):
    symbols = ["AAPL", "GOOGL", "MSFT", "AMZN"]
    data = manager.fetch_multiple_symbols(symbols, "1day", "2023-01-01", "2023-12-31")
    aapl_data = data["AAPL"]
    assert len(aapl_data) == 250 and list(data) == symbols


def test_aligned_universe_shape(manager):
    symbols = ["SPY", "QQQ", "IWM", "DIA"]
    universe = manager.batch_fetcher.fetch_universe(symbols, "5min", "2023-01-03", "2023-01-06", aligned=True)
    spy_close = universe[("SPY", "close")]
    qqq_close = universe[("QQQ", "close")]
    assert universe.columns.nlevels == 2 and universe.shape[1] == 4 * 7
    assert list(universe.columns.get_level_values(0).unique()) == symbols
    assert len(spy_close) == len(qqq_close) == len(universe)
    assert universe.index.is_monotonic_increasing and universe.index.is_unique
    parts = [manager.fetch_data(s, "5min", "2023-01-03", "2023-01-06").index for s in symbols]
    union = parts[0]
    for p in parts[1:]:
        union = union.union(p)
    assert len(universe) == len(union)


def test_universe_with_illiquid_symbol_has_nan_not_ffill(manager, sandbox):
    universe = Universe()  # the sandbox's default illiquid_fraction
    sym = next(t for t in universe.tickers if universe.is_illiquid(t))
    universe = manager.batch_fetcher.fetch_universe(["SPY", sym], "1min", "2023-01-03", "2023-01-03")
    assert universe[(sym, "close")].isna().any()
    filled = manager.batch_fetcher.fetch_universe(["SPY", sym], "1min", "2023-01-03", "2023-01-03", fill="ffill")
    first_valid = filled[(sym, "close")].first_valid_index()
    assert not filled.loc[first_valid:, (sym, "close")].isna().any()
    assert filled.loc[first_valid:, (sym, "volume")].isna().any()  # volume is never invented


def test_unaligned_returns_dict(manager):
    result = manager.batch_fetcher.fetch_universe(["SPY", "QQQ"], "1day", "2023-01-01", "2023-01-31", aligned=False)
    assert isinstance(result, BatchResult) and isinstance(result["SPY"], pd.DataFrame)


def test_progress_bar_when_asked_and_silent_when_off(manager, capsys, caplog):
    pytest.importorskip("tqdm")
    manager.batch_fetcher.progress = True
    manager.fetch_multiple_symbols(["AAPL", "MSFT", "SPY"], "1day", "2023-01-01", "2023-01-31")
    assert "fetch 1day" in capsys.readouterr().err  # tqdm draws on stderr
    manager.batch_fetcher.progress = False
    with caplog.at_level("INFO", logger="polygon.manager.batch"):
        manager.fetch_multiple_symbols(["AAPL", "MSFT", "SPY"], "1day", "2023-02-01", "2023-02-28")
    assert "fetch 1day" not in capsys.readouterr().err
    assert not [r for r in caplog.records if r.name == "polygon.manager.batch"]


def test_progress_falls_back_to_log_lines(manager, caplog):
    manager.batch_fetcher.progress = None  # not a terminal under pytest: plain INFO lines
    with caplog.at_level("INFO", logger="polygon.manager.batch"):
        manager.fetch_multiple_symbols(["AAPL", "MSFT", "SPY"], "1day", "2023-03-01", "2023-03-31")
    assert any("3/3 symbols" in r.getMessage() for r in caplog.records if r.name == "polygon.manager.batch")


def _private_manager(sb, tmp_path, **config):
    from polygon.manager import PolygonDataManager
    from polygon.storage import StorageManager

    cache = str(tmp_path / "private-cache")
    return PolygonDataManager(config=sb.config(cache_dir=cache, **config), storage=StorageManager(cache),
                              progress=False)


def test_requests_in_flight_never_exceed_max_workers(make_sandbox, tmp_path):
    sb = make_sandbox(latency=0.05, max_connections=100)
    symbols = sorted(ALWAYS_LIQUID)[:12]
    with _private_manager(sb, tmp_path, max_workers=3) as m:
        result = m.fetch_multiple_symbols(symbols, "1day", "2023-03-06", "2023-03-10")
    assert result.ok and len(result) == 12
    stats = sb.stats()
    # one bar request per symbol, and one market-wide splits request for the batch (the cache holds as-traded
    # bars, adjusted when read)
    assert stats["requests"]["/v3/reference/splits"] == 1
    aggs = sum(n for path, n in stats["requests"].items() if path.startswith("/v2/aggs/"))
    # the sandbox runs a clock of its own: the server's day is asked once when a split lies after the bars
    day_asked = stats["requests"].get("/v1/marketstatus/now", 0)
    assert aggs == 12 and day_asked <= 1 and stats["requests_total"] == 13 + day_asked
    # the pool has spare threads for cache writes and frames, but only max_workers requests fly at once
    assert stats["rest_in_flight_peak"] == 3


def test_batch_equals_single_fetches_and_repeats_from_cache(manager, requests_sent):
    symbols = ["AAPL", "MSFT", "SPY"]
    batch = manager.fetch_multiple_symbols(symbols, "1hour", "2023-03-06", "2023-03-10")
    sent = requests_sent()
    assert sent == 3 + 1 and all(df.attrs["source"] == "api" for df in batch.values())  # bars + one splits
    again = manager.fetch_multiple_symbols(symbols, "1hour", "2023-03-06", "2023-03-10")
    assert requests_sent() == sent, "the second batch must be served from the cache"
    for sym in symbols:
        assert again[sym].attrs["source"] == "cache"
        single = manager.fetch_data(sym, "1hour", "2023-03-06", "2023-03-10", use_cache=False)
        pd.testing.assert_frame_equal(batch[sym], single, check_freq=False)
        pd.testing.assert_frame_equal(again[sym], single, check_freq=False)


def test_batch_passes_fetch_options_and_rejects_unknown_ones(manager, requests_sent):
    from polygon.exceptions import InvalidParameterError

    with pytest.raises(InvalidParameterError, match="unknown option.*colour.*allowed: use_cache"):
        manager.fetch_multiple_symbols(["AAPL"], "1day", "2023-03-06", "2023-03-10", colour="red")
    assert requests_sent() == 0
    result = manager.fetch_multiple_symbols(["AAPL", "MSFT"], "1day", "2023-03-06", "2023-03-10",
                                            tz="UTC", validate=True)
    for df in result.values():
        assert str(df.index.tz) == "UTC"
        assert df.attrs["validation"]["overall_quality"] in ("excellent", "good")


def test_batch_option_defaults_are_fetch_data_defaults():
    """The batch fetcher lists fetch_data's options to check them before any I/O: they must not drift apart."""
    import inspect

    from polygon.manager import PolygonDataManager
    from polygon.manager.batch import _FETCH_OPTIONS

    params = inspect.signature(PolygonDataManager.fetch_data).parameters
    options = {name: p.default for name, p in params.items()
               if name not in ("self", "symbol", "timeframe", "start", "end")}
    assert _FETCH_OPTIONS == options
