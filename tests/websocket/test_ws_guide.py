"""Every call of the WebSocket guide, as written, against the sandbox: from asyncio code and from plain code."""

import asyncio
import os
import subprocess
import sys
import threading

import pytest
from ws_helpers import Collector, wait_until

from polygon.config import get_config
from polygon.exceptions import SubscriptionError
from polygon.websocket import PolygonWebSocketClient

GUIDE_STATUS_KEYS = {
    "connected",
    "authenticated",
    "running",
    "subscriptions",
    "message_count",
    "last_message_time",
    "uptime_seconds",
    "reconnect_attempts",
}
TRADE_KEYS = {"event_type", "symbol", "timestamp", "price", "size", "conditions", "exchange", "trade_id"}
QUOTE_KEYS = {"event_type", "symbol", "timestamp", "bid_price", "bid_size", "ask_price", "ask_size", "exchange"}
AGG_KEYS = {"event_type", "symbol", "timestamp", "open", "high", "low", "close", "volume", "vwap", "transactions"}


def test_initialization_and_async_context_manager(stream_env):
    # Initialize client
    config = get_config()
    client = PolygonWebSocketClient(config)
    assert client.url == stream_env.ws_url + "/stocks"
    assert client.get_status()["connected"] is False

    got = []

    async def main():
        done = asyncio.Event()

        async def callback(data):
            got.append(data)
            if len(got) >= 20:
                done.set()

        # Or use context manager
        async with PolygonWebSocketClient() as client:
            # Client connects automatically
            assert client.get_status()["connected"] is True
            await client.subscribe(["AAPL"], ["T", "Q"], callback)
            await asyncio.wait_for(done.wait(), 15)
            loop_thread = threading.current_thread()
        return client, loop_thread

    client, _ = asyncio.run(main())
    assert client.get_status()["connected"] is False  # disconnected on exit
    assert {d["event_type"] for d in got} <= {"trade", "quote"}
    assert {d["symbol"] for d in got} == {"AAPL"}
    for data in got:
        assert (TRADE_KEYS if data["event_type"] == "trade" else QUOTE_KEYS) <= set(data)


def test_manual_connection_and_status(stream_env):
    async def main():
        client = PolygonWebSocketClient()
        # Connect
        await client.connect()
        # Check status
        status = client.get_status()
        connected = (status["connected"], status["authenticated"])
        await client.subscribe(["AAPL"], ["T", "Q"], Collector())
        await client.subscribe(["MSFT"], ["T"], Collector())
        status = client.get_status()
        # Disconnect
        await client.disconnect()
        return connected, status, client.get_status()

    connected, status, after = asyncio.run(main())
    assert connected == (True, True)
    assert GUIDE_STATUS_KEYS <= set(status)
    assert status["running"] is True
    assert status["subscriptions"] == {"AAPL": ["T", "Q"], "MSFT": ["T"]}
    assert isinstance(status["message_count"], int) and status["message_count"] >= 2  # statuses at least
    assert status["last_message_time"] is not None and "T" in status["last_message_time"]
    assert status["uptime_seconds"] >= 0 and status["reconnect_attempts"] == 0
    assert (after["connected"], after["authenticated"], after["running"]) == (False, False, False)


