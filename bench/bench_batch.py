"""Benchmark: 100 symbols through ``fetch_multiple_symbols`` with 50 ms of sandbox latency per request.

Compares, in one run against the same sandbox (in a child process, like a remote provider):

1. ours: ``PolygonDataManager.fetch_multiple_symbols`` (bounded thread pool, shared client and limiter),
   on a fresh cache each repetition so every symbol costs one real request;
2. the ideal: ``N x latency / workers`` (perfect overlap, zero overhead);
3. the official client looping sequentially: ``RESTClient.list_aggs`` + ``pandas.DataFrame`` per symbol.

Run: ``python bench/bench_batch.py [--symbols 100] [--latency 0.05] [--workers 8] [--repeat 3]``.
Target: ideal / ours >= 0.8 (printed for the best and the median run). Also printed: a raw concurrent baseline
(requests + json.loads on the same number of threads: the floor this machine and sandbox allow), the peak of
requests in flight seen by the sandbox (ours never exceeds ``workers``; extra pool threads only write the cache
and build frames), and the client CPU per symbol. Note that the ideal is optimistic: 100 requests on 8 slots
take 13 rounds, not 12.5, and every request also pays the sandbox's own few milliseconds.
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

_CPU = {"ours": [], "raw": []}
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
    import pandas as pd
    from massive import RESTClient

    client = RESTClient(api_key=remote.api_key, base=remote.base_url)
    started = time.perf_counter()
    for sym in symbols:
        aggs = list(client.list_aggs(sym, 1, "day", START, END, limit=50000))
        pd.DataFrame([a.__dict__ for a in aggs])
    return time.perf_counter() - started


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--symbols", type=int, default=100)
    parser.add_argument("--latency", type=float, default=0.05)
    parser.add_argument("--workers", type=int, default=8)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args(argv)

    universe = Universe()
    symbols = [t for t in universe.tickers if ":" not in t][: args.symbols]
    ideal = len(symbols) * args.latency / args.workers
    with RemoteSandbox(latency=args.latency, max_connections=100) as remote:
        run_ours(remote, symbols, args.workers)  # warm-up: imports, calendar, connection pool
        ours, raw = [], []
        for _ in range(args.repeat):
            ours.append(run_ours(remote, symbols, args.workers))
            raw.append(run_raw(remote, symbols, args.workers))
        try:
            official = run_official(remote, symbols)
        except ImportError:
            official = None
    best, best_raw = min(ours), min(raw)
    print("symbols=%d latency=%.0f ms workers=%d" % (len(symbols), args.latency * 1000, args.workers))
    print("ideal (N x latency / workers): %.3f s" % ideal)
    print("ours  fetch_multiple_symbols : best %.3f s, median %.3f s  -> efficiency ideal/ours = %.2f best, %.2f median"
          " (target >= 0.8)" % (best, statistics.median(ours), ideal / best, ideal / statistics.median(ours)))
    print("raw  requests+json.loads, same threads: best %.3f s, median %.3f s -> efficiency %.2f best, %.2f median"
          % (best_raw, statistics.median(raw), ideal / best_raw, ideal / statistics.median(raw)))
    print("ours / raw: %.2f best, %.2f median" % (best / best_raw, statistics.median(ours) / statistics.median(raw)))
    print("runs (s): ours %s | raw %s" % (" ".join("%.3f" % x for x in ours), " ".join("%.3f" % x for x in raw)))
    print("requests in flight at the sandbox, peak per run: %s (max_workers=%d)"
          % (sorted(set(_PEAK)), args.workers))
    print("client CPU per symbol: ours %.1f ms (request, columns, frame, atomic cache write), raw %.1f ms"
          % (1000 * min(_CPU["ours"][1:] or _CPU["ours"]) / len(symbols), 1000 * min(_CPU["raw"]) / len(symbols)))
    if official is not None:
        print("official client, sequential : %.3f s  -> ours is %.1fx faster" % (official, official / best))
    else:
        print("official client not installed (pip install massive): skipped")


if __name__ == "__main__":
    main()
