"""``polygon cache migrate``: a native cache becomes the Parquet dataset that ``polygon sql`` reads in place."""

import pytest
from cli_helpers import cli_env, runner

from polygon.storage import StorageManager

T0 = 1_704_205_800_000  # 2024-01-02 14:30 UTC
MINUTE_MS = 60_000


def test_cache_migrate_then_sql_counts_every_bar(sandbox, tmp_path, make_bars):
    pytest.importorskip("pyarrow")
    pytest.importorskip("duckdb")
    cache = tmp_path / "cache"
    StorageManager(str(cache), format="native").write("AAPL", "1min", make_bars(count=120, start_ms=T0),
                                                      covered=(T0, T0 + 120 * MINUTE_MS))
    run = runner(cli_env(sandbox, tmp_path), tmp_path)
    refused = run("sql", "SELECT count(*) FROM bars", code=1)
    assert "polygon cache migrate" in refused.stderr  # says what to do with a native cache
    out = run("cache", "migrate")
    assert out.stdout.strip().startswith("migrated 1 series") and "120 bars" in out.stdout
    assert "120" in run("sql", "SELECT count(*) AS n FROM bars").stdout
    assert "already a Parquet dataset" in run("cache", "migrate").stdout
