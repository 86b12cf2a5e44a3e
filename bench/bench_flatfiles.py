"""Benchmark: bulk history by flat files vs REST, and DuckDB vs pandas over the same cache.

1. Sync: 20 trading days x the sandbox universe of minute bars (about 2.2M bars, 305 symbols) into a fresh
   cache by ``sync_flatfiles`` (the sandbox's S3 emulator, moto, on 127.0.0.1) vs the same bars through REST
   (``fetch_multiple_symbols``, 8 workers, the same sandbox). Bars per second, interleaved rounds.
2. Query: per-symbol average close and total volume over that cache: DuckDB through ``polygon.sql.query``
   (reading the cache's own Parquet files in place: there is no mirror) vs pandas over ``StorageManager.read``
   frames (read + concat + groupby).

Both servers run in this process (the S3 emulator and the REST sandbox), so both sides pay the server's CPU on
the same 2 cores. Run: ``python bench/bench_flatfiles.py [--rounds 5] [--days 20]``.
Goals: flat-file sync >= 3x the REST path in bars/s; DuckDB query <= pandas time (median).
"""

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import pandas as pd  # noqa: E402

from polygon.flatfiles import sync_flatfiles  # noqa: E402
from polygon.manager import PolygonDataManager  # noqa: E402
from polygon.markets import sessions  # noqa: E402
from polygon.sandbox import Sandbox  # noqa: E402
from polygon.storage import StorageManager  # noqa: E402


def _line(name, values, unit):
    return "%-34s median %10.2f %s   min %10.2f   max %10.2f" % (name, statistics.median(values), unit, min(values),
                                                              max(values))


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--days", type=int, default=20)
    args = parser.parse_args(argv)
    days = sessions.trading_days("2024-02-01", "2024-04-30")[: args.days]
    first, last = days[0].isoformat(), days[-1].isoformat()
    with Sandbox(port=0, flatfiles={"bucket": "bench-flatfiles"}) as sb:
        began = time.perf_counter()
        sb.flatfiles.publish(first, last, kinds=("minute_aggs",))
        print("published %d days of minute files for %d symbols in %.1f s" % (len(days), len(sb.model.universe),
                                                                              time.perf_counter() - began))
        symbols = list(sb.model.universe.tickers)
        rates = {"flat files": [], "REST": []}
        bars_seen = {}
        keep = None
        for round_ in range(args.rounds):
            for side in (("flat files", "REST") if round_ % 2 == 0 else ("REST", "flat files")):
                cache = tempfile.mkdtemp(prefix="bench-ff-")
                config = sb.config(cache_dir=cache, max_workers=8)
                began = time.perf_counter()
                if side == "flat files":
                    report = sync_flatfiles("stocks", "minute_aggs", first, last, config=config, progress=False,
                                            max_workers=4)
                    bars = report.rows
                else:
                    with PolygonDataManager(config=config, storage=StorageManager(cache), progress=False) as m:
                        result = m.fetch_multiple_symbols(symbols, "1min", first, last, adjusted=False)
                    assert not result.errors, list(result.errors.items())[:3]
                    bars = sum(len(result[s]) for s in symbols)
                elapsed = time.perf_counter() - began
                bars_seen[side] = bars
                rates[side].append(bars / elapsed)
                if side == "flat files":
                    keep = cache
        print("bars per round: flat files %d, REST %d" % (bars_seen["flat files"], bars_seen["REST"]))
        for side, values in rates.items():
            print(_line(side, [v / 1e3 for v in values], "k bars/s"))
        ratio = statistics.median(rates["flat files"]) / statistics.median(rates["REST"])
        print("flat files / REST (medians): %.2fx  goal >= 3x: %s" % (ratio, "met" if ratio >= 3 else "not met"))

        from polygon.sql import query

        storage = StorageManager(keep)
        sql = ("SELECT symbol, avg(close) AS avg_close, sum(volume) AS volume FROM bars_1min "
               "GROUP BY symbol ORDER BY symbol")
        times = {"DuckDB": [], "pandas": []}
        for round_ in range(args.rounds):
            for side in (("DuckDB", "pandas") if round_ % 2 == 0 else ("pandas", "DuckDB")):
                began = time.perf_counter()
                if side == "DuckDB":
                    duck = query(sql, storage=storage, refresh=False)
                else:
                    frames = []
                    for symbol in symbols:
                        frame = storage.read(symbol, "1min", first, days[-1] + pd.Timedelta(days=1))
                        frames.append(frame[["close", "volume"]].assign(symbol=symbol))
                    panda = (pd.concat(frames).groupby("symbol").agg(avg_close=("close", "mean"),
                                                                      volume=("volume", "sum")).reset_index())
                times[side].append(time.perf_counter() - began)
        assert len(duck) == len(panda) and (duck["symbol"].tolist() == panda["symbol"].tolist())
        assert ((duck["avg_close"] - panda["avg_close"]).abs() < 1e-9).all()
        for side, values in times.items():
            print(_line(side + " query", [v * 1e3 for v in values], "ms"))
        ratio = statistics.median(times["pandas"]) / statistics.median(times["DuckDB"])
        print("pandas / DuckDB (medians): %.2fx  goal >= 1x: %s" % (ratio, "met" if ratio >= 1 else "not met"))


if __name__ == "__main__":
    main()