def test_subscribe_and_unsubscribe_as_in_the_guide(stream_env):
    trades, aggs = Collector(), Collector()

    async def main():
        client = PolygonWebSocketClient()
        await client.connect()

        async def handle_trade(data):
            trades(data)

        async def handle_aggregate(data):
            aggs(data)

        ids = []
        # Subscribe to single symbol
        sub_id = await client.subscribe(symbols=["AAPL"], channels=["T", "Q"], callback=handle_trade)
        ids.append(sub_id)
        # Subscribe to multiple symbols
        sub_id = await client.subscribe(symbols=["AAPL", "GOOGL", "MSFT"], channels=["T"], callback=handle_trade)
        ids.append(sub_id)
        # Named subscription for easy management
        sub_id = await client.subscribe(
            symbols=["SPY"], channels=["A"], callback=handle_aggregate, subscription_id="spy_aggregates"
        )
        ids.append(sub_id)
        states = [client.get_status()["subscriptions"]]
        # Unsubscribe specific symbols
        await client.unsubscribe(["AAPL"], channels=["T"])
        states.append(client.get_status()["subscriptions"])
        # Unsubscribe all channels for symbols
        await client.unsubscribe(["AAPL", "GOOGL"])
        states.append(client.get_status()["subscriptions"])
        # Unsubscribe specific subscription
        await client.unsubscribe(["SPY"], subscription_id="spy_aggregates")
        states.append(client.get_status())
        await client.disconnect()
        return ids, states

    ids, states = asyncio.run(main())
    assert ids[2] == "spy_aggregates" and len(set(ids)) == 3
    assert states[0] == {"AAPL": ["T", "Q"], "GOOGL": ["T"], "MSFT": ["T"], "SPY": ["A"]}
    assert states[1] == {"AAPL": ["Q"], "GOOGL": ["T"], "MSFT": ["T"], "SPY": ["A"]}
    assert states[2] == {"MSFT": ["T"], "SPY": ["A"]}
    assert states[3]["subscriptions"] == {"MSFT": ["T"]}
    assert states[3]["provider_subscriptions"] == ["T.MSFT"]
    assert "spy_aggregates" not in states[3]["subscription_ids"]


def test_the_same_calls_from_plain_code(stream_env):
    trades = Collector(n=30)
    with PolygonWebSocketClient() as client:
        sub_id = client.subscribe(["AAPL", "MSFT"], ["T"], trades, "plain")
        assert sub_id == "plain"
        assert trades.wait(15)
        released = client.unsubscribe(["AAPL"], channels=["T"])
        assert released == ["T.AAPL"]
        status = client.get_status()
        assert status["subscriptions"] == {"MSFT": ["T"]}
        # Performance monitoring
        messages_per_second = status["message_count"] / status["uptime_seconds"]
        assert messages_per_second > 0
    assert {d["event_type"] for d in trades.events} == {"trade"}
    assert set(trades.events[0]) >= TRADE_KEYS
    assert isinstance(trades.events[0]["timestamp"], int) and trades.events[0]["timestamp"] > 10**12  # ms


def test_multiple_callbacks_per_symbol(stream_env):
    handle_trades, handle_quotes, handle_aggregates = Collector(5), Collector(5), Collector(1)

    async def main():
        client = PolygonWebSocketClient()
        await client.connect()
        # Different callbacks for different data types
        await client.subscribe(["AAPL"], ["T"], handle_trades, "trades")
        await client.subscribe(["AAPL"], ["Q"], handle_quotes, "quotes")
        await client.subscribe(["AAPL"], ["A"], handle_aggregates, "aggregates")
        ok = await asyncio.get_running_loop().run_in_executor(
            None, lambda: handle_trades.wait(15) and handle_quotes.wait(15) and handle_aggregates.wait(15)
        )
        await client.disconnect()
        return ok

    assert asyncio.run(main())
    assert {d["event_type"] for d in handle_trades.events} == {"trade"}
    assert {d["event_type"] for d in handle_quotes.events} == {"quote"}
    assert {d["event_type"] for d in handle_aggregates.events} == {"aggregate"}
    assert set(handle_aggregates.events[0]) >= AGG_KEYS


def test_each_callback_gets_each_event_once(stream_env):
    seen = Collector(n=60)
    with PolygonWebSocketClient() as client:
        client.subscribe(["AAPL"], ["T"], seen, "one")
        client.subscribe(["AAPL", "MSFT"], ["T"], seen, "two")  # same callback, overlapping pair
        assert seen.wait(20)
        client.disconnect()
    keys = [(d["symbol"], d["trade_id"], d["timestamp"]) for d in seen.events if d["symbol"] == "AAPL"]
    assert keys and len(keys) == len(set(keys))


