"""Fixtures of the storage tests (synthetic bars: ``make_bars`` in tests/conftest.py)."""

import pytest

from polygon.storage import StorageManager

FORMATS = ["native"]
try:
    import pyarrow  # noqa: F401

    FORMATS.append("parquet")
except ImportError:
    pass


@pytest.fixture(params=FORMATS)
def store(cache_dir, request):
    """A StorageManager on the test's empty cache directory, New York time: native (legacy layout) and, with
    pyarrow, Parquet (the hive layout)."""
    return StorageManager(cache_dir, format=request.param, tz="America/New_York")
