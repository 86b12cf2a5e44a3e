"""Starting and stopping sandboxes: ports, config, and no leaked threads or sockets."""

import threading

import psutil
import pytest
import requests

from polygon.config import SANDBOX_API_KEY
from polygon.exceptions import PolygonError
from polygon.sandbox import Sandbox


def test_urls_key_and_config():
    with Sandbox(port=0) as sb:
        assert sb.port > 0 and sb.running
        assert sb.base_url == "http://127.0.0.1:%d" % sb.port
        assert sb.ws_url == "ws://127.0.0.1:%d" % sb.port
        assert sb.api_key == SANDBOX_API_KEY
        cfg = sb.config()
        assert (cfg.base_url, cfg.ws_url, cfg.api_key) == (sb.base_url, sb.ws_url, sb.api_key)
        with pytest.raises(PolygonError):
            sb.start()
    assert not sb.running
    sb.stop()  # idempotent


def test_custom_key_refuses_the_default_one():
    with Sandbox(port=0, api_key="other-key") as sb:
        url = sb.base_url + "/v1/marketstatus/now"
        assert requests.get(url, headers={"Authorization": "Bearer other-key"}, timeout=10).status_code == 200
        assert requests.get(url, headers={"Authorization": "Bearer " + SANDBOX_API_KEY},
                            timeout=10).status_code == 401


_SERVER_THREADS = ("process_request_thread", "polygon-sandbox", "simple_websocket")


def server_threads(exclude=()):
    """Live threads belonging to sandbox servers (other tests' background threads are ignored)."""
    return [t for t in threading.enumerate()
            if t not in exclude and any(mark in t.name for mark in _SERVER_THREADS)]


def listening(proc):
    return {c.laddr for c in proc.net_connections(kind="tcp") if c.status == psutil.CONN_LISTEN}


def test_hundred_start_stop_cycles_leak_nothing():
    proc = psutil.Process()
    with Sandbox(port=0) as warm:  # first use loads the calendar and the model
        requests.get(warm.base_url + "/v1/marketstatus/now", timeout=10)
    before = set(threading.enumerate())
    fds_before = proc.num_fds()
    listening_before = listening(proc)
    for i in range(100):
        sb = Sandbox(port=0)
        sb.start()
        if i % 10 == 0:  # a keep-alive connection left open by the client must not block stop()
            session = requests.Session()
            resp = session.get(sb.base_url + "/v1/marketstatus/now",
                               headers={"Authorization": "Bearer " + sb.api_key}, timeout=10)
            assert resp.status_code == 200
        sb.stop()
        if i % 10 == 0:
            session.close()
    assert server_threads(exclude=before) == []
    assert proc.num_fds() <= fds_before + 2
    assert listening(proc) <= listening_before


def test_stop_with_open_websockets_leaks_nothing():
    import json

    import websocket

    before = set(threading.enumerate())
    for _ in range(5):
        sb = Sandbox(port=0, clock="2023-03-01", speed=60, max_connections=3)
        sb.start()
        clients = []
        for _ in range(3):
            ws = websocket.create_connection(sb.ws_url + "/stocks", timeout=5)
            ws.recv()
            ws.send(json.dumps({"action": "auth", "params": sb.api_key}))
            ws.recv()
            ws.send(json.dumps({"action": "subscribe", "params": "T.*"}))
            clients.append(ws)
        sb.stop()
        for ws in clients:
            ws.close()
    assert server_threads(exclude=before) == []
