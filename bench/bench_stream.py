"""Stream throughput and slow-consumer memory, against one sandbox firehose, three ways in one run.

1. ours:     PolygonWebSocketClient: decode + normalise to the guide's dicts + dispatch to a callback
2. raw:      websocket-client + json.loads only (no normalisation, no dispatch): the floor
3. official: massive.WebSocketClient (the provider's client), counting the parsed events it hands over

The sandbox runs in a child process (pinned to CPU 1; the client to CPU 0, on Linux), so this process's CPU
time is the client's alone and "one core" is literal. Figures: events/s
(wall) and events per CPU-second of the client process. Ours runs with ``overflow='block'`` here: the
firehose outruns every consumer, and dropping (the default policy) would measure drops, not throughput;
the official client and the raw loop are paced by TCP the same way. On a shared machine the figures move
a lot between runs: rounds are interleaved and the best round of each client counts.

Then a slow-consumer run (default policy; a callback taking ``--slow-ms`` per event under the firehose)
samples this process's RSS for ``--memory-seconds``.

    python bench/bench_stream.py                      # 3 rounds x 3 s per client, 10 s memory run
    python bench/bench_stream.py --memory-seconds 60  # the full memory check

Targets: ours >= 150,000 events/s and >= 2x official; peak RSS bounded during the slow-consumer run.
"""

import argparse
import asyncio
import json
import logging
import multiprocessing as mp
import os
import sys
import threading
import time

sys.path.insert(0, os.path.abspath(os.path.join(os.path.dirname(__file__), "..")))

SYMBOLS = ["AAPL", "MSFT", "GOOGL", "AMZN", "TSLA", "SPY", "QQQ", "NVDA", "META", "IWM"]


def _pin(cpu):
    """Pin this process to one CPU (Linux): the client on one core, the sandbox on another."""
    if hasattr(os, "sched_setaffinity") and (os.cpu_count() or 1) > 1:
        os.sched_setaffinity(0, {cpu})
        return True
    return False


def _sandbox_main(options, conn):
    _pin(1)
    from polygon.sandbox import Sandbox

    with Sandbox(port=0, **options) as sb:
        conn.send((sb.ws_url, sb.api_key))
        conn.recv()  # wait for "stop"


def start_sandbox(options):
    ctx = mp.get_context("spawn")
    parent, child = ctx.Pipe()
    proc = ctx.Process(target=_sandbox_main, args=(options, child), daemon=True)
    proc.start()
    ws_url, key = parent.recv()
    return proc, parent, ws_url, key


def _measure(run, seconds):
    """``run(stop_event, counter)``: counter is a one-item list incremented by the client under test."""
    counter = [0]
    stop = threading.Event()
    worker = threading.Thread(target=run, args=(stop, counter), daemon=True)
    worker.start()
    time.sleep(1.0)  # warm-up: connection, subscription, first frames
    n0, t0, c0 = counter[0], time.perf_counter(), time.process_time()
    time.sleep(seconds)
    n1, t1, c1 = counter[0], time.perf_counter(), time.process_time()
    stop.set()
    worker.join(15)
    events = n1 - n0
    return {"events": events, "events_per_s": events / (t1 - t0), "events_per_cpu_s": events / max(c1 - c0, 1e-9)}


def run_ours(ws_url, key):
    from polygon.config import get_config
    from polygon.websocket import PolygonWebSocketClient

    def run(stop, counter):
        def on_event(data):
            counter[0] += 1

        # overflow='block': a firehose faster than any consumer must not be measured as drops (the default,
        # drop_oldest, is what the slow-consumer run below exercises)
        client = PolygonWebSocketClient(get_config(api_key=key, ws_url=ws_url), overflow="block")
        client.subscribe(["*"], ["T", "Q"], on_event)
        client.connect()
        stop.wait()
        status = client.get_status()
        client.disconnect()
        if status["dropped_messages"]:
            print("  (ours dropped %d events: queue full)" % status["dropped_messages"])

    return run


def run_raw(ws_url, key):
    import websocket

    def run(stop, counter):
        ws = websocket.create_connection(ws_url + "/stocks", skip_utf8_validation=True, timeout=10)
        ws.recv()
        ws.send(json.dumps({"action": "auth", "params": key}))
        ws.recv()
        ws.send(json.dumps({"action": "subscribe", "params": "T.*,Q.*"}))
        loads = json.loads
        while not stop.is_set():
            counter[0] += len(loads(ws.recv()))
        ws.close()

    return run


def run_official(ws_url, key):
    from massive import WebSocketClient

    def run(stop, counter):
        async def main():
            client = WebSocketClient(
                api_key=key, feed=ws_url.split("://", 1)[1], market="stocks", secure=False,
                subscriptions=["T.*", "Q.*"], max_reconnects=0,
            )

            async def handle(msgs):
                counter[0] += len(msgs)

            task = asyncio.ensure_future(client.connect(handle))
            while not stop.is_set():
                await asyncio.sleep(0.05)
            await client.close()
            task.cancel()
            try:
                await task
            except BaseException:
                pass

        asyncio.run(main())

    return run


