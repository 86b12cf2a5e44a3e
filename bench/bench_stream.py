"""Stream client throughput on a loopback firehose: ours vs the official client vs a raw loop, in one run.

A child process serves the provider's protocol (``connected``, ``auth``, ``subscribe``) and then sends one
pre-serialised frame of 100 trades (10 symbols) again and again, as fast as the socket takes it: the
server does no work per frame, so the clients are what is measured. Each round runs every side in turn
(interleaved, so a busy machine hurts them alike) on ``--events`` events:

1. ours:     PolygonWebSocketClient, default settings: decode + normalise to the guide's dicts + a callback
2. official: massive.WebSocketClient (the provider's client): its parsed models handed to a callback
3. raw:      websocket-client (``skip_utf8_validation=True``) + ``json.loads`` (stdlib), counting; the floor
4. raw+orjson: the same loop decoding with orjson (information only: the strongest floor)

Figures per side: events/s from the first to the last event (wall) and events per CPU-second of this
process over the same span (all its threads; the server is another process). Medians and minima over
``--rounds`` rounds. Goals (issue 14): per CPU-second ours >= 2x official and >= 0.8x raw; wall >= 2x
official. Printed as met / not met.

Then a burst check of the default overflow policy (wait while the lag is under ``max_lag``): one
connection, ``--burst`` events, a callback that keeps up on average; it reports the events lost (goal 0).
Last, our client on each of the sandbox's five sockets (every channel, ``*``, the sandbox's firehose): the
events/s each market delivers end to end (information; the sandbox is the slower side there).

    python bench/bench_stream.py                     # 5 rounds x 300,000 events per side
    python bench/bench_stream.py --rounds 7 --events 500000
"""

import argparse
import asyncio
import json
import logging
import multiprocessing as mp
import os
import socket
import statistics
import sys
import threading
import time

sys.path.insert(0, os.path.abspath(os.path.join(os.path.dirname(__file__), "..")))

SYMBOLS = ["AAPL", "MSFT", "GOOGL", "AMZN", "TSLA", "SPY", "QQQ", "NVDA", "META", "IWM"]
PER_FRAME = 100
KEY = "bench-key"


# ---------------------------------------------------------------------------------------------- server
def _frame_text():
    events = []
    for i in range(PER_FRAME):
        sym = SYMBOLS[i % len(SYMBOLS)]
        events.append({
            "ev": "T", "sym": sym, "x": 4 + i % 8, "i": str(100000 + i), "z": 3, "p": round(100 + i * 0.37, 2),
            "s": 100 + i, "c": [12, 37], "t": 1710423000000 + i, "q": 5000000 + i, "trfi": 0, "trft": 0,
        })
    return json.dumps(events, separators=(",", ":"))


def _serve_client(sock):
    """Handshake with wsproto, answer the protocol, then send the one frame until the peer leaves."""
    from wsproto import ConnectionType, WSConnection
    from wsproto.events import AcceptConnection, Message, Request, TextMessage

    conn = WSConnection(ConnectionType.SERVER)

    def events():
        data = sock.recv(65536)
        if not data:
            raise OSError("peer left")
        conn.receive_data(data)
        return list(conn.events())

    def send_text(text):
        sock.sendall(conn.send(TextMessage(data=text)))

    try:
        while True:
            evs = events()
            if any(isinstance(e, Request) for e in evs):
                break
        sock.sendall(conn.send(AcceptConnection()))
        send_text('[{"ev":"status","status":"connected","message":"Connected Successfully"}]')
        subscribed = False
        while not subscribed:
            for ev in events():
                if not isinstance(ev, Message):
                    continue
                msg = json.loads(ev.data)
                if msg.get("action") == "auth":
                    status = "auth_success" if msg.get("params") == KEY else "auth_failed"
                    send_text('[{"ev":"status","status":"%s","message":"x"}]' % status)
                elif msg.get("action") == "subscribe":
                    send_text('[{"ev":"status","status":"success","message":"subscribed to: %s"}]' % msg["params"])
                    subscribed = True
        frame = conn.send(TextMessage(data=_frame_text()))  # encoded once: the server does no work per frame
        burst = frame * 16
        sendall = sock.sendall
        while True:
            sendall(burst)
    except OSError:
        pass
    finally:
        sock.close()


def _server_main(conn):
    if hasattr(os, "sched_setaffinity") and (os.cpu_count() or 1) > 1:
        os.sched_setaffinity(0, {1})
    srv = socket.create_server(("127.0.0.1", 0))
    conn.send(srv.getsockname()[1])
    while True:
        client, _addr = srv.accept()
        client.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        threading.Thread(target=_serve_client, args=(client,), daemon=True).start()


def start_server():
    ctx = mp.get_context("spawn")
    parent, child = ctx.Pipe()
    proc = ctx.Process(target=_server_main, args=(child,), daemon=True)
    proc.start()
    return proc, "ws://127.0.0.1:%d" % parent.recv()


