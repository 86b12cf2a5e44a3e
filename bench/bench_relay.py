"""Benchmark: the /ws/{client_id} relay at scale, side by side with a direct stream client, in one run.

Layout (all on this machine, like the issue's measurement): the sandbox in a child process sends a firehose of
``--rate`` events/s (its ``stream_rate`` option; trades and quotes, stamped with the wall clock when sent) on
every stream connection; the local server runs in its own process (one upstream connection); the local
clients run in two worker processes, each reading all its sockets in one selector loop; a direct
``PolygonWebSocketClient`` runs in a third worker process on its own firehose connection.

Each round sets a window of ``--seconds`` on the event timestamps (after a warm-up); every party counts the
events stamped inside it: the server counts what its upstream delivered, each client what it received.
"Every client receives every event" means each client's count equals the upstream's, with no drop counter
moving (clients' queues, the fan-out, the upstream queue). Latency is receive time minus the event's
timestamp (for a batch message: of its oldest event), over every message in the window.

Parts (median of ``--rounds`` rounds each, goals printed as met / not met):

1. batched mode (``/ws/{id}?batch=true``), ``--clients`` clients at ``--rate``: every event, p99 < 50 ms, 0 drops;
2. per-event mode: client counts from ``--per-event-counts``; the largest that holds p99 < 50 ms with every
   event delivered;
3. ``--idle`` idle subscribers (one silent subscription each, on a sandbox without the firehose): server RSS;
4. ``--soak SECONDS`` (not in CI): batched clients for that long, a quarter of them churning (every 5 s one per
   worker leaves and a new one joins); server RSS sampled per window (60 s), the steady clients checked for every
   event per window, the drop counters of the clients that left summed.

Run: ``python bench/bench_relay.py [--rate 10000 --clients 100 --rounds 5 --seconds 3]``;
``python bench/bench_relay.py --soak 3600`` for the hour-long soak. The machine may be shared: figures are noisy.
"""

import argparse
import json
import multiprocessing as mp
import os
import random
import re
import selectors
import statistics
import sys
import tempfile
import time

sys.path.insert(0, os.path.abspath(os.path.join(os.path.dirname(__file__), "..")))

from remote_sandbox import RemoteSandbox  # noqa: E402

SYMBOLS, CHANNELS = ["*"], ["T", "Q"]
GOAL_P99_MS = 50.0
GOAL_IDLE_MB = 100.0
VERBOSE = False
_TS = re.compile(rb'"timestamp":(\d+)')


def _rss_mb(pid):
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024.0
    return float("nan")


def _threads(pid):
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith("Threads:"):
                return int(line.split()[1])
    return -1


def _cpu_seconds(pid):
    with open("/proc/%d/stat" % pid) as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


# -- the server process ------------------------------------------------------------------------------------
def _server_main(base_url, ws_url, api_key, cache, max_clients, conn):
    from polygon.config import PolygonConfig
    from polygon.polygon_server import PolygonServer
    from polygon.polygon_server.relay import StreamRelay

    class CountingRelay(StreamRelay):
        """Counts the upstream events stamped inside the window (the reference every client must match)."""

        window = (0, -1)
        in_window = 0
        departed_dropped = 0
        pass_lat = []

        def _on_event(self, event):
            ts = event.get("timestamp") or 0
            if self.window[0] <= ts <= self.window[1]:
                self.in_window += 1
            super()._on_event(event)

        def _fan_out(self, events, plan):
            stamp = events[0].get("timestamp") or 0
            if self.window[0] <= stamp <= self.window[1]:
                self.pass_lat.append(time.time() * 1000.0 - stamp)
            return super()._fan_out(events, plan)

        def detach(self, client):
            self.departed_dropped += client.dropped
            super().detach(client)

    config = PolygonConfig(api_key=api_key, base_url=base_url, ws_url=ws_url, cache_dir=cache)
    relay = CountingRelay(config=config, max_clients=max_clients)
    options = {"max_connections": max_clients + 50}
    with PolygonServer(port=0, config=config, relay=relay, server_options=options) as srv:
        conn.send((srv.ws_url, os.getpid()))
        for _ in range(10_000_000):  # bounded: one pass per command
            command = conn.recv()
            if command[0] == "window":
                relay.window, relay.in_window, relay.pass_lat = (command[1], command[2]), 0, []
                conn.send(None)
            elif command[0] == "stats":
                status = relay.status()
                conn.send({
                    "in_window": relay.in_window,
                    "pass_lat": list(relay.pass_lat),
                    "fanout": relay.fanout_status(),
                    "client_dropped": sum(c["dropped"] for c in status["clients"].values()),
                    "departed_dropped": relay.departed_dropped,
                    "upstream_dropped": status["upstream"]["dropped_messages"],
                    "clients": len(status["clients"]),
                })
            else:
                break


