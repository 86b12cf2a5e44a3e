"""Corporate actions can't silently corrupt prices (issue 27 item 5) and adjusted prices equal the provider's
(issue 21 item 8); the request economy of split safety (issue 26 item 1), all against private sandboxes."""

import glob
import json
import logging
import os

import numpy as np
import pandas as pd
import pytest

from polygon.core import PolygonClient
from polygon.manager import PolygonDataManager
from polygon.markets.frames import arrays_from_wire_columns, arrays_to_frame
from polygon.storage import StorageManager
from polygon.storage.corporate_actions import CorporateActions, CorporateActionsStore, clean_splits

NY = "America/New_York"
SPLITS = "/v3/reference/splits"
PRICES = ["open", "high", "low", "close"]


@pytest.fixture
def setup(make_sandbox, sandbox_clock, tmp_path):
    sb = make_sandbox()
    clock = sandbox_clock(sb, "2024-06-20T20:00:00-04:00")
    cache = str(tmp_path / "cache")

    def manager():
        return PolygonDataManager(config=sb.config(cache_dir=cache), storage=StorageManager(cache), progress=False,
                                  clock=clock)

    yield sb, clock, manager, cache


def _provider(sb, symbol, start, end, adjusted=True):
    with PolygonClient(config=sb.config()) as client:
        cols = client.get_bars_columns(symbol, "1day", start, end, adjusted=adjusted)
    return arrays_to_frame(arrays_from_wire_columns(cols), NY)


def _actions_file(cache, symbol):
    return os.path.join(cache, ".reference", "actions", symbol + ".json")


def _fresh_store(cache):
    from polygon.storage import corporate_actions

    corporate_actions._registry.clear()  # a new process: nothing in memory, only the files


def test_a_flipped_bit_in_the_actions_file_is_caught_quarantined_and_refetched(setup, caplog):
    sb, clock, manager, cache = setup
    with manager() as m:
        good = m.fetch_data("TSLA", "1day", "2020-08-24", "2020-09-04")  # across TSLA's 5:1 split of 2020-08-31
    path = _actions_file(cache, "TSLA")
    text = open(path, encoding="utf-8").read()
    assert "5.0" in text
    with open(path, "w", encoding="utf-8") as handle:  # one bit: '5' (0x35) -> '4' (0x34)
        handle.write(text.replace("5.0", "4.0", 1))
    _fresh_store(cache)
    sb.reset_stats()
    with manager() as m, caplog.at_level(logging.WARNING):
        again = m.fetch_data("TSLA", "1day", "2020-08-24", "2020-09-04")
    assert "corrupt" in caplog.text and "checksum" in caplog.text
    assert glob.glob(path + ".corrupt-*")  # moved aside
    assert sb.stats()["requests"].get(SPLITS) == 1  # asked again
    pd.testing.assert_frame_equal(again, good)
    pd.testing.assert_frame_equal(again[PRICES], _provider(sb, "TSLA", "2020-08-24", "2020-09-04")[PRICES],
                                  check_freq=False)


def test_a_bad_date_in_the_actions_file_is_a_refetch_not_a_value_error(setup, caplog):
    sb, clock, manager, cache = setup
    with manager() as m:
        good = m.fetch_data("NVDA", "1day", "2024-06-03", "2024-06-14")
    path = _actions_file(cache, "_market-splits")  # a recent range: learned by the market-wide request
    doc = json.load(open(path, encoding="utf-8"))
    doc["data"]["rows"]["NVDA"][0][0] = "2024-13-45"  # a bad date, with a checksum that matches it
    from polygon.storage.corporate_actions import _checksum

    doc["sha256"] = _checksum(doc["data"])
    json.dump(doc, open(path, "w", encoding="utf-8"))
    _fresh_store(cache)
    with manager() as m, caplog.at_level(logging.WARNING):
        again = m.fetch_data("NVDA", "1day", "2024-06-03", "2024-06-14")
    pd.testing.assert_frame_equal(again, good)
    assert "2024-13-45" in caplog.text and glob.glob(path + ".corrupt-*")


