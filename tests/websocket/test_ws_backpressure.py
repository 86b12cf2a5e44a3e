"""The default overflow policy: wait (TCP backpressure) while the dispatcher's lag is under ``max_lag``,
then drop the oldest frames, counted (issue 14: no loss on bursts, a stuck callback never stalls the socket)."""

import threading

import pytest
from ws_helpers import wait_until

from polygon.websocket.dispatch import _FrameQueue


class FakeClock:
    def __init__(self):
        self.now = 0.0

    def __call__(self):
        return self.now


def _put_in_thread(q, stop, frame, size):
    out = {}
    thread = threading.Thread(target=lambda: out.setdefault("dropped", q.put(frame, size, stop)), daemon=True)
    thread.start()
    return thread, out


def test_queue_waits_while_lag_is_under_the_bound_then_drops_oldest():
    clock = FakeClock()
    q = _FrameQueue(10, "wait", max_lag=5.0, clock=clock)
    stop = threading.Event()
    assert q.put("a", 10, stop) == 0
    thread, out = _put_in_thread(q, stop, "b", 5)
    thread.join(0.5)
    assert thread.is_alive() and q.waits >= 1  # full, lag 0 < 5 s: the reader waits, nothing dropped
    clock.now = 4.9
    thread.join(0.5)
    assert thread.is_alive() and q.dropped_events == 0
    clock.now = 5.1  # the dispatcher has taken nothing for longer than max_lag: drop the oldest
    thread.join(5)
    assert not thread.is_alive() and out["dropped"] == 10
    assert q.dropped_frames == 1 and q.events == 5 and q.get() == "b"


def test_queue_wait_ends_when_the_dispatcher_takes_a_frame():
    q = _FrameQueue(10, "wait", max_lag=60.0)
    stop = threading.Event()
    q.put("a", 6, stop)
    q.put("b", 4, stop)
    thread, out = _put_in_thread(q, stop, "c", 5)
    thread.join(0.2)
    assert thread.is_alive()
    assert q.get() == "a"  # room for "c" now
    thread.join(5)
    assert not thread.is_alive() and out["dropped"] == 0 and q.dropped_events == 0
    assert [q.get(), q.get()] == ["b", "c"]


def test_queue_lag_is_the_age_of_the_frame_being_worked_on():
    clock = FakeClock()
    q = _FrameQueue(100, "wait", max_lag=5.0, clock=clock)
    stop = threading.Event()
    q.put("a", 1, stop)
    clock.now = 1.0
    q.put("b", 1, stop)
    clock.now = 3.0
    q.get()  # the dispatcher works on "a" (queued at 0): 3 s behind
    assert q.lag() == pytest.approx(3.0)
    q.get()
    assert q.lag() == 0.0  # nothing queued: not behind


def test_drop_oldest_and_block_policies():
    stop = threading.Event()
    q = _FrameQueue(10, "drop_oldest")
    q.put("a", 10, stop)
    assert q.put("b", 3, stop) == 10 and q.get() == "b"
    blocking = _FrameQueue(10, "block", max_lag=0.01)
    blocking.put("a", 10, stop)
    thread, out = _put_in_thread(blocking, stop, "b", 3)
    thread.join(0.3)
    assert thread.is_alive()  # past max_lag, 'block' still never drops
    stop.set()
    thread.join(5)
    assert not thread.is_alive() and blocking.dropped_events == 0


def test_burst_with_a_callback_that_keeps_up_on_average_loses_nothing(make_sandbox, make_client):
    """200,000 events through a queue of 5,000 with 0.1 s hiccups every 20,000: the reader outruns the
    dispatcher by far more than the queue during each hiccup (the old default dropped there)."""
    total = 200_000
    sandbox = make_sandbox(stream_rate=1_000_000, max_connections=2)
    seen = [0]
    reached = threading.Event()
    pause = threading.Event()

    def on_event(data):
        seen[0] += 1
        if seen[0] % 20_000 == 0:
            pause.wait(0.1)  # a hiccup of the consumer (never set: a bounded pause)
        if seen[0] >= total:
            reached.set()

    client = make_client(sandbox.config(), queue_size=5_000)
    client.subscribe(["AAPL", "MSFT", "SPY"], ["T", "Q"], on_event)
    client.connect()
    assert reached.wait(120), "only %d events in 120 s" % seen[0]
    status = client.get_status()
    client.disconnect()
    assert status["overflow"] == "wait" and status["max_lag"] == 5.0
    assert status["dropped_messages"] == 0 and status["dropped_frames"] == 0
    assert status["backpressure_waits"] > 0  # the queue did fill: the burst was absorbed by waiting
    assert status["reconnects"] == 0


def test_stuck_callback_never_stalls_the_socket_past_max_lag(make_sandbox, make_client):
    sandbox = make_sandbox(stream_rate=20_000, max_connections=2)
    stuck = threading.Event()
    release = threading.Event()

    def on_event(data):
        stuck.set()
        release.wait(30)  # stuck until the test releases it (bounded)

    client = make_client(sandbox.config(), queue_size=1_000, max_lag=0.5, ping_interval=0.5, read_timeout=5.0)
    client.subscribe(["AAPL", "MSFT"], ["T", "Q"], on_event)
    client.connect()
    try:
        assert stuck.wait(15)
        # past max_lag the reader drops the oldest frames and keeps reading the socket
        assert wait_until(lambda: client.get_status()["dropped_messages"] > 0, 10)
        before = client.get_status()["message_count"]
        assert wait_until(lambda: client.get_status()["message_count"] > before + 5_000, 10)
        status = client.get_status()
        assert status["lag_seconds"] >= 0.5 and status["queue_depth"] <= 1_000
        assert status["connected"] is True and status["reconnects"] == 0
    finally:
        release.set()