# -- the client processes -----------------------------------------------------------------------------------
class _Conn:
    """One local client: a websocket-client handshake, then its raw socket read in the worker's loop."""

    def __init__(self, ws_url, client_id, batch, subscribe=True, channels=CHANNELS, symbols=SYMBOLS):
        import websocket

        self.client_id = client_id
        url = "%s/ws/%s%s" % (ws_url, client_id, "?batch=true" if batch else "")
        self.ws = websocket.create_connection(url, timeout=30, skip_utf8_validation=True)
        assert json.loads(self.ws.recv())["status"] == "connected"
        if subscribe:
            self.ws.send(json.dumps({"action": "subscribe", "symbols": symbols, "channels": channels}))
            for _ in range(100_000):  # data may come before the reply when others subscribed first
                reply = json.loads(self.ws.recv())
                if reply["type"] == "subscribed":
                    break
                assert reply["type"] in ("data", "batch", "status"), reply
        self.sock = self.ws.sock
        self.sock.setblocking(False)
        self.buf = bytearray()
        self.count = 0
        self.lat = []

    def pong(self, payload):
        import websocket

        self.sock.setblocking(True)
        self.sock.sendall(websocket.ABNF.create_frame(payload, websocket.ABNF.OPCODE_PONG).format())
        self.sock.setblocking(False)

    def close(self):
        try:
            self.sock.close()
        except OSError:
            pass


def _complete(conn):
    """Length of the complete frames at the head of ``conn.buf`` (server frames: unmasked); answers pings."""
    buf, pos, n = conn.buf, 0, len(conn.buf)
    while n - pos >= 2:
        length, head = buf[pos + 1] & 0x7F, 2
        if length == 126:
            if n - pos < 4:
                break
            length, head = int.from_bytes(buf[pos + 2:pos + 4], "big"), 4
        elif length == 127:
            if n - pos < 10:
                break
            length, head = int.from_bytes(buf[pos + 2:pos + 10], "big"), 10
        if n - pos < head + length:
            break
        opcode = buf[pos] & 0x0F
        if opcode == 9:
            conn.pong(bytes(buf[pos + head:pos + head + length]))
        elif opcode == 8:
            raise ConnectionError("close frame")
        pos += head + length
    return pos


def _read(conn, window):
    """Drain ``conn``'s socket; count in-window events; record ``(latency, events)`` per read: the latency of
    the oldest event read (an upper bound for the others read with it)."""
    t0, t1 = window
    while True:
        try:
            data = conn.sock.recv(65536)  # (a 1 MB recv allocates 1 MB per call: most of a client's CPU)
        except (BlockingIOError, InterruptedError):
            break
        if not data:
            raise ConnectionError("closed by the server")
        conn.buf += data
        if len(data) < 65536:
            break
    now = time.time() * 1000.0
    end = _complete(conn)
    if not end:
        return
    chunk = bytes(conn.buf[:end])
    del conn.buf[:end]
    match = _TS.search(chunk)
    if match is None:
        return
    first = int(match.group(1))
    last = int(_TS.match(chunk, chunk.rfind(b'"timestamp":')).group(1))
    if last < t0 or first > t1:
        return
    if t0 <= first and last <= t1:
        n = chunk.count(b'"timestamp":')
    else:
        n = sum(1 for s in _TS.findall(chunk) if t0 <= int(s) <= t1)
    conn.count += n
    conn.lat.append((now - max(first, t0), n))


