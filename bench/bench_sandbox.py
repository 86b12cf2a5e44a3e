"""Sandbox throughput: time to serve a 50,000-bar aggregates page, and the sustained stream rate.

Run: ``python bench/bench_sandbox.py [--seconds 1] [--rounds 5]``. Not part of the test run. Other
benchmarks rely on the sandbox not being their bottleneck; the goals say so: a warm page is served in no
more time than the client needs to ``json.loads`` it, throttled streams hold their target rate, and the
unthrottled push outruns a reader that decodes every frame. Sides are interleaved in one run; each prints
median and min of ``--rounds`` samples.
"""

import argparse
import json
import os
import re
import signal
import statistics
import subprocess
import sys
import time

import requests
import websocket

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
from polygon.config import SANDBOX_API_KEY  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


class ServerProcess:
    """``python -m polygon.sandbox`` in its own process, so the reader does not share its GIL."""

    def __init__(self, *args: str) -> None:
        self.proc = subprocess.Popen([sys.executable, "-m", "polygon.sandbox", "--port", "0"] + list(args),
                                     cwd=ROOT, stdout=subprocess.PIPE, text=True)
        line = self.proc.stdout.readline()
        match = re.search(r"REST (\S+)\s+WebSocket (\S+)/stocks", line)
        if not match:
            self.close()
            raise RuntimeError("sandbox did not start: %r" % line)
        self.base_url, self.ws_url, self.api_key = match.group(1), match.group(2), SANDBOX_API_KEY

    def close(self) -> None:
        self.proc.send_signal(signal.SIGINT)
        try:
            self.proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        self.proc.stdout.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

PATH = "/v2/aggs/ticker/%s/range/1/minute/2022-01-01/2023-12-31?limit=50000"


def goal(label, value, target, higher=False):
    met = value >= target if higher else value <= target
    print("  %-60s %7.2fx  goal %s %.2fx  %s" % (label, value, ">=" if higher else "<=", target,
                                                 "met" if met else "NOT MET"))


def bench_rest(sb, rounds: int) -> None:
    """Serving a warm 50,000-bar page against the client's json.loads of the same bytes, interleaved."""
    session = requests.Session()
    session.headers["Authorization"] = "Bearer " + sb.api_key
    cold = []
    for ticker in ("AAPL", "MSFT", "SPY"):
        start = time.perf_counter()
        resp = session.get(sb.base_url + PATH % ticker, timeout=120)
        cold.append(time.perf_counter() - start)
        assert resp.json()["resultsCount"] == 50000
    serve, parse = [], []
    for _ in range(rounds):
        start = time.perf_counter()
        body = session.get(sb.base_url + PATH % "AAPL", timeout=120).content
        serve.append(time.perf_counter() - start)
        start = time.perf_counter()
        json.loads(body)
        parse.append(time.perf_counter() - start)
    print("REST 50,000 one-minute bars (%.1f MB), %d interleaved rounds:" % (len(body) / 1e6, rounds))
    print("  cold page            median %.3f s (3 symbols)" % statistics.median(cold))
    print("  warm page (request)  median %.3f s  min %.3f s" % (statistics.median(serve), min(serve)))
    print("  client json.loads    median %.3f s  min %.3f s" % (statistics.median(parse), min(parse)))
    goal("warm page served / client json.loads of it (not the bottleneck)",
         statistics.median(serve) / statistics.median(parse), 1.0)
    coarse = []
    for span in ("5/minute", "1/hour", "1/day"):
        start = time.perf_counter()
        session.get(sb.base_url + "/v2/aggs/ticker/QQQ/range/%s/2015-01-01/2023-12-31?limit=50000" % span,
                    timeout=300).json()
        coarse.append("%s %.3f s" % (span, time.perf_counter() - start))
    print("  2015-2023 QQQ (cold, once each): " + ", ".join(coarse))


def bench_stream(sb, seconds: float, params: str = "T.*,Q.*", parse: bool = True) -> float:
    ws = websocket.create_connection(sb.ws_url + "/stocks", timeout=10, skip_utf8_validation=True)
    ws.recv()
    ws.send(json.dumps({"action": "auth", "params": sb.api_key}))
    ws.recv()
    ws.send(json.dumps({"action": "subscribe", "params": params}))
    ws.recv()
    ws.recv()  # the first event frame: the sandbox has built its firehose, measure from here
    events = 0
    start = time.perf_counter()
    while time.perf_counter() - start < seconds:
        frame = ws.recv()
        events += len(json.loads(frame)) if parse else frame.count('"ev"')
    elapsed = time.perf_counter() - start
    ws.close()
    return events / elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=1.0, help="seconds per stream sample")
    parser.add_argument("--rounds", type=int, default=5, help="interleaved rounds (>= 5)")
    args = parser.parse_args()
    if args.rounds < 5:
        parser.error("--rounds must be >= 5")
    print("sandbox in its own process; client in this one (%d CPUs, load %.1f; machine shared)" % (
        os.cpu_count() or 0, os.getloadavg()[0]))
    with ServerProcess() as sb:
        bench_rest(sb, args.rounds)
    for target in (100_000, 300_000):
        with ServerProcess("--clock", "2023-03-01", "--rate", str(target)) as sb:
            got = [bench_stream(sb, args.seconds) for _ in range(args.rounds)]
        print("stream target %d/s: reader (recv + json.loads) median %.0f events/s, min %.0f" % (
            target, statistics.median(got), min(got)))
        goal("sustained / target rate %d/s" % target, statistics.median(got) / target, 0.95, higher=True)
    push, parsed = [], []
    with ServerProcess("--clock", "2023-03-01", "--rate", "1000000000") as sb:
        for _ in range(args.rounds):  # interleaved: the same server, reader with and without json.loads
            push.append(bench_stream(sb, args.seconds, parse=False))
            parsed.append(bench_stream(sb, args.seconds))
    print("stream unthrottled, %d interleaved rounds: sandbox push (reader counts frames) median %.0f events/s"
          " min %.0f; reader with json.loads median %.0f min %.0f" % (
              args.rounds, statistics.median(push), min(push), statistics.median(parsed), min(parsed)))
    goal("sandbox push / a json.loads reader (not the bottleneck)",
         statistics.median(push) / statistics.median(parsed), 1.0, higher=True)


if __name__ == "__main__":
    main()
