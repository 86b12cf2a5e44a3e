"""Benchmark: flat-file sync at full-market scale (issue 25) against the download + parse limit.

Synthetic full-market-sized minute files (default 2,000 symbols x 390 minutes a day, 40 trading days; the
provider's columns, gzipped CSV, rows by ticker then time) are put on the sandbox's S3 emulator (moto, on
127.0.0.1, in this process). Each side runs in a fresh child process, rounds interleaved:

- **limit**: download + gunzip + ``pandas.read_csv`` of every day file, one after the other (nothing stored);
- **ours**: ``sync_flatfiles('stocks', 'minute_aggs', ...)`` into an empty cache (download, parse, store,
  coverage, manifest).

Printed: rows/s of both (median, min of the rounds) and their ratio; the per-day cost of the first and the
last quarter of the days inside one sync (the median gap between the times days are staged; the final commit,
one write per symbol, is reported separately); the peak RSS of a sync of a quarter of the days and of all of
them; bytes per bar on disk
(everything under the cache directory, all copies) against one Parquet-zstd file of the same bars; the first
and the second SQL query over the synced cache (``polygon.sql.query``, each in a fresh process, as a user
runs ``polygon sql`` twice); a projection for one year of the full US stock market (1.5M minute bars a day,
252 days). Each goal is printed met / not met.

Run: ``python bench/bench_flatfiles_scale.py [--symbols 2000] [--days 40] [--rounds 5]``;
``--quick`` (200 symbols, 8 days, 2 rounds) is a smoke test of the bench itself, not a measurement.
"""

import argparse
import datetime as _dt
import gzip
import io
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import zoneinfo
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import numpy as np  # noqa: E402

#: one year of the full US stock market, for the projection
YEAR_ROWS_PER_DAY = 1_500_000
YEAR_DAYS = 252
_NY = zoneinfo.ZoneInfo("America/New_York")


# ---------------------------------------------------------------------------------------------------------------
# synthetic day files

def _symbols(count):
    """Tickers in the shapes of the provider's files: plain, class shares, and a few odd ones."""
    names = ["S%04d" % i for i in range(count)]
    names[:6] = ["AAPL", "BRK.A", "BF.B", "MSFT", "SPY", "ZVZZT"][:count]
    return sorted(names)


def day_file(day, symbols, minutes=390, seed=0):
    """One minute_aggs day file (gzip level 1: the generator's time, not the reader's)."""
    import pandas as pd

    rng = np.random.default_rng(seed * 100_003 + day.toordinal())
    n = len(symbols) * minutes
    open_ns = int(_dt.datetime(day.year, day.month, day.day, 9, 30, tzinfo=_NY).timestamp()) * 10 ** 9
    t = open_ns + np.tile(np.arange(minutes, dtype=np.int64) * 60 * 10 ** 9, len(symbols))
    base = np.repeat(rng.uniform(5, 500, len(symbols)), minutes)
    walk = rng.integers(-3, 4, n).reshape(len(symbols), minutes).cumsum(axis=1).reshape(-1) / 100
    o = np.round(base + walk, 2)
    c = np.round(o + rng.integers(-5, 6, n) / 100, 2)
    h = np.round(np.maximum(o, c) + rng.integers(0, 5, n) / 100, 2)
    lo = np.round(np.minimum(o, c) - rng.integers(0, 5, n) / 100, 2)
    frame = pd.DataFrame({"ticker": np.repeat(np.array(symbols, dtype=object), minutes),
                          "volume": rng.integers(100, 100_000, n).astype(float), "open": o, "close": c, "high": h,
                          "low": lo, "window_start": t, "transactions": rng.integers(1, 500, n)})
    try:
        import pyarrow as pa
        import pyarrow.csv as pacsv

        buf = io.BytesIO()
        pacsv.write_csv(pa.Table.from_pandas(frame, preserve_index=False), buf,
                        pacsv.WriteOptions(quoting_style="none"))
        text = buf.getvalue()
    except ImportError:
        text = frame.to_csv(index=False, lineterminator="\n").encode()
    return gzip.compress(text, compresslevel=1, mtime=0), n


# ---------------------------------------------------------------------------------------------------------------
# child processes (one measurement each)

