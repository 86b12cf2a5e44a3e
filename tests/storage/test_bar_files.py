"""Bar file formats (polygon.storage.formats): the compact native format gives back the same bits for any bars,
files written by the previous version stay readable and are rewritten in the new one on the next write,
and a read of several partitions fills one set of arrays."""

import os
import shutil

import numpy as np
import pandas as pd
from hypothesis import given, settings
from hypothesis import strategies as st

from polygon.markets.frames import BarArrays, bars_frame_from_columns, frame_to_arrays
from polygon.storage import StorageManager
from polygon.storage.formats import allocate, native_encode, native_read

MINUTE_MS = 60_000
T0 = 1_672_756_200_000  # Tuesday 2023-01-03 14:30 UTC

FIXTURE = os.path.join(os.path.dirname(__file__), "data", "cache_v1")


def _roundtrip(tmp_path, arrays):
    path = str(tmp_path / "part.pkb")
    with open(path, "wb") as fh:
        for chunk in native_encode(arrays, {"symbol": "X"}):
            fh.write(chunk if isinstance(chunk, bytes) else chunk.tobytes())
    return native_read(path).arrays


def _same_bits(a, b):
    assert a.t_ns.tobytes() == b.t_ns.tobytes()
    assert a.values.tobytes() == b.values.tobytes()
    assert a.transactions.tobytes() == b.transactions.tobytes()
    assert a.tx_mask.tobytes() == b.tx_mask.tobytes()


floats = st.one_of(st.floats(allow_nan=True, allow_infinity=True, width=64),
                   st.integers(-10**6, 10**6).map(lambda k: k / 100.0),
                   st.sampled_from([0.0, -0.0, 1e-300, 2.0 ** 60]))


@settings(max_examples=80, deadline=None)
@given(st.lists(st.tuples(st.integers(1, 10**12), floats, floats, st.integers(-2**63, 2**63 - 1), st.booleans()),
                max_size=40))
def test_any_bars_come_back_bit_for_bit(tmp_path_factory, rows):
    rows = rows * 4  # past 64 bars the compact forms are used, below plain arrays: both are covered
    steps = np.array([r[0] for r in rows], np.int64)
    n = len(rows)
    t_ns = 1_600_000_000_000_000_000 + np.cumsum(steps) if n else np.empty(0, np.int64)
    values = np.array([[r[1], r[2], r[1], r[2], r[1], r[2]] for r in rows], np.float64).T.reshape(6, n)
    tx = np.array([r[3] for r in rows], np.int64)
    mask = np.array([r[4] for r in rows], np.bool_)
    arrays = BarArrays(np.ascontiguousarray(t_ns), np.ascontiguousarray(values), tx, mask)
    _same_bits(_roundtrip(tmp_path_factory.mktemp("bars"), arrays), arrays)


def test_compact_forms_are_used_on_real_looking_bars(tmp_path):
    rng = np.random.default_rng(2)
    n = 500
    close = np.round(100 + rng.standard_normal(n).cumsum() * 0.05, 2)
    arrays = frame_to_arrays(bars_frame_from_columns(T0 + np.arange(n) * MINUTE_MS, close, close, close, close,
                                                     rng.integers(1, 10**6, n).astype(float),
                                                     np.round(close + 0.0003, 4), rng.integers(1, 500, n)))
    header = native_encode(arrays, {})[0]
    assert b'"codec":"delta"' in header and header.count(b'"codec":"dec"') == 6
    _same_bits(_roundtrip(tmp_path, arrays), arrays)


def test_minute_bars_take_a_third_of_the_old_space(tmp_path, make_bars):
    rng = np.random.default_rng(1)
    count = 390 * 20
    close = np.round(150 + rng.standard_normal(count).cumsum() * 0.05, 2)
    df = bars_frame_from_columns(T0 + np.arange(count) * MINUTE_MS, close, np.round(close + 0.1, 2),
                                 np.round(close - 0.1, 2), close,
                                 rng.integers(100, 10**5, count).astype(float), np.round(close + 0.0012, 4),
                                 rng.integers(1, 900, count))
    store = StorageManager(str(tmp_path), tz="America/New_York")
    store.write("AAPL", "1min", df)
    assert store.size_on_disk("AAPL", "1min") < 25 * count  # version 1 took 65 bytes per bar
    assert store.read("AAPL", "1min").equals(df)