# ---------------------------------------------------------------------------------------------- clients
class Meter:
    """Counts events; notes wall and CPU time at the first event and when ``target`` is reached."""

    def __init__(self, target):
        self.target = target
        self.count = 0
        self.first = None
        self.last = None
        self.done = threading.Event()

    def add(self, n):
        if self.first is None:
            self.first = (time.perf_counter(), time.process_time(), self.count)
        self.count += n
        if self.count >= self.target and self.last is None:
            self.last = (time.perf_counter(), time.process_time(), self.count)
            self.done.set()

    def result(self):
        if self.first is None or self.last is None:
            return None
        events = self.last[2] - self.first[2]
        return {
            "events": events,
            "events_per_s": events / max(self.last[0] - self.first[0], 1e-9),
            "events_per_cpu_s": events / max(self.last[1] - self.first[1], 1e-9),
        }


def run_ours(url, meter, timeout):
    from polygon.config import get_config
    from polygon.websocket import PolygonWebSocketClient

    add = meter.add

    def on_event(data):
        add(1)

    client = PolygonWebSocketClient(get_config(api_key=KEY, ws_url=url))
    client.subscribe(SYMBOLS, ["T"], on_event)
    client.connect()
    meter.done.wait(timeout)
    status = client.get_status()
    client.disconnect()
    return {"dropped": status["dropped_messages"]}


def run_raw(url, meter, timeout, loads=json.loads):
    import websocket

    ws = websocket.create_connection(url + "/stocks", skip_utf8_validation=True, timeout=10)
    ws.recv()
    ws.send(json.dumps({"action": "auth", "params": KEY}))
    ws.recv()
    ws.send(json.dumps({"action": "subscribe", "params": ",".join("T." + s for s in SYMBOLS)}))
    ws.recv()
    deadline = time.monotonic() + timeout
    add = meter.add
    while not meter.done.is_set() and time.monotonic() < deadline:
        add(len(loads(ws.recv())))
    ws.close()
    return {}


def run_raw_orjson(url, meter, timeout):
    import orjson

    return run_raw(url, meter, timeout, orjson.loads)


def run_official(url, meter, timeout):
    from massive import WebSocketClient

    async def main():
        client = WebSocketClient(
            api_key=KEY, feed=url.split("://", 1)[1], market="stocks", secure=False,
            subscriptions=["T." + s for s in SYMBOLS], max_reconnects=0,
        )

        async def handle(msgs):
            meter.add(len(msgs))

        task = asyncio.ensure_future(client.connect(handle))
        deadline = time.monotonic() + timeout
        while not meter.done.is_set() and time.monotonic() < deadline and not task.done():
            await asyncio.sleep(0.02)
        await client.close()
        task.cancel()
        try:
            await task
        except BaseException:
            pass

    asyncio.run(main())
    return {}


SIDES = [("ours", run_ours), ("official", run_official), ("raw", run_raw), ("raw+orjson", run_raw_orjson)]


def burst_check(url, events, timeout):
    """Default policy under a burst: a callback slower than the socket for a moment, faster on average."""
    from polygon.config import get_config
    from polygon.websocket import PolygonWebSocketClient

    meter = Meter(events)
    seen = [0]

    def on_event(data):
        seen[0] += 1
        if seen[0] % 50_000 == 0:
            time.sleep(0.2)  # a hiccup: the reader gets ahead by far more than the queue holds
        meter.add(1)

    client = PolygonWebSocketClient(get_config(api_key=KEY, ws_url=url), queue_size=10_000)
    client.subscribe(SYMBOLS, ["T"], on_event)
    client.connect()
    meter.done.wait(timeout)
    status = client.get_status()
    client.disconnect()
    return {"received": meter.count, "dropped": status["dropped_messages"], "result": meter.result()}


def _sandbox_main(conn):
    if hasattr(os, "sched_setaffinity") and (os.cpu_count() or 1) > 1:
        os.sched_setaffinity(0, {1})
    from polygon.sandbox import Sandbox

    with Sandbox(port=0, clock="2024-03-14", speed=30, stream_rate=1_000_000, max_connections=10) as sb:
        conn.send((sb.ws_url, sb.api_key))
        conn.recv()


