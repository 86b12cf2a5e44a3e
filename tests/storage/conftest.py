"""Fixtures of the storage tests: synthetic bars (no network needed)."""

import numpy as np
import pytest

from polygon.frames import bars_frame_from_columns
from polygon.storage import StorageManager

MINUTE_MS = 60_000
DAY_MS = 86_400_000
# Tuesday 2023-01-03 14:30 UTC (09:30 New York)
T0 = 1_672_756_200_000


def synth_bars(start_ms=T0, count=390, step_ms=MINUTE_MS, seed=0, tz="America/New_York", na_every=5):
    """Deterministic bars with NaN-free prices and some missing transaction counts."""
    rng = np.random.default_rng(seed)
    t = start_ms + np.arange(count, dtype=np.int64) * step_ms
    close = 100.0 + rng.standard_normal(count).cumsum()
    tx = rng.integers(1, 1000, count).astype(float)
    if na_every:
        tx[::na_every] = np.nan
    return bars_frame_from_columns(t, close - 0.1, close + 0.5, close - 0.5, close, rng.random(count) * 1e5,
                                   close + 0.01, tx, tz=tz)


@pytest.fixture
def make_bars():
    """Factory: ``make_bars(start_ms=..., count=..., step_ms=..., seed=..., tz=...)`` -> contract frame."""
    return synth_bars


@pytest.fixture
def store(cache_dir):
    """A StorageManager on the test's empty cache directory, New York time."""
    return StorageManager(cache_dir, tz="America/New_York")
