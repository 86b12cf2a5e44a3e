"""``python -m polygon.sandbox``: prints its URLs and key, serves, exits cleanly on Ctrl-C."""

import re
import signal
import subprocess
import sys

import requests

from polygon.sandbox.__main__ import build_parser


def test_parser_maps_options():
    args = build_parser().parse_args(["--port", "0", "--rate", "5000", "--clock", "2023-03-01", "--ws-stall", "3"])
    assert (args.port, args.stream_rate, args.clock, args.ws_stall) == (0, 5000.0, "2023-03-01", 3)


def test_module_serves_until_interrupted():
    proc = subprocess.Popen([sys.executable, "-m", "polygon.sandbox", "--port", "0", "--key", "k123"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        line = proc.stdout.readline()
        match = re.search(r"REST (http://127\.0\.0\.1:\d+)\s+WebSocket (ws://127\.0\.0\.1:\d+)/stocks\s+key k123", line)
        assert match, line
        resp = requests.get(match.group(1) + "/v1/marketstatus/now", headers={"Authorization": "Bearer k123"},
                            timeout=10)
        assert resp.status_code == 200
        proc.send_signal(signal.SIGINT)
        assert proc.wait(timeout=20) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(timeout=10)
        proc.stdout.close()
        proc.stderr.close()
