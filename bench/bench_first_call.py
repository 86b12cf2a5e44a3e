"""Benchmark: the cost of the first ``fetch_data`` in a fresh process, for a range that is already cached.

Each round starts fresh Python processes (nothing shared in memory). A child imports ``polygon`` (timed
apart: "imports"), then times its first ``fetch_data`` of a cached range (daily bars, then 5-minute bars) and a
second call. Two sides, interleaved in every round:

- ``cold``: an empty session-table directory, so the child builds the exchange calendar (exchange-calendars'
  XNYS) the way every process did before the tables were persisted (the "before" figure);
- ``warm``: the session tables a previous process persisted (the "after" figure: what every process after the
  first one on a machine pays).

Both sides read the same cache and must answer from it (``source == 'cache'``, zero requests). Goal: the first
call costs at most ~50 ms beyond imports on the warm side. Run:
``python bench/bench_first_call.py [--rounds 5]``. Noisy on a shared machine: medians are quoted.
"""

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from polygon.manager import PolygonDataManager  # noqa: E402
from polygon.sandbox import Sandbox  # noqa: E402
from polygon.storage import StorageManager  # noqa: E402

GOAL_MS = 50.0
CHILD = r"""
import json, time
t0 = time.perf_counter()
import polygon
from polygon import fetch_data
t1 = time.perf_counter()
daily = fetch_data('AAPL', '1day', '2023-01-03', '2023-06-30')
t2 = time.perf_counter()
minutes = fetch_data('AAPL', '5min', '2023-03-06', '2023-03-10')
t3 = time.perf_counter()
again = fetch_data('MSFT', '1day', '2023-01-03', '2023-06-30')
t4 = time.perf_counter()
print(json.dumps({'imports': t1 - t0, 'first': t2 - t1, 'five_min': t3 - t2, 'second_symbol': t4 - t3,
                  'sources': [daily.attrs['source'], minutes.attrs['source'], again.attrs['source']],
                  'rows': [len(daily), len(minutes), len(again)]}))
"""


def child(env):
    out = subprocess.run([sys.executable, "-c", CHILD], env=env, capture_output=True, text=True, timeout=120)
    if out.returncode != 0:
        raise SystemExit("child failed:\n" + out.stderr[-3000:])
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    rounds = max(5, args.rounds)
    with Sandbox(port=0) as sandbox, tempfile.TemporaryDirectory() as tmp:
        cache = os.path.join(tmp, "cache")
        with PolygonDataManager(config=sandbox.config(cache_dir=cache), storage=StorageManager(cache),
                                progress=False) as manager:
            for sym in ("AAPL", "MSFT"):
                manager.fetch_data(sym, "1day", "2023-01-03", "2023-06-30")
            manager.fetch_data("AAPL", "5min", "2023-03-06", "2023-03-10")
        warm_tables = os.path.join(tmp, "tables-warm")
        base = dict(os.environ, POLYGON_API_KEY=sandbox.api_key, POLYGON_BASE_URL=sandbox.base_url,
                    POLYGON_CACHE_DIR=cache, PYTHONPATH=str(ROOT))
        child(dict(base, POLYGON_CALENDAR_DIR=warm_tables))  # persists the tables for the warm side
        sandbox.reset_stats()
        results = {"cold": [], "warm": []}
        for i in range(rounds):
            for side in ("cold", "warm"):
                tables = warm_tables if side == "warm" else os.path.join(tmp, "tables-cold-%d" % i)
                got = child(dict(base, POLYGON_CALENDAR_DIR=tables))
                assert got["sources"] == ["cache"] * 3, got
                results[side].append(got)
        requests = sandbox.stats()["requests_total"]
    print("first fetch_data of a cached range in a fresh process (%d rounds, shared 2-core machine)" % rounds)
    print("%-6s %14s %14s %14s %14s" % ("side", "imports ms", "first call ms", "5min call ms", "2nd symbol ms"))
    for side, rows in results.items():
        cells = []
        for key in ("imports", "first", "five_min", "second_symbol"):
            values = [r[key] * 1000 for r in rows]
            cells.append("%6.1f/%6.1f" % (statistics.median(values), min(values)))
        print("%-6s %14s %14s %14s %14s   (median/min)" % (side, *cells))
    print("requests sent to the sandbox by the children: %d (expected 0)" % requests)
    warm = statistics.median(r["first"] * 1000 for r in results["warm"])
    cold = statistics.median(r["first"] * 1000 for r in results["cold"])
    print("before (cold tables) %.1f ms -> after (persisted tables) %.1f ms" % (cold, warm))
    print("goal: first call <= %.0f ms beyond imports: %s (median %.1f ms)"
          % (GOAL_MS, "met" if warm <= GOAL_MS else "not met", warm))


if __name__ == "__main__":
    main()
