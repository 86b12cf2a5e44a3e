"""Issue 12 against the sandbox: never silently wrong (compact dates, unknown tickers, calendar, splits)."""

import pandas as pd
import pytest
import requests

from polygon.core.ticker_reference import TickerReference
from polygon.exceptions import InvalidSymbolError, UnknownSymbolError
from polygon.sandbox.universe import Universe


def test_fetch_data_reads_compact_dates_as_days(manager):
    iso = manager.fetch_data("AAPL", "1day", "2023-01-03", "2023-01-31")
    compact = manager.fetch_data("AAPL", "1day", "20230103", "20230131")
    as_int = manager.fetch_data("AAPL", "1day", 20230103, 20230131)
    assert len(iso) == 20
    assert list(compact.index) == list(iso.index) == list(as_int.index)
    assert compact.attrs["start"] == iso.attrs["start"] and compact.attrs["end"] == iso.attrs["end"]


# -- case 1: unknown tickers are errors, never empty frames cached as covered -----------------------------


DETAILS = "/v3/reference/tickers/{ticker}"


def _path_counts(sandbox):
    return dict(sandbox.stats()["requests"])


def _delta(before, after, path):
    return after.get(path, 0) - before.get(path, 0)


def test_typo_ticker_raises_with_suggestions_and_caches_nothing(manager, sandbox):
    with pytest.raises(UnknownSymbolError) as info:
        manager.fetch_data("APPL", "1day", "2023-01-01", "2023-01-31")
    err = info.value
    assert isinstance(err, InvalidSymbolError) and isinstance(err, ValueError)
    assert err.symbol == "APPL" and "AAPL" in [s["ticker"] for s in err.suggestions]
    assert "did you mean" in str(err) and "AAPL" in str(err)
    assert manager.storage.coverage("APPL", "1day") == []
    # the second call asks again for bars (nothing was cached) but not again for the reference answer
    before = _path_counts(sandbox)
    with pytest.raises(UnknownSymbolError):
        manager.fetch_data("APPL", "1day", "2023-01-01", "2023-01-31")
    after = _path_counts(sandbox)
    assert _delta(before, after, DETAILS) == 0
    assert manager.storage.coverage("APPL", "1day") == []


def test_known_ticker_without_bars_is_an_empty_frame_saying_why(manager):
    # pre-market minutes: a session the provider may have bars in (the sandbox has none without extended hours)
    df = manager.fetch_data("AAPL", "1min", "2023-01-03T05:00:00", "2023-01-03T05:30:00")
    assert len(df) == 0 and df.attrs["symbol"] == "AAPL"
    assert "known to the provider" in df.attrs["empty_reason"] and df.attrs["listed"] == "1980-12-12"


def test_a_weekend_is_empty_without_any_request(manager, requests_sent):
    df = manager.fetch_data("AAPL", "1day", "2023-01-07", "2023-01-08")
    assert len(df) == 0 and df.attrs["empty_reason"].startswith("no bars:") and requests_sent() == 0


def test_reference_answers_are_cached_on_disk_with_a_ttl(sandbox, tmp_path):
    from polygon.core import PolygonClient

    now = [1_700_000_000.0]
    with PolygonClient(config=sandbox.config()) as client:
        ref = TickerReference(str(tmp_path), clock=lambda: now[0])
        assert ref.lookup(client, "APPL").known is False and ref.lookup(client, "MSFT").known is True
        assert ref.requests == 2
        again = TickerReference(str(tmp_path), clock=lambda: now[0])  # another process: reads the file
        assert again.lookup(client, "APPL").known is False and again.lookup(client, "msft").known is True
        assert again.requests == 0
        now[0] += 86_400 + 1  # past the TTL: asked again
        assert again.lookup(client, "MSFT").known is True and again.requests == 1


