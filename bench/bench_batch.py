"""Benchmark: 100 symbols through ``fetch_multiple_symbols`` with 50 ms of sandbox latency per request.

Compares, in one run against the same sandbox (in a child process, like a remote provider):

1. ours: ``PolygonDataManager.fetch_multiple_symbols`` (bounded thread pool, shared client and limiter),
   on a fresh cache each repetition so every symbol costs one real request;
2. the ideal: ``N x latency / workers`` (perfect overlap, zero overhead);
3. the official client looping sequentially: ``RESTClient.list_aggs`` + ``pandas.DataFrame`` per symbol.

The three sides run interleaved, round by round, in one run (``--rounds`` >= 5); each prints its median and
min and its client CPU per symbol (symbols per CPU-second: the sides use different thread counts).

Run: ``python bench/bench_batch.py [--symbols 100] [--latency 0.05] [--workers 8] [--rounds 5]``.
Goal: ideal / ours >= 0.8 (medians). Also printed: a raw concurrent baseline (requests + json.loads on the
same number of threads: the floor this machine and sandbox allow), the peak of requests in flight seen by
the sandbox (ours never exceeds ``workers``), and official / ours. The ideal is optimistic: 100 requests on
8 slots take 13 rounds, not 12.5, and every request also pays the sandbox's own few milliseconds.
"""

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from remote_sandbox import RemoteSandbox  # noqa: E402

from polygon.manager import PolygonDataManager  # noqa: E402
from polygon.sandbox.universe import Universe  # noqa: E402
from polygon.storage import StorageManager  # noqa: E402

_CPU = {"ours": [], "raw": [], "official": []}
_PEAK = []
START, END = "2023-03-06", "2023-03-10"  # small pages: the sandbox must not be the bottleneck


def run_ours(remote, symbols, workers):
    from polygon.config import get_config

    remote.reset_stats()
    with tempfile.TemporaryDirectory() as cache:
        config = get_config(api_key=remote.api_key, base_url=remote.base_url, cache_dir=cache, max_workers=workers)
        with PolygonDataManager(config=config, storage=StorageManager(cache), progress=False) as manager:
            started, cpu = time.perf_counter(), time.process_time()
            result = manager.fetch_multiple_symbols(symbols, "1day", START, END)
            elapsed = time.perf_counter() - started
            _CPU["ours"].append(time.process_time() - cpu)
    assert not result.errors, result.errors
    assert len(result) == len(symbols)
    _PEAK.append(remote.stats()["rest_in_flight_peak"])
    return elapsed


def run_raw(remote, symbols, workers):
    """The floor this machine allows: requests.get + json.loads on the same thread count, nothing else."""
    import threading
    from concurrent.futures import ThreadPoolExecutor

    import requests

    local = threading.local()
    sessions = []
    headers = {"Authorization": "Bearer " + remote.api_key}

    def get(sym):
        session = getattr(local, "session", None)
        if session is None:
            session = local.session = requests.Session()
            sessions.append(session)
        url = "%s/v2/aggs/ticker/%s/range/1/day/%s/%s" % (remote.base_url, sym, START, END)
        return session.get(url, headers=headers, timeout=30).json()

    started, cpu = time.perf_counter(), time.process_time()
    with ThreadPoolExecutor(workers) as pool:
        list(pool.map(get, symbols))
    _CPU["raw"].append(time.process_time() - cpu)
    elapsed = time.perf_counter() - started
    for session in sessions:
        session.close()
    return elapsed


def run_official(remote, symbols):
    """The official client looping over the symbols sequentially (its documented usage)."""
    import pandas as pd
    from massive import RESTClient

    client = RESTClient(api_key=remote.api_key, base=remote.base_url)
    started, cpu = time.perf_counter(), time.process_time()
    for sym in symbols:
        aggs = list(client.list_aggs(sym, 1, "day", START, END, limit=50000))
        pd.DataFrame([a.__dict__ for a in aggs])
    _CPU["official"].append(time.process_time() - cpu)
    return time.perf_counter() - started


def goal(label, value, target):
    print("  %-52s %6.2f  goal >= %.2f  %s" % (label, value, target, "met" if value >= target else "NOT MET"))


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--symbols", type=int, default=100)
    parser.add_argument("--latency", type=float, default=0.05)
    parser.add_argument("--workers", type=int, default=8)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--skip-official", action="store_true")
    args = parser.parse_args(argv)
    if args.rounds < 5:
        parser.error("--rounds must be >= 5")

    universe = Universe()
    symbols = [t for t in universe.tickers if ":" not in t][: args.symbols]
    ideal = len(symbols) * args.latency / args.workers
    sides = {"ours": lambda: run_ours(remote, symbols, args.workers),
             "raw": lambda: run_raw(remote, symbols, args.workers)}
    if not args.skip_official:
        try:
            import massive  # noqa: F401
        except ImportError:
            print("official client not installed (pip install massive): skipped")
        else:
            sides["official"] = lambda: run_official(remote, symbols)
    samples = {name: [] for name in sides}
    with RemoteSandbox(latency=args.latency, max_connections=100) as remote:
        run_ours(remote, symbols, args.workers)  # warm-up: imports, calendar, connection pool
        for cpu in _CPU.values():
            cpu.clear()
        for _ in range(args.rounds):  # interleaved: background load hits every side alike
            for name, fn in sides.items():
                samples[name].append(fn())
    med = {name: statistics.median(v) for name, v in samples.items()}
    print("symbols=%d latency=%.0f ms workers=%d, %d interleaved rounds, machine shared" % (
        len(symbols), args.latency * 1000, args.workers, args.rounds))
    print("ideal (N x latency / workers): %.3f s" % ideal)
    for name, values in samples.items():
        cpu = statistics.median(_CPU[name])
        print("  %-9s median %7.3f s  min %7.3f s  client CPU %6.1f ms per symbol (%5.0f symbols per CPU-second)" % (
            name, med[name], min(values), 1000 * cpu / len(symbols), len(symbols) / cpu if cpu else float("inf")))
    print("requests in flight at the sandbox, peak per run of ours: %s (max_workers=%d)"
          % (sorted(set(_PEAK)), args.workers))
    print("goals (ratios of medians):")
    goal("efficiency ideal / ours", ideal / med["ours"], 0.8)
    print("  %-52s %6.2f" % ("ours / raw (same threads)", med["ours"] / med["raw"]))
    if "official" in med:
        print("  %-52s %6.2f  (sequential, as documented)" % ("official / ours", med["official"] / med["ours"]))
        print("  %-52s %6.2f" % ("official CPU per symbol / ours", statistics.median(_CPU["official"])
                                 / statistics.median(_CPU["ours"])))


if __name__ == "__main__":
    main()
