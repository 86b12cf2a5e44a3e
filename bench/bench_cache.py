"""Cache-hit benchmark: one year of one-minute bars for one symbol.

Compares ``StorageManager.read()`` (file -> verified -> contract DataFrame) with raw reads of the same
arrays: ``np.load`` of ``.npy`` files and of an ``.npz``, and pyarrow Feather/Parquet. Then, when the
sandbox and the REST client are importable, with refetching the same year from the offline sandbox.

Targets (issue 5): cache hit <= 2x raw; >= 50x faster than refetch.

Run: ``python bench/bench_cache.py [--repeat 30] [--no-refetch]``. Prints figures and ratios.
"""

import argparse
import os
import shutil
import statistics
import sys
import tempfile
import time

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from polygon.frames import bars_frame_from_columns, frame_to_arrays  # noqa: E402
from polygon.storage import StorageManager  # noqa: E402

SYMBOL = "AAPL"
TIMEFRAME = "1min"
TZ = "America/New_York"


def synth_year(seed=0):
    """~98k one-minute bars: 252 weekdays x 390 regular-session minutes of 2023 (no network)."""
    days = np.arange(np.datetime64("2023-01-02"), np.datetime64("2024-01-01"))
    weekdays = days[np.is_busday(days)][:252]
    opens_ms = (weekdays.astype("datetime64[ms]").astype(np.int64) + (14 * 60 + 30) * 60_000)  # 09:30 EST as UTC
    t = (opens_ms[:, None] + np.arange(390, dtype=np.int64)[None, :] * 60_000).reshape(-1)
    rng = np.random.default_rng(seed)
    n = t.size
    close = 150 + rng.standard_normal(n).cumsum() * 0.05
    tx = rng.integers(1, 2000, n).astype(float)
    tx[rng.random(n) < 0.01] = np.nan
    return bars_frame_from_columns(t, close + 0.01, close + 0.2, close - 0.2, close, rng.random(n) * 1e5,
                                   close + 0.02, tx, tz=TZ)


def timeit(fn, repeat):
    fn()  # warm (page cache, imports)
    samples = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        samples.append(time.perf_counter() - start)
    return min(samples), statistics.median(samples)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=30)
    parser.add_argument("--no-refetch", action="store_true", help="skip the sandbox refetch comparison")
    parser.add_argument("--keep", action="store_true", help="keep the temporary data directory")
    args = parser.parse_args(argv)
    work = tempfile.mkdtemp(prefix="polygon-bench-cache-")
    try:
        return run(args, work)
    finally:
        if not args.keep:
            shutil.rmtree(work, ignore_errors=True)