def market_rates(seconds):
    """Our client on each of the sandbox's five sockets (firehose, every channel, ``*``): events/s delivered.
    The sandbox builds and frames the events in Python, so this measures the pair, not the client alone."""
    from polygon.config import get_config
    from polygon.websocket import MARKET_CHANNEL_NAMES, MARKETS, PolygonWebSocketClient

    ctx = mp.get_context("spawn")
    parent, child = ctx.Pipe()
    proc = ctx.Process(target=_sandbox_main, args=(child,), daemon=True)
    proc.start()
    ws_url, key = parent.recv()
    out = {}
    try:
        for market in MARKETS:
            meter = Meter(10 ** 12)

            def on_event(data, add=meter.add):
                add(1)

            client = PolygonWebSocketClient(get_config(api_key=key, ws_url=ws_url), market=market)
            client.subscribe("*", list(MARKET_CHANNEL_NAMES[market]), on_event)
            client.connect()
            time.sleep(1.0)  # warm-up: the sandbox builds its frames
            n0, t0 = meter.count, time.perf_counter()
            time.sleep(seconds)
            n1, t1 = meter.count, time.perf_counter()
            status = client.get_status()
            client.disconnect()
            out[market] = {"events_per_s": (n1 - n0) / (t1 - t0), "dropped": status["dropped_messages"]}
            print("market %-8s %9.0f events/s (every channel, '*'), dropped %d"
                  % (market, out[market]["events_per_s"], status["dropped_messages"]))
    finally:
        parent.send("stop")
        proc.join(10)
        if proc.is_alive():
            proc.terminate()
    return out


def _fmt(values):
    return "median %10.0f  min %10.0f" % (statistics.median(values), min(values))


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5, help="rounds, every side once per round (>= 5)")
    parser.add_argument("--events", type=int, default=300_000, help="events measured per side and round")
    parser.add_argument("--burst", type=int, default=1_000_000, help="events of the burst check (0: skip)")
    parser.add_argument("--timeout", type=float, default=120.0, help="seconds allowed per side and round")
    parser.add_argument("--only", action="append", choices=[n for n, _f in SIDES], help="run only these sides")
    parser.add_argument("--market-seconds", type=float, default=3.0, help="per-market sandbox rates (0: skip)")
    parser.add_argument("--json", help="also write the results to this file")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.ERROR)
    proc, url = start_server()
    if hasattr(os, "sched_setaffinity") and (os.cpu_count() or 1) > 1:
        os.sched_setaffinity(0, {0})
        print("client pinned to CPU 0, server to CPU 1 (the machine is shared: figures are noisy)")
    from polygon.core import json_codec

    print("json codec of ours: %s; %d events per side and round, %d rounds" % (
        json_codec.BACKEND, args.events, args.rounds))
    sides = [(n, f) for n, f in SIDES if not args.only or n in args.only]
    rounds = {name: [] for name, _f in sides}
    results = {"rounds": rounds}
    try:
        for _ in range(max(1, args.rounds)):
            for name, run in sides:
                meter = Meter(args.events)
                extra = run(url, meter, args.timeout)
                got = meter.result()
                if got is None:
                    print("  %s: no result within %.0f s (%d events)" % (name, args.timeout, meter.count))
                    continue
                got.update(extra)
                rounds[name].append(got)
        summary = {}
        for name, _f in sides:
            runs = rounds[name]
            if not runs:
                continue
            wall = [r["events_per_s"] for r in runs]
            cpu = [r["events_per_cpu_s"] for r in runs]
            summary[name] = {"wall_median": statistics.median(wall), "cpu_median": statistics.median(cpu)}
            print("%-11s events/s %s   events/CPU-s %s   (%d rounds)" % (name, _fmt(wall), _fmt(cpu), len(runs)))
        results["summary"] = summary
        if {"ours", "official", "raw"} <= set(summary):
            ours, off, raw = summary["ours"], summary["official"], summary["raw"]
            goals = [
                ("events per CPU-s >= 2x official", ours["cpu_median"] / off["cpu_median"], 2.0),
                ("events per CPU-s >= 0.8x raw (websocket-client + json.loads)", ours["cpu_median"] / raw["cpu_median"],
                 0.8),
                ("wall-clock events/s >= 2x official", ours["wall_median"] / off["wall_median"], 2.0),
            ]
            if "raw+orjson" in summary:
                print("(information) ours / raw+orjson per CPU-s: %.2fx"
                      % (ours["cpu_median"] / summary["raw+orjson"]["cpu_median"]))
            results["goals"] = {}
            for label, ratio, goal in goals:
                met = ratio >= goal
                results["goals"][label] = {"ratio": ratio, "met": met}
                print("goal %-62s %.2fx  %s" % (label + ":", ratio, "met" if met else "NOT MET"))
        if "ours" in rounds:
            dropped = sum(r.get("dropped", 0) for r in rounds["ours"])
            print("ours dropped %d events over all rounds (default policy)" % dropped)
        if args.burst:
            burst = burst_check(url, args.burst, args.timeout * 3)
            results["burst"] = burst
            print("burst: %d events with 0.2 s hiccups every 50,000 (queue 10,000 events): received %d, dropped %d"
                  "  -> %s" % (args.burst, burst["received"], burst["dropped"],
                              "met" if burst["dropped"] == 0 and burst["received"] >= args.burst else "NOT MET"))
    finally:
        proc.terminate()
        proc.join(5)
    if args.market_seconds:
        results["markets"] = market_rates(args.market_seconds)
    if args.json:
        with open(args.json, "w", encoding="utf-8") as fh:
            json.dump(results, fh, indent=2)
    return results


if __name__ == "__main__":
    main()