def _child(args):
    spec = json.loads(args.child)
    if spec["side"] == "limit":
        import boto3
        import pandas as pd

        s3 = boto3.client("s3", endpoint_url=spec["s3_endpoint"], aws_access_key_id=spec["s3_access_key_id"],
                          aws_secret_access_key=spec["s3_secret_access_key"], region_name="us-east-1")
        began = time.perf_counter()
        rows = 0
        for key in spec["keys"]:
            body = s3.get_object(Bucket=spec["s3_bucket"], Key=key)["Body"].read()
            rows += len(pd.read_csv(io.BytesIO(gzip.decompress(body))))
        out = {"rows": rows, "seconds": time.perf_counter() - began}
    elif spec["side"] == "ours":
        import logging

        from polygon.config import get_config
        from polygon.flatfiles import sync_flatfiles

        staged = []

        class _Times(logging.Handler):
            def emit(self, record):
                if record.getMessage().startswith("flat files: staged"):
                    staged.append(time.perf_counter())

        log = logging.getLogger("polygon.flatfiles.sync")
        log.setLevel(logging.DEBUG)
        log.addHandler(_Times())
        config = get_config(**spec["config"])
        began = time.perf_counter()
        report = sync_flatfiles("stocks", "minute_aggs", spec["first"], spec["last"], config=config, progress=False)
        seconds = time.perf_counter() - began
        assert not report.days_failed, report.days_failed
        out = {"rows": report.rows, "seconds": seconds, "days": len(report.days_synced),
               "staged": [t - began for t in staged], "symbols": len(report.symbols)}
    else:  # sql
        from polygon.sql import query

        began = time.perf_counter()
        frame = query("SELECT count(*) AS n, sum(volume) AS v FROM bars_1min", cache_dir=spec["cache_dir"])
        out = {"seconds": time.perf_counter() - began, "rows": int(frame["n"].iloc[0])}
    import resource

    out["peak_rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print("RESULT " + json.dumps(out))
    return 0


def _run_child(spec, env):
    proc = subprocess.run([sys.executable, __file__, "--child", json.dumps(spec)], capture_output=True, text=True,
                          env=env, timeout=3600, cwd=str(ROOT))
    if proc.returncode != 0:
        raise RuntimeError("child %s failed:\n%s" % (spec["side"], proc.stderr[-4000:]))
    line = [x for x in proc.stdout.splitlines() if x.startswith("RESULT ")][-1]
    return json.loads(line[len("RESULT "):])


# ---------------------------------------------------------------------------------------------------------------
# parent

def _parquet_zstd_bytes(bodies):
    """Bytes of one Parquet file (zstd, pyarrow's defaults) holding the bars of every day file."""
    import pandas as pd
    import pyarrow as pa
    import pyarrow.parquet as pq

    frames = [pd.read_csv(io.BytesIO(gzip.decompress(b))) for b in bodies]
    frame = pd.concat(frames, ignore_index=True).sort_values(["ticker", "window_start"], kind="stable")
    table = pa.table({"symbol": frame["ticker"].to_numpy(dtype=object),
                      "timestamp": pa.array(frame["window_start"].to_numpy(), pa.int64()).cast(
                          pa.timestamp("ns", tz="UTC")),
                      **{c: frame[c].to_numpy() for c in ("open", "high", "low", "close", "volume")},
                      "transactions": frame["transactions"].to_numpy()})
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "all.parquet")
        pq.write_table(table, path, compression="zstd")
        return os.path.getsize(path), len(frame)


def _line(name, values, unit, scale=1.0):
    values = [v * scale for v in values]
    return "%-44s median %10.2f %s   min %10.2f" % (name, statistics.median(values), unit, min(values))


