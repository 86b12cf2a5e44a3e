"""Shared fixtures: real servers on 127.0.0.1, port 0, torn down after use."""

import os

import pytest

# Tests never touch a user's real cache or key.
os.environ.pop("POLYGON_API_KEY", None)
os.environ.pop("POLYGON_CONFIG_FILE", None)
os.environ["POLYGON_CONFIG_FILE"] = os.devnull


@pytest.fixture(scope="session")
def sandbox():
    """One sandbox for the whole session (no faults). Do not change its options in a test:
    use ``make_sandbox`` for that."""
    from polygon.sandbox import Sandbox

    with Sandbox(port=0) as sb:
        yield sb


@pytest.fixture
def make_sandbox():
    """Factory for private sandboxes with options (faults, limits); all are stopped after the test."""
    from polygon.sandbox import Sandbox

    started = []

    def factory(**options):
        sb = Sandbox(port=0, **options)
        sb.start()
        started.append(sb)
        return sb

    yield factory
    for sb in started:
        sb.stop()


@pytest.fixture
def cache_dir(tmp_path, monkeypatch):
    """An empty cache directory, also exported as POLYGON_CACHE_DIR."""
    path = tmp_path / "cache"
    path.mkdir()
    monkeypatch.setenv("POLYGON_CACHE_DIR", str(path))
    return path


@pytest.fixture
def sandbox_env(sandbox, monkeypatch, cache_dir):
    """Point every default (config, clients, managers) at the session sandbox and a fresh cache."""
    monkeypatch.setenv("POLYGON_API_KEY", sandbox.api_key)
    monkeypatch.setenv("POLYGON_BASE_URL", sandbox.base_url)
    monkeypatch.setenv("POLYGON_WS_URL", sandbox.ws_url)
    return sandbox
