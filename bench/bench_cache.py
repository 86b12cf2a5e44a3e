"""Cache benchmark: hits of one and three years of one-minute bars, DataFrame to DataFrame, and bytes on disk.

Sides, interleaved round by round in one run:

- **hit 1y / hit 3y**: ``StorageManager.read()`` of one year (one partition) and of three years (three
  partitions): files read, verified (checksums) and returned as a contract DataFrame;
- **raw npy 1y / 3y**: ``np.load`` of plain ``.npy`` files holding the same arrays uncompressed, then the
  same DataFrame built directly (tz-aware index, seven columns) -- the floor for "read arrays into a frame";
- **raw feather 1y / 3y**: ``pyarrow.feather.read_feather`` of an uncompressed Feather file (-> DataFrame);
- **hit 1y (parquet format)**: the same read from a cache written with ``format='parquet'``.

Goals: hit 3y <= 3.5x hit 1y (linear in bars); hit <= 2x the faster raw read of the same bars; native
bytes per bar <= 1.2x Parquet with zstd (pyarrow's ``write_table(compression='zstd')``) of the same bars.

Run: ``python bench/bench_cache.py [--rounds 21]``.
"""

import argparse
import os
import shutil
import statistics
import sys
import tempfile
import time

import numpy as np
import pandas as pd

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from polygon.markets.frames import bars_frame_from_columns, frame_to_arrays  # noqa: E402
from polygon.storage import StorageManager  # noqa: E402

SYMBOL = "AAPL"
TIMEFRAME = "1min"
TZ = "America/New_York"
YEARS = (2021, 2022, 2023)


def synth(years, seed=0):
    """252 weekdays x 390 regular-session minutes per year, cent prices, integer volumes (no network)."""
    t_parts = []
    for year in years:
        days = np.arange(np.datetime64("%d-01-01" % year), np.datetime64("%d-01-01" % (year + 1)))
        weekdays = days[np.is_busday(days)][:252]
        opens_ms = weekdays.astype("datetime64[ms]").astype(np.int64) + (14 * 60 + 30) * 60_000
        t_parts.append((opens_ms[:, None] + np.arange(390, dtype=np.int64)[None, :] * 60_000).reshape(-1))
    t = np.concatenate(t_parts)
    rng = np.random.default_rng(seed)
    n = t.size
    close = np.round(150 + rng.standard_normal(n).cumsum() * 0.05, 2)
    high = np.round(close + rng.random(n) * 0.3, 2)
    low = np.round(close - rng.random(n) * 0.3, 2)
    open_ = np.round(low + (high - low) * rng.random(n), 2)
    vwap = np.round((high + low + close) / 3, 4)
    tx = rng.integers(1, 2000, n).astype(float)
    tx[rng.random(n) < 0.01] = np.nan
    volume = rng.integers(100, 200_000, n).astype(float)
    return bars_frame_from_columns(t, open_, high, low, close, volume, vwap, tx, tz=TZ)


def raw_frame(directory, tz=TZ):
    """np.load of the four arrays + the same contract DataFrame, built directly."""
    values = np.load(os.path.join(directory, "values.npy"))
    t_ns = np.load(os.path.join(directory, "t_ns.npy"))
    tx = np.load(os.path.join(directory, "transactions.npy"))
    mask = np.load(os.path.join(directory, "tx_mask.npy"))
    index = pd.DatetimeIndex(t_ns, dtype=pd.DatetimeTZDtype("ns", tz), name="timestamp")
    data = {name: values[i] for i, name in enumerate(("open", "high", "low", "close", "volume", "vwap"))}
    data["transactions"] = pd.arrays.IntegerArray(tx, mask)
    return pd.DataFrame(data, index=index, copy=False)


def save_raw(directory, df):
    os.makedirs(directory)
    arrays = frame_to_arrays(df)
    for name in ("values", "t_ns", "transactions", "tx_mask"):
        np.save(os.path.join(directory, name + ".npy"), getattr(arrays, name), allow_pickle=False)


def goal(label, value, target):
    print("  %-58s %7.3f  goal <= %.2f  %s" % (label, value, target, "met" if value <= target else "NOT MET"))


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=21)
    args = parser.parse_args(argv)
    if args.rounds < 5:
        parser.error("--rounds must be >= 5")
    work = tempfile.mkdtemp(prefix="polygon-bench-cache-")
    try:
        return run(args, work)
    finally:
        shutil.rmtree(work, ignore_errors=True)


