"""kill -9 of a writer process mid-write never leaves an unreadable or inconsistent cache."""

import logging
import os
import random
import select
import signal
import subprocess
import sys
import time

import pytest

from polygon.storage import StorageManager

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
T0 = 1_672_756_200_000
MINUTE = 60_000

WRITER = r"""
import sys
import numpy as np
from polygon.markets.frames import bars_frame_from_columns
from polygon.storage import StorageManager

import os, stat
cache_dir, rows, seed, block_after = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
done = [0]
real_fsync = os.fsync

def fsync(fd):
    # block mode: freeze inside a write, after the temp file is complete and before its rename
    if block_after and done[0] >= block_after and stat.S_ISREG(os.fstat(fd).st_mode):
        print("FSYNC", flush=True)
        sys.stdin.readline()
    real_fsync(fd)

os.fsync = fsync
store = StorageManager(cache_dir, tz="UTC")
rng = np.random.default_rng(seed)
T0, MINUTE = %d, %d
while True:
    n = int(rng.integers(5000, 20000))
    t = T0 + np.arange(rows, rows + n, dtype=np.int64) * MINUTE
    c = 100 + rng.standard_normal(n).cumsum()
    df = bars_frame_from_columns(t, c, c, c, c, c, c, rng.integers(0, 9, n), tz="UTC")
    # coverage always equals exactly the bars written so far: [T0, T0 + rows * MINUTE)
    store.write("AAPL", "1min", df, covered=(T0, T0 + (rows + n) * MINUTE))
    rows += n
    done[0] += 1
    print(rows, flush=True)
""" % (T0, MINUTE)


def _read_line(proc, deadline):
    """One line of the writer's stdout, waiting at most until ``deadline``."""
    remaining = deadline - time.monotonic()
    if remaining <= 0:
        return None
    ready, _, _ = select.select([proc.stdout], [], [], remaining)
    return proc.stdout.readline().strip() if ready else None


@pytest.mark.slow
@pytest.mark.skipif(not hasattr(signal, "SIGKILL"), reason="needs SIGKILL")
def test_kill_9_writer_mid_write_leaves_previous_version_readable(cache_dir, caplog):
    rng = random.Random(1234)
    env = dict(os.environ, PYTHONPATH=REPO + os.pathsep + os.environ.get("PYTHONPATH", ""))
    rows, rounds, kills, mid_write = 0, 6, 0, 0
    deadline = time.monotonic() + 90
    for round_no in range(rounds):
        # even rounds: freeze the writer between its complete temp file and the rename, then kill it;
        # odd rounds: kill at a random moment after 1-3 completed writes
        block_after = rng.randint(1, 3) if round_no % 2 == 0 else 0
        proc = subprocess.Popen([sys.executable, "-c", WRITER, str(cache_dir), str(rows), str(round_no),
                                 str(block_after)], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, env=env, text=True)
        completed = []
        try:
            for _ in range(block_after or rng.randint(1, 3)):
                line = _read_line(proc, deadline)
                assert line, "writer produced no output: %s" % (proc.stderr.read() if proc.poll() is not None else "")
                completed.append(int(line))
            if block_after:
                assert _read_line(proc, deadline) == "FSYNC"
            else:
                try:  # a random moment inside the next write (waiting on the process, not sleeping)
                    proc.wait(timeout=rng.uniform(0.0, 0.04))
                except subprocess.TimeoutExpired:
                    pass
        finally:
            proc.send_signal(signal.SIGKILL)
            proc.wait(30)
            for stream in (proc.stdin, proc.stdout, proc.stderr):
                stream.close()
        kills += 1
        directory = os.path.join(str(cache_dir), "stocks", "AAPL", "1min")
        has_temp = any(".tmp-" in n for n in os.listdir(directory))
        mid_write += has_temp
        if block_after:
            assert has_temp  # killed with a complete temp file not yet renamed
        with caplog.at_level(logging.WARNING, logger="polygon"):
            store = StorageManager(cache_dir, tz="UTC")
            frame, covered = store.read_with_coverage("AAPL", "1min")
        assert not [r for r in caplog.records if r.levelno >= logging.WARNING], "corruption after kill"
        # the previous version (or the one being written, if its rename made it) is intact and consistent
        assert len(frame) >= completed[-1]
        if block_after:
            assert len(frame) == completed[-1]  # exactly the previous version
        assert covered == [(T0, T0 + len(frame) * MINUTE)]
        assert frame.index.is_unique and frame.index.is_monotonic_increasing
        assert int(frame.index[-1].value // 1_000_000) == T0 + (len(frame) - 1) * MINUTE
        rows = len(frame)
    assert kills == rounds
    assert mid_write >= rounds // 2
    directory = StorageManager(cache_dir, tz="UTC").path_for("AAPL", "1min")
    assert not [n for n in os.listdir(directory) if ".corrupt-" in n]
    # a later write (under the lock) removes temp files left by killed writers
    StorageManager(cache_dir, tz="UTC").write("AAPL", "1min", None, covered=(T0, T0 + MINUTE))
    assert not [n for n in os.listdir(directory) if ".tmp-" in n]