def run(args, work):

    df = synth_year()
    arrays = frame_to_arrays(df)
    print("bars: %d (one year of 1-minute bars), data dir: %s" % (len(df), work))

    results = {}
    native = StorageManager(os.path.join(work, "native"), tz=TZ)
    start = time.perf_counter()
    native.write(SYMBOL, TIMEFRAME, df, covered=(int(arrays.t_ns[0] // 10**6), int(arrays.t_ns[-1] // 10**6) + 60_000))
    print("cache write (native, fsync'd): %.1f ms, %.2f MB on disk"
          % ((time.perf_counter() - start) * 1e3, native.size_on_disk() / 1e6))
    check = native.read(SYMBOL, TIMEFRAME)
    assert check.equals(df), "round trip mismatch"
    results["cache hit: StorageManager.read -> DataFrame (native)"] = timeit(
        lambda: native.read(SYMBOL, TIMEFRAME), args.repeat)
    results["cache hit: one month slice (native)"] = timeit(
        lambda: native.read(SYMBOL, TIMEFRAME, "2023-06-01", "2023-07-01"), args.repeat)
    results["cache: coverage/missing check"] = timeit(
        lambda: native.missing(SYMBOL, TIMEFRAME, "2023-01-01", "2024-01-01"), args.repeat)

    have_arrow = True
    try:
        import pyarrow as pa
        import pyarrow.feather as feather
        import pyarrow.parquet as pq
    except ImportError:
        have_arrow = False
    if have_arrow:
        pq_store = StorageManager(os.path.join(work, "parquet"), format="parquet", tz=TZ)
        pq_store.write(SYMBOL, TIMEFRAME, df)
        results["cache hit: StorageManager.read -> DataFrame (parquet format)"] = timeit(
            lambda: pq_store.read(SYMBOL, TIMEFRAME), args.repeat)

    # raw reads of the same arrays, no validation, no DataFrame
    raw_dir = os.path.join(work, "raw")
    os.makedirs(raw_dir)
    named = {"values": arrays.values, "t_ns": arrays.t_ns, "transactions": arrays.transactions,
             "tx_mask": arrays.tx_mask}
    for name, arr in named.items():
        np.save(os.path.join(raw_dir, name + ".npy"), arr, allow_pickle=False)
    np.savez(os.path.join(raw_dir, "all.npz"), **named)
    results["raw: np.load of 4 .npy files (arrays)"] = timeit(
        lambda: [np.load(os.path.join(raw_dir, n + ".npy"), allow_pickle=False) for n in named], args.repeat)

    def load_npz():
        with np.load(os.path.join(raw_dir, "all.npz"), allow_pickle=False) as z:
            return [z[n] for n in named]

    results["raw: np.load of one .npz (arrays)"] = timeit(load_npz, args.repeat)
    if have_arrow:
        table = pa.table({"timestamp": pa.array(arrays.t_ns), **{c: df[c].to_numpy() for c in df.columns[:6]},
                          "transactions": pa.array(arrays.transactions, mask=arrays.tx_mask)})
        feather.write_feather(table, os.path.join(raw_dir, "bars.feather"), compression="uncompressed")
        pq.write_table(table, os.path.join(raw_dir, "bars.parquet"))
        results["raw: pyarrow feather read_table (arrow table)"] = timeit(
            lambda: feather.read_table(os.path.join(raw_dir, "bars.feather"), memory_map=False), args.repeat)
        results["raw: pyarrow feather read_feather (-> DataFrame)"] = timeit(
            lambda: feather.read_feather(os.path.join(raw_dir, "bars.feather")), args.repeat)
        results["raw: pyarrow parquet read_table (arrow table)"] = timeit(
            lambda: pq.read_table(os.path.join(raw_dir, "bars.parquet")), args.repeat)

    width = max(len(k) for k in results)
    print("\n%-*s  %9s  %9s" % (width, "operation", "best ms", "median ms"))
    for name, (best, median) in results.items():
        print("%-*s  %9.3f  %9.3f" % (width, name, best * 1e3, median * 1e3))

    hit_best, hit = results["cache hit: StorageManager.read -> DataFrame (native)"]
    print("\nratios, cache hit / raw (target <= 2.0):   %9s  %9s" % ("best", "median"))
    for name, (best, median) in results.items():
        if name.startswith("raw:"):
            print("  vs %-*s %8.2fx  %8.2fx" % (width - 4, name[5:], hit_best / best, hit / median))

    # ---- REFETCH HOOK: the same year fetched again from the offline sandbox over HTTP (target: >= 50x) ----
    if not args.no_refetch:
        refetch = bench_refetch(args.repeat)
        if refetch is not None:
            print("\nrefetch from sandbox (PolygonClient.get_bars, one year, %d bars): median %.1f ms"
                  % (refetch[1], refetch[0] * 1e3))
            print("cache hit is %.0fx faster than refetch (target >= 50x)" % (refetch[0] / hit))
    return 0


def bench_refetch(repeat):
    """Median seconds to fetch the benchmark year from a local sandbox, or ``None`` when unavailable."""
    try:
        from polygon.core import PolygonClient
        from polygon.sandbox import Sandbox
    except ImportError as exc:
        print("\nrefetch comparison skipped (%s)" % exc)
        return None
    with Sandbox(port=0) as sandbox:
        client = PolygonClient(config=sandbox.config())
        try:
            fetch = lambda: client.get_bars(SYMBOL, TIMEFRAME, "2023-01-01", "2023-12-31")  # noqa: E731
            bars = len(fetch())
            _, median = timeit(fetch, max(3, repeat // 10))
        finally:
            client.close()
    return median, bars


if __name__ == "__main__":
    sys.exit(main())
