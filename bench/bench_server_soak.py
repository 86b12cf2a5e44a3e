"""Soak bench: the local server under abuse (issue 27), its memory and its health while it lasts.

The server runs in its own process (``python -m polygon.polygon_server.server --sandbox``: the sandbox market
is in that process too, so it is counted in the RSS); its resident memory is sampled from ``/proc`` every
100 ms and ``GET /api/v1/health`` is asked on a fresh connection every 250 ms throughout. Phases:

a. three clients at once ask ``POST /api/v1/bars`` for 30 years of 1-minute bars (three symbols), each
   reading the whole answer as it arrives (following ``next_cursor`` when the server pages it);
b. one WebSocket client sends valid 48 KB subscribe messages as fast as the socket takes them and reads
   nothing; then it leaves and the memory after it is measured;
c. 1,030 sockets (more than the server's default cap of 1,024 connections) send the headers of a POST with
   a ``Content-Length`` and then nothing.

Goals (printed met / NOT MET): (a) peak RSS <= idle + 300 MB, every client got all its bars; (b) the server
closes the flooding client (its close frame says 1008, but a client that never stops sending meets the
reset first: tests/polygon_server/test_server_abuse.py reads it) and the RSS 10 s after it left <= the RSS
before it + 50 MB, peak <= before + 300 MB; (c) and throughout: every health probe answered 200. A safety cap kills the
server past ``--rss-cap-mb`` (the code before the fix grows by gigabytes) and reports it.

Run: ``python bench/bench_server_soak.py [--quick] [--tree /path/to/other/checkout]`` (``--tree`` runs the
server from another checkout, e.g. main, for a before/after; the clients stay the same). ``--quick``: 5 years
instead of 30, a 10 s flood, 8 s of slow bodies.
"""

import argparse
import json
import os
import socket
import subprocess
import sys
import tempfile
import threading
import time

import requests
import websocket

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), ".."))
SYMBOLS = ("AAPL", "MSFT", "SPY")
FLOOD_SECONDS = {False: 30.0, True: 10.0}  # by --quick


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _rss_mb(pid: int) -> float:
    try:
        with open("/proc/%d/status" % pid) as fh:
            for line in fh:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) / 1024.0
    except OSError:
        pass
    return 0.0


class Server:
    """The server process, its RSS sampler (with the safety cap) and the health prober."""

    def __init__(self, tree: str, cap_mb: float) -> None:
        self.port = _free_port()
        self.url = "http://127.0.0.1:%d" % self.port
        self.cache = tempfile.mkdtemp(prefix="soak-cache-")
        env = dict(os.environ, PYTHONPATH=tree)
        self.log = open(os.path.join(self.cache, "server.log"), "w")
        self.proc = subprocess.Popen([sys.executable, "-m", "polygon.polygon_server.server", "--sandbox", "--port",
                                      str(self.port), "--cache-dir", os.path.join(self.cache, "c"),
                                      "--log-level", "WARNING"], env=env, cwd=tree, stdout=self.log, stderr=self.log)
        self.cap_mb = cap_mb
        self.killed_at_cap = False
        self.peak = 0.0
        self.health = []  # (phase, status or error)
        self.phase = "start"
        self._stop = threading.Event()
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                if requests.get(self.url + "/api/v1/health", timeout=2).status_code == 200:
                    break
            except requests.RequestException:
                time.sleep(0.2)
        else:
            raise SystemExit("the server did not start (log: %s)" % self.log.name)
        for target in (self._sample, self._probe):
            threading.Thread(target=target, daemon=True).start()

    def rss(self) -> float:
        return _rss_mb(self.proc.pid)

    def reset_peak(self) -> None:
        self.peak = self.rss()

    def _sample(self) -> None:
        while not self._stop.wait(0.1):
            rss = self.rss()
            self.peak = max(self.peak, rss)
            if rss > self.cap_mb and not self.killed_at_cap:
                self.killed_at_cap = True
                print("  !! server RSS %.0f MB > cap %.0f MB: killing it" % (rss, self.cap_mb), flush=True)
                self.proc.kill()

    def _probe(self) -> None:
        while not self._stop.wait(0.25):
            try:
                status = requests.get(self.url + "/api/v1/health", timeout=5,
                                      headers={"Connection": "close"}).status_code
            except requests.RequestException as exc:
                status = type(exc).__name__
            self.health.append((self.phase, status))

    def health_of(self, phase: str):
        seen = [s for p, s in self.health if p == phase]
        return len(seen), [s for s in seen if s != 200]

    def stop(self) -> None:
        self._stop.set()
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
        self.log.close()