def run(args, work):
    df3 = synth(YEARS)
    df1 = df3[df3.index.year == YEARS[-1]]
    first, last = str(YEARS[-1]) + "-01-01", str(YEARS[-1] + 1) + "-01-01"
    arrays = frame_to_arrays(df3)
    native = StorageManager(os.path.join(work, "native"), tz=TZ)
    native.write(SYMBOL, TIMEFRAME, df3, covered=(int(arrays.t_ns[0] // 10**6), int(arrays.t_ns[-1] // 10**6) + 1))
    assert native.read(SYMBOL, TIMEFRAME).equals(df3), "round trip mismatch (3 years)"
    assert native.read(SYMBOL, TIMEFRAME, first, last).equals(df1), "round trip mismatch (1 year)"
    save_raw(os.path.join(work, "raw1"), df1)
    save_raw(os.path.join(work, "raw3"), df3)
    assert raw_frame(os.path.join(work, "raw3")).equals(df3)

    sides = {
        "hit 1y (StorageManager.read -> DataFrame)": lambda: native.read(SYMBOL, TIMEFRAME, first, last),
        "hit 3y (StorageManager.read -> DataFrame)": lambda: native.read(SYMBOL, TIMEFRAME),
        "raw npy 1y (np.load + DataFrame)": lambda: raw_frame(os.path.join(work, "raw1")),
        "raw npy 3y (np.load + DataFrame)": lambda: raw_frame(os.path.join(work, "raw3")),
    }
    sizes = {"native cache": native.size_on_disk() / len(df3)}
    try:
        import pyarrow as pa
        import pyarrow.feather as feather
        import pyarrow.parquet as pq
    except ImportError:
        pa = None
        print("pyarrow not installed: feather and parquet sides skipped")
    if pa is not None:
        for label, frame in (("1y", df1), ("3y", df3)):
            table = pa.Table.from_pandas(frame, preserve_index=True)
            feather.write_feather(table, os.path.join(work, "raw%s.feather" % label), compression="uncompressed")
        pq.write_table(pa.Table.from_pandas(df3, preserve_index=True), os.path.join(work, "zstd.parquet"),
                       compression="zstd")
        sizes["parquet zstd (pyarrow write_table)"] = os.path.getsize(os.path.join(work, "zstd.parquet")) / len(df3)
        pq_store = StorageManager(os.path.join(work, "parquet"), format="parquet", tz=TZ)
        pq_store.write(SYMBOL, TIMEFRAME, df3)
        sizes["parquet-format cache"] = pq_store.size_on_disk() / len(df3)
        sides["raw feather 1y (read_feather -> DataFrame)"] = lambda: feather.read_feather(
            os.path.join(work, "raw1y.feather"))
        sides["raw feather 3y (read_feather -> DataFrame)"] = lambda: feather.read_feather(
            os.path.join(work, "raw3y.feather"))
        sides["hit 1y, parquet-format cache"] = lambda: pq_store.read(SYMBOL, TIMEFRAME, first, last)

    samples = {name: [] for name in sides}
    for fn in sides.values():
        fn()  # warm: imports, page cache
    for _ in range(args.rounds):
        for name, fn in sides.items():
            t0 = time.perf_counter()
            fn()
            samples[name].append(time.perf_counter() - t0)
    med = {name: statistics.median(v) for name, v in samples.items()}

    print("bars: %d in 3 years, %d in %d; %d interleaved rounds; machine shared" % (
        len(df3), len(df1), YEARS[-1], args.rounds))
    width = max(len(k) for k in sides)
    print("%-*s  %9s  %9s" % (width, "side", "median ms", "min ms"))
    for name, values in samples.items():
        print("%-*s  %9.3f  %9.3f" % (width, name, med[name] * 1e3, min(values) * 1e3))
    print("bytes per bar on disk:")
    for name, value in sizes.items():
        print("  %-40s %6.1f" % (name, value))
    print("goals (ratios of medians):")
    hit1, hit3 = med["hit 1y (StorageManager.read -> DataFrame)"], med["hit 3y (StorageManager.read -> DataFrame)"]
    goal("hit 3y / hit 1y", hit3 / hit1, 3.5)
    for label, hit in (("1y", hit1), ("3y", hit3)):
        raws = {k: v for k, v in med.items() if k.startswith("raw") and " %s " % label in k}
        fastest = min(raws, key=raws.get)
        goal("hit %s / fastest raw (%s)" % (label, fastest.split(" (")[0]), hit / raws[fastest], 2.0)
    if "parquet zstd (pyarrow write_table)" in sizes:
        goal("native bytes per bar / parquet-zstd bytes per bar",
             sizes["native cache"] / sizes["parquet zstd (pyarrow write_table)"], 1.2)
    return 0


if __name__ == "__main__":
    sys.exit(main())
