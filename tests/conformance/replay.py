"""A provider-like socket on 127.0.0.1 that replays recorded frames (tests/recorded/stream).

``/<market>`` sockets speak the provider's protocol: ``connected`` on accept, ``auth_success`` after any
``auth``, a ``success`` status per subscribed param, then every recorded frame of that market whose events
belong to a newly subscribed channel, unchanged (the bytes the provider sent, re-encoded once).
"""

import json
import threading
from typing import Dict, List

from simple_websocket import ConnectionClosed, Server

from polygon.polygon_server.serving import ClosedResponse, LocalServer


def _status(status: str, message: str) -> str:
    return json.dumps([{"ev": "status", "status": status, "message": message}])


class ReplaySocket:
    """``frames``: ``{market: [frame, ...]}`` (a frame is a list of wire events). Use as a context manager."""

    def __init__(self, frames: Dict[str, List[List[dict]]]) -> None:
        self.frames = frames
        self.sent = 0  # events sent, all connections
        self._lock = threading.Lock()
        self.server = LocalServer("127.0.0.1", 0, self._app, name="replay-socket")
        self.url = "ws://127.0.0.1:%d" % self.server.server_port

    def _app(self, environ, start_response):
        market = environ.get("PATH_INFO", "/").strip("/")
        ws = Server.accept(environ)
        done = set()
        try:
            ws.send(_status("connected", "Connected Successfully"))
            while ws.connected:
                text = ws.receive(timeout=0.5)  # short: notice a client that went away without a close
                if text is None:
                    continue
                message = json.loads(text)
                if message.get("action") == "auth":
                    ws.send(_status("auth_success", "authenticated"))
                elif message.get("action") == "subscribe":
                    params = [p for p in str(message.get("params", "")).split(",") if p]
                    for param in params:
                        ws.send(_status("success", "subscribed to: %s" % param))
                    channels = {p.split(".", 1)[0] for p in params} - done
                    done |= channels
                    for frame in self.frames.get(market, []):
                        mine = [e for e in frame if e["ev"] in channels]
                        if mine:
                            ws.send(json.dumps(mine))
                            with self._lock:
                                self.sent += len(mine)
        except ConnectionClosed:
            pass
        finally:
            if ws.connected:
                ws.close()
            ws.thread.join(timeout=2.0)
        return ClosedResponse()(environ, start_response)

    def __enter__(self) -> "ReplaySocket":
        self.server.start()
        return self

    def __exit__(self, *exc) -> None:
        self.server.close()
