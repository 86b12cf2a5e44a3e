"""Sandbox throughput: time to serve a 50,000-bar aggregates page, and the sustained stream rate.

Run: ``python bench/bench_sandbox.py [--seconds 5]``. Prints figures; not part of the test run.
Later benchmarks use these numbers to check that the sandbox is not their bottleneck.
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


def bench_rest(sb, repeats: int) -> None:
    headers = {"Authorization": "Bearer " + sb.api_key}
    session = requests.Session()
    cold = []
    for ticker in ("AAPL", "MSFT", "SPY"):
        start = time.perf_counter()
        resp = session.get(sb.base_url + PATH % ticker, headers=headers, timeout=120)
        cold.append(time.perf_counter() - start)
        assert resp.json()["resultsCount"] == 50000
    warm = []
    for _ in range(repeats):
        start = time.perf_counter()
        body = session.get(sb.base_url + PATH % "AAPL", headers=headers, timeout=120).content
        warm.append(time.perf_counter() - start)
    start = time.perf_counter()
    json.loads(body)
    parse = time.perf_counter() - start
    print("REST 50,000 one-minute bars (%.1f MB): cold %.3f s (median of 3 symbols), warm %.3f s (median of %d);"
          " client json.loads alone %.3f s" % (len(body) / 1e6, statistics.median(cold), statistics.median(warm),
                                               repeats, parse))
    coarse = []
    for span in ("5/minute", "1/hour", "1/day"):
        start = time.perf_counter()
        session.get(sb.base_url + "/v2/aggs/ticker/QQQ/range/%s/2015-01-01/2023-12-31?limit=50000" % span,
                    headers=headers, timeout=300).json()
        coarse.append("%s %.3f s" % (span, time.perf_counter() - start))
    print("REST 2015-2023 QQQ (cold): " + ", ".join(coarse))


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
    parser.add_argument("--seconds", type=float, default=5.0, help="seconds per stream measurement")
    parser.add_argument("--repeats", type=int, default=5, help="warm REST repetitions")
    args = parser.parse_args()
    print("sandbox in its own process; client in this one (%d CPUs, load %.1f)" % (os.cpu_count() or 0,
                                                                                 os.getloadavg()[0]))
    with ServerProcess() as sb:
        bench_rest(sb, args.repeats)
    for target in (100_000, 300_000, 1_000_000_000):
        with ServerProcess("--clock", "2023-03-01", "--rate", str(target)) as sb:
            got = bench_stream(sb, args.seconds)
        label = "unthrottled" if target >= 1e9 else "target %d/s" % target
        print("stream %s: websocket-client reader (recv + json.loads) sustained %.0f events/s" % (label, got))
    with ServerProcess("--clock", "2023-03-01", "--rate", "1000000000") as sb:
        got = bench_stream(sb, args.seconds, parse=False)
    print("stream unthrottled, reader without json.loads (what the sandbox can push): %.0f events/s" % got)


if __name__ == "__main__":
    main()
