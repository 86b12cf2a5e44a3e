"""Hardening of the HTTP layer the server and the sandbox share (polygon/polygon_server/serving.py) and of the server's
Host / Origin / body checks: each test failed on the code before the fix."""

import json
import logging
import select
import socket
import threading
import time

import pytest
import requests
import websocket

from polygon.polygon_server.origins import parse_host, parse_origin, same_origin
from polygon.polygon_server.serving import LocalServer

BODY = {"symbol": "AAPL", "timeframe": "1day", "start_date": "2023-01-03", "end_date": "2023-01-31"}
EVIL_HOSTS = ["127.0.0.1:8200.evil.com", "localhost:x.evil.com", "localhost:@evil.com", "localhost@evil.com",
              "evil.com#@localhost", "localhost:99999"]


def _raw(port, data, seconds=10.0):
    """Send ``data``, read until the server closes (bounded), return what came back."""
    with socket.create_connection(("127.0.0.1", port), timeout=seconds) as sock:
        sock.sendall(data)
        out = b""
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            try:
                chunk = sock.recv(65536)
            except (ConnectionResetError, socket.timeout):
                break
            if not chunk:
                break
            out += chunk
    return out


@pytest.mark.parametrize("line, status", [
    (b"GARBAGE\r\n\r\n", 400),
    (b"GET / HTTP/9.9\r\n\r\n", 505),
    (b"GET /" + b"a" * 70_000 + b" HTTP/1.1\r\n\r\n", 414),
    (b"GET / HTTP/1.1 extra\r\n\r\n", 400),
])
@pytest.mark.parametrize("which", ["server", "sandbox"])
def test_malformed_request_lines_get_an_answer_without_a_traceback(request, which, line, status, capsys, caplog):
    srv = request.getfixturevalue(which)
    port = srv.port
    with caplog.at_level(logging.DEBUG):
        answer = _raw(port, line)
    assert answer.startswith(b"HTTP/1.1 %d " % status), answer[:100]
    err = capsys.readouterr().err
    assert "Traceback" not in err and "Exception occurred" not in err, err[-2000:]
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR or r.exc_info]
    assert requests.get("http://127.0.0.1:%d/v1/marketstatus/now" % port if which == "sandbox"
                        else srv.url + "/api/v1/health", timeout=10).status_code in (200, 401)


@pytest.mark.parametrize("host", EVIL_HOSTS)
def test_hosts_with_a_malformed_port_are_refused(server, host):
    response = requests.get(server.url + "/api/v1/status", headers={"Host": host}, timeout=10)
    assert response.status_code in (400, 403), response.text
    if response.status_code == 403:
        assert response.json()["error"]["code"] == "forbidden_host"


@pytest.mark.parametrize("origin", ["http://" + h for h in EVIL_HOSTS] + ["http://localhost:8200/x", "null",
                                                                         "file://", "localhost"])
def test_origins_with_a_malformed_port_are_refused(server, origin):
    posted = requests.post(server.url + "/api/v1/bars", json=BODY, headers={"Origin": origin}, timeout=30)
    assert posted.status_code == 403 and posted.json()["error"]["code"] == "forbidden_origin", origin
    with pytest.raises(websocket.WebSocketBadStatusException):
        websocket.create_connection(server.ws_url + "/ws/x", timeout=10, origin=origin)


def test_host_and_origin_parsing():
    assert parse_host("localhost:8200") == ("localhost", 8200)
    assert parse_host("LOCALHOST") == ("localhost", None)
    assert parse_host("[::1]:8200") == ("[::1]", 8200)
    for bad in EVIL_HOSTS + ["", None, "a b", "[::1", "localhost:8200/x"]:
        with pytest.raises(ValueError):
            parse_host(bad)
    assert parse_origin("http://127.0.0.1:8200") == ("http", "127.0.0.1", 8200)
    assert parse_origin("https://[::1]/") == ("https", "[::1]", None)
    for bad in ["null", "localhost:8200", "http://localhost:8200.evil.com", "http://a@localhost",
                "javascript://localhost", "http://localhost/path"]:
        with pytest.raises(ValueError):
            parse_origin(bad)
    assert same_origin("http://myhost.lan:8200", "myhost.lan:8200")
    assert same_origin("http://myhost.lan", "myhost.lan:80")
    assert not same_origin("http://myhost.lan:8200", "myhost.lan:8201")
    assert not same_origin("http://myhost.lan:8200.evil.com", "myhost.lan:8200")


def _post_until_answered(port, head, chunks, limit_bytes):
    """Send ``head`` then ``chunks`` until the server answers (bounded by ``limit_bytes`` sent)."""
    with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
        sock.sendall(head)
        sent = 0
        for chunk in chunks:
            readable, _, _ = select.select([sock], [], [], 0)
            if readable or sent > limit_bytes:
                break
            try:
                sock.sendall(chunk)
            except OSError:  # the server answered and closed: read what it said
                break
            sent += len(chunk)
        sock.settimeout(10)
        answer = b""
        for _ in range(100):  # bounded
            try:
                data = sock.recv(65536)
            except (ConnectionResetError, socket.timeout):
                break
            if not data:
                break
            answer += data
    return answer, sent


