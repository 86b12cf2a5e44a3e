"""REST benchmark: 250,000 one-minute bars in 5 pages of 50,000, served as precomputed bytes.

Sides, interleaved round by round in one run (so background load hits them alike):

1. **raw**: a ``requests.Session`` + stdlib ``json.loads`` loop following ``next_url``, requesting exactly
   the URLs ours requested (recorded by the page server); it builds nothing.
2. **ours**: ``PolygonDataManager.fetch_data(..., use_cache=False)`` -> contract DataFrame (the provider's
   adjusted bars, not cached: issue 26).
3. **official**: ``massive.RESTClient.list_aggs`` + ``pandas.DataFrame`` (skipped when massive is absent).

The page server (``memo_pages.py``) runs in a child process and returns fixed bytes, so it is not the
bottleneck. Peak transient memory of ours is measured with ``tracemalloc`` (numpy buffers included) in a
separate, untimed call and compared with ``frame.memory_usage(deep=True)``.

By default the bench runs itself twice in child processes: once with orjson blocked (the stdlib codec)
and once with orjson (when installed). Goals (issue 26): ours <= 1.0x raw without orjson, <= 0.7x raw with it;
official / ours >= 5x; peak memory <= 4x the frame.

Run: ``python bench/bench_rest.py [--rounds 7] [--codec json|orjson|both] [--skip-official]``.
"""

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent


def _setup_codec(codec):
    if codec == "json":
        sys.modules["orjson"] = None  # makes "import orjson" raise ImportError: the stdlib fallback runs


def goal(label, value, target, higher=False):
    met = value >= target if higher else value <= target
    print("  %-44s %7.3fx  goal %s %.2fx  %s" % (label, value, ">=" if higher else "<=", target,
                                                 "met" if met else "NOT MET"))
    return met


def run(args):
    _setup_codec(args.codec)
    sys.path.insert(0, str(HERE))
    sys.path.insert(0, str(HERE.parent))
    import json
    import tracemalloc

    import requests
    from memo_pages import MemoPages

    from polygon.config import PolygonConfig
    from polygon.core import json_codec
    from polygon.manager import PolygonDataManager

    with MemoPages(args.bars, args.page) as memo, tempfile.TemporaryDirectory(prefix="bench-rest-") as work:
        config = PolygonConfig(api_key="bench-key", base_url=memo.base_url, cache_dir=work,
                               timezone="America/New_York")
        manager = PolygonDataManager(config=config, progress=False)
        start, end = "2019-01-02", "2025-12-31"

        def ours():
            return len(manager.fetch_data("AAPL", "1min", start, end, use_cache=False))

        first = ours()
        urls = [memo.base_url + path for path in memo.requests()]
        session = requests.Session()
        session.headers["Authorization"] = "Bearer bench-key"

        def raw():
            url, rows, count = urls[0], 0, 0
            while url and count < 100:
                page = json.loads(session.get(url, timeout=120).content)
                rows += len(page.get("results") or [])
                url, count = page.get("next_url"), count + 1
            return rows

        raw()
        raw_urls = [memo.base_url + path for path in memo.requests()]
        if raw_urls != urls:
            raise SystemExit("raw and ours requested different URLs:\n%s\n%s" % (raw_urls, urls))
        sides = {"raw": raw, "ours": ours}
        if not args.skip_official:
            try:
                import massive
                import pandas as pd
            except ImportError:
                print("massive not installed: official side skipped")
            else:
                official_client = massive.RESTClient("bench-key", base=memo.base_url, read_timeout=120)

                def official():
                    aggs = list(official_client.list_aggs("AAPL", 1, "minute", start, end, limit=args.page))
                    return len(pd.DataFrame(aggs))

                sides["official"] = official
        samples = {name: [] for name in sides}
        counts = {}
        for _ in range(args.rounds):
            for name, fn in sides.items():
                t0 = time.perf_counter()
                counts[name] = fn()
                samples[name].append(time.perf_counter() - t0)
        tracemalloc.start()
        frame = manager.fetch_data("AAPL", "1min", start, end, use_cache=False)
        _, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        frame_bytes = int(frame.memory_usage(deep=True).sum())

    print("\n== codec %s (json_codec.BACKEND=%s), %d bars, %d pages (%.1f MB), %d rounds, machine shared ==" % (
        args.codec, json_codec.BACKEND, first, len(urls), sum(memo.sizes) / 1e6, args.rounds))
    med = {}
    for name, values in samples.items():
        med[name] = statistics.median(values)
        print("  %-9s median %7.3fs  min %7.3fs  rows %d" % (name, med[name], min(values), counts[name]))
    if len(set(counts.values())) != 1:
        print("  WARNING: row counts differ: %s" % counts)
    target = 1.0 if json_codec.BACKEND == "json" else 0.7
    goal("ours / raw (medians)", med["ours"] / med["raw"], target)
    if "official" in med:
        goal("official / ours (medians)", med["official"] / med["ours"], 5.0, higher=True)
    print("  peak transient memory (tracemalloc) %.1f MB, frame %.1f MB" % (peak / 1e6, frame_bytes / 1e6))
    goal("peak memory / frame", peak / frame_bytes, 4.0)
    return 0


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--bars", type=int, default=250000)
    parser.add_argument("--page", type=int, default=50000)
    parser.add_argument("--codec", choices=("json", "orjson", "both"), default="both")
    parser.add_argument("--skip-official", action="store_true")
    args = parser.parse_args(argv)
    if args.rounds < 5:
        parser.error("--rounds must be >= 5")
    if args.codec != "both":
        return run(args)
    status = 0
    for codec in ("json", "orjson"):
        cmd = [sys.executable, __file__, "--codec", codec, "--rounds", str(args.rounds), "--bars", str(args.bars),
               "--page", str(args.page)] + (["--skip-official"] if args.skip_official else [])
        status |= subprocess.call(cmd, timeout=3600)
    return status


if __name__ == "__main__":
    sys.exit(main())
