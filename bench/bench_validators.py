"""Benchmark: validate one year of 1-minute bars (regular and extended hours).

Run: ``python bench/bench_validators.py [--year 2024] [--rounds 5]``. Prints the median and min wall time
of :func:`polygon.validators.generate_validation_summary` per case (regular and extended hours, a case with
defects and an illiquid symbol, where gap analysis does the most work), interleaved with a floor on the same
frame: four vectorised checks (missing values, OHLC order, positive prices, non-negative volume), and the
ratio of the two. Goal: a full report costs <= 5 us of CPU per bar (a year of regular-hours minutes
in about half a second).
"""

import argparse
import os
import statistics
import sys
import time

import numpy as np
import pandas as pd

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from polygon.markets import sessions  # noqa: E402
from polygon.markets.frames import OHLC_COLUMNS  # noqa: E402
from polygon.validators import generate_validation_summary  # noqa: E402

GOAL_US_PER_BAR = 5.0


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


def basic_checks(df: pd.DataFrame) -> int:
    """The floor: four vectorised checks on the same frame (missing values, OHLC order, prices > 0, volume >= 0)."""
    o, h, l, c = (df[name].to_numpy() for name in OHLC_COLUMNS)  # noqa: E741
    bad = np.isnan(o) | np.isnan(h) | np.isnan(l) | np.isnan(c)
    bad |= (h < np.maximum(o, c)) | (l > np.minimum(o, c)) | (l <= 0)
    bad |= df["volume"].to_numpy() < 0
    return int(bad.sum())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--year", type=int, default=2024)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    if args.rounds < 5:
        parser.error("--rounds must be >= 5")
    print("calendar source: %s" % sessions.calendar_source())
    sessions.trading_days("%d-01-01" % args.year, "%d-12-31" % args.year)  # warm the calendar cache
    regular = year_of_minutes(args.year, extended=False)
    cases = {
        "1 year 1min, regular hours": (regular, {}),
        "1 year 1min, extended hours": (year_of_minutes(args.year, extended=True), {"extended_hours": True}),
        "1 year 1min, regular, defects": (with_defects(regular), {}),
        "1 year 1min, illiquid (20% present)": (year_of_minutes(args.year, False, present=0.2), {}),
    }
    sides = {}
    for label, (df, kw) in cases.items():
        sides[label] = (lambda df=df, kw=kw: generate_validation_summary(df, "AAPL", "1min", **kw))
        sides[label + " / basic checks"] = (lambda df=df: basic_checks(df))
    samples = {name: [] for name in sides}
    cpu = {name: [] for name in sides}
    reports = {}
    for _ in range(args.rounds):  # interleaved: background load hits every side alike
        for name, fn in sides.items():
            started, cpu_started = time.perf_counter(), time.process_time()
            reports[name] = fn()
            samples[name].append(time.perf_counter() - started)
            cpu[name].append(time.process_time() - cpu_started)
    print("%d interleaved rounds, single-threaded, machine shared" % args.rounds)
    print("goals (medians): CPU per bar of a full report <= %.1f us" % GOAL_US_PER_BAR)
    for label, (df, _) in cases.items():
        full, floor = samples[label], samples[label + " / basic checks"]
        report = reports[label]
        us = statistics.median(cpu[label]) / len(df) * 1e6
        print("%-38s %7d bars  median %6.3f s  min %6.3f s  quality=%s score=%s" % (
            label, len(df), statistics.median(full), min(full), report["overall_quality"], report["score"]))
        print("  basic checks median %6.4f s: full report = %.0fx the floor; CPU %.2f us per bar, goal <= %.1f: %s" % (
            statistics.median(floor), statistics.median(full) / statistics.median(floor), us, GOAL_US_PER_BAR,
            "met" if us <= GOAL_US_PER_BAR else "NOT MET"))


if __name__ == "__main__":
    main()
