"""Every guide example in examples/ runs as written against the sandbox (subprocesses, bounded in time)."""

import os
import queue
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = ROOT / "examples"


def _env_for(sandbox, tmp_path):
    env = dict(os.environ)
    env.update({
        "POLYGON_API_KEY": sandbox.api_key,
        "POLYGON_BASE_URL": sandbox.base_url,
        "POLYGON_WS_URL": sandbox.ws_url,
        "POLYGON_CACHE_DIR": str(tmp_path / "cache"),
        "POLYGON_CONFIG_FILE": os.devnull,
        "PYTHONPATH": str(ROOT) + os.pathsep + env.get("PYTHONPATH", ""),
        "PYTHONUNBUFFERED": "1",
    })
    return env


@pytest.fixture
def example_env(sandbox, tmp_path):
    return _env_for(sandbox, tmp_path)


@pytest.fixture
def stream_env(make_sandbox, tmp_path):
    """A private sandbox replaying a session 30x faster, so every symbol trades and quotes within seconds."""
    return _env_for(make_sandbox(clock="2024-03-14", speed=30, max_connections=5), tmp_path)


def _run(name, env, *args, timeout=120):
    out = subprocess.run([sys.executable, str(EXAMPLES / name)] + list(args), env=env, cwd=str(ROOT),
                         capture_output=True, text=True, timeout=timeout)
    assert out.returncode == 0, out.stdout[-2000:] + out.stderr[-4000:]
    return out.stdout


def _stream_lines(name, env, want, pattern, timeout=30.0):
    """Run a never-ending streaming example until ``want`` lines contain ``pattern``, then stop it."""
    proc = subprocess.Popen([sys.executable, str(EXAMPLES / name)], env=env, cwd=str(ROOT),
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    lines = queue.Queue()
    reader = threading.Thread(target=lambda: [lines.put(line) for line in proc.stdout], daemon=True)
    reader.start()
    found = []
    deadline = time.monotonic() + timeout
    try:
        while len(found) < want and time.monotonic() < deadline and (proc.poll() is None or not lines.empty()):
            try:
                line = lines.get(timeout=0.2)
            except queue.Empty:
                continue
            if pattern in line:
                found.append(line.strip())
    finally:
        proc.terminate()
        try:
            _, err = proc.communicate(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            _, err = proc.communicate()
    assert len(found) >= want, "only %d matching lines; stderr: %s" % (len(found), err[-3000:])
    return found


def test_integration_1_simple_fetch(example_env):
    out = _run("integration_1_simple_fetch.py", example_env)
    assert "2023-01-03 09:30:00-05:00" in out and "bars" in out


def test_integration_2_multiple_symbols(example_env):
    out = _run("integration_2_multiple_symbols.py", example_env)
    assert "'AAPL': 250" in out and "'AMZN': 250" in out


def test_integration_3_streaming(stream_env):
    lines = _stream_lines("integration_3_streaming.py", stream_env, want=5, pattern=": $")
    assert all(line.split(":")[0] in ("AAPL", "TSLA") for line in lines)


def test_integration_4_validation(example_env):
    out = _run("integration_4_validation.py", example_env)
    assert any(q in out for q in ("Data quality: excellent", "Data quality: good"))


def test_pattern_1_daily_update(example_env):
    pytest.importorskip("schedule")
    out = _run("pattern_1_daily_update.py", example_env, "--once")
    assert out.splitlines()[-3:] == ["Updated AAPL", "Updated GOOGL", "Updated MSFT"]


def test_pattern_2_live_trading(stream_env):
    lines = _stream_lines("pattern_2_live_trading.py", stream_env, want=3, pattern=" @ ", timeout=60)
    assert all(line.split()[0] in ("buy", "sell") for line in lines)


def test_pattern_3_backtest_universe(example_env):
    out = _run("pattern_3_backtest_universe.py", example_env, timeout=180)
    assert out.startswith("(") and ", 28)" in out


def test_troubleshooting(example_env):
    out = _run("troubleshooting.py", example_env)
    assert "API Key set: True" in out and "Authentication successful" in out
    assert "Minute: " in out and "Daily: " in out
    assert "Cache coverage: 0.0%" in out
    assert "'valid': False" in out or "'is_valid': False" in out


def test_troubleshooting_reports_bad_key(example_env):
    example_env["POLYGON_API_KEY"] = "wrong-key-123"
    out = _run("troubleshooting.py", example_env)
    assert "Authentication failed" in out and "wrong-key-123" not in out


def test_websocket_guide_complete_example(stream_env):
    stream_env["STREAM_SECONDS"] = "3"
    out = _run("websocket_guide.py", stream_env, timeout=60)
    assert "Connected to Polygon WebSocket" in out and "Final prices:" in out
    assert " Quote: Bid $" in out and "(size: " in out


@pytest.fixture
def server_8200(stream_env, server_process):
    """``python -m polygon.polygon_server.server`` on the guides' port 8200, backed by a sandbox."""
    import socket

    probe = socket.socket()
    try:
        probe.bind(("127.0.0.1", 8200))
    except OSError:
        pytest.skip("port 8200 is in use on this machine: the guide's server example needs it")
    finally:
        probe.close()
    _proc, url = server_process(["-m", "polygon.polygon_server.server"], env=stream_env, cwd=str(ROOT))
    assert url == "http://127.0.0.1:8200"
    return stream_env


def test_integration_5_rest_api(server_8200):
    out = _run("integration_5_rest_api.py", server_8200)
    assert out.startswith("200 250 bars from api - first: {'timestamp': '2023-01-03T00:00:00-05:00'")


def test_websocket_guide_server_endpoint(server_8200):
    out = _run("server_websocket_client.py", server_8200, timeout=60)
    lines = out.splitlines()
    assert lines[0].startswith("Received: {'type': 'status', 'status': 'connected', 'client_id': 'client123'")
    assert sum("'type': 'data'" in line and "'symbol': 'AAPL'" in line for line in lines) == 5
