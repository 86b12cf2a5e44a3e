"""Drop-in benchmark: ``polygon.RESTClient`` against ``massive.RESTClient`` on the same call forms.

Both clients read the same precomputed aggregate pages (``memo_pages.py``: fixed bytes from a child process,
so the server is not the bottleneck), interleaved round by round:

1. ``list_aggs(...)`` over every page: an iterator of official ``Agg`` objects (200,000 bars, 4 pages);
2. ``get_aggs(...)``: one page as a list of ``Agg`` (50,000 bars).

Goal: the drop-in is not slower than the official client (ours / official <= 1.10 on the median) while it
adds the rate limiter, retries and typed errors. Prints median and min of the rounds and met / NOT MET.

Run: ``python bench/bench_official.py [--rounds 5]`` (needs ``massive``, the test extra).
"""

import argparse
import statistics
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parent))


def _timed(call, *args):
    started = time.perf_counter()
    count = call(*args)
    return time.perf_counter() - started, count


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--bars", type=int, default=200000)
    parser.add_argument("--page", type=int, default=50000)
    args = parser.parse_args(argv)
    try:
        import massive
    except ImportError:
        print("massive is not installed: pip install -e .[test]")
        return 2
    from memo_pages import FAR_END, START, SYMBOL, MemoPages

    from polygon import RESTClient

    with MemoPages(args.bars, args.page) as memo:
        ours = RESTClient(api_key="bench-key", base=memo.base_url)
        official = massive.RESTClient(api_key="bench-key", base=memo.base_url)
        forms = {
            "list_aggs (every page)": lambda c: sum(1 for _ in c.list_aggs(SYMBOL, 1, "minute", START, FAR_END,
                                                                             limit=args.page)),
            "get_aggs (one page)": lambda c: len(c.get_aggs(SYMBOL, 1, "minute", START, FAR_END, limit=args.page)),
        }
        met = True
        for label, form in forms.items():
            times = {"ours": [], "official": []}
            counts = set()
            for _ in range(args.rounds):
                for side, client in (("ours", ours), ("official", official)):
                    seconds, count = _timed(form, client)
                    times[side].append(seconds)
                    counts.add(count)
            assert len(counts) == 1, "the two clients returned different row counts: %s" % counts
            ratio = statistics.median(times["ours"]) / statistics.median(times["official"])
            ok = ratio <= 1.10
            met &= ok
            print("%s, %d rows: ours median %.3fs (min %.3fs), official median %.3fs (min %.3fs); "
                  "ours/official %.2fx, goal <= 1.10x: %s"
                  % (label, counts.pop(), statistics.median(times["ours"]), min(times["ours"]),
                     statistics.median(times["official"]), min(times["official"]), ratio,
                     "met" if ok else "NOT MET"))
        ours.close()
    return 0 if met else 1


if __name__ == "__main__":
    sys.exit(main())
