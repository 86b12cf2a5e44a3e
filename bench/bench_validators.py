"""Benchmark: validate one year of 1-minute bars (regular and extended hours).

Run: ``python bench/bench_validators.py [--year 2024] [--repeat 5]``. Prints the best and median
wall time of :func:`polygon.validators.generate_validation_summary` per case, plus a case with
defects and an illiquid symbol (most minutes missing), where gap analysis does the most work.
"""

import argparse
import os
import statistics
import sys
import time

import numpy as np
import pandas as pd

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from polygon import sessions  # noqa: E402
from polygon.validators import generate_validation_summary  # noqa: E402


def year_of_minutes(year: int, extended: bool, present: float = 1.0, seed: int = 0) -> pd.DataFrame:
    t = sessions.expected_minutes("%d-01-01" % year, "%d-12-31" % year, extended=extended)
    rng = np.random.default_rng(seed)
    if present < 1.0:
        t = t[rng.random(len(t)) < present]
    n = len(t)
    close = np.round(100 * np.exp(np.cumsum(rng.normal(0, 5e-4, n))), 2)
    open_ = np.concatenate(([close[0]], close[:-1]))
    high = np.maximum(open_, close) + 0.01
    low = np.minimum(open_, close) - 0.01
    index = pd.DatetimeIndex(pd.to_datetime(t, unit="ms", utc=True), name="timestamp").tz_convert("America/New_York")
    return pd.DataFrame({"open": open_, "high": high, "low": low, "close": close,
                         "volume": rng.integers(100, 10_000, n).astype(float), "vwap": (high + low + close) / 3,
                         "transactions": pd.array(rng.integers(1, 90, n), dtype="Int64")}, index=index)


def with_defects(df: pd.DataFrame) -> pd.DataFrame:
    out = df.copy()
    rng = np.random.default_rng(1)
    rows = rng.choice(len(out), 200, replace=False)
    out.iloc[rows[:50], out.columns.get_loc("volume")] = -1.0
    out.iloc[rows[50:100], out.columns.get_loc("high")] = 1.0
    out = out.drop(out.index[rows[100:]])
    return out


def run(label: str, df: pd.DataFrame, repeat: int, **kw) -> None:
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        report = generate_validation_summary(df, "AAPL", "1min", **kw)
        times.append(time.perf_counter() - started)
    print("%-34s %8d bars  best %6.3f s  median %6.3f s  quality=%s score=%s" % (
        label, len(df), min(times), statistics.median(times), report["overall_quality"], report["score"]))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--year", type=int, default=2024)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    print("calendar source: %s" % sessions.calendar_source())
    sessions.trading_days("%d-01-01" % args.year, "%d-12-31" % args.year)  # warm the calendar cache
    regular = year_of_minutes(args.year, extended=False)
    run("1 year 1min, regular hours", regular, args.repeat)
    run("1 year 1min, extended hours", year_of_minutes(args.year, extended=True), args.repeat, extended_hours=True)
    run("1 year 1min, regular, defects", with_defects(regular), args.repeat)
    run("1 year 1min, illiquid (20% present)", year_of_minutes(args.year, False, present=0.2), args.repeat)


if __name__ == "__main__":
    main()
