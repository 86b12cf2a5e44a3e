"""``polygon flatfiles`` and ``polygon sql`` as a user runs them (subprocesses against the flat-file sandbox)."""

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def _run(env, *args, code=0):
    out = subprocess.run([sys.executable, "-m", "polygon"] + list(args), env=env, capture_output=True, text=True,
                         timeout=180, cwd=str(ROOT))
    assert out.returncode == code, out.stdout[-2000:] + out.stderr[-3000:]
    return out


def _env(sb, tmp_path, **extra):
    values = sb.flatfiles.config_values()
    env = dict(os.environ)
    env.update({"POLYGON_API_KEY": sb.api_key, "POLYGON_BASE_URL": sb.base_url, "POLYGON_CONFIG_FILE": os.devnull,
                "POLYGON_CACHE_DIR": str(tmp_path / "cache"), "POLYGON_S3_ENDPOINT": values["s3_endpoint"],
                "POLYGON_S3_BUCKET": values["s3_bucket"], "POLYGON_S3_ACCESS_KEY_ID": values["s3_access_key_id"],
                "POLYGON_S3_SECRET_ACCESS_KEY": values["s3_secret_access_key"],
                "PYTHONPATH": str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", "")})
    env.update(extra)
    return env


def test_sync_status_then_sql(ff_sandbox, tmp_path):
    env = _env(ff_sandbox, tmp_path)
    out = _run(env, "-vv", "flatfiles", "sync", "--kind", "day_aggs", "--start", "2024-01-02", "--end", "2024-01-05",
               "--symbols", "AAPL", "MSFT")
    assert "4 days synced" in out.stdout and "2 symbols" in out.stdout
    secret = env["POLYGON_S3_SECRET_ACCESS_KEY"]
    assert secret not in out.stdout + out.stderr and env["POLYGON_S3_ACCESS_KEY_ID"] not in out.stdout + out.stderr
    status = _run(env, "flatfiles", "status", "--kind", "day_aggs")
    assert "4 days synced, 2024-01-02 .. 2024-01-05" in status.stdout
    result = _run(env, "sql", "SELECT symbol, count(*) AS n FROM bars_1day GROUP BY symbol ORDER BY symbol")
    lines = [line.split() for line in result.stdout.strip().splitlines()]
    assert lines == [["symbol", "n"], ["AAPL", "4"], ["MSFT", "4"]]


def test_errors_exit_nonzero_with_one_line(ff_sandbox, tmp_path):
    env = _env(ff_sandbox, tmp_path, POLYGON_S3_SECRET_ACCESS_KEY="wrong-secret")
    out = _run(env, "flatfiles", "sync", "--kind", "day_aggs", "--start", "2024-01-02", code=1)
    assert "S3 keys were refused" in out.stderr and "Traceback" not in out.stderr
    out = _run(env, "flatfiles", "sync", "--start", "2024-13-45", code=2)
    assert "2024-13-45" in out.stderr
    out = _run(env, "sql", "SELEC 1", code=2)
    assert "SQL error" in out.stderr