def test_reference_unreachable_returns_empty_uncached_and_says_so(sandbox, tmp_path):
    from polygon.manager import PolygonDataManager
    from polygon.markets.frames import empty_bars_frame, frame_to_arrays
    from polygon.storage import StorageManager

    cache = str(tmp_path / "c")
    # no API key: the cached-only path cannot ask the provider, so the empty range stays unverified
    config = sandbox.config(cache_dir=cache).replace(api_key=None)
    with PolygonDataManager(config=config, storage=StorageManager(cache), progress=False) as m:
        start_ms = int(pd.Timestamp("2023-01-03T05:00:00", tz="America/New_York").value // 1_000_000)
        nothing = frame_to_arrays(empty_bars_frame("America/New_York"))
        m.storage.write_arrays("MSFT", "1min", nothing, covered=(start_ms, start_ms + 60 * 60_000),
                               tz="America/New_York")  # pre-market minutes known to hold no bars
        df = m.fetch_data("MSFT", "1min", "2023-01-03T05:00:00", "2023-01-03T05:30:00")  # cached: no bar request
    assert len(df) == 0 and df.attrs["empty_reason"].startswith("unverified")


def test_batch_reports_unknown_in_errors(manager):
    result = manager.fetch_multiple_symbols(["AAPL", "APPL", "MSFT"], "1day", "2023-01-03", "2023-01-10")
    assert sorted(result) == ["AAPL", "MSFT"]
    assert isinstance(result.errors["APPL"], UnknownSymbolError)


def test_batch_of_100_known_symbols_sends_no_reference_request(manager, sandbox):
    symbols = Universe().tickers[:100]
    before = _path_counts(sandbox)
    result = manager.fetch_multiple_symbols(symbols, "1day", "2023-03-06", "2023-03-10")
    after = _path_counts(sandbox)
    assert result.ok and len(result) == 100
    reference = sum(after.get(p, 0) - before.get(p, 0) for p in set(after) if p.startswith("/v3/reference/tickers"))
    # symbols with bars never cost a reference request; a known symbol without bars that week (delisted in the
    # sandbox's synthetic universe) costs one cached lookup, and says why
    empty = [s for s, df in result.items() if len(df) == 0]
    assert len(empty) <= 5 and all(result[s].attrs["empty_reason"].startswith(s + " ") for s in empty)
    assert reference == manager.reference.requests == len(empty)


def test_server_answers_404_unknown_symbol_with_suggestions(sandbox, tmp_path):
    from polygon.polygon_server import PolygonServer

    with PolygonServer(port=0, config=sandbox.config(cache_dir=str(tmp_path / "cache"))) as srv:
        body = {"symbol": "APPL", "timeframe": "1day", "start_date": "2023-01-03", "end_date": "2023-01-31"}
        resp = requests.post(srv.url + "/api/v1/bars", json=body, timeout=60)
        assert resp.status_code == 404
        error = resp.json()["error"]
        assert error["code"] == "unknown_symbol" and "AAPL" in [s["ticker"] for s in error["suggestions"]]
        ok = requests.post(srv.url + "/api/v1/bars", json=dict(body, symbol="AAPL"), timeout=60)
        assert ok.status_code == 200 and ok.json()["count"] == 20


def test_cli_exits_2_for_an_unknown_symbol(sandbox_env, capsys):
    from polygon.cli import main

    assert main(["fetch", "APPL", "1day", "--start", "2023-01-03", "--end", "2023-01-31"]) == 2
    err = capsys.readouterr().err
    assert "unknown symbol 'APPL'" in err and "AAPL" in err


def test_unknown_symbol_frame_is_never_mixed_into_a_universe(manager):
    universe = manager.batch_fetcher.fetch_universe(["SPY", "APPL"], "1day", "2023-01-03", "2023-01-10")
    assert universe.attrs["symbols"] == ["SPY"] and "APPL" in universe.attrs["errors"]
    assert isinstance(universe, pd.DataFrame)


def test_end_is_inclusive_in_attrs_and_summary_alike(manager):
    df = manager.fetch_data("AAPL", "1day", "2023-01-03", "2023-01-31")
    summary = manager.get_data_summary("AAPL", "1day", "2023-01-03", "2023-01-31")
    assert summary["start"] == df.attrs["start"] and summary["end"] == df.attrs["end"]
    assert pd.Timestamp(summary["end"]) == pd.Timestamp("2023-02-01", tz="America/New_York") - pd.Timedelta("1ms")


def test_unknown_answer_from_the_cache_still_raises_without_a_key(sandbox, tmp_path):
    from polygon.core import PolygonClient
    from polygon.core.ticker_reference import get_ticker_reference
    from polygon.manager import PolygonDataManager
    from polygon.storage import StorageManager

    cache = str(tmp_path / "c")
    with PolygonClient(config=sandbox.config()) as client:
        assert get_ticker_reference(cache).lookup(client, "APPL").known is False  # answered, no suggestions yet
    config = sandbox.config(cache_dir=cache).replace(api_key=None)
    with PolygonDataManager(config=config, storage=StorageManager(cache), progress=False) as m:
        with pytest.raises(UnknownSymbolError) as info:
            m.fetch_data("APPL", "1day", "2023-01-07", "2023-01-08")  # a weekend: no bar request needed
    assert info.value.suggestions == []
