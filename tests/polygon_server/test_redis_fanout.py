"""The Redis fan-out against a real redis-server on a loopback port: several relays share one provider
connection, subscriptions are counted across processes, a killed holder is replaced, and a missing redis-py
is a clear error."""

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import textwrap
import time
import uuid

import pytest

from polygon.exceptions import PolygonConfigError
from polygon.polygon_server import PolygonServer

from .test_server_stream import Local, _wait

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def _free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="module")
def redis_url(tmp_path_factory):
    exe = shutil.which("redis-server")
    if exe is None:
        pytest.skip("redis-server is not installed (Debian package redis-server; .ci/run installs it)")
    redis = pytest.importorskip("redis", reason="redis-py (the 'redis' extra) is not installed")
    workdir = tmp_path_factory.mktemp("redis")
    for _attempt in range(5):  # redis-server cannot take port 0: pick a free one, retry if it was taken
        port = _free_port()
        proc = subprocess.Popen([exe, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly",
                                 "no", "--dir", str(workdir)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        client = redis.Redis(host="127.0.0.1", port=port, socket_connect_timeout=1)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and proc.poll() is None:
            try:
                client.ping()
                break
            except redis.ConnectionError:
                time.sleep(0.05)
        else:
            proc.kill()
            proc.wait(10)
            continue
        client.close()
        yield "redis://127.0.0.1:%d/0" % port
        proc.terminate()
        proc.wait(10)
        return
    pytest.fail("redis-server did not start")


def _server(sandbox, tmp_path, url, namespace, name):
    from polygon.polygon_server.redis_fanout import relay_on_redis

    config = sandbox.config(cache_dir=str(tmp_path / name))
    relay = relay_on_redis(url, config=config, namespace=namespace, lock_ttl=1.0)
    return PolygonServer(port=0, config=config, relay=relay).start()


def _data(client, symbol, count=5):
    for _ in range(count):
        message = client.next("data", seconds=20)
        assert message["symbol"] == symbol


def test_two_relays_share_one_provider_connection_and_count_subscriptions(make_sandbox, tmp_path, redis_url):
    sb = make_sandbox(stream_rate=2000, max_connections=3)
    ns = "t" + uuid.uuid4().hex[:8]
    one, two = _server(sb, tmp_path, redis_url, ns, "one"), _server(sb, tmp_path, redis_url, ns, "two")
    a, b = Local(one, "a"), Local(two, "b")
    try:
        a.send(action="subscribe", symbols=["AAPL"], channels=["T"])
        a.next("subscribed")
        b.send(action="subscribe", symbols=["MSFT"], channels=["T"])
        b.next("subscribed")
        _data(a, "AAPL")
        _data(b, "MSFT")
        ups = [srv.app.relay._upstream for srv in (one, two)]
        roles = sorted(u.get_status()["role"] for u in ups)
        assert roles == ["follower", "holder"]
        holder = next(u for u in ups if u.holder)
        provider = lambda: holder._upstream.get_status()["provider_subscriptions"]  # noqa: E731
        assert _wait(lambda: provider() == ["T.AAPL", "T.MSFT"], 10)
        assert sb.stats()["ws_connections"] == 1, "one provider connection for both server processes"
        b.close()
        assert _wait(lambda: provider() == ["T.AAPL"], 10), "MSFT released once no process needs it"
        _data(a, "AAPL")
        status = one.app.relay.status()["upstream"]
        assert status["connected"] and status["url"] == redis_url
    finally:
        a.close()
        b.close()
        one.stop()
        two.stop()


HOLDER = textwrap.dedent("""
    import sys, time
    from polygon.config import PolygonConfig
    from polygon.polygon_server.redis_fanout import RedisUpstream
    url, ns, key, base, ws = sys.argv[1:6]
    up = RedisUpstream(url, config=PolygonConfig(api_key=key, base_url=base, ws_url=ws), namespace=ns, lock_ttl=1.0)
    up.connect()
    print("holder" if up.holder else "follower", flush=True)
    time.sleep(120)
""")


def test_a_killed_holder_is_replaced_and_clients_see_only_the_takeover_gap(make_sandbox, tmp_path, redis_url):
    sb = make_sandbox(stream_rate=2000, max_connections=3)
    ns = "t" + uuid.uuid4().hex[:8]
    env = dict(os.environ, PYTHONPATH=ROOT)
    holder = subprocess.Popen([sys.executable, "-c", HOLDER, redis_url, ns, sb.api_key, sb.base_url, sb.ws_url],
                              stdout=subprocess.PIPE, env=env, text=True)
    srv = None
    try:
        assert holder.stdout.readline().strip() == "holder"
        srv = _server(sb, tmp_path, redis_url, ns, "s")
        client = Local(srv, "steady")
        client.send(action="subscribe", symbols=["AAPL"], channels=["T"])
        client.next("subscribed")
        _data(client, "AAPL", 20)
        upstream = srv.app.relay._upstream
        assert upstream.get_status()["role"] == "follower", "the other process holds the provider connection"
        holder.send_signal(signal.SIGKILL)
        holder.wait(10)
        killed = last = time.monotonic()
        gap, seen = 0.0, 0
        while seen < 200 and time.monotonic() - killed < 30:  # bounded
            message = json.loads(client.ws.recv())
            if message["type"] == "data":
                now = time.monotonic()
                gap, last, seen = max(gap, now - last), now, seen + 1
        assert seen == 200, "events came back after the takeover"
        assert upstream.get_status()["role"] == "holder" and upstream.takeovers == 1
        assert gap <= 1.0 + 1.0, "the gap is at most the lock's TTL (1 s) plus 1 s, was %.2f s" % gap
        client.close()
    finally:
        if holder.poll() is None:
            holder.kill()
            holder.wait(10)
        if srv is not None:
            srv.stop()


def test_without_redis_py_the_error_names_the_extra(monkeypatch, tmp_path):
    from polygon.polygon_server import redis_fanout, server

    monkeypatch.setitem(sys.modules, "redis", None)  # import redis -> ImportError
    with pytest.raises(PolygonConfigError, match=r"polygon-kit\[redis\]"):
        redis_fanout.RedisUpstream("redis://127.0.0.1:1/0")
    with pytest.raises(PolygonConfigError, match="extra 'redis'"):
        redis_fanout.relay_on_redis("redis://127.0.0.1:1/0")
    assert server.main(["--redis", "redis://127.0.0.1:1/0", "--port", "0", "--cache-dir", str(tmp_path)]) == 2


def test_an_unreachable_redis_is_an_upstream_error_for_the_client(sandbox, tmp_path):
    pytest.importorskip("redis", reason="redis-py (the 'redis' extra) is not installed")
    from polygon.polygon_server.redis_fanout import relay_on_redis

    relay = relay_on_redis("redis://127.0.0.1:%d/0" % _free_port())
    with PolygonServer(port=0, config=sandbox.config(cache_dir=str(tmp_path / "c")), relay=relay) as srv:
        client = Local(srv, "x")
        try:
            client.send(action="subscribe", symbols=["AAPL"], channels=["T"])
            error = client.next("error")
            assert error["code"] == "upstream" and "Redis" in error["message"]
        finally:
            client.close()


def test_each_market_has_its_own_holder_through_redis(make_sandbox, tmp_path, redis_url):
    sb = make_sandbox(stream_rate=2000, max_connections=3)
    srv = _server(sb, tmp_path, redis_url, "t" + uuid.uuid4().hex[:8], "m")
    client = Local(srv, "coins")
    try:
        client.send(action="subscribe", symbols=["X:BTCUSD"], channels=["XT"])
        assert client.next("subscribed")["market"] == "crypto"
        _data(client, "X:BTCUSD")
        crypto = srv.app.relay._markets["crypto"].upstream
        status = crypto.get_status()
        assert status["market"] == "crypto" and status["role"] == "holder"
        assert crypto._upstream.get_status()["provider_subscriptions"] == ["XT.X:BTCUSD"]
    finally:
        client.close()
        srv.stop()