def _fetch_all(url: str, symbol: str, start: str, end: str, out: dict) -> None:
    """Every bar of the range, read as it arrives; pages followed when the server pages (new API)."""
    body = {"symbol": symbol, "timeframe": "1min", "start_date": start, "end_date": end}
    bars = pages = nbytes = 0
    started = time.monotonic()
    try:
        while True:
            with requests.post(url + "/api/v1/bars", json=body, stream=True, timeout=600) as resp:
                if resp.status_code == 422 and "limit" not in body:
                    error = resp.json()["error"]
                    body["limit"] = error["max_bars"]  # the server says how to page
                    out["paged"] = "422 -> pages of %d" % error["max_bars"]
                    continue
                if resp.status_code != 200:
                    out["error"] = "%d %s" % (resp.status_code, resp.text[:200])
                    return
                tail = b""
                for chunk in resp.iter_content(256 * 1024):
                    nbytes += len(chunk)
                    bars += (tail[-3:] + chunk).count(b'"t":')  # a token may straddle two chunks
                    tail = (tail + chunk)[-4096:]
            pages += 1
            meta = json.loads(b"{" + tail[tail.rfind(b"]") + 2:]) if tail.rfind(b"]") > 0 else {}
            cursor = meta.get("next_cursor")
            if not cursor:
                break
            body["cursor"] = cursor
    except (requests.RequestException, ValueError) as exc:
        out["error"] = "%s: %s" % (type(exc).__name__, str(exc)[:200])
    out.update(bars=bars, pages=pages, mb=nbytes / 1e6, seconds=time.monotonic() - started)