def _goal(text, ok):
    print("goal: %-70s %s" % (text, "met" if ok else "NOT met"))
    return ok


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--symbols", type=int, default=2000)
    parser.add_argument("--days", type=int, default=40)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--quick", action="store_true", help="200 symbols, 8 days, 2 rounds (a smoke test)")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        return _child(args)
    if args.quick:
        args.symbols, args.days, args.rounds = 200, 8, 2
    from polygon.flatfiles.layout import object_key
    from polygon.markets import sessions
    from polygon.sandbox import Sandbox

    days = sessions.trading_days("2024-01-02", "2024-12-31")[: args.days]
    symbols = _symbols(args.symbols)
    env = dict(os.environ, PYTHONPATH=str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", ""))
    work = tempfile.mkdtemp(prefix="bench-ffscale-")
    try:
        with Sandbox(port=0, flatfiles={"bucket": "bench-scale"}) as sb:
            began = time.perf_counter()
            keys, bodies, rows_total = [], [], 0
            for day in days:
                body, n = day_file(day, symbols)
                key = object_key("stocks", "minute_aggs", day)
                sb.flatfiles.put(key, body)
                keys.append(key)
                bodies.append(body)
                rows_total += n
            print("published %d days x %d symbols x 390 minutes = %d rows (%.0f MB gzipped) in %.0f s"
                  % (len(days), len(symbols), rows_total, sum(map(len, bodies)) / 1e6, time.perf_counter() - began))
            s3 = sb.flatfiles.config_values()
            base = {"api_key": sb.api_key, "base_url": sb.base_url, **s3}

            def ours(first, last, cache):
                return _run_child({"side": "ours", "first": first.isoformat(), "last": last.isoformat(),
                                   "config": dict(base, cache_dir=cache)}, env)

            rates = {"limit": [], "ours": []}
            growth, peaks, commits = [], [], []
            keep = None
            for round_ in range(args.rounds):
                for side in (("limit", "ours") if round_ % 2 == 0 else ("ours", "limit")):
                    if side == "limit":
                        result = _run_child(dict(s3, side="limit", keys=keys), env)
                    else:
                        cache = os.path.join(work, "cache-%d" % round_)
                        result = ours(days[0], days[-1], cache)
                        assert result["rows"] == rows_total and result["days"] == len(days), result
                        staged = result["staged"]
                        q = max(1, len(days) // 4)
                        if len(staged) == len(days) and len(days) >= 2 * q + 1:
                            # the gaps between days staged, median of the first q against the last q (a
                            # median: one day stalled by another process on the shared cores is not a trend)
                            gaps = np.diff(np.asarray(staged))
                            growth.append(float(np.median(gaps[-q:]) / np.median(gaps[:q])))
                            commits.append(result["seconds"] - staged[-1])
                        peaks.append(result["peak_rss_mb"])
                        if keep is not None:
                            shutil.rmtree(keep, ignore_errors=True)
                        keep = cache
                    rates[side].append(result["rows"] / result["seconds"])
            print(_line("download + gunzip + pandas.read_csv (limit)", rates["limit"], "k rows/s", 1e-3))
            print(_line("sync_flatfiles (ours)", rates["ours"], "k rows/s", 1e-3))
            ratio = statistics.median(rates["ours"]) / statistics.median(rates["limit"])
            print("ours / limit (medians): %.2fx" % ratio)
            met = [_goal("sync >= 0.5x the download+parse limit (%.2fx)" % ratio, ratio >= 0.5)]
            if growth:
                print(_line("per-day cost, last quarter / first quarter", growth, "x"))
                print(_line("final commit (all days, one write per symbol)", commits, "s"))
                met.append(_goal("per-day cost growth <= 1.1x over %d days (%.2fx)" % (len(days),
                                                                                     statistics.median(growth)),
                                 statistics.median(growth) <= 1.1))
            quarter = days[: max(1, len(days) // 4)]
            small = ours(quarter[0], quarter[-1], os.path.join(work, "cache-quarter"))
            print("peak RSS: sync of %d days %.0f MB, of %d days %.0f MB (median of rounds)"
                  % (len(quarter), small["peak_rss_mb"], len(days), statistics.median(peaks)))
            met.append(_goal("peak RSS does not grow with days (%d days <= 1.25x %d days)" % (len(days), len(quarter)),
                             statistics.median(peaks) <= 1.25 * small["peak_rss_mb"]))

            sql_first = _run_child({"side": "sql", "cache_dir": keep}, env)
            sql_second = _run_child({"side": "sql", "cache_dir": keep}, env)
            assert sql_first["rows"] == rows_total == sql_second["rows"], (sql_first, rows_total)
            print("SQL count(*) over %d rows: first query %.2f s, second %.2f s (fresh processes)"
                  % (rows_total, sql_first["seconds"], sql_second["seconds"]))
            met.append(_goal("first SQL query in seconds, not tens of seconds (<= 5 s)", sql_first["seconds"] <= 5))
            from polygon.storage import StorageManager

            disk = StorageManager(keep).size_on_disk()  # every file under the cache directory
            pq_bytes, pq_rows = _parquet_zstd_bytes(bodies)
            per_bar, pq_per_bar = disk / rows_total, pq_bytes / pq_rows
            print("bytes per bar on disk (all copies under the cache dir, after the queries): %.1f; one Parquet-zstd "
                  "file of the same bars: %.1f (%.2fx)" % (per_bar, pq_per_bar, per_bar / pq_per_bar))
            met.append(_goal("one copy: <= 1.0x Parquet-zstd (%.2fx)" % (per_bar / pq_per_bar),
                             per_bar <= pq_per_bar))
            year_rows = YEAR_ROWS_PER_DAY * YEAR_DAYS
            hours = year_rows / statistics.median(rates["ours"]) / 3600
            print("projection, one year of the full US stock market (%d M minute bars): %.1f h to sync on this "
                  "machine, %.1f GB on disk" % (year_rows // 1_000_000, hours, per_bar * year_rows / 1e9))
            met.append(_goal("a year of the full market fits in hours on one machine (%.1f h <= 12 h)" % hours,
                             hours <= 12))
            print("%d of %d goals met" % (sum(met), len(met)))
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
