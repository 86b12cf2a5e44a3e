"""Coverage interval arithmetic (polygon.markets.coverage): hand-checked cases and properties against a set model."""

import datetime as dt
import json

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from polygon.markets import coverage as cov


def test_normalize_merges_overlapping_and_touching_and_drops_empty():
    assert cov.normalize([(5, 7), (0, 2), (2, 3), (6, 9), (10, 10), (12, 11)]) == [(0, 3), (5, 9)]
    assert cov.normalize([]) == []


def test_subtract_intersect_percentage_hand_checked():
    covered = [(0, 10), (20, 30)]
    assert cov.subtract([(5, 25)], covered) == [(10, 20)]
    assert cov.subtract([(0, 40)], covered) == [(10, 20), (30, 40)]
    assert cov.subtract([(0, 10)], covered) == []
    assert cov.intersect([(5, 25)], covered) == [(5, 10), (20, 25)]
    assert cov.percentage(covered, 0, 40) == 50.0
    assert cov.percentage(covered, 5, 25) == 50.0
    assert cov.percentage([], 0, 10) == 0.0
    assert cov.percentage([], 10, 10) == 100.0
    assert cov.contains(covered, 21, 29) and not cov.contains(covered, 9, 21)
    assert cov.covered_ms(covered) == 20
    assert cov.clip(covered, 8, 22) == [(8, 10), (20, 22)]
    assert cov.bounds(cov.normalize(covered)) == (0, 30)


def test_json_round_trip_and_validation():
    text = json.dumps(cov.to_json([(20, 30), (0, 10)]))
    assert cov.from_json(json.loads(text)) == [(0, 10), (20, 30)]
    for bad in ({"a": 1}, [[1, 2, 3]], [["1", 2]], [[True, 2]]):
        with pytest.raises(ValueError):
            cov.from_json(bad)


def test_to_ms_accepts_common_time_types():
    ms = 1_672_756_200_000  # 2023-01-03 14:30 UTC
    assert cov.to_ms(ms) == ms
    assert cov.to_ms(np.int64(ms)) == ms
    assert cov.to_ms(pd.Timestamp("2023-01-03 09:30", tz="America/New_York")) == ms
    assert cov.to_ms("2023-01-03 09:30", tz="America/New_York") == ms
    assert cov.to_ms(dt.datetime(2023, 1, 3, 14, 30, tzinfo=dt.timezone.utc)) == ms
    assert cov.to_ms(dt.date(2023, 1, 3)) == 1_672_704_000_000
    assert cov.to_ms(np.datetime64("2023-01-03T14:30", "s")) == ms
    for bad in ("not a date", True, float("nan"), pd.NaT):
        with pytest.raises(ValueError):
            cov.to_ms(bad)


def test_to_timestamps_for_display():
    pairs = cov.to_timestamps([(1_672_756_200_000, 1_672_779_600_000)], "America/New_York")
    assert pairs == [(pd.Timestamp("2023-01-03 09:30", tz="America/New_York"),
                      pd.Timestamp("2023-01-03 16:00", tz="America/New_York"))]


# --- properties: each interval list is compared with the set of integer points it covers -------------------

DOMAIN = 60
intervals = st.lists(st.tuples(st.integers(0, DOMAIN), st.integers(0, DOMAIN)), max_size=8)


def points(items):
    return {x for s, e in items for x in range(s, e)}


def assert_normal(items):
    for s, e in items:
        assert s < e
    for (_, e1), (s2, _) in zip(items, items[1:]):
        assert e1 < s2  # sorted, disjoint and not touching


@settings(max_examples=300, deadline=None)
@given(intervals)
def test_normalize_property(a):
    norm = cov.normalize(a)
    assert_normal(norm)
    assert points(norm) == points(a)
    assert cov.normalize(norm) == norm


@settings(max_examples=300, deadline=None)
@given(intervals, intervals)
def test_set_operations_match_point_model(a, b):
    for result, expected in ((cov.add(a, b), points(a) | points(b)),
                             (cov.subtract(a, b), points(a) - points(b)),
                             (cov.intersect(a, b), points(a) & points(b))):
        assert_normal(result)
        assert points(result) == expected
    # missing + covered part == request
    assert cov.add(cov.subtract(a, b), cov.intersect(a, b)) == cov.normalize(a)


@settings(max_examples=300, deadline=None)
@given(intervals, st.integers(0, DOMAIN), st.integers(0, DOMAIN))
def test_percentage_property(a, s, e):
    pct = cov.percentage(a, s, e)
    assert 0.0 <= pct <= 100.0
    if e > s:
        assert pct == pytest.approx(100.0 * len(points(a) & set(range(s, e))) / (e - s))
        assert (pct == 100.0) == cov.contains(a, s, e)