def phase_bars(server: Server, years: int) -> dict:
    server.phase, start, end = "bars", "%d-01-01" % (2024 - years + 1), "2024-12-31"
    server.reset_peak()
    results = [dict(symbol=s) for s in SYMBOLS]
    threads = [threading.Thread(target=_fetch_all, args=(server.url, s, start, end, r))
               for s, r in zip(SYMBOLS, results)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(1800)
    return {"peak": server.peak, "clients": results}


def _subscribe_message(size: int) -> str:
    symbols, n = [], 0
    while n < size - 80:
        sym = "S%05d" % len(symbols)
        symbols.append(sym)
        n += len(sym) + 3
    return json.dumps({"action": "subscribe", "symbols": symbols, "channels": ["T"]})


def phase_flood(server: Server, seconds: float) -> dict:
    server.phase = "flood"
    server.reset_peak()
    before = server.rss()
    message = _subscribe_message(48 * 1024)
    ws = websocket.create_connection("ws://127.0.0.1:%d/ws/flood" % server.port, timeout=10)
    stop, state = threading.Event(), {"sent": 0, "closed_after": None}
    started = time.monotonic()

    def flood() -> None:
        try:
            while not stop.is_set():
                ws.send(message)
                state["sent"] += 1
        except (OSError, websocket.WebSocketException):
            if not stop.is_set():
                state["closed_after"] = round(time.monotonic() - started, 2)

    sender = threading.Thread(target=flood, daemon=True)
    sender.start()
    sender.join(seconds)
    stop.set()
    code = None
    if sender.is_alive():  # still sending (the server reads on): this client has had its time
        ws.sock.shutdown(socket.SHUT_RDWR)
        sender.join(10)
    else:  # the server closed it: the close frame, if any, is behind whatever it queued for us
        try:
            ws.sock.settimeout(5)
            until = time.monotonic() + 10.0
            while time.monotonic() < until:
                opcode, frame = ws.recv_data_frame(control_frame=True)
                if opcode == websocket.ABNF.OPCODE_CLOSE:
                    code = int.from_bytes(frame.data[:2], "big") if len(frame.data) >= 2 else None
                    break
        except (OSError, websocket.WebSocketException):
            pass
    ws.shutdown()
    peak = server.peak
    time.sleep(10.0)  # it has left: what the server still holds after 10 s
    return {"sent": state["sent"], "mb_sent": round(state["sent"] * len(message) / 1e6, 1),
            "closed_after": state["closed_after"], "close_code": code, "before": before, "peak": peak,
            "after": server.rss()}


def phase_slow(server: Server, count: int, seconds: float) -> dict:
    server.phase = "slow"
    head = ("POST /api/v1/bars HTTP/1.1\r\nHost: 127.0.0.1:%d\r\nContent-Type: application/json\r\n"
            "Content-Length: 100\r\n\r\n" % server.port).encode()
    socks, refused = [], 0
    for _ in range(count):
        try:
            sock = socket.create_connection(("127.0.0.1", server.port), timeout=5)
            sock.sendall(head)
            socks.append(sock)
        except OSError:
            refused += 1
    time.sleep(seconds)
    closed = 0
    for sock in socks:
        sock.setblocking(False)
        try:
            sock.recv(1)  # an answer (408) or the end of the stream: the server let go of it
            closed += 1
        except BlockingIOError:
            pass
        except OSError:
            closed += 1
        sock.close()
    return {"opened": len(socks), "refused": refused, "closed_by_server": closed, "peak": server.peak}


def _goal(text: str, ok: bool) -> None:
    print("  %-72s %s" % (text, "met" if ok else "NOT MET"))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="5 years, a 10 s flood, 8 s of slow bodies")
    parser.add_argument("--tree", default=ROOT, help="checkout to run the server from (default: this one)")
    parser.add_argument("--years", type=int, help="years of 1-minute bars per client (default 30, quick 5)")
    parser.add_argument("--slow", type=int, default=1030, help="slow-body sockets (default 1030)")
    parser.add_argument("--rss-cap-mb", type=float, default=6000.0, help="kill the server past this RSS")
    parser.add_argument("--skip", default="", help="phases to skip, e.g. 'a' or 'ab'")
    args = parser.parse_args()
    years = args.years or (5 if args.quick else 30)
    flood_s, slow_s = FLOOD_SECONDS[args.quick], (8.0 if args.quick else 20.0)
    server = Server(args.tree, args.rss_cap_mb)
    try:
        requests.post(server.url + "/api/v1/bars", json={"symbol": "AAPL", "timeframe": "1day"}, timeout=60)
        time.sleep(2.0)
        idle = server.rss()
        print("server from %s; idle RSS %.0f MB; log %s" % (args.tree, idle, server.log.name), flush=True)
        out = {}
        if "a" not in args.skip:
            out["a"] = a = phase_bars(server, years)
            print("(a) 3 x %d years of 1-minute bars: peak RSS %.0f MB (idle + %.0f)" % (years, a["peak"],
                                                                                     a["peak"] - idle), flush=True)
            for c in a["clients"]:
                print("    %s" % c, flush=True)
        if "b" not in args.skip and server.proc.poll() is None:
            out["b"] = b = phase_flood(server, flood_s)
            print("(b) subscribe flood: %s" % b, flush=True)
        if "c" not in args.skip and server.proc.poll() is None:
            out["c"] = c = phase_slow(server, args.slow, slow_s)
            print("(c) %d slow-body sockets for %.0f s: %s" % (args.slow, slow_s, c), flush=True)
        time.sleep(1.0)
        print("goals:")
        if "a" in out:
            a = out["a"]
            complete = all(not c.get("error") and c.get("bars", 0) > 0 for c in a["clients"])
            _goal("(a) peak RSS <= idle + 300 MB (%.0f MB over idle)" % (a["peak"] - idle),
                  a["peak"] - idle <= 300 and not server.killed_at_cap)
            _goal("(a) every client got its bars (%s)" % ", ".join(str(c.get("bars")) for c in a["clients"]),
                  complete)
        if "b" in out:
            b = out["b"]
            if b["closed_after"] is not None or b["close_code"] in (1008, 1009):
                _goal("(b) the server closes the flooding client (after %s s; close frame %s)"
                      % (b["closed_after"], b["close_code"] or "not readable: the client never stops sending"), True)
            else:  # on a busy machine the client may not send faster than the server handles: no backlog
                _goal("(b) flooding client not closed: it never got ahead of the server (%.1f MB/s sent, +%.0f MB)"
                      % (b["mb_sent"] / FLOOD_SECONDS[args.quick], b["peak"] - b["before"]),
                      b["peak"] - b["before"] <= 50)
            _goal("(b) peak RSS <= RSS before it + 300 MB (+%.0f)" % (b["peak"] - b["before"]),
                  b["peak"] - b["before"] <= 300)
            _goal("(b) RSS 10 s after it left <= RSS before it + 50 MB (+%.0f)" % (b["after"] - b["before"]),
                  b["after"] - b["before"] <= 50)
        for phase in ("bars", "flood", "slow"):
            probes, bad = server.health_of(phase)
            if probes:
                _goal("health 200 during %s (%d probes, %d not 200: %s)" % (phase, probes, len(bad),
                                                                          sorted(set(map(str, bad)))[:3]),
                      not bad)
    finally:
        server.stop()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