def test_integration_guide_stream_prices(stream_env):
    """Integration guide, section 3: async with + subscribe + listen, ended by disconnect() from a callback."""
    from polygon import PolygonWebSocketClient as Exported

    prices = []

    async def stream_prices():
        async with Exported() as client:

            async def handle_price(data):
                prices.append(f"{data['symbol']}: ${data['price']}")
                if len(prices) >= 10:
                    await client.disconnect()

            await client.subscribe(["AAPL", "TSLA"], ["T"], handle_price)
            await client.listen()

    asyncio.run(asyncio.wait_for(stream_prices(), 30))
    assert len(prices) >= 10 and prices[0].split(":")[0] in ("AAPL", "TSLA")


def test_coroutine_callbacks_run_on_the_subscribers_loop(stream_env):
    threads = set()

    async def main():
        done = asyncio.Event()

        async def on_trade(data):
            threads.add(threading.get_ident())
            if len(threads) and not done.is_set():
                done.set()

        async with PolygonWebSocketClient() as client:
            await client.subscribe(["AAPL"], ["T"], on_trade)
            await asyncio.wait_for(done.wait(), 15)
        return threading.get_ident()

    loop_thread = asyncio.run(main())
    assert threads == {loop_thread}


def test_listen_is_cancellable_and_ends_on_disconnect(stream_env):
    async def main():
        client = PolygonWebSocketClient()
        await client.connect()
        task = asyncio.ensure_future(client.listen())
        await asyncio.sleep(0.2)
        assert not task.done()
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        # and a listen ended by disconnect() from another task returns normally
        listener = asyncio.ensure_future(client.listen())
        await asyncio.sleep(0.1)
        await client.disconnect()
        await asyncio.wait_for(listener, 10)
        return client.get_status()

    # asyncio.run waits for executor threads: a stuck listen() would hang here (pytest-timeout catches it)
    status = asyncio.run(main())
    assert status["running"] is False


def test_disconnect_from_a_plain_callback_ends_listen(stream_env):
    client = PolygonWebSocketClient()
    calls = []

    def on_trade(data):
        calls.append(data)
        if len(calls) == 5:
            client.disconnect()

    client.subscribe(["AAPL"], ["T"], on_trade)
    client.connect()
    client.listen(timeout=20)
    assert client.get_status()["running"] is False
    assert len(calls) >= 5


def test_bad_subscriptions_are_refused_locally(stream_env):
    client = PolygonWebSocketClient()
    with pytest.raises(SubscriptionError, match="allowed: T \\(trades\\)"):
        client.subscribe(["AAPL"], ["TRADES"], print)
    with pytest.raises(SubscriptionError, match="no symbols"):
        client.subscribe([], ["T"], print)
    with pytest.raises(SubscriptionError, match="letters A-Z"):
        client.subscribe(["AA PL"], ["T"], print)
    with pytest.raises(SubscriptionError, match="callable"):
        client.subscribe(["AAPL"], ["T"], None)
    assert client.get_status()["subscriptions"] == {}


def test_complete_example_runs_as_written(stream_env):
    root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    example = os.path.join(root, "examples", "websocket_guide.py")
    path = os.pathsep.join(p for p in (root, os.environ.get("PYTHONPATH")) if p)
    env = dict(os.environ, STREAM_SECONDS="2", PYTHONPATH=path)
    # run with SIGINT ignored (as background jobs and some CI runners start it): Ctrl+C must still end it
    launcher = (
        "import runpy, signal, sys; signal.signal(signal.SIGINT, signal.SIG_IGN); "
        "sys.argv = [sys.argv[1]]; runpy.run_path(sys.argv[0], run_name='__main__')"
    )
    proc = subprocess.run(
        [sys.executable, "-c", launcher, example], env=env, capture_output=True, text=True, timeout=60, cwd=root
    )
    out = proc.stdout
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert "Connected to Polygon WebSocket" in out
    assert "Listening for real-time data..." in out
    assert "Shutting down..." in out
    assert " Quote: Bid $" in out
    last = [line for line in out.splitlines() if line.startswith("Final prices: ")]
    assert last and "'AAPL'" in last[0]
    assert wait_until(lambda: stream_env.stats()["ws_active"] == 0, 10)