def _fixture_frames():
    """The bars the version-1 fixture was written with (by polygon-kit before the compact format)."""
    n = 12
    tx = np.arange(n, dtype=float) + 5
    tx[3] = np.nan
    steps = np.arange(n)
    first = bars_frame_from_columns(T0 + steps * MINUTE_MS, 130 + steps * 0.01, 130.5 + steps * 0.01,
                                    129.5 + steps * 0.01, 130.25 + steps * 0.01, 1000.0 + steps,
                                    130.1234 + steps * 0.01, tx)
    t1 = 1_704_205_800_000
    second = bars_frame_from_columns(t1 + np.arange(3) * MINUTE_MS, [1.5, 2.5, 3.5], [2, 3, 4], [1, 2, 3],
                                     [1.75, 2.75, 3.75], [10, 20, 30], [1.6, 2.6, 3.6], [1, 2, 3])
    return first, second, t1


def test_a_cache_written_by_the_previous_version_is_read_and_migrated_on_write(tmp_path):
    cache_dir = str(tmp_path / "cache")
    shutil.copytree(FIXTURE, cache_dir)
    first, second, t1 = _fixture_frames()
    directory = os.path.join(cache_dir, "stocks", "AAPL", "1min")
    assert open(os.path.join(directory, "2023.pkb"), "rb").read(8) == b"PKBARS\x00\x01"
    store = StorageManager(cache_dir, tz="America/New_York")
    expected = pd.concat([first, second])
    assert store.read("AAPL", "1min").equals(expected)
    assert store.coverage("AAPL", "1min") == [(T0, T0 + 12 * MINUTE_MS), (t1, t1 + 3 * MINUTE_MS)]
    assert store.info("AAPL", "1min")["rows"] == 15
    # a write to one partition rewrites it in the new format; the other stays as it was and stays readable
    extra = bars_frame_from_columns([T0 + 12 * MINUTE_MS], [131.0], [131.5], [130.5], [131.25], [5.0], [131.1], [7])
    assert store.write("AAPL", "1min", extra, covered=(T0 + 12 * MINUTE_MS, T0 + 13 * MINUTE_MS))
    assert open(os.path.join(directory, "2023.pkb"), "rb").read(8) == b"PKBARS\x00\x02"
    assert open(os.path.join(directory, "2024.pkb"), "rb").read(8) == b"PKBARS\x00\x01"
    assert store.read("AAPL", "1min").equals(pd.concat([first, extra, second]))
    assert store.coverage("AAPL", "1min") == [(T0, T0 + 13 * MINUTE_MS), (t1, t1 + 3 * MINUTE_MS)]


def test_a_read_across_partitions_and_formats_fills_one_set_of_arrays(tmp_path, make_bars):
    cache_dir = str(tmp_path / "cache")
    shutil.copytree(FIXTURE, cache_dir)  # 2023 and 2024 in version 1
    store = StorageManager(cache_dir, tz="America/New_York")
    year_2025 = make_bars(start_ms=1_735_828_200_000, count=50)
    store.write("AAPL", "1min", year_2025)  # 2025 in version 2
    first, second, _ = _fixture_frames()
    arrays, _, _ = store.read_arrays_with_coverage("AAPL", "1min")
    expected = frame_to_arrays(pd.concat([first, second, year_2025]))
    _same_bits(arrays, expected)
    assert arrays.values.flags.c_contiguous and arrays.values.shape == (6, 65)


def test_allocate_gives_empty_arrays_of_the_right_shapes():
    arrays = allocate(3)
    assert arrays.values.shape == (6, 3) and arrays.t_ns.dtype == np.int64 and arrays.tx_mask.dtype == np.bool_


def test_a_consistent_checksum_with_an_inconsistent_layout_is_corrupt(tmp_path, make_bars):
    import json

    import pytest

    from polygon.exceptions import CacheError
    from polygon.storage import formats as bar_files

    arrays = frame_to_arrays(make_bars(count=20))
    chunks = native_encode(arrays, {"symbol": "X"})
    raw = chunks[0]
    hlen = int.from_bytes(raw[8:12], "little")
    header = json.loads(raw[16:16 + hlen])
    header["columns"][1]["count"] = 5  # the header CRC is recomputed below: only the layout check can tell
    path = str(tmp_path / "bad.pkb")
    with open(path, "wb") as fh:
        fh.write(bar_files._frame(header, b"PKBARS\x00\x02"))
        for chunk in chunks[1:]:
            fh.write(chunk.tobytes())
    with pytest.raises(CacheError, match="inconsistent layout"):
        native_read(path)
