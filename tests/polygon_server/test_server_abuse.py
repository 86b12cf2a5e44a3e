"""Issue 27 over real sockets: a WebSocket client flooding messages it never waits for, request bodies
that never arrive, malformed chunked bodies and handshakes, a bracketed Origin with a tail. Each test failed
on the code before the fix."""

import json
import logging
import socket
import time

import pytest
import requests
import websocket

from polygon.polygon_server import PolygonServer
from polygon.polygon_server.origins import parse_origin

from .test_server_limits import _closed_within, _raw

BODY = {"symbol": "AAPL", "timeframe": "1day", "start_date": "2023-01-03", "end_date": "2023-01-31"}


def _subscribe(size):
    symbols = ["S%05d" % i for i in range(size // 9)]
    return json.dumps({"action": "subscribe", "symbols": symbols, "channels": ["T"]})


def test_a_client_flooding_messages_it_does_not_wait_for_is_closed_with_1008(server, caplog, monkeypatch):
    from polygon.polygon_server import stream_endpoint

    # 4 unhandled messages at most (the default is 16): the bound is reached even on a busy machine
    monkeypatch.setattr(stream_endpoint, "MAX_QUEUED_BYTES", 200 * 1024, raising=False)
    message = _subscribe(48 * 1024)
    ws = websocket.create_connection(server.ws_url + "/ws/flood", timeout=10)
    sent = 0
    try:
        for _ in range(100):  # 4.8 MB, sent as fast as the socket takes them, nothing read
            ws.send(message)
            sent += 1
    except (OSError, websocket.WebSocketException):
        pass  # closed while we were still sending: what it said comes next
    code, reason, replies = None, b"", 0
    deadline = time.monotonic() + 30
    try:
        while time.monotonic() < deadline:  # bounded: the close frame is behind the replies queued for us
            frame = ws.recv_frame()  # raw frames: no close reply of our own (the server may be gone by then)
            if frame.opcode == websocket.ABNF.OPCODE_CLOSE:
                code, reason = int.from_bytes(frame.data[:2], "big"), frame.data[2:]
                break
            if frame.opcode == websocket.ABNF.OPCODE_TEXT:
                replies += 1
    except (OSError, websocket.WebSocketException) as exc:
        pytest.fail("no close frame, the connection ended with %r after %d replies" % (exc, replies))
    finally:
        ws.shutdown()
    assert code == 1008, "closed with %r after %d replies to %d messages" % (code, replies, sent)
    assert b"not yet handled" in reason and b"204800 bytes" in reason, reason
    assert replies < sent, "the server dropped what the client queued instead of handling all of it"
    assert "closing client flood" in caplog.text
    listed, deadline = True, time.monotonic() + 10
    while listed and time.monotonic() < deadline:  # bounded: the handler thread forgets the client as it ends
        status = requests.get(server.url + "/api/v1/status", timeout=10).json()
        listed = "flood" in json.dumps(status["stream"].get("clients", {}))
        if listed:
            time.sleep(0.05)
    assert not listed, "the closed client is still listed: %r" % (status["stream"].get("clients"),)
    other = websocket.create_connection(server.ws_url + "/ws/polite", timeout=10)  # the server serves on
    try:
        assert json.loads(other.recv())["status"] == "connected"
        other.send(json.dumps({"action": "ping"}))
        assert json.loads(other.recv())["type"] == "pong"
    finally:
        other.close()


def test_the_inbox_bound_frees_what_was_queued():
    from polygon.polygon_server.serving import InboxOverflow, _Inbox

    inbox = _Inbox(max_messages=3, max_bytes=100)
    inbox.append("a" * 40)
    inbox.append("b" * 40)
    assert inbox.pop(0) == "a" * 40 and inbox.bytes == 40
    inbox.append("c" * 70)  # 110 bytes queued: over
    assert len(inbox) == 1 and isinstance(inbox[0], InboxOverflow) and "100 bytes" in inbox[0]
    inbox.append("d")  # dropped: the session closes the connection
    assert len(inbox) == 1
    assert isinstance(inbox.pop(0), InboxOverflow) and inbox.bytes == 0


def test_bodies_that_never_arrive_neither_block_health_nor_outlive_the_body_deadline(sandbox, tmp_path, caplog):
    options = {"max_connections": 20, "body_timeout": 1.5}
    config = sandbox.config(cache_dir=str(tmp_path / "c"))
    with PolygonServer(port=0, config=config, server_options=options) as srv:
        head = ("POST /api/v1/bars HTTP/1.1\r\nHost: 127.0.0.1:%d\r\nContent-Type: application/json\r\n"
                "Content-Length: 100\r\n\r\n" % srv.port).encode()
        slow = []
        try:
            for _ in range(25):  # more than the cap: each waits for a body that never comes
                sock = socket.create_connection(("127.0.0.1", srv.port), timeout=10)
                sock.sendall(head)
                slow.append(sock)
            started = time.monotonic()
            for _ in range(5):
                health = requests.get(srv.url + "/api/v1/health", timeout=5, headers={"Connection": "close"})
                assert health.status_code == 200, health.text
            with caplog.at_level(logging.INFO, logger="polygon.polygon_server.serving"):
                closed = 0
                for sock in slow:  # each is closed at the body deadline (or earlier, to make room)
                    sock.settimeout(max(0.1, started + 10 - time.monotonic()))
                    try:
                        while sock.recv(4096):
                            pass
                        closed += 1
                    except ConnectionResetError:
                        closed += 1
                    except socket.timeout:
                        pass
            assert closed == len(slow), "%d of %d slow bodies still held after 10 s" % (len(slow) - closed, len(slow))
            assert time.monotonic() - started < 10
        finally:
            for sock in slow:
                sock.close()
        posted = requests.post(srv.url + "/api/v1/bars", json=BODY, timeout=30)
        assert posted.status_code == 200, posted.text


def test_a_body_dribbled_slowly_is_cut_at_the_deadline_but_a_long_answer_is_not(server):
    from polygon.polygon_server.serving import LocalServer

    def slow_answer(environ, start_response):
        environ["wsgi.input"].read(int(environ.get("CONTENT_LENGTH") or 0))
        time.sleep(2.0)  # the answer takes longer than the body deadline: it is not cut
        start_response("200 OK", [("Content-Type", "text/plain"), ("Content-Length", "2")])
        return [b"ok"]

    local = LocalServer("127.0.0.1", 0, slow_answer, name="t-body", body_timeout=1.0)
    local.start()
    try:
        url = "http://127.0.0.1:%d/" % local.server_port
        assert requests.post(url, data=b"x" * 10, timeout=10).text == "ok"
        with socket.create_connection(("127.0.0.1", local.server_port), timeout=10) as sock:
            sock.sendall(b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 50\r\n\r\n")
            started = time.monotonic()
            cut = False
            for _ in range(50):  # a byte every 0.1 s: 5 s for the body, past the 1 s deadline
                try:
                    sock.sendall(b"x")
                except OSError:
                    cut = True
                    break
                time.sleep(0.1)
            assert cut or _closed_within(sock, 1.0)
            assert time.monotonic() - started < 3.5, "the dribbled body was cut near the 1 s deadline"
    finally:
        local.close()


@pytest.mark.parametrize("chunks", [
    b"5;name=value\r\nhello\r\n0\r\n\r\n",  # a chunk extension
    b"5\r\nhello\r\n0\r\nX-Trailer: 1\r\n\r\n",  # a trailer
    b"zz\r\nhello\r\n0\r\n\r\n",  # not hex
    b"5\r\nhelloXX0\r\n\r\n",  # no CRLF after the data
])
def test_malformed_chunked_bodies_are_400_without_a_traceback(server, chunks, capsys, caplog):
    head = (b"POST /api/v1/bars HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
            b"Transfer-Encoding: chunked\r\n\r\n")
    with caplog.at_level(logging.DEBUG):
        answer = _raw(server.port, head + chunks)
    assert answer.startswith(b"HTTP/1.1 400 "), answer[:300]
    error = json.loads(answer.split(b"\r\n\r\n", 1)[1])["error"]
    assert error["code"] == "bad_request" and "chunked" in error["message"]
    assert "Traceback" not in capsys.readouterr().err
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR or r.exc_info]


@pytest.mark.parametrize("drop, status", [
    ("Sec-WebSocket-Key", 400),
    ("Sec-WebSocket-Version", 400),
    ("bad key", 400),
    ("version 8", 426),
])
def test_websocket_handshakes_missing_the_key_or_version_are_refused_not_500(server, drop, status, caplog):
    headers = {"Host": "127.0.0.1:%d" % server.port, "Upgrade": "websocket", "Connection": "Upgrade",
               "Sec-WebSocket-Key": "dGhlIHNhbXBsZSBub25jZQ==", "Sec-WebSocket-Version": "13"}
    if drop == "bad key":
        headers["Sec-WebSocket-Key"] = "not base64 of 16 bytes"
    elif drop == "version 8":
        headers["Sec-WebSocket-Version"] = "8"
    else:
        del headers[drop]
    request = "GET /ws/x HTTP/1.1\r\n" + "".join("%s: %s\r\n" % kv for kv in headers.items()) + "\r\n"
    with caplog.at_level(logging.DEBUG):
        answer = _raw(server.port, request.encode())
    assert answer.startswith(b"HTTP/1.1 %d " % status), answer[:300]
    assert json.loads(answer.split(b"\r\n\r\n", 1)[1])["error"]["code"] == "bad_handshake"
    if status == 426:
        assert b"Sec-WebSocket-Version: 13" in answer
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR or r.exc_info]
    ws = websocket.create_connection(server.ws_url + "/ws/fine", timeout=10)  # a real handshake still works
    ws.close()


@pytest.mark.parametrize("origin", ["http://[::1].evil.com", "http://[::1].evil.com:8200", "http://[::1]x",
                                    "http://x[::1]"])
def test_a_bracketed_origin_with_a_tail_is_refused(server, origin):
    with pytest.raises(ValueError):
        parse_origin(origin)
    posted = requests.post(server.url + "/api/v1/bars", json=BODY, headers={"Origin": origin}, timeout=30)
    assert posted.status_code == 403 and posted.json()["error"]["code"] == "forbidden_origin"
    with pytest.raises(websocket.WebSocketBadStatusException):
        websocket.create_connection(server.ws_url + "/ws/x", timeout=10, origin=origin)
    assert parse_origin("http://[::1]:8200") == ("http", "[::1]", 8200)
