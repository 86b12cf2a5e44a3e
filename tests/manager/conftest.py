import pytest

from polygon.manager import PolygonDataManager
from polygon.storage import StorageManager


@pytest.fixture
def manager(sandbox, tmp_path):
    """A manager on the session sandbox with a fresh cache."""
    cache = tmp_path / "cache"
    m = PolygonDataManager(config=sandbox.config(cache_dir=str(cache)), storage=StorageManager(str(cache)),
                           progress=False)
    yield m
    m.close()


@pytest.fixture
def requests_sent(sandbox):
    """Callable returning how many REST requests the session sandbox served since the fixture started."""
    base = sandbox.stats()["requests_total"]
    return lambda: sandbox.stats()["requests_total"] - base
