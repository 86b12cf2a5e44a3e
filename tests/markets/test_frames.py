"""The one bars DataFrame contract (polygon.markets.frames)."""

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from polygon.exceptions import InvalidInputError
from polygon.markets.frames import (
    BAR_COLUMNS,
    arrays_from_wire_columns,
    arrays_to_frame,
    bars_frame_from_columns,
    conform_bars_frame,
    empty_bars_frame,
    frame_to_arrays,
    merge_bars,
    tz_name,
)

NY = "America/New_York"


def assert_contract(df, tz=NY):
    assert isinstance(df, pd.DataFrame)
    assert tuple(df.columns) == BAR_COLUMNS
    assert isinstance(df.index, pd.DatetimeIndex)
    assert df.index.name == "timestamp"
    assert tz_name(df.index.tz) == tz
    assert str(df.index.dtype) == "datetime64[ns, %s]" % tz
    assert df.index.is_monotonic_increasing and df.index.is_unique
    for name in BAR_COLUMNS[:6]:
        assert df[name].dtype == np.float64, name
    assert str(df["transactions"].dtype) == "Int64"


def test_empty_frame_follows_contract():
    df = empty_bars_frame(NY)
    assert_contract(df)
    assert len(df) == 0
    assert_contract(empty_bars_frame("UTC"), "UTC")


def test_from_columns_sorts_dedupes_keeps_last_and_maps_na():
    t = np.array([3, 1, 2, 1], dtype=np.int64) * 60_000 + 1_672_756_200_000
    df = bars_frame_from_columns(t, [3, 1, 2, 9], [3, 1, 2, 9], [3, 1, 2, 9], [3, 1, 2, 9],
                                 v=[1, 1, 1, 1], vw=None, n=[5, None, 7, None], tz=NY)
    assert_contract(df)
    assert list(df["close"]) == [9.0, 2.0, 3.0]  # duplicate t=1: the last row (9) wins
    assert df["transactions"].isna().tolist() == [True, False, False]
    assert df["vwap"].isna().all()
    assert df.index[0] == pd.Timestamp("2023-01-03 09:31", tz=NY)


def test_wire_columns_reach_their_contract_columns():
    # the keys of a decoded aggregates page, in no particular order
    cols = {"vw": [10.5, 20.5], "n": [3, None], "t": [1704205800000, 1704205860000], "o": [10, 20],
            "h": [11, 21], "l": [9, 19], "c": [10.25, 20.25], "v": [100, 200]}
    df = arrays_to_frame(arrays_from_wire_columns(cols), NY)
    assert_contract(df)
    assert df["vwap"].tolist() == [10.5, 20.5] and df["low"].tolist() == [9.0, 19.0]
    assert df["transactions"].iloc[0] == 3 and df["transactions"].isna().iloc[1]
    assert df.index[0] == pd.Timestamp("2024-01-02 09:30", tz=NY)


def test_from_columns_transactions_variants_and_units():
    t = np.array([1_672_756_200, 1_672_756_260], dtype=np.int64)
    base = dict(o=[1.0, 2.0], h=[1.0, 2.0], l=[1.0, 2.0], c=[1.0, 2.0], tz="UTC", unit="s")
    ints = bars_frame_from_columns(t, n=np.array([3, 4]), **base)
    floats = bars_frame_from_columns(t, n=np.array([3.0, np.nan]), **base)
    missing = bars_frame_from_columns(t, n=None, **base)
    assert ints["transactions"].tolist() == [3, 4]
    assert floats["transactions"].isna().tolist() == [False, True]
    assert missing["transactions"].isna().all()
    assert ints.index[1] == pd.Timestamp(1_672_756_260, unit="s", tz="UTC")
    with pytest.raises(InvalidInputError):
        bars_frame_from_columns(t, n=[1.5, 2.0], **base)
    with pytest.raises(InvalidInputError):
        bars_frame_from_columns(t, o=[1.0], h=[1.0, 2.0], l=[1.0, 2.0], c=[1.0, 2.0])
    with pytest.raises(InvalidInputError):
        bars_frame_from_columns(t, unit="fortnight", **{k: v for k, v in base.items() if k != "unit"})


