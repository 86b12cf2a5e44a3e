import pytest

from polygon.polygon_server import PolygonServer


@pytest.fixture
def server(sandbox, tmp_path):
    """The local server on port 0, backed by the session sandbox and a fresh cache."""
    with PolygonServer(port=0, config=sandbox.config(cache_dir=str(tmp_path / "cache"))) as srv:
        yield srv


@pytest.fixture
def stream_sandbox(make_sandbox):
    """A private sandbox replaying a session 30x faster: every liquid symbol trades within seconds."""
    return make_sandbox(clock="2024-03-14", speed=30, max_connections=5)


@pytest.fixture
def stream_server(stream_sandbox, tmp_path):
    with PolygonServer(port=0, config=stream_sandbox.config(cache_dir=str(tmp_path / "cache"))) as srv:
        yield srv
