"""Request bench: requests per common workflow, ours against the least possible (issue 26).

Runs against a private sandbox whose clock is moved day by day together with the manager's clock; every count
is read from the sandbox's own request counters (what reached the provider), per endpoint family.

Least possible, per workflow (a split-safe cache must learn each day whether a split was announced, and needs a
symbol's older splits once):

- one symbol, first call (cold cache, a past range): 1 bars request + 1 splits request (its history);
- the same call again, the same day: 0;
- the same call the next day: 1 (the day's one market-wide splits request; the bars are cached);
- ``use_cache=False``: 1 (the provider's adjusted bars, no splits request), also for a symbol never seen;
- ten symbols cold (a batch over a past range): 10 bars requests + 1 market-wide splits request;
- the same ten again, the same day: 0;
- ``update_cache`` of 100 symbols a day after they were cached: 100 bars requests (one new day each) + 1
  splits request for all of them.

Run: ``python bench/bench_requests.py``. Prints one line per workflow and whether each is the least possible.
"""

import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))

import pandas as pd  # noqa: E402

AGGS = "/v2/aggs/ticker/{stocksTicker}/range/{multiplier}/{timespan}/{from}/{to}"
SPLITS = "/v3/reference/splits"


def _counts(sb):
    stats = sb.stats()["requests"]
    bars = sum(n for path, n in stats.items() if path.startswith("/v2/aggs/"))
    splits = stats.get(SPLITS, 0)
    return bars, splits, sum(stats.values()) - bars - splits


def main():
    from polygon.manager import PolygonDataManager
    from polygon.sandbox import Sandbox
    from polygon.sandbox.universe import Universe
    from polygon.storage import StorageManager

    stocks = [s.ticker for s in Universe().of_market("stocks") if s.list_date < "2023-01-01" and not s.delisted]
    ten, hundred = stocks[:10], stocks[10:110]
    rows = []
    with Sandbox(port=0) as sb, tempfile.TemporaryDirectory(prefix="bench-requests-") as work:
        now = [0]

        def move(instant):  # the sandbox's clock and the manager's move together
            sb.configure(clock=instant)
            now[0] = int(pd.Timestamp(instant).value // 1_000_000)

        move("2024-07-01T20:00:00-04:00")

        def manager():
            return PolygonDataManager(config=sb.config(cache_dir=work, max_workers=4), storage=StorageManager(work),
                                      progress=False, clock=lambda: now[0])

        def measure(label, least, action):
            sb.reset_stats()
            with manager() as m:
                action(m)
            bars, splits, other = _counts(sb)
            total = bars + splits + other
            rows.append((label, bars, splits, other, total, least))

        one = ("MSFT", "1day", "2024-01-02", "2024-06-28")
        measure("one symbol, first call", 2, lambda m: m.fetch_data(*one))
        measure("one symbol, same day again", 0, lambda m: m.fetch_data(*one))
        move("2024-07-02T20:00:00-04:00")
        measure("one symbol, next day", 1, lambda m: m.fetch_data(*one))
        measure("one symbol, use_cache=False", 1, lambda m: m.fetch_data(*one, use_cache=False))
        measure("a new symbol, use_cache=False", 1,
                lambda m: m.fetch_data("NVDA", "1day", "2024-05-01", "2024-06-28", use_cache=False))
        batch = ("1day", "2024-01-02", "2024-06-28")
        measure("ten symbols, cold", 11, lambda m: m.fetch_multiple_symbols(ten, *batch))
        measure("ten symbols, warm", 0, lambda m: m.fetch_multiple_symbols(ten, *batch))
        move("2024-07-03T20:00:00-04:00")
        sb.reset_stats()
        with manager() as m:  # cache 100 symbols up to today (not measured)
            m.fetch_multiple_symbols(hundred, "1day", "2024-06-03", "2024-07-03")
        move("2024-07-05T20:00:00-04:00")  # the next trading day (July 4th is a holiday)

        def update_all(m):
            for sym in hundred:
                m.update_cache(sym, "1day")

        measure("update_cache of 100 symbols, a day later", 101, update_all)

    print("requests per workflow (sandbox counters): bars + splits + other = ours vs least possible")
    print("  %-42s %5s %7s %6s %6s %6s  %s" % ("workflow", "bars", "splits", "other", "ours", "least", ""))
    ok = True
    for label, bars, splits, other, total, least in rows:
        met = total <= least
        ok &= met
        print("  %-42s %5d %7d %6d %6d %6d  %s" % (label, bars, splits, other, total, least,
                                                 "met" if met else "NOT MET"))
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
