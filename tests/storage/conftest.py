"""Fixtures of the storage tests (synthetic bars: ``make_bars`` in tests/conftest.py)."""

import pytest

from polygon.storage import StorageManager


@pytest.fixture
def store(cache_dir):
    """A StorageManager on the test's empty cache directory, New York time."""
    return StorageManager(cache_dir, tz="America/New_York")
