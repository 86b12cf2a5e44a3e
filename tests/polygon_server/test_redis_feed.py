"""``--feed`` combines with ``--redis``: the process holding the provider connection reads the chosen feed for every
process, a named feed has its own Redis keys (relays on different feeds never mix), and ``polygon serve --redis URL
--feed delayed`` starts (it used to refuse). Against a real redis-server and the sandbox's delayed futures feed,
which runs 10 minutes behind its clock."""

import os
import signal
import subprocess
import sys
import uuid

import requests
from sandbox.test_futures_stream import REPLAY, _relayed_lag_minutes

from polygon.polygon_server import PolygonServer

from .test_redis_fanout import ROOT, redis_url  # noqa: F401 - a fixture, used by name
from .test_server_stream import Local


def _server(sb, tmp_path, url, namespace, name, feed=None):
    from polygon.polygon_server.redis_fanout import relay_on_redis

    config = sb.config(cache_dir=str(tmp_path / name))  # the real-time URL: the feed is named, not pointed at
    relay = relay_on_redis(url, config=config, namespace=namespace, lock_ttl=1.0, feed=feed)
    return PolygonServer(port=0, config=config, relay=relay).start()


def test_the_redis_fanout_relays_the_feed_it_is_given(make_sandbox, tmp_path, redis_url):  # noqa: F811
    sb = make_sandbox(max_connections=3, **REPLAY)
    srv = _server(sb, tmp_path, redis_url, "t" + uuid.uuid4().hex[:8], "late", feed="Delayed")
    keep = Local(srv, "keep")  # holds the futures upstream while the status is read
    try:
        keep.send(action="subscribe", symbols=["ESZ5"], channels=["T"])
        keep.next("subscribed")
        lag_minutes = _relayed_lag_minutes(sb, srv, "late")
        futures = srv.app.relay._markets["futures"].upstream.get_status()
        assert futures["feed"] == "delayed" and futures["role"] == "holder"
        assert srv.app.relay.status()["feed"] == "delayed"
    finally:
        keep.close()
        srv.stop()
    assert 9.5 <= lag_minutes <= 11.5, lag_minutes  # the futures sockets' delayed feed: 10 minutes


def test_relays_on_two_feeds_share_a_redis_namespace_without_mixing(make_sandbox, tmp_path, redis_url):  # noqa: F811
    sb = make_sandbox(max_connections=3, **REPLAY)
    ns = "t" + uuid.uuid4().hex[:8]
    late, live = (_server(sb, tmp_path, redis_url, ns, "late", feed="delayed"),
                  _server(sb, tmp_path, redis_url, ns, "live"))
    keep = [Local(srv, "keep") for srv in (late, live)]
    try:
        for client in keep:
            client.send(action="subscribe", symbols=["ESZ5"], channels=["T"])
            client.next("subscribed")
        late_lag, live_lag = _relayed_lag_minutes(sb, late, "a"), _relayed_lag_minutes(sb, live, "b")
        roles = [srv.app.relay._markets["futures"].upstream.get_status()["role"] for srv in (late, live)]
    finally:
        for client in keep:
            client.close()
        late.stop()
        live.stop()
    assert roles == ["holder", "holder"], "each feed has its own holder"
    assert 9.5 <= late_lag <= 11.5 and -0.5 <= live_lag <= 1.5, (late_lag, live_lag)
    assert sb.stats()["ws_connections"] == 2, "one provider connection per feed"


def test_polygon_serve_takes_feed_and_redis_together(tmp_path, server_process, redis_url):  # noqa: F811
    env = dict(os.environ, PYTHONPATH=str(ROOT), POLYGON_CACHE_DIR=str(tmp_path / "c"))
    serve = [sys.executable, "-m", "polygon", "serve", "--sandbox", "--port", "0", "--redis", redis_url]
    bad = subprocess.run(serve + ["--feed", "nope"], capture_output=True, text=True, env=env,
                         cwd=str(tmp_path), timeout=60)
    assert bad.returncode == 2 and "unknown feed 'nope'" in bad.stderr and "delayed" in bad.stderr
    proc, url = server_process(serve[1:] + ["--feed", "delayed"], env=env, cwd=str(tmp_path))
    status = requests.get(url + "/api/v1/status", timeout=10).json()
    assert status["health"]["status"] == "ok" and status["stream"]["feed"] == "delayed"
    proc.send_signal(signal.SIGINT)
    assert proc.wait(timeout=30) == 0