def _clients_main(ws_url, prefix, n, batch, idle, pipe):
    """A worker process holding ``n`` clients; answers ``window`` / ``report`` / ``churn`` / ``stop``."""
    conns = {}
    for i in range(n):
        cid = "%s%d" % (prefix, i)
        conns[cid] = _Conn(ws_url, cid, batch, channels=["AM"] if idle else CHANNELS,
                           symbols=["AAPL"] if idle else SYMBOLS)
    sel = selectors.DefaultSelector()
    for c in conns.values():
        sel.register(c.sock, selectors.EVENT_READ, c)
    pipe.send("ready")
    window = (0, -1)
    errors = 0
    for _ in range(10 ** 9):  # bounded by the parent's "stop"
        if pipe.poll():
            command = pipe.recv()
            if command[0] == "window":
                window = (command[1], command[2])
                for c in conns.values():
                    c.count, c.lat = 0, []
            elif command[0] == "report":
                pipe.send({cid: (c.count, c.lat) for cid, c in conns.items()})
            elif command[0] == "churn":  # replace k random clients: leave, rejoin under a new id
                for cid in random.sample(sorted(conns), min(command[1], len(conns))):
                    c = conns.pop(cid)
                    sel.unregister(c.sock)
                    c.close()
                    new = _Conn(ws_url, "%s-%d" % (cid.split("-")[0], random.randrange(10 ** 9)), batch)
                    conns[new.client_id] = new
                    sel.register(new.sock, selectors.EVENT_READ, new)
                pipe.send(None)
            else:
                break
        for key, _mask in sel.select(0.01):
            try:
                _read(key.data, window)
            except (ConnectionError, OSError):
                errors += 1
                sel.unregister(key.fileobj)
    for c in conns.values():
        c.close()
    pipe.send(errors)


def _direct_main(base_url, ws_url, api_key, pipe):
    """The direct stream client on its own firehose connection, with the same window counting."""
    from polygon.config import PolygonConfig
    from polygon.websocket import PolygonWebSocketClient

    state = {"window": (0, -1), "count": 0, "lat": []}

    def on_event(event):
        ts = event["timestamp"]
        t0, t1 = state["window"]
        if t0 <= ts <= t1:
            state["count"] += 1
            state["lat"].append(time.time() * 1000.0 - ts)

    client = PolygonWebSocketClient(config=PolygonConfig(api_key=api_key, base_url=base_url, ws_url=ws_url))
    client.subscribe(SYMBOLS, CHANNELS, on_event)
    client.connect()
    pipe.send("ready")
    for _ in range(10 ** 6):
        command = pipe.recv()
        if command[0] == "window":
            state.update(window=(command[1], command[2]), count=0, lat=[])
        elif command[0] == "report":
            dropped = client.get_status()["dropped_messages"]
            pipe.send({"direct": (state["count"], state["lat"], dropped)})
        else:
            break
    client.disconnect()
    pipe.send(0)


# -- orchestration ---------------------------------------------------------------------------------------------
class _Worker:
    def __init__(self, ctx, target, *args):
        self.pipe, child = ctx.Pipe()
        self.proc = ctx.Process(target=target, args=args + (child,), daemon=True)
        self.proc.start()

    def ready(self, seconds=300):
        if not self.pipe.poll(seconds):
            raise SystemExit("a worker did not start within %d s" % seconds)
        return self.pipe.recv()

    def ask(self, *command, seconds=120):
        self.pipe.send(command)
        if not self.pipe.poll(seconds):
            raise SystemExit("a worker did not answer %r" % (command,))
        return self.pipe.recv()

    def stop(self):
        """Stop the worker; returns its last answer (client workers: sockets that failed), or None."""
        answer = None
        try:
            self.pipe.send(("stop",))
            if self.pipe.poll(30):
                answer = self.pipe.recv()
        except (OSError, EOFError):
            pass
        self.proc.join(30)
        if self.proc.is_alive():
            self.proc.terminate()
        return answer


def _pct(values, q):
    """Percentile of latencies, or of ``(latency, weight)`` pairs weighted by events."""
    if not values:
        return float("nan")
    if not isinstance(values[0], tuple):
        values = [(v, 1) for v in values]
    values = sorted(values)
    total = sum(w for _, w in values)
    target, seen = q * total, 0
    for value, weight in values:
        seen += weight
        if seen >= target:
            return value
    return values[-1][0]


