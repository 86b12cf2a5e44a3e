"""Ctrl+C for real (issue 16): a child process streaming from the sandbox is sent SIGINT. In plain code and in
the guide's complete asyncio example the ``except KeyboardInterrupt`` runs, the client disconnects (the
sandbox sees the socket close) and nothing is printed to stderr: no traceback."""

import os
import signal
import subprocess
import sys
import textwrap
import time

import pytest
from ws_helpers import wait_until

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="POSIX signals")

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

SYNC = '''
from polygon.websocket import PolygonWebSocketClient

def on_trade(data):
    print("trade", data["symbol"], flush=True)

client = PolygonWebSocketClient()
try:
    client.subscribe(["AAPL", "MSFT"], ["T"], on_trade)
    client.connect()
    print("Listening", flush=True)
    client.listen()
except KeyboardInterrupt:
    print("Shutting down...", flush=True)
finally:
    client.disconnect()
    print("disconnected", client.get_status()["connected"], flush=True)
'''

WITH_BLOCK = '''
from polygon.websocket import PolygonWebSocketClient

def on_trade(data):
    print("trade", data["symbol"], flush=True)

try:
    with PolygonWebSocketClient() as client:
        client.subscribe(["AAPL", "MSFT"], ["T"], on_trade)
        print("Listening", flush=True)
        client.listen()
except KeyboardInterrupt:
    print("Shutting down...", flush=True)
print("disconnected", client.get_status()["connected"], flush=True)
'''

# the guide's complete asyncio example, verbatim (prints flushed so the parent sees them at once)
GUIDE = '''
import asyncio
import functools
print = functools.partial(print, flush=True)
from polygon.websocket import PolygonWebSocketClient

async def main():
    # Initialize client
    client = PolygonWebSocketClient()

    # Track prices
    latest_prices = {}

    # Define callbacks
    async def on_trade(data):
        symbol = data['symbol']
        price = data['price']
        latest_prices[symbol] = price
        print(f"{symbol}: ${price:.2f} (size: {data['size']})")

    async def on_quote(data):
        symbol = data['symbol']
        spread = data['ask_price'] - data['bid_price']
        print(f"{symbol} Quote: Bid ${data['bid_price']:.2f} Ask ${data['ask_price']:.2f} Spread ${spread:.2f}")

    try:
        # Connect
        await client.connect()
        print("Connected to Polygon WebSocket")

        # Subscribe to trades
        await client.subscribe(
            symbols=['AAPL', 'MSFT', 'GOOGL'],
            channels=['T'],
            callback=on_trade
        )

        # Subscribe to quotes
        await client.subscribe(
            symbols=['AAPL'],
            channels=['Q'],
            callback=on_quote
        )

        # Listen for data
        print("Listening for real-time data...")
        await client.listen()

    except KeyboardInterrupt:
        print("\\nShutting down...")
    finally:
        await client.disconnect()
        print(f"Final prices: {latest_prices}")

# Run
asyncio.run(main())
'''


def _restore_sigint():
    signal.signal(signal.SIGINT, signal.SIG_DFL)  # a child of a runner that ignores SIGINT must still get it


def _interrupt(sandbox, tmp_path, code, ready, seen_event):
    script = tmp_path / "stream_script.py"
    script.write_text(textwrap.dedent(code))
    env = dict(os.environ, POLYGON_API_KEY=sandbox.api_key, POLYGON_WS_URL=sandbox.ws_url,
               POLYGON_BASE_URL=sandbox.base_url, PYTHONPATH=ROOT, POLYGON_CACHE_DIR=str(tmp_path / "cache"))
    proc = subprocess.Popen([sys.executable, str(script)], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            env=env, cwd=str(tmp_path), preexec_fn=_restore_sigint)
    lines = []
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:  # bounded: until the child listens and has delivered an event
            line = proc.stdout.readline().decode()
            if not line:
                break
            lines.append(line)
            if any(ready in x for x in lines) and seen_event(line):
                break
        assert any(ready in x for x in lines), (lines, proc.stderr.read().decode()[-2000:])
        assert wait_until(lambda: sandbox.stats()["ws_active"] >= 1, 10)
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()
    return "".join(lines) + out.decode(), err.decode(), proc.returncode


@pytest.mark.parametrize("code", [SYNC, WITH_BLOCK], ids=["try-except", "with-block"])
def test_ctrl_c_ends_sync_listen_cleanly(make_sandbox, tmp_path, code):
    sandbox = make_sandbox(clock="2024-03-14", speed=30, max_connections=2)
    out, err, rc = _interrupt(sandbox, tmp_path, code, "Listening", lambda line: line.startswith("trade"))
    assert "Shutting down..." in out and "disconnected False" in out, out[-2000:]
    assert out.index("Shutting down...") < out.index("disconnected False")
    assert err == "", err  # no traceback, no thread noise
    assert rc == 0
    assert wait_until(lambda: sandbox.stats()["ws_active"] == 0, 10)  # the socket was closed


def test_ctrl_c_reaches_the_guides_asyncio_except_keyboardinterrupt(make_sandbox, tmp_path):
    sandbox = make_sandbox(clock="2024-03-14", speed=30, max_connections=2)
    out, err, rc = _interrupt(sandbox, tmp_path, GUIDE, "Listening for real-time data...",
                              lambda line: line.startswith(("AAPL", "MSFT", "GOOGL")))
    assert "\nShutting down...\n" in out and "Final prices: {" in out, out[-2000:]
    assert out.index("Shutting down...") < out.index("Final prices")
    assert out.split("Final prices: ", 1)[1].startswith("{'")  # the callbacks ran before the interrupt
    assert err == "", err  # no CancelledError / KeyboardInterrupt traceback
    assert rc == 0
    assert wait_until(lambda: sandbox.stats()["ws_active"] == 0, 10)


def test_ctrl_c_is_taken_over_only_from_python_or_asyncio():
    import asyncio
    import functools

    from polygon.websocket.adapter import _takes_over

    assert _takes_over(signal.default_int_handler)
    runner_class = getattr(asyncio, "Runner", None)  # Python 3.11+
    if runner_class is not None:
        runner = runner_class()
        assert _takes_over(functools.partial(runner._on_sigint, main_task=None))
        runner.close()
    assert not _takes_over(lambda signum, frame: None)  # the application's own handler is left alone
    assert not _takes_over(signal.SIG_IGN) and not _takes_over(signal.SIG_DFL)
