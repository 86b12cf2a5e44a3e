"""Benchmark: the local server (port-8200 app) against the same work done in-process, in one run.

1. REST: ``POST /api/v1/bars`` for cached bars (one year of 1-minute bars, and one week of 5-minute bars),
   against the raw baseline of the same work in-process (``fetch_data`` from the cache + the same payload +
   ``json.dumps``): the ratio is what HTTP and the server add. Also: small cached requests per second with
   8 client threads.
2. Stream relay: N local ``/ws/{client_id}`` clients (each in its own process) subscribed to the same trades,
   fed by one upstream connection to a sandbox firehose, against one direct ``PolygonWebSocketClient`` on the
   same feed: events/s delivered to the slowest client. On a 2-core machine the sandbox, the server and the
   clients share the cores, so a high ``--rate`` measures the machine rather than the relay.

The sandbox runs in a child process and so does the server (like a real deployment: the server is its own
process); clients run in this process. There is no official-client equivalent of this server, so no
official ratio is printed here (bench_rest / bench_stream hold those).

Run: ``python bench/bench_server.py [--clients 4] [--seconds 3] [--repeat 3] [--rate 20000]``.
"""

import argparse
import json
import multiprocessing as mp
import os
import statistics
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor

sys.path.insert(0, os.path.abspath(os.path.join(os.path.dirname(__file__), "..")))

from remote_sandbox import RemoteSandbox  # noqa: E402

BIG = {"symbol": "AAPL", "timeframe": "1min", "start_date": "2023-01-01", "end_date": "2023-12-31"}
SMALL = {"symbol": "MSFT", "timeframe": "5min", "start_date": "2023-03-06", "end_date": "2023-03-10"}


def _server_main(base_url, ws_url, api_key, cache, conn):
    from polygon.config import PolygonConfig
    from polygon.polygon_server import PolygonServer

    config = PolygonConfig(api_key=api_key, base_url=base_url, ws_url=ws_url, cache_dir=cache)
    with PolygonServer(port=0, config=config) as srv:
        conn.send(srv.url)
        conn.recv()


def _timed(fn, repeat):
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        fn()
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def bench_rest(url, config, repeat):
    import requests

    from polygon.manager import PolygonDataManager
    from polygon.polygon_server.server import bars_payload

    session = requests.Session()
    manager = PolygonDataManager(config=config, progress=False)
    for body in (BIG, SMALL):  # fill the cache through the server
        assert session.post(url + "/api/v1/bars", json=body, timeout=300).status_code == 200
    print("REST (cached bars; median of %d)" % repeat)
    for label, body in (("one year of 1min bars", BIG), ("one week of 5min bars", SMALL)):
        def server_call(body=body):
            response = session.post(url + "/api/v1/bars", json=body, timeout=300)
            assert response.json()["source"] == "cache"

        def in_process(body=body):
            df = manager.fetch_data(body["symbol"], body["timeframe"], body["start_date"], body["end_date"])
            json.loads(json.dumps(bars_payload(df), separators=(",", ":")))

        ours, raw = _timed(server_call, repeat), _timed(in_process, repeat)
        print("  %-22s server %8.1f ms | in-process same work %8.1f ms -> server / raw = %.2f"
              % (label, ours * 1000, raw * 1000, ours / raw))
    n, threads = 400, 8
    local = threading.local()

    def one(_):
        s = getattr(local, "s", None)
        if s is None:
            s = local.s = requests.Session()
        return s.post(url + "/api/v1/bars", json=SMALL, timeout=60).status_code

    started = time.perf_counter()
    with ThreadPoolExecutor(threads) as pool:
        codes = list(pool.map(one, range(n)))
    elapsed = time.perf_counter() - started
    assert codes == [200] * n
    print("  small cached requests, %d client threads: %.0f requests/s" % (threads, n / elapsed))
    manager.close()
    session.close()


def _count_local(ws_url, client_id, seconds, results):
    """One local client in its own process: subscribe, skip a warm-up, count data messages for ``seconds``."""
    import websocket

    ws = websocket.create_connection("%s/ws/%s" % (ws_url, client_id), timeout=10, skip_utf8_validation=True)
    ws.send(json.dumps({"action": "subscribe", "symbols": ["*"], "channels": ["T"]}))
    warm = time.monotonic() + 1.0
    while time.monotonic() < warm:
        ws.recv()
    n, deadline = 0, time.monotonic() + seconds
    while time.monotonic() < deadline:
        if json.loads(ws.recv())["type"] == "data":
            n += 1
    results.put(n)
    ws.close()


def _count_direct(config, seconds):
    from polygon.websocket import PolygonWebSocketClient

    count = [0]

    def on_event(_event):
        count[0] += 1

    client = PolygonWebSocketClient(config=config, overflow="block")
    client.subscribe(["*"], ["T"], on_event)
    client.connect()
    time.sleep(seconds)
    client.disconnect()
    return count[0]


def bench_relay(server_url, config, clients, seconds, repeat, rate):
    ws_url = server_url.replace("http://", "ws://")
    print("stream relay (sandbox firehose of %d trades/s over all symbols; each client in its own process; median "
          "and min of %d rounds of %.0f s; bench_relay.py measures the relay at scale)" % (rate, repeat, seconds))
    directs = [_count_direct(config, seconds) / seconds for _ in range(repeat)]
    direct = statistics.median(directs)
    print("  direct PolygonWebSocketClient (raw baseline): median %.0f events/s (min %.0f)" % (direct, min(directs)))
    ctx = mp.get_context("spawn")
    for n in sorted({1, clients}):
        rates = []
        for _ in range(repeat):
            results = ctx.Queue()
            procs = [ctx.Process(target=_count_local, args=(ws_url, "c%d" % i, seconds, results)) for i in range(n)]
            for proc in procs:
                proc.start()
            counts = [results.get(timeout=seconds + 60) for _ in procs]
            for proc in procs:
                proc.join(30)
            rates.append(min(counts) / seconds)
        med = statistics.median(rates)
        print("  %d local client(s): median %.0f events/s each (the slowest client; min %.0f) -> relay / direct = %.2f"
              % (n, med, min(rates), med / direct))


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clients", type=int, default=4)
    parser.add_argument("--seconds", type=float, default=3.0)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--rate", type=int, default=20_000, help="sandbox firehose, events/s")
    args = parser.parse_args(argv)
    with RemoteSandbox(stream_rate=args.rate, max_connections=20) as remote, tempfile.TemporaryDirectory() as cache:
        ws_url = remote.base_url.replace("http://", "ws://")
        ctx = mp.get_context("spawn")
        parent, child = ctx.Pipe()
        proc = ctx.Process(target=_server_main, args=(remote.base_url, ws_url, remote.api_key, cache, child),
                           daemon=True)
        proc.start()
        try:
            server_url = parent.recv()
            config = remote.config(ws_url=ws_url, cache_dir=cache)
            bench_rest(server_url, config, args.repeat)
            bench_relay(server_url, config, args.clients, args.seconds, args.repeat, args.rate)
        finally:
            parent.send("stop")
            proc.join(30)


if __name__ == "__main__":
    main()
