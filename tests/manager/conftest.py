import pandas as pd
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


class Clock:
    """The manager's "now", moved together with a sandbox's clock (``clock.move('2024-06-20T20:00:00-04:00')``)."""

    def __init__(self, sandbox, instant):
        self.sandbox = sandbox
        self.move(instant)

    def move(self, instant):
        self.sandbox.configure(clock=instant)
        self.ms = int(pd.Timestamp(instant).value // 1_000_000)

    def __call__(self):
        return self.ms


@pytest.fixture
def sandbox_clock():
    """``sandbox_clock(sb, instant)``: a :class:`Clock` for a private sandbox, for ``PolygonDataManager(clock=...)``."""
    return Clock