def test_conform_accepts_wire_names_ms_column_and_naive_index():
    wire = pd.DataFrame({"t": [1_672_756_260_000, 1_672_756_200_000], "o": [1, 2], "h": [1, 2], "l": [1, 2],
                         "c": [1, 2], "v": [10, 20], "extra": ["x", "y"]})
    df = conform_bars_frame(wire, tz=NY)
    assert_contract(df)
    assert list(df["close"]) == [2.0, 1.0]
    naive = pd.DataFrame({"open": [1.0], "high": [1.0], "low": [1.0], "close": [1.0]},
                         index=pd.DatetimeIndex(["2023-01-03 09:30"]))
    conformed = conform_bars_frame(naive, tz=NY)
    assert conformed.index[0] == pd.Timestamp("2023-01-03 09:30", tz=NY)  # naive = wall time in tz
    assert conformed["transactions"].isna().all()
    with pytest.raises(InvalidInputError):
        conform_bars_frame(pd.DataFrame({"close": [1.0]}, index=pd.DatetimeIndex(["2023-01-03"], tz="UTC")))
    with pytest.raises(InvalidInputError):
        conform_bars_frame([1, 2, 3])
    assert len(conform_bars_frame(None)) == 0


def test_conform_non_ns_units_are_made_explicit_ns():
    idx = pd.DatetimeIndex(np.array(["2023-01-03T14:30", "2023-01-03T14:31"], dtype="datetime64[s]")).tz_localize("UTC")
    frame = pd.DataFrame({"open": [1.0, 2.0], "high": [1.0, 2.0], "low": [1.0, 2.0], "close": [1.0, 2.0]}, index=idx)
    df = conform_bars_frame(frame)
    assert_contract(df, "UTC")
    assert df.index[0] == pd.Timestamp("2023-01-03 14:30", tz="UTC")


def test_arrays_round_trip_is_lossless(make_bars):
    df = make_bars(count=50)
    back = arrays_to_frame(frame_to_arrays(df), NY)
    pd.testing.assert_frame_equal(back, df)


def test_merge_new_wins_and_old_bars_are_kept(make_bars):
    old = make_bars(count=10, seed=1)
    new = make_bars(start_ms=int(old.index[5].value // 1_000_000), count=10, seed=2)
    merged = merge_bars(old, new)
    assert_contract(merged)
    assert len(merged) == 15
    pd.testing.assert_frame_equal(merged.iloc[:5], old.iloc[:5])
    pd.testing.assert_frame_equal(merged.iloc[5:], new)
    assert merge_bars(None, new).equals(new)
    assert merge_bars(old, empty_bars_frame()).equals(old)


bar_times = st.lists(st.integers(min_value=0, max_value=200), max_size=40)


@settings(max_examples=150, deadline=None)
@given(bar_times, bar_times)
def test_merge_property_union_sorted_new_wins(old_minutes, new_minutes):
    def frame(minutes, value):
        t = np.array(minutes, dtype=np.int64) * 60_000 + 1_672_756_200_000
        prices = np.full(len(minutes), value)
        return bars_frame_from_columns(t, prices, prices, prices, prices, n=np.arange(len(minutes)), tz=NY)

    merged = merge_bars(frame(old_minutes, 1.0), frame(new_minutes, 2.0))
    assert_contract(merged)
    minutes = (merged.index.asi8 // 1_000_000 - 1_672_756_200_000) // 60_000 if len(merged) else np.array([])
    assert list(minutes) == sorted(set(old_minutes) | set(new_minutes))
    expected = [2.0 if m in set(new_minutes) else 1.0 for m in minutes]
    assert list(merged["close"]) == expected


def _bars_at(times, value):
    from polygon.markets.frames import BarArrays

    t = np.array(sorted(set(times)), np.int64)
    return BarArrays(t, np.full((6, t.size), float(value)), np.full(t.size, value, np.int64), np.zeros(t.size, bool))


@settings(max_examples=150, deadline=None)
@given(st.lists(st.integers(0, 60), max_size=30), st.lists(st.integers(0, 60), max_size=30))
def test_merge_arrays_is_the_union_with_new_winning_whichever_path_it_takes(old_times, new_times):
    from polygon.markets.frames import merge_arrays

    old, new = _bars_at(old_times, 1), _bars_at(new_times, 2)
    merged = merge_arrays(old, new)
    expected = {t: 1 for t in old_times}
    expected.update({t: 2 for t in new_times})
    assert merged.t_ns.tolist() == sorted(expected)
    assert merged.transactions.tolist() == [expected[t] for t in sorted(expected)]
    assert merged.values[0].tolist() == [float(expected[t]) for t in sorted(expected)]