def test_a_split_listed_twice_is_applied_once():
    rows = [{"execution_date": "2024-06-10", "split_from": 1, "split_to": 10, "ticker": "NVDA", "id": "a"},
            {"execution_date": "2024-06-10", "split_from": 1.0, "split_to": 10.0, "ticker": "NVDA", "id": "b"},
            {"execution_date": "not a date", "split_from": 1, "split_to": 2},
            {"execution_date": "2024-01-02", "split_from": 0, "split_to": 2}]
    assert clean_splits(rows, "NVDA") == [("2024-06-10", 1.0, 10.0)]
    actions = CorporateActions("NVDA", [("2024-06-10", 1, 10), ("2024-06-10", 1, 10)], [], 0)
    t = np.array([pd.Timestamp("2024-06-07", tz=NY).value // 1_000_000], dtype=np.int64)
    values = np.array([[430.2], [431.0], [429.0], [420.1], [100.0], [426.5801]])
    out = actions.adjust_splits(t, values, "2024-06-20")
    assert out[3, 0] == 42.01 and out[0, 0] == 43.02 and out[4, 0] == 1000.0  # once, and no float noise


def test_adjusted_prices_equal_the_provider_adjusted_bars_exactly(setup):
    sb, clock, manager, cache = setup
    cases = [("NVDA", "2024-05-20", "2024-06-20"), ("TSLA", "2022-08-15", "2022-09-02"),
             ("AAPL", "2020-08-17", "2020-09-04"), ("WMT", "2024-02-12", "2024-03-01")]
    with manager() as m:
        for sym, start, end in cases:
            ours = m.fetch_data(sym, "1day", start, end)
            provider = _provider(sb, sym, start, end)
            pd.testing.assert_frame_equal(ours[PRICES], provider[PRICES], check_exact=True, check_freq=False)
            # the provider rounds vwap to 4 decimals; ours keeps the exact quotient
            assert np.abs(ours["vwap"].to_numpy() - provider["vwap"].to_numpy()).max() <= 0.5e-4 + 1e-12


def test_splits_follow_the_provider_day_not_this_machine_date(make_sandbox, tmp_path):
    """README's sandbox-clock example: the default manager (real clock) on a sandbox whose clock is moved."""
    sb = make_sandbox(clock="2024-06-07T21:00:00Z")  # NVDA's 10:1 split (2024-06-10) is listed, not applied
    cache = str(tmp_path / "cache")
    with PolygonDataManager(config=sb.config(cache_dir=cache), storage=StorageManager(cache), progress=False) as m:
        before = m.fetch_data("NVDA", "1day", "2024-06-03", "2024-06-07")
        assert before["close"].iloc[-1] == _provider(sb, "NVDA", "2024-06-03", "2024-06-07")["close"].iloc[-1]
        assert before["close"].iloc[-1] == 429.3
        sb.configure(clock="2024-06-14T21:00:00Z")
        after = m.fetch_data("NVDA", "1day", "2024-06-03", "2024-06-07")
        assert after["close"].iloc[-1] == 42.93
        pd.testing.assert_frame_equal(after[PRICES], _provider(sb, "NVDA", "2024-06-03", "2024-06-07")[PRICES],
                                      check_freq=False, check_exact=True)


def test_splits_are_learned_market_wide_once_a_day(setup):
    sb, clock, manager, cache = setup
    with manager() as m:
        sb.reset_stats()
        m.fetch_data("MSFT", "1day", "2024-01-02", "2024-03-28")  # a past range: the symbol's history, once
        assert sb.stats()["requests"].get(SPLITS) == 1
        m.fetch_data("MSFT", "1day", "2024-01-02", "2024-03-28")
        m.fetch_data("KO", "1day", "2024-06-03", "2024-06-14")  # a recent range: the market-wide request
        m.fetch_data("PEP", "1day", "2024-06-03", "2024-06-14")  # ... which serves every symbol
        assert sb.stats()["requests"].get(SPLITS) == 2
        clock.move("2024-06-21T20:00:00-04:00")
        sb.reset_stats()
        for sym in ("MSFT", "KO", "PEP"):  # the next day: one request for all of them
            m.fetch_data(sym, "1day", "2024-06-03", "2024-06-14")
        m.fetch_data("MSFT", "1day", "2024-01-02", "2024-03-28")  # its history is bridged, not asked again
        assert sb.stats()["requests"] == {SPLITS: 1, "/v2/aggs/ticker/{stocksTicker}/range/{multiplier}/"
                                          "{timespan}/{from}/{to}": 1}


def test_use_cache_false_asks_the_provider_adjusted_bars_only(setup):
    sb, clock, manager, cache = setup
    sb.reset_stats()
    with manager() as m:
        df = m.fetch_data("NVDA", "1day", "2024-06-03", "2024-06-14", use_cache=False)
        assert m.storage.coverage("NVDA", "1day") == []  # adjusted bars are never stored as traded ones
    assert sb.stats()["requests_total"] == 1 and df.attrs["adjusted_by"] == "provider"
    pd.testing.assert_frame_equal(df, _provider(sb, "NVDA", "2024-06-03", "2024-06-14"), check_freq=False,
                                  check_exact=True)


def test_store_without_a_directory_keeps_memory_only():
    store = CorporateActionsStore(None)
    assert store.cached("AAPL") is None and store.needs_request("AAPL", 0, "2024-01-02")
    assert not store.needs_request("X:BTCUSD", 0, "2024-01-02")
