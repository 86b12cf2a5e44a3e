"""examples/websocket_subscribe.py: the guide's "Subscribe to Data" block, corrected (issue 21 item 9).

The guide's block subscribed quotes to a trade handler (``KeyError: 'price'`` on every quote); the example runs
against a sandbox replaying a session, every handler receives its own kind of events and no callback fails.
"""

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_websocket_subscribe_example_has_no_callback_errors(make_sandbox, tmp_path):
    sb = make_sandbox(clock="2024-03-14", speed=30, max_connections=5)
    env = dict(os.environ)
    env.update({
        "POLYGON_API_KEY": sb.api_key, "POLYGON_BASE_URL": sb.base_url, "POLYGON_WS_URL": sb.ws_url,
        "POLYGON_CACHE_DIR": str(tmp_path / "cache"), "POLYGON_CONFIG_FILE": os.devnull,
        "PYTHONPATH": str(ROOT) + os.pathsep + env.get("PYTHONPATH", ""), "STREAM_SECONDS": "4",
    })
    out = subprocess.run([sys.executable, str(ROOT / "examples" / "websocket_subscribe.py")], env=env,
                         cwd=str(ROOT), capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr[-3000:]
    lines = out.stdout.splitlines()
    assert any(line.startswith("Trade: AAPL @ $") for line in lines)
    assert any(line.startswith("Quote: AAPL bid $") for line in lines)
    assert any(line.startswith("Trade: MSFT @ $") for line in lines)
    assert any(line.startswith("Quote: MSFT bid $") for line in lines)
    assert any(line.startswith("Bar: SPY ") for line in lines)
    assert lines[-1] == "callback errors: 0"
    assert "KeyError" not in out.stderr and "Traceback" not in out.stderr
