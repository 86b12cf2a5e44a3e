"""Resources and budgets of a stream session: the private callback loop, the storage buffer, where awaitables
returned by callbacks run, and the reconnect budget against a server that accepts and then stalls."""

import asyncio
import threading
import time

import pytest
from ws_helpers import Collector, wait_until

from polygon.exceptions import StreamConnectionError
from polygon.websocket.sink import StorageSink


def _callback_threads():
    return [t for t in threading.enumerate() if t.name == "polygon-ws-callbacks"]


def test_private_loop_is_stopped_with_the_session_and_recreated_on_demand(stream_sandbox, make_client):
    before = len(_callback_threads())
    got = Collector(n=3)

    async def on_trade(data):
        got(data)

    client = make_client(stream_sandbox.config())
    client.subscribe(["AAPL"], ["T"], on_trade)  # plain code: coroutines run on the client's private loop
    for _session in range(2):  # stopped at disconnect, started again by the next session
        got.reached.clear()
        got.events.clear()
        client.connect()
        assert got.wait(15)
        loop = client._private_loop
        assert loop is not None and len(_callback_threads()) == before + 1
        client.disconnect()
        assert client._private_loop is None and loop.is_closed()
        assert len(_callback_threads()) == before


class _BlockingStorage:
    """A storage manager whose writes wait until released (a storage slower than the stream)."""

    cache_dir = "/nonexistent-never-written"

    def __init__(self):
        self.release = threading.Event()
        self.calls = 0

    def append_bars(self, symbol, timeframe, events):
        self.calls += 1
        self.release.wait(10)

    def flush(self):
        pass


def test_storage_without_journal_never_buffers_trades_or_quotes(stream_sandbox, make_client):
    storage = _BlockingStorage()
    client = make_client(stream_sandbox.config(), storage=storage, journal=False)
    trades = Collector(n=50)
    client.subscribe(["AAPL", "MSFT"], ["T", "Q"], trades)
    client.connect()
    try:
        assert trades.wait(20)
        status = client.get_status()
        assert client._sink.received == 0  # nothing the sink would throw away is handed to it
        assert status["storage_pending"] == 0 and status["storage_dropped"] == 0
    finally:
        storage.release.set()
        client.disconnect()


def test_storage_buffer_is_bounded_and_drops_oldest():
    storage = _BlockingStorage()
    sink = StorageSink(storage, journal=False, flush_interval=30.0, max_pending=10)
    try:
        assert sink.wants("AM") and sink.wants("A") and not sink.wants("T") and not sink.wants("Q")
        bars = [("AM", {"symbol": "AAPL", "timestamp": i, "n": i}) for i in range(25)]
        sink.add(bars[:4])
        sink.add(bars[4:])
        assert sink.pending_events == 10 and sink.dropped == 15
        kept = [event["n"] for batch in sink._pending for _ch, event in batch]
        assert kept == list(range(15, 25))  # the newest survive
    finally:
        storage.release.set()
        sink.close()
    assert sink.pending_events == 0
    assert StorageSink(storage, journal=True, max_pending=5).wants("T")


def test_coroutine_returned_by_a_plain_callback_runs_on_the_subscribers_loop(stream_sandbox, make_client):
    seen = set()

    async def main():
        main_loop = asyncio.get_running_loop()
        done = asyncio.Event()

        async def on_trade(data):
            seen.add((threading.current_thread().name, asyncio.get_running_loop() is main_loop))
            done.set()

        client = make_client(stream_sandbox.config())
        await client.connect()
        await client.subscribe(["AAPL"], ["T"], lambda d: on_trade(d))
        await asyncio.wait_for(done.wait(), 15)
        await client.disconnect()
        return client

    client = asyncio.run(asyncio.wait_for(main(), 30))
    assert seen == {(threading.main_thread().name, True)}
    assert client._private_loop is None  # no private loop was needed


def test_reconnects_to_a_stalling_server_use_up_the_budget(make_sandbox, make_client):
    sandbox = make_sandbox(clock="2024-03-14", speed=30, max_connections=10, ws_stall=True)
    delays = []
    client = make_client(sandbox.config(), sleep=delays.append, ping_interval=0.1, read_timeout=0.4, connect_timeout=2)
    client.subscribe(["AAPL"], ["T"], lambda d: None)
    client.connect()
    started = time.monotonic()
    with pytest.raises(StreamConnectionError, match="5 reconnect attempts failed"):
        client.listen(timeout=20)
    assert time.monotonic() - started < 15
    assert delays == [1.0, 2.0, 4.0, 8.0, 16.0]  # the guide's schedule, spent once (fake sleep)
    status = client.get_status()
    assert status["reconnects"] == 5 and status["reconnect_attempts"] == 5 and status["running"] is False


def test_a_healthy_reconnect_renews_the_budget(make_sandbox, make_client):
    sandbox = make_sandbox(stream_rate=3000, max_connections=10, ws_drop_after_messages=10)
    delays = []
    client = make_client(sandbox.config(), sleep=delays.append, ping_interval=0.2, read_timeout=2.0)
    client.subscribe(["AAPL", "MSFT"], ["T", "Q"], lambda d: None)
    client.connect()
    assert wait_until(lambda: client.get_status()["reconnects"] >= 7, 20)  # more than one budget
    status = client.get_status()
    client.disconnect()
    assert status["running"] is True and client._fatal is None
    assert set(delays) == {1.0}  # every drop followed a session that delivered events: attempt 1 each time
