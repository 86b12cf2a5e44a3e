"""Benchmark: 250,000 one-minute bars (5 pages of 50,000) from the sandbox, three ways.

1. ours: ``PolygonClient.get_bars`` -> DataFrame (columnar pages, vectorised frame);
2. raw baseline: ``requests.get`` + ``json.loads`` of the same pages, nothing else;
3. the official client: ``massive.RESTClient(...).list_aggs(...)`` + ``pandas.DataFrame``.

Run: ``python bench/bench_rest.py [--repeat 5] [--bars 250000] [--in-process]``; by default the
sandbox runs in a child process, as a remote provider would. Prints seconds per run and the
ratios; targets are ours <= 1.15x raw and official >= 3x ours.
"""

import argparse
import json
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import requests  # noqa: E402
from remote_sandbox import RemoteSandbox  # noqa: E402

from polygon.core import PolygonClient  # noqa: E402
from polygon.sandbox import Sandbox  # noqa: E402

SYMBOL = "AAPL"
START = "2019-01-02"
FAR_END = "2025-12-31"
PAGE = 50000


def raw_pages(base_url, key, from_, to, max_pages):
    """The baseline: requests.get + json.loads of each page, following next_url."""
    url = "%s/v2/aggs/ticker/%s/range/1/minute/%s/%s?adjusted=true&sort=asc&limit=%d" % (
        base_url, SYMBOL, from_, to, PAGE)
    headers = {"Authorization": "Bearer " + key}
    pages = []
    while url and len(pages) < max_pages:
        page = json.loads(requests.get(url, headers=headers, timeout=60).content)
        pages.append(page)
        url = page.get("next_url")
    return pages


def run_raw(sb, end_ms):
    pages = raw_pages(sb.base_url, sb.api_key, START, end_ms, 10)
    return sum(len(p.get("results") or []) for p in pages)


def run_ours(client, end_ms):
    frame = client.get_bars(SYMBOL, "1min", START, end_ms)
    return len(frame)


def run_official(sb, end_ms):
    import massive
    import pandas as pd

    client = massive.RESTClient(sb.api_key, base=sb.base_url)
    aggs = list(client.list_aggs(SYMBOL, 1, "minute", START, end_ms, adjusted=True, sort="asc", limit=PAGE))
    return len(pd.DataFrame(aggs))


def client_side_cpu(sb, end_ms, repeat):
    """Decode cost alone on the same page bytes: json.loads vs ours (loads + columns + frame)."""
    from polygon.core import columns_from_pages
    from polygon.frames import bars_frame_from_columns

    url = "%s/v2/aggs/ticker/%s/range/1/minute/%s/%s?adjusted=true&sort=asc&limit=%d" % (
        sb.base_url, SYMBOL, START, end_ms, PAGE)
    headers = {"Authorization": "Bearer " + sb.api_key}
    bodies = []
    while url:
        body = requests.get(url, headers=headers, timeout=60).content
        bodies.append(body)
        url = json.loads(body).get("next_url")

    def loads_only():
        return sum(len(json.loads(b)["results"]) for b in bodies)

    def ours():
        cols = columns_from_pages(json.loads(b) for b in bodies)
        frame = bars_frame_from_columns(cols["t"], cols["o"], cols["h"], cols["l"], cols["c"], cols["v"],
                                        cols["vw"], cols["n"], "America/New_York")
        return len(frame)

    return timed(loads_only, repeat), timed(ours, repeat)


def timed(fn, repeat):
    times, count = [], None
    for _ in range(repeat):
        t0 = time.perf_counter()
        count = fn()
        times.append(time.perf_counter() - t0)
    return min(times), statistics.median(times), count


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--bars", type=int, default=250000)
    parser.add_argument("--skip-official", action="store_true")
    parser.add_argument("--in-process", action="store_true",
                        help="run the sandbox in this process (server threads share the client's GIL)")
    args = parser.parse_args(argv)
    pages_needed = -(-args.bars // PAGE)

    with (Sandbox(port=0) if args.in_process else RemoteSandbox()) as sb:
        # find the end timestamp of the first `bars` bars so every method gets the same pages
        pages = raw_pages(sb.base_url, sb.api_key, START, FAR_END, pages_needed)
        bars = [b for p in pages for b in p["results"]][: args.bars]
        if len(bars) < args.bars:
            raise SystemExit("sandbox gave only %d bars in %s..%s" % (len(bars), START, FAR_END))
        end_ms = bars[-1]["t"]
        client = PolygonClient(config=sb.config())

        methods = {"raw": lambda: run_raw(sb, end_ms), "ours": lambda: run_ours(client, end_ms)}
        if not args.skip_official:
            methods["official"] = lambda: run_official(sb, end_ms)
        # interleave the methods round by round so background load hits all of them alike
        samples = {name: [] for name in methods}
        counts = {}
        for _ in range(args.repeat):
            for name, fn in methods.items():
                t0 = time.perf_counter()
                counts[name] = fn()
                samples[name].append(time.perf_counter() - t0)
        results = {name: (min(v), statistics.median(v), counts[name]) for name, v in samples.items()}
        client.close()
        cpu_loads, cpu_ours = client_side_cpu(sb, end_ms, args.repeat)

    print("%d one-minute bars, %d pages of %d, best/median of %d runs, sandbox %s" % (
        args.bars, pages_needed, PAGE, args.repeat, "in this process" if args.in_process else "in a child process"))
    for name, (best, median, count) in results.items():
        print("  %-9s best %6.3fs  median %6.3fs  rows %d" % (name, best, median, count))
    print("client-side CPU on the same bytes: json.loads %.3fs, ours (loads + columns + frame) %.3fs = %.3fx" % (
        cpu_loads[0], cpu_ours[0], cpu_ours[0] / cpu_loads[0]))
    raw, ours = results["raw"][0], results["ours"][0]
    print("ours / raw       = %.3fx  (target <= 1.15x)" % (ours / raw))
    if "official" in results:
        print("official / ours  = %.2fx  (target >= 3x)" % (results["official"][0] / ours))
    if len(set(counts.values())) != 1:
        print("WARNING: row counts differ: %s" % counts)
    return 0


if __name__ == "__main__":
    sys.exit(main())