class _Rig:
    """The sandbox firehose, the server process and its stats pipe."""

    def __init__(self, ctx, remote, cache, max_clients):
        self.ctx = ctx
        self.remote = remote
        self.ws_base = remote.base_url.replace("http://", "ws://")
        self.server = _Worker(ctx, _server_main, remote.base_url, self.ws_base, remote.api_key, cache, max_clients)
        self.ws_url, self.pid = self.server.ready()

    def stats(self):
        self.server.pipe.send(("stats",))
        return self.server.pipe.recv()

    def close(self):
        self.server.stop()


def _start_clients(rig, n, batch, prefix, idle=False):
    workers = []
    split = [n // 2 + n % 2, n // 2] if n > 1 else [n]
    for k, m in enumerate(split):
        if m:
            workers.append(_Worker(rig.ctx, _clients_main, rig.ws_url, "%s%d-" % (prefix, k), m, batch, idle))
    for w in workers:
        w.ready()
    return workers


def _round(rig, workers, direct, seconds, warmup=1.0, drain=1.5, tick=None):
    """One measured window; returns the round's figures. ``tick()`` is called every 5 s meanwhile."""
    t0 = int(time.time() * 1000 + warmup * 1000)
    t1 = t0 + int(seconds * 1000)
    before = rig.stats()
    rig.server.pipe.send(("window", t0, t1))
    rig.server.pipe.recv()
    for w in workers + ([direct] if direct else []):
        w.pipe.send(("window", t0, t1))
    cpu0 = _cpu_seconds(rig.pid)
    ccpu0 = sum(_cpu_seconds(w.proc.pid) for w in workers)
    end = t1 / 1000.0 + drain
    while time.time() < end:
        time.sleep(max(0.0, min(5.0, end - time.time())))
        if tick is not None and time.time() < end:
            tick()
    cpu = _cpu_seconds(rig.pid) - cpu0
    ccpu = sum(_cpu_seconds(w.proc.pid) for w in workers) - ccpu0
    after = rig.stats()
    counts, lat = [], []
    for w in workers:
        for count, latencies in w.ask("report").values():
            counts.append(count)
            lat.extend(latencies)
    out = {"upstream": after["in_window"], "counts": counts, "p50": _pct(lat, 0.50), "p99": _pct(lat, 0.99),
           "drops": (after["client_dropped"] - before["client_dropped"]) + (after["departed_dropped"]
                     - before["departed_dropped"]) + (after["fanout"]["events_dropped"]
                     - before["fanout"]["events_dropped"]) + (after["upstream_dropped"] - before["upstream_dropped"]),
           "server_cpu": cpu / (seconds + warmup + drain), "clients_cpu": ccpu / (seconds + warmup + drain),
           "seconds": seconds}
    out["fanout_p99"] = _pct(after["pass_lat"], 0.99)
    out["all"] = bool(counts) and all(c == out["upstream"] for c in counts) and out["upstream"] > 0
    if direct is not None:
        d_count, d_lat, d_dropped = direct.ask("report")["direct"]
        out.update(direct_count=d_count, direct_p50=_pct(d_lat, 0.5), direct_p99=_pct(d_lat, 0.99))
    return out


def _summary(rounds):
    med = statistics.median
    return {
        "rate": med(r["upstream"] / r["seconds"] for r in rounds),
        "min_client_rate": med(min(r["counts"]) / r["seconds"] for r in rounds),
        "p50": med(r["p50"] for r in rounds), "p99": med(r["p99"] for r in rounds),
        "p99_min": min(r["p99"] for r in rounds),
        "drops": sum(r["drops"] for r in rounds), "all": all(r["all"] for r in rounds),
        "server_cpu": med(r["server_cpu"] for r in rounds),
        "clients_cpu": med(r["clients_cpu"] for r in rounds),
        "fanout_p99": med(r["fanout_p99"] for r in rounds),
        "direct_rate": med(r.get("direct_count", 0) / r["seconds"] for r in rounds),
        "direct_p50": med(r.get("direct_p50", float("nan")) for r in rounds),
        "direct_p99": med(r.get("direct_p99", float("nan")) for r in rounds),
    }


def _goal(ok):
    return "met" if ok else "NOT MET"


def _measure(rig, n, batch, rounds, seconds, with_direct=True):
    workers = _start_clients(rig, n, batch, "b" if batch else "e")
    direct = None
    if with_direct:
        direct = _Worker(rig.ctx, _direct_main, rig.remote.base_url, rig.ws_base, rig.remote.api_key)
        direct.ready()
    failed = 0
    try:
        results = []
        for _ in range(rounds):
            results.append(_round(rig, workers, direct, seconds))
            if VERBOSE:
                r = results[-1]
                print("    round: upstream %d, clients min %d max %d, p50 %.1f p99 %.1f ms, drops %d, fan-out p99 "
                      "%.1f ms" % (r["upstream"], min(r["counts"]), max(r["counts"]), r["p50"], r["p99"], r["drops"],
                                   r["fanout_p99"]), flush=True)
    finally:
        for w in workers:
            failed += w.stop() or 0
        if direct is not None:
            direct.stop()
    summary = _summary(results)
    summary["failed"] = failed
    return summary, results


def _print_line(label, s):
    print("  %-28s upstream %7.0f ev/s | slowest client %7.0f ev/s | p50 %6.1f ms  p99 %6.1f ms (min %5.1f) | "
          "drops %d | every event: %s | CPU server %3.0f%% clients %3.0f%%%s" % (
              label, s["rate"], s["min_client_rate"], s["p50"], s["p99"], s["p99_min"], s["drops"],
              "yes" if s["all"] else "NO", 100 * s["server_cpu"], 100 * s["clients_cpu"],
              " | %d client connections failed" % s["failed"] if s.get("failed") else ""))
    print("  %-28s direct client  %7.0f ev/s                        | p50 %6.1f ms  p99 %6.1f ms | relay: "
          "stamp to fan-out pass p99 %.1f ms" % (
              "", s["direct_rate"], s["direct_p50"], s["direct_p99"], s["fanout_p99"]))


def bench_batched(rig, args):
    print("\n1. batched mode: %d clients, firehose %d events/s, median of %d rounds of %.0f s"
          % (args.clients, args.rate, args.rounds, args.seconds))
    s, _ = _measure(rig, args.clients, True, args.rounds, args.seconds)
    _print_line("%d batched clients" % args.clients, s)
    print("  goal every client receives every event: %s; p99 < %.0f ms: %s (%.1f ms); 0 drops: %s (%d)"
          % (_goal(s["all"]), GOAL_P99_MS, _goal(s["p99"] < GOAL_P99_MS), s["p99"], _goal(s["drops"] == 0),
             s["drops"]))
    return s


def bench_per_event(rig, args):
    print("\n2. per-event mode (the guide's protocol): firehose %d events/s, median of %d rounds of %.0f s"
          % (args.rate, args.rounds, args.seconds))
    best, failures = 0, 0
    for n in args.per_event_counts:  # stops after two counts in a row miss the goal
        s, _ = _measure(rig, n, False, args.rounds, args.seconds)
        _print_line("%d per-event clients" % n, s)
        if s["p99"] < GOAL_P99_MS and s["all"] and s["drops"] == 0:
            best, failures = n, 0
        else:
            failures += 1
            if failures == 2:
                break
    print("  largest per-event client count holding p99 < %.0f ms with every event at %d/s: %d (of %s tried)"
          % (GOAL_P99_MS, args.rate, best, ", ".join(map(str, args.per_event_counts))))
    return best


def bench_idle(ctx, args):
    print("\n3. %d idle subscribers (one AM subscription each, no firehose)" % args.idle)
    with RemoteSandbox(clock="realtime", max_connections=20) as quiet, tempfile.TemporaryDirectory() as cache:
        rig = _Rig(ctx, quiet, cache, max_clients=args.idle + 10)
        try:
            time.sleep(1.0)
            base = _rss_mb(rig.pid)
            workers = _start_clients(rig, args.idle, False, "i", idle=True)
            time.sleep(2.0)
            stats = rig.stats()
            rss, threads = _rss_mb(rig.pid), _threads(rig.pid)
            for w in workers:
                w.stop()
        finally:
            rig.close()
    print("  server RSS: %.1f MB before, %.1f MB with %d subscribers (+%.1f kB each), %d threads"
          % (base, rss, stats["clients"], (rss - base) * 1024 / max(1, stats["clients"]), threads))
    print("  goal %d idle subscribers cost < %.0f MB RSS (the server's growth): %s (+%.1f MB; the whole process "
          "%.1f MB, %.1f MB of it before any client: the bars API's pandas and numpy)"
          % (args.idle, GOAL_IDLE_MB, _goal(rss - base < GOAL_IDLE_MB), rss - base, rss, base))
    return rss


def soak(rig, args):
    steady, churners = max(1, args.clients * 3 // 4), max(1, args.clients // 4)
    print("\nsoak: %d s, %d steady + %d churning batched clients, firehose %d events/s" % (
        args.soak, steady, churners, args.rate))
    workers = _start_clients(rig, steady, True, "s")
    churn = _start_clients(rig, churners, True, "c")
    started, samples, windows, rejoined = time.monotonic(), [], [], [0]

    def churn_some():  # every 5 s: one client of each churning worker leaves, a new one joins
        for w in churn:
            w.ask("churn", 1)
            rejoined[0] += 1

    try:
        for _ in range(10 ** 6):
            if time.monotonic() - started > args.soak:
                break
            r = _round(rig, workers, None, min(60.0, max(5.0, args.soak / 4)), warmup=0.5, drain=1.5,
                       tick=churn_some)
            samples.append(_rss_mb(rig.pid))
            windows.append(r)
            print("  t=%5.0f s rss %.1f MB | window: upstream %d, every steady client got all: %s, p99 %.1f ms, "
                  "drops %d" % (time.monotonic() - started, samples[-1], r["upstream"], r["all"], r["p99"],
                                r["drops"]), flush=True)
    finally:
        for w in workers + churn:
            w.stop()
    stats = rig.stats()
    quarter = max(1, len(samples) // 4)
    growth = statistics.mean(samples[-quarter:]) - statistics.mean(samples[:quarter])
    lost = sum(0 if r["all"] else 1 for r in windows)
    print("  memory: first quarter %.1f MB, last quarter %.1f MB (growth %.1f MB): %s" % (
        statistics.mean(samples[:quarter]), statistics.mean(samples[-quarter:]), growth, _goal(growth < 10)))
    print("  windows with a lost event for a steady client: %d of %d: %s; rejoined clients %d, drops of departed "
          "clients %d: %s" % (lost, len(windows), _goal(lost == 0), rejoined[0], stats["departed_dropped"],
                             _goal(stats["departed_dropped"] == 0)))


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rate", type=int, default=10_000, help="sandbox firehose, events/s")
    parser.add_argument("--clients", type=int, default=100, help="batched clients")
    parser.add_argument("--per-event-counts", type=lambda s: [int(x) for x in s.split(",")],
                        default=[1, 5, 10, 20, 30, 50, 75, 100])
    parser.add_argument("--idle", type=int, default=1000)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--seconds", type=float, default=3.0)
    parser.add_argument("--only", choices=["batched", "per-event", "idle"], action="append")
    parser.add_argument("--soak", type=float, default=0.0, help="run the soak for this many seconds instead")
    parser.add_argument("--verbose", action="store_true", help="print every round")
    args = parser.parse_args(argv)
    global VERBOSE
    VERBOSE = args.verbose
    ctx = mp.get_context("spawn")
    from polygon.core import json_codec

    print("bench_relay: %d CPUs (shared machine: noisy), JSON backend %s" % (os.cpu_count(), json_codec.BACKEND))
    parts = args.only or ["batched", "per-event", "idle"]
    with RemoteSandbox(stream_rate=args.rate, clock="realtime", max_connections=20) as remote, \
            tempfile.TemporaryDirectory() as cache:
        rig = _Rig(ctx, remote, cache, max_clients=max(args.clients, max(args.per_event_counts)) + 50)
        try:
            if args.soak:
                soak(rig, args)
                return
            if "batched" in parts:
                bench_batched(rig, args)
            if "per-event" in parts:
                bench_per_event(rig, args)
        finally:
            rig.close()
    if "idle" in parts and not args.soak:
        bench_idle(ctx, args)


if __name__ == "__main__":
    main()