@pytest.mark.parametrize("chunked", [False, True])
def test_a_body_over_the_limit_is_413_before_it_is_all_read(server, chunked):
    total = 50 * 1024 * 1024
    block = b"x" * 65536
    if chunked:
        head = (b"POST /api/v1/bars HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
                b"Transfer-Encoding: chunked\r\n\r\n")
        chunks = (b"%x\r\n%s\r\n" % (len(block), block) for _ in range(total // len(block)))
    else:
        head = (b"POST /api/v1/bars HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
                b"Content-Length: %d\r\n\r\n" % total)
        chunks = (block for _ in range(total // len(block)))
    answer, sent = _post_until_answered(server.port, head, chunks, 8 * 1024 * 1024)
    assert answer.startswith(b"HTTP/1.1 413 "), answer[:200]
    assert json.loads(answer.split(b"\r\n\r\n", 1)[1])["error"]["code"] == "body_too_large"
    assert sent < total
    small = requests.post(server.url + "/api/v1/bars", data=iter([json.dumps(BODY).encode()]), timeout=30,
                          headers={"Content-Type": "application/json"})  # a small chunked body still works
    assert small.status_code == 200


def _app(environ, start_response):
    start_response("200 OK", [("Content-Type", "text/plain"), ("Content-Length", "2")])
    return [b"ok"]


def _closed_within(sock, seconds):
    """Whether the server closes ``sock`` within ``seconds`` (reads and discards whatever arrives)."""
    sock.settimeout(seconds)
    deadline = time.monotonic() + seconds
    try:
        while time.monotonic() < deadline:
            if not sock.recv(4096):
                return True
    except ConnectionResetError:
        return True
    except socket.timeout:
        return False
    return False


def test_idle_and_slow_header_connections_are_closed(caplog):
    server = LocalServer("127.0.0.1", 0, _app, name="t-timeouts", header_timeout=1.0, idle_timeout=1.0)
    server.start()
    try:
        with caplog.at_level(logging.INFO, logger="polygon.polygon_server.serving"):
            idle = socket.create_connection(("127.0.0.1", server.server_port))
            slow = socket.create_connection(("127.0.0.1", server.server_port))
            slow.sendall(b"GET / HTTP/1.1\r\n")
            started = time.monotonic()
            closed = False
            for i in range(40):  # a slowloris: one header line every 0.2 s would hold it forever
                try:
                    slow.sendall(b"X-%d: y\r\n" % i)
                except OSError:
                    closed = True
                    break
                readable, _, _ = select.select([slow], [], [], 0.2)
                if readable and not slow.recv(4096):
                    closed = True
                    break
            assert closed and time.monotonic() - started < 5, "a dribbling client is closed at the header timeout"
            assert _closed_within(idle, 5), "an idle connection is closed"
            idle.close()
            slow.close()
        assert "timeout" in caplog.text
        assert requests.get("http://127.0.0.1:%d/" % server.server_port, timeout=10).text == "ok"
    finally:
        server.close()


def test_the_connection_cap_refuses_with_503_and_a_log_line(caplog):
    """Idle connections make room for newcomers (the one waiting longest is closed); only when every
    connection is being served is a newcomer refused."""
    release = threading.Event()

    def busy(environ, start_response):
        if environ["PATH_INFO"] == "/busy":
            release.wait(30)
        start_response("200 OK", [("Content-Type", "text/plain"), ("Content-Length", "2")])
        return [b"ok"]

    server = LocalServer("127.0.0.1", 0, busy, name="t-cap", max_connections=5, idle_timeout=30)
    server.start()
    held, busy_threads = [], []
    try:
        for _ in range(5):  # idle: each newcomer closes the oldest of them
            held.append(socket.create_connection(("127.0.0.1", server.server_port)))
        deadline = time.monotonic() + 10
        while len(server._live) < 5 and time.monotonic() < deadline:
            time.sleep(0.02)
        assert requests.get("http://127.0.0.1:%d/" % server.server_port, timeout=10).text == "ok"
        assert _closed_within(held[0], 5), "the connection idle the longest made room"
        url = "http://127.0.0.1:%d/busy" % server.server_port
        for _ in range(5):  # being served: these hold their places
            busy_threads.append(threading.Thread(target=requests.get, args=(url,), kwargs={"timeout": 30}))
            busy_threads[-1].start()
        deadline = time.monotonic() + 10
        while server.watchdog.evicted < 5 and time.monotonic() < deadline:  # the idle ones made room
            time.sleep(0.02)
        with caplog.at_level(logging.WARNING, logger="polygon.polygon_server.serving"):
            refused = _raw(server.server_port, b"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
            assert refused.startswith(b"HTTP/1.1 503 "), refused[:100]
        assert "connection cap reached" in caplog.text and "max_connections=5" in caplog.text
        release.set()
        for thread in busy_threads:
            thread.join(30)
        deadline = time.monotonic() + 10
        while len(server._live) >= 5 and time.monotonic() < deadline:
            time.sleep(0.02)
        assert requests.get("http://127.0.0.1:%d/" % server.server_port, timeout=10).text == "ok"
    finally:
        release.set()
        for sock in held:
            sock.close()
        server.close()


def test_the_sandbox_and_the_server_take_the_limits(make_sandbox, tmp_path):
    from polygon.polygon_server import PolygonServer

    sb = make_sandbox(server_options={"max_connections": 1, "idle_timeout": 30})
    held = websocket.create_connection(sb.ws_url + "/stocks", timeout=10)  # a session being served
    try:
        deadline = time.monotonic() + 10
        while _raw(sb.port, b"GET /v1/marketstatus/now HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")[:12] != b"HTTP/1.1 503":
            assert time.monotonic() < deadline, "the sandbox's cap of 1 connection never applied"
    finally:
        held.close()
    options = {"idle_timeout": 0.5, "header_timeout": 0.5}
    with PolygonServer(port=0, config=sb.config(cache_dir=str(tmp_path / "c")), server_options=options) as srv:
        with socket.create_connection(("127.0.0.1", srv.port)) as idle:
            assert _closed_within(idle, 5)
