"""``polygon cache clear`` without a filter deletes everything: it asks on a terminal, needs ``--yes`` elsewhere."""

import os
import pty
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def filled(sandbox, tmp_path):
    """A cache holding two symbols, and the environment of a ``polygon`` process using it."""
    from polygon.manager import PolygonDataManager
    from polygon.storage import StorageManager

    cache = tmp_path / "cache"
    with PolygonDataManager(config=sandbox.config(cache_dir=str(cache)), progress=False) as manager:
        for symbol in ("AAPL", "MSFT"):
            manager.fetch_data(symbol, "1day", "2024-01-02", "2024-01-31")
    env = dict(os.environ, PYTHONPATH=str(ROOT), POLYGON_CONFIG_FILE=os.devnull, POLYGON_CACHE_DIR=str(cache))
    env.pop("POLYGON_API_KEY", None)
    return env, (lambda: [e["symbol"] for e in StorageManager(str(cache)).list_cached()])


def _run(env, *args):
    return subprocess.run([sys.executable, "-m", "polygon", "cache", "clear"] + list(args), env=env,
                          stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=120)


def test_clear_all_without_a_terminal_needs_yes(filled):
    env, cached = filled
    refused = _run(env)
    assert refused.returncode == 2 and "--yes" in refused.stderr and "Traceback" not in refused.stderr
    assert cached() == ["AAPL", "MSFT"]
    assert _run(env, "--symbol", "AAPL").returncode == 0  # a filter needs no confirmation
    assert cached() == ["MSFT"]
    done = _run(env, "--yes")
    assert done.returncode == 0 and "removed" in done.stdout
    assert cached() == []


def _on_terminal(env, answer):
    """Run ``polygon cache clear`` with a pseudo-terminal as stdin, answer the prompt; return (code, output)."""
    master, slave = pty.openpty()
    proc = subprocess.Popen([sys.executable, "-m", "polygon", "cache", "clear"], env=env, stdin=slave,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    os.close(slave)
    try:
        os.write(master, answer.encode() + b"\n")  # the terminal holds the line until the prompt reads it
        out, _ = proc.communicate(timeout=60)
        assert "delete the whole cache" in out and "[y/N]" in out, out  # the prompt says what would go
        return proc.returncode, out
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        os.close(master)


@pytest.mark.skipif(not hasattr(os, "openpty"), reason="needs a pseudo-terminal")
def test_clear_all_on_a_terminal_asks_first(filled):
    env, cached = filled
    code, out = _on_terminal(env, "n")
    assert code == 1 and "nothing removed" in out
    assert cached() == ["AAPL", "MSFT"]
    code, out = _on_terminal(env, "y")
    assert code == 0 and "removed" in out
    assert cached() == []