def memory_run(ws_url, key, seconds, slow_ms, queue_size):
    import psutil

    from polygon.config import get_config
    from polygon.websocket import PolygonWebSocketClient

    proc = psutil.Process()
    handled = [0]

    def slow(data):
        handled[0] += 1
        time.sleep(slow_ms / 1000.0)

    options = {} if queue_size is None else {"queue_size": queue_size}
    client = PolygonWebSocketClient(get_config(api_key=key, ws_url=ws_url), **options)
    client.subscribe(["*"], ["T", "Q"], slow)
    base = proc.memory_info().rss
    client.connect()
    samples = []
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        samples.append(proc.memory_info().rss)
        time.sleep(0.25)
    status = client.get_status()
    client.disconnect()
    half = samples[len(samples) // 2:] or samples
    return {
        "seconds": seconds,
        "rss_start_mb": base / 2**20,
        "rss_peak_mb": max(samples) / 2**20,
        "rss_peak_second_half_mb": max(half) / 2**20,
        "rss_peak_first_half_mb": max(samples[: len(samples) // 2] or samples) / 2**20,
        "received": status["message_count"],
        "handled": handled[0],
        "dropped": status["dropped_messages"],
        "connected_at_end": status["connected"],
        "reconnects": status["reconnects"],
    }


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=3.0, help="measurement time per client and round")
    parser.add_argument("--repeat", type=int, default=3, help="rounds (clients interleaved); the best round counts")
    parser.add_argument("--memory-seconds", type=float, default=10.0, help="slow-consumer run (60 for the full check)")
    parser.add_argument("--slow-ms", type=float, default=50.0, help="callback time per event in the memory run")
    parser.add_argument("--queue-size", type=int, default=None, help="client queue size (events) in the memory run")
    parser.add_argument("--rate", type=float, default=5_000_000, help="sandbox stream_rate (events/s)")
    parser.add_argument("--only", choices=["ours", "raw", "official"], action="append", help="run only these")
    parser.add_argument("--json", help="also write the results to this file")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.ERROR)  # the slow-consumer run logs its (expected) drops as warnings

    proc, pipe, ws_url, key = start_sandbox({"stream_rate": args.rate, "max_connections": 4})
    if _pin(0):
        print("client pinned to CPU 0, sandbox to CPU 1")
    results = {}
    try:
        ways = [(n, f) for n, f in (("raw", run_raw), ("ours", run_ours), ("official", run_official))
                if not args.only or n in args.only]
        rounds = {name: [] for name, _f in ways}
        for _round in range(max(1, args.repeat)):
            for name, factory in ways:  # interleaved, so a busy machine hurts every client alike
                rounds[name].append(_measure(factory(ws_url, key), args.seconds))
        for name, _f in ways:
            runs = rounds[name]
            results[name] = {
                "events_per_s": max(r["events_per_s"] for r in runs),
                "events_per_cpu_s": max(r["events_per_cpu_s"] for r in runs),
                "events": sum(r["events"] for r in runs),
                "rounds": runs,
            }
            r = results[name]
            print("%-9s %10.0f events/s   %10.0f events/CPU-s   (best of %d rounds, %d events in all)" % (
                name, r["events_per_s"], r["events_per_cpu_s"], len(runs), r["events"]))
        if "ours" in results and "official" in results:
            ratio = results["ours"]["events_per_s"] / max(results["official"]["events_per_s"], 1e-9)
            cpu_ratio = results["ours"]["events_per_cpu_s"] / max(results["official"]["events_per_cpu_s"], 1e-9)
            results["ours_vs_official"] = {"wall": ratio, "cpu": cpu_ratio}
            print("ours / official: %.2fx (wall), %.2fx (per CPU-s)   target >= 2x" % (ratio, cpu_ratio))
        if "ours" in results:
            ok = results["ours"]["events_per_s"] >= 150_000
            print("ours >= 150,000 events/s: %s" % ("yes" if ok else "NO"))
        if args.memory_seconds > 0:
            mem = memory_run(ws_url, key, args.memory_seconds, args.slow_ms, args.queue_size)
            results["memory"] = mem
            print(
                "slow consumer (%.0f ms/event, %.0f s): RSS start %.1f MB, peak %.1f MB (first half %.1f, second half "
                "%.1f); received %d, handled %d, dropped %d; connected at end: %s, reconnects %d"
                % (args.slow_ms, mem["seconds"], mem["rss_start_mb"], mem["rss_peak_mb"],
                   mem["rss_peak_first_half_mb"], mem["rss_peak_second_half_mb"], mem["received"], mem["handled"],
                   mem["dropped"], mem["connected_at_end"], mem["reconnects"])
            )
    finally:
        pipe.send("stop")
        proc.join(10)
        if proc.is_alive():
            proc.terminate()
    if args.json:
        with open(args.json, "w", encoding="utf-8") as fh:
            json.dump(results, fh, indent=2)
    return results


if __name__ == "__main__":
    main()