def test_integration_guide_trading_system_pattern(stream_env):
    """Integration guide, pattern 2: the client built in __init__, a bound coroutine method as callback."""

    class TradingSystem:
        def __init__(self):
            self.ws_client = PolygonWebSocketClient()
            self.positions = {}
            self.seen = 0

        async def on_trade(self, data):
            symbol = data["symbol"]
            price = data["price"]
            self.positions[symbol] = price
            self.seen += 1
            if self.seen == 25:
                await self.ws_client.disconnect()  # bounded run

        async def start(self):
            await self.ws_client.connect()
            await self.ws_client.subscribe(["AAPL", "MSFT"], ["T"], self.on_trade)
            await self.ws_client.listen()

    system = TradingSystem()
    asyncio.run(asyncio.wait_for(system.start(), 30))
    assert system.seen >= 25 and set(system.positions) <= {"AAPL", "MSFT"} and system.positions


def test_coroutine_callback_from_plain_code_and_listen_after_disconnect(stream_env):
    got = Collector(n=10)
    threads = set()

    async def on_trade(data):
        threads.add(threading.current_thread().name)
        got(data)

    client = PolygonWebSocketClient()
    client.subscribe(["AAPL"], ["T"], on_trade)  # no loop here: runs on the client's own loop thread
    client.listen(timeout=0.5)  # never connected: listen() connects
    assert got.wait(15)
    client.disconnect()
    assert threads == {"polygon-ws-callbacks"}
    connections = stream_env.stats()["ws_connections"]
    client.listen()  # after disconnect: returns at once, no new connection
    assert stream_env.stats()["ws_connections"] == connections


def _load_example(name):
    import importlib.util

    path = os.path.join(os.path.dirname(__file__), "..", "..", "examples", name)
    spec = importlib.util.spec_from_file_location(name[:-3], path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_sync_example(stream_env, capsys):
    status = _load_example("websocket_sync.py").main(1.0)
    out = capsys.readouterr().out
    assert "AAPL bid" in out and "latest trades: {" in out
    assert status["message_count"] > 0 and status["connected"] is True  # status taken inside the with block


def test_storage_example_as_in_the_guide(stream_env, capsys):
    asyncio.run(_load_example("websocket_storage.py").main(2.5))
    out = capsys.readouterr().out
    lines = [line for line in out.splitlines() if "one-second bars in the cache" in line]
    assert len(lines) == 2
    assert all(int(line.split(": ")[1].split()[0]) > 0 for line in lines)


@pytest.mark.skipif(sys.platform.startswith("win"), reason="POSIX signals")
def test_ctrl_c_ends_a_plain_listen(stream_env):
    script = (
        "import os, signal, threading\n"
        "signal.signal(signal.SIGINT, signal.default_int_handler)\n"
        "from polygon.websocket import PolygonWebSocketClient\n"
        "client = PolygonWebSocketClient()\n"
        "client.subscribe(['AAPL'], ['T'], lambda data: None)\n"
        "client.connect()\n"
        "threading.Timer(0.5, lambda: os.kill(os.getpid(), signal.SIGINT)).start()\n"
        "try:\n"
        "    client.listen()\n"
        "except KeyboardInterrupt:\n"
        "    print('interrupted')\n"
        "finally:\n"
        "    client.disconnect()\n"
        "print('running', client.get_status()['running'])\n"
    )
    root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(p for p in (root, os.environ.get("PYTHONPATH")) if p))
    proc = subprocess.run([sys.executable, "-c", script], env=env, capture_output=True, text=True, timeout=30)
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert proc.stdout.split() == ["interrupted", "running", "False"]


def test_record_replay_example(stream_env, tmp_path, capsys):
    live, replayed = _load_example("websocket_record_replay.py").main(1.0, str(tmp_path / "s.jsonl"))
    assert live and replayed == live
    assert "replayed: {" in capsys.readouterr().out
