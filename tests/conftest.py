"""Shared fixtures: real servers on 127.0.0.1, port 0, torn down after use."""

import os

import numpy as np
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


@pytest.fixture
def server_process():
    """Start ``python <args>`` running the local server; returns ``(proc, url)`` once it logs "ready on URL".
    Every process started is stopped after the test (SIGTERM, then kill)."""
    import queue
    import re
    import subprocess
    import sys
    import threading
    import time

    started = []

    def start(args, env=None, cwd=None, timeout=60.0):
        proc = subprocess.Popen([sys.executable] + list(args), env=env, cwd=cwd, stderr=subprocess.PIPE, text=True)
        started.append(proc)
        lines = queue.Queue()
        threading.Thread(target=lambda: [lines.put(line) for line in proc.stderr], daemon=True).start()
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline and (proc.poll() is None or not lines.empty()):
            try:
                match = re.search(r"ready on (http://[\w.\[\]:]+:\d+)", lines.get(timeout=0.5))
            except queue.Empty:
                continue
            if match:
                return proc, match.group(1)
        raise AssertionError("the server did not report its address (exit code %s)" % proc.poll())

    yield start
    for proc in started:
        if proc.poll() is None:
            proc.terminate()
            try:
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()


# -- synthetic bars (no network needed) ----------------------------------------------------------------------
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
    from polygon.markets.frames import bars_frame_from_columns

    return bars_frame_from_columns(t, close - 0.1, close + 0.5, close - 0.5, close, rng.random(count) * 1e5,
                                   close + 0.01, tx, tz=tz)


@pytest.fixture
def make_bars():
    """Factory: ``make_bars(start_ms=..., count=..., step_ms=..., seed=..., tz=...)`` -> contract frame."""
    return synth_bars
