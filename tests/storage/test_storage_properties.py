"""Property test of the cache as a whole: any sequence of writes reads back as the merge of the writes."""

import tempfile

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from polygon.markets import coverage as cov
from polygon.markets.frames import bars_frame_from_columns, merge_bars
from polygon.storage import StorageManager

HOUR_MS = 3_600_000
BASE = 1_703_970_000_000  # 2023-12-30 21:00 UTC: hourly bars cross the year (partition) boundary

writes = st.lists(
    st.tuples(
        st.lists(st.integers(0, 96), max_size=30),  # bar hours
        st.lists(st.tuples(st.integers(0, 100), st.integers(0, 100)), max_size=3),  # covered hour ranges
    ),
    min_size=1,
    max_size=5,
)


@settings(max_examples=40, deadline=None)
@given(writes)
def test_cache_equals_merge_of_writes(sequence):
    with tempfile.TemporaryDirectory() as tmp:
        store = StorageManager(tmp, tz="UTC")
        expected = None
        covered = []
        for number, (hours, ranges) in enumerate(sequence):
            t = BASE + np.array(hours, dtype=np.int64) * HOUR_MS
            price = np.full(len(hours), float(number))
            frame = bars_frame_from_columns(t, price, price, price, price, n=np.full(len(hours), number), tz="UTC")
            intervals = [(BASE + a * HOUR_MS, BASE + b * HOUR_MS) for a, b in ranges]
            store.write("SPY", "1hour", frame, covered=intervals)
            expected = merge_bars(expected, frame)
            covered = cov.add(covered, intervals)
        back = store.read("SPY", "1hour")
        assert back.index.equals(expected.index)
        assert back["close"].tolist() == expected["close"].tolist()  # the newest write wins everywhere
        assert back["transactions"].tolist() == expected["transactions"].tolist()
        assert store.coverage("SPY", "1hour") == covered
