"""Ctrl+C on a terminal stops a many-symbol ``polygon fetch`` at once (issue 21 item 4).

The CLI runs in a pseudo-terminal against a slow sandbox (every request takes ``LATENCY`` seconds); once some
symbols are done, the terminal's interrupt character is written to the pty, so the kernel sends SIGINT to the
process group exactly as a keyboard would. The process ends within seconds (not after every symbol), prints
one line (no traceback), and the symbols that finished are in the cache: fetching one again sends nothing.
"""

import os
import re
import select
import signal
import sys
import time

import pytest
from cli_helpers import cli_env

pty = pytest.importorskip("pty")  # POSIX only
pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="POSIX pseudo-terminals")

SYMBOLS = ["AAPL", "MSFT", "SPY", "QQQ", "TSLA", "NVDA", "AMZN", "GOOGL", "META", "JPM", "XOM", "IWM"]
LATENCY = 1.5


def _spawn(args, env):
    """``python -m polygon ARGS`` with the pty as its controlling terminal; returns (pid, master fd)."""
    pid, fd = pty.fork()
    if pid == 0:  # the child: a session leader whose controlling terminal is the pty
        try:
            os.execve(sys.executable, [sys.executable, "-m", "polygon"] + list(args), env)
        finally:
            os._exit(127)
    return pid, fd


def _read(fd, seconds):
    """What the pty shows within ``seconds`` (stops early at EOF)."""
    out = b""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        ready, _, _ = select.select([fd], [], [], 0.1)
        if ready:
            try:
                chunk = os.read(fd, 4096)
            except OSError:  # EIO: the child closed the terminal
                break
            if not chunk:
                break
            out += chunk
    return out.decode("utf-8", "replace")


def _screen(text):
    """The lines a terminal shows for ``text``: a carriage return goes back to the line's start, so a progress
    bar redrawn in place and then blanked leaves nothing."""
    lines = []
    for raw in text.split("\n"):
        cells, pos = [], 0
        for ch in raw:
            if ch == "\r":
                pos = 0
                continue
            if pos < len(cells):
                cells[pos] = ch
            else:
                cells.append(ch)
            pos += 1
        line = "".join(cells).strip()
        if line and line != "^C":  # the terminal's echo of the key
            lines.append(line)
    return lines


def _settled(sb):
    """The sandbox's request count once it stopped moving for longer than a request takes (bounded)."""
    count, since = sb.stats()["requests_total"], time.monotonic()
    deadline = since + 30
    while time.monotonic() - since < LATENCY + 0.5 and time.monotonic() < deadline:
        time.sleep(0.1)
        now = sb.stats()["requests_total"]
        if now != count:
            count, since = now, time.monotonic()
    return count


def _wait_exit(pid, seconds):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        done, status = os.waitpid(pid, os.WNOHANG)
        if done:
            return os.waitstatus_to_exitcode(status) if hasattr(os, "waitstatus_to_exitcode") else status >> 8
        time.sleep(0.05)
    return None


def test_ctrl_c_stops_a_batch_fetch_keeps_what_finished_and_prints_one_line(make_sandbox, tmp_path):
    sb = make_sandbox(latency=LATENCY)
    env = cli_env(sb, tmp_path, POLYGON_MAX_WORKERS="2", TERM="dumb")
    range_args = ["1day", "--start", "2024-01-02", "--end", "2024-01-31"]
    before = sb.stats()["requests_total"]
    pid, fd = _spawn(["fetch", ",".join(SYMBOLS)] + range_args, env)
    code = None
    try:
        # each symbol costs about one request of LATENCY seconds on one of 2 slots: all 12 would take ~10 s;
        # wait until a few symbols are done (their bars requests answered), then press Ctrl+C
        deadline = time.monotonic() + 60
        while sb.stats()["requests_total"] - before < 5 and time.monotonic() < deadline:
            time.sleep(0.05)
        assert sb.stats()["requests_total"] - before >= 5, "the fetch never got going"
        time.sleep(0.2)
        pressed = time.monotonic()
        os.write(fd, b"\x03")  # the terminal's interrupt character: the kernel sends SIGINT
        shown = _read(fd, 5.0)
        code = _wait_exit(pid, 5.0)
        took = time.monotonic() - pressed
    finally:
        if code is None:
            os.kill(pid, signal.SIGKILL)
            os.waitpid(pid, 0)
        os.close(fd)
    assert code == 130, shown
    assert took < 3.0, "exited %.1f s after Ctrl+C" % took
    lines = _screen(shown)
    assert "Traceback" not in shown
    assert len(lines) == 1, shown
    match = re.search(r"interrupted: (\d+) of 12 symbols fetched and cached \(([A-Z, ]+)\)", lines[0])
    assert match, lines[0]
    finished = match.group(2).split(", ")
    assert 1 <= int(match.group(1)) == len(finished) < 12

    # what finished is cached with its coverage: fetching it again sends no request
    import subprocess

    requests = _settled(sb)  # the requests abandoned in flight are answered (and counted) LATENCY s later
    again = subprocess.run([sys.executable, "-m", "polygon", "fetch", finished[0]] + range_args, env=env,
                           capture_output=True, text=True, timeout=60)
    assert again.returncode == 0, again.stderr
    assert "source=cache" in again.stdout
    assert sb.stats()["requests_total"] == requests
