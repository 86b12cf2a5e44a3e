"""Helpers of the ``polygon`` console-script tests: a CLI process's environment against a sandbox, a runner,
bounded polling and the stream summary line."""

import os
import re
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
STREAM_OPTIONS = {"clock": "2024-03-14", "speed": 30, "max_connections": 5}  # a replayed session, 30x
SUMMARY_RE = re.compile(r"^stream: (\d+) events printed in [\d.]+ s; (\d+) received, (\d+) dropped, (\d+) reconnects$")


def cli_env(sb, tmp_path, **extra):
    """The environment of a ``polygon`` process talking to the sandbox ``sb`` with a cache under tmp_path."""
    env = dict(os.environ)
    env.update({
        "POLYGON_API_KEY": sb.api_key, "POLYGON_BASE_URL": sb.base_url, "POLYGON_WS_URL": sb.ws_url,
        "POLYGON_CACHE_DIR": str(tmp_path / "cache"), "POLYGON_CONFIG_FILE": os.devnull,
        "PYTHONPATH": str(ROOT) + os.pathsep + env.get("PYTHONPATH", ""),
    })
    env.update(extra)
    return env


def runner(env, cwd):
    """``run(*args, code=0)``: ``python -m polygon ARGS`` in ``env``, asserting its exit code."""
    def run(*args, code=0):
        out = subprocess.run([sys.executable, "-m", "polygon"] + list(args), env=env, cwd=str(cwd),
                             capture_output=True, text=True, timeout=120)
        assert out.returncode == code, out.stdout[-2000:] + out.stderr[-3000:]
        return out

    return run


def wait_until(predicate, timeout=10.0):
    """Poll ``predicate`` until true or ``timeout`` (bounded); returns its last value."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value or time.monotonic() >= deadline:
            return value
        time.sleep(0.02)


def stream_summary(stderr):
    """``[printed, received, dropped, reconnects]`` of the one ``stream:`` summary line on stderr."""
    lines = [line for line in stderr.splitlines() if line.startswith("stream: ")]
    assert len(lines) == 1, stderr[-3000:]
    match = SUMMARY_RE.match(lines[0])
    assert match, lines[0]
    return [int(n) for n in match.groups()]
