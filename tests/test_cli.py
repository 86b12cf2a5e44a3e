"""The ``polygon`` console script against the sandbox (subprocesses)."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture
def cli(sandbox, tmp_path):
    env = dict(os.environ)
    env.update({
        "POLYGON_API_KEY": sandbox.api_key, "POLYGON_BASE_URL": sandbox.base_url, "POLYGON_WS_URL": sandbox.ws_url,
        "POLYGON_CACHE_DIR": str(tmp_path / "cache"), "POLYGON_CONFIG_FILE": os.devnull,
        "PYTHONPATH": str(ROOT) + os.pathsep + env.get("PYTHONPATH", ""),
    })

    def run(*args, code=0):
        out = subprocess.run([sys.executable, "-m", "polygon"] + list(args), env=env, cwd=str(tmp_path),
                             capture_output=True, text=True, timeout=120)
        assert out.returncode == code, out.stdout[-2000:] + out.stderr[-3000:]
        return out

    return run


def test_endpoints_table(cli):
    out = cli("endpoints").stdout
    assert "get_aggs" in out and "/v2/aggs/ticker/{stocksTicker}/range/{multiplier}/{timespan}/{from}/{to}" in out
    assert len(out.strip().splitlines()) >= 11


def test_fetch_then_cache_list_size_info_export_clear(cli, tmp_path):
    out = cli("fetch", "AAPL", "1day", "--start", "2023-01-01", "--end", "2023-01-31").stdout
    assert "20 bars, source=api" in out
    out = cli("fetch", "AAPL", "1day", "--start", "2023-01-01", "--end", "2023-01-31").stdout
    assert "20 bars, source=cache" in out
    listing = json.loads(cli("cache", "list", "--json").stdout)
    assert any(e.get("symbol") == "AAPL" and e.get("timeframe") == "1day" for e in listing)
    assert "MiB" in cli("cache", "size").stdout
    info = json.loads(cli("cache", "info", "--symbol", "AAPL", "--timeframe", "1day").stdout)
    assert info["bars"] == 20 and info["symbol"] == "AAPL"
    export = tmp_path / "dataset"
    assert "exported" in cli("cache", "export", "--symbol", "AAPL", "--timeframe", "1day", "--path", str(export)).stdout
    pyarrow_dataset = pytest.importorskip("pyarrow.dataset")
    table = pyarrow_dataset.dataset(str(export), partitioning="hive").to_table()
    assert table.num_rows == 20
    cli("cache", "clear", "--symbol", "AAPL")
    assert json.loads(cli("cache", "list", "--json").stdout) == []


def test_fetch_csv(cli, tmp_path):
    target = tmp_path / "bars.csv"
    cli("fetch", "MSFT", "1hour", "--start", "2023-01-03", "--end", "2023-01-03", "--csv", str(target))
    lines = target.read_text().splitlines()
    assert lines[0].startswith("timestamp,open,high,low,close,volume,vwap,transactions")
    assert len(lines) > 5


def test_validate_table_and_json(cli):
    out = cli("validate", "AAPL", "5min", "--start", "2023-01-03", "--end", "2023-01-06").stdout
    assert "AAPL" in out and "excellent" in out.lower()
    report = json.loads(cli("validate", "AAPL", "5min", "--start", "2023-01-03", "--end", "2023-01-06",
                            "--json").stdout)
    assert report["overall_quality"] == "excellent" and report["bar_count"] == 4 * 78


def test_bad_input_is_one_line_error(cli):
    err = cli("fetch", "../etc", "1day", code=2).stderr
    assert err.startswith("error: invalid symbol") and "Traceback" not in err
    err = cli("fetch", "AAPL", "1day", "--start", "2023-02-01", "--end", "2023-01-01", code=2).stderr
    assert "start" in err and "Traceback" not in err


def test_validate_symbol(cli):
    out = cli("validate-symbol", "AAPL", "--json").stdout
    assert json.loads(out)["valid"] is True
    report = json.loads(cli("validate-symbol", "APPL", "--json", code=1).stdout)
    assert report["valid"] is False and report["suggestions"][0]["ticker"] == "AAPL"


def test_sandbox_subcommand_serves_until_interrupted(tmp_path):
    import signal

    proc = subprocess.Popen([sys.executable, "-m", "polygon", "sandbox", "--port", "0"], cwd=str(tmp_path),
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            env=dict(os.environ, PYTHONPATH=str(ROOT)))
    try:
        line = proc.stdout.readline()
        assert "http://127.0.0.1:" in line and "ws://127.0.0.1:" in line
        base = line.split("http://", 1)[1].split()[0].rstrip(",;")
        import requests

        from polygon.config import SANDBOX_API_KEY

        resp = requests.get("http://%s/v1/marketstatus/now" % base,
                            headers={"Authorization": "Bearer " + SANDBOX_API_KEY}, timeout=10)
        assert resp.status_code == 200 and "market" in resp.json()
    finally:
        proc.send_signal(signal.SIGINT)
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
    assert proc.returncode in (0, 130, -signal.SIGINT)


def test_demo_runs_twice_second_pass_from_cache(tmp_path):
    env = dict(os.environ, PYTHONPATH=str(ROOT), POLYGON_CONFIG_FILE=os.devnull)
    env.pop("POLYGON_API_KEY", None)
    cmd = [sys.executable, "-m", "polygon", "demo", "--stream-seconds", "1.5"]
    first = subprocess.run(cmd, cwd=str(tmp_path), env=env, capture_output=True, text=True, timeout=180)
    assert first.returncode == 0, first.stderr[-3000:]
    assert "pass 1: 3 symbols" in first.stdout and "3 HTTP requests" in first.stdout
    assert "pass 2 (cache): 3 symbols" in first.stdout and "0 HTTP requests" in first.stdout
    assert "streamed" in first.stdout and "  trade " in first.stdout
    second = subprocess.run(cmd[:-2] + ["--no-stream"], cwd=str(tmp_path), env=env, capture_output=True, text=True,
                            timeout=180)
    assert second.returncode == 0, second.stderr[-3000:]
    assert "pass 1: 3 symbols" in second.stdout and ", 0 HTTP requests" in second.stdout  # served from the cache
    assert (tmp_path / ".polygon-demo-cache").is_dir()


def test_serve_subcommand_runs_the_local_server(tmp_path, server_process):
    import signal

    import requests

    env = dict(os.environ, PYTHONPATH=str(ROOT), POLYGON_CACHE_DIR=str(tmp_path / "c"))
    proc, url = server_process(["-m", "polygon", "serve", "--sandbox", "--port", "0"], env=env, cwd=str(tmp_path))
    assert requests.get(url + "/api/v1/health", timeout=10).json()["status"] == "ok"
    proc.send_signal(signal.SIGINT)
    assert proc.wait(timeout=30) == 0
    help_text = subprocess.run([sys.executable, "-m", "polygon", "serve", "--help"], capture_output=True,
                               text=True, env=dict(os.environ, PYTHONPATH=str(ROOT)), timeout=60)
    assert help_text.returncode == 0 and "8200" in help_text.stdout and "polygon serve" in help_text.stdout
