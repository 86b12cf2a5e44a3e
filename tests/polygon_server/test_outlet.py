"""The relay's outlets over a real socket pair: writes never block, order is kept, the queue is bounded in
messages and in bytes (batch messages are large), a client that takes nothing is closed."""

import socket
import time
import types

from polygon.polygon_server.outlet import SocketOutlet, frame_text


def _pair():
    a, b = socket.socketpair()
    a.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 8192)
    b.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 8192)
    return a, b


def _texts(data):
    """Payloads of the unmasked text frames in ``data`` (wsproto-built, so parsed here simply)."""
    out, pos = [], 0
    while pos < len(data):
        length, head = data[pos + 1] & 0x7F, 2
        if length == 126:
            length, head = int.from_bytes(data[pos + 2:pos + 4], "big"), 4
        elif length == 127:
            length, head = int.from_bytes(data[pos + 2:pos + 10], "big"), 10
        out.append(data[pos + head:pos + head + length].decode())
        pos += head + length
    return out


def _drain(sock, outlet, seconds=10.0):
    sock.settimeout(0.2)
    data = b""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        outlet.flush()
        try:
            chunk = sock.recv(1 << 20)
        except socket.timeout:
            if not outlet.pending:
                break
            continue
        data += chunk
    return data


def test_a_client_that_does_not_read_never_blocks_the_writer_and_keeps_the_newest():
    server, client = _pair()
    outlet = SocketOutlet(types.SimpleNamespace(sock=server, ws=None), shared_frames=True, limit=10_000,
                          max_bytes=200_000).install()
    try:
        started = time.monotonic()
        for i in range(200):  # 200 x ~10 kB: far more than the socket buffers and the byte bound
            outlet.put_frames([frame_text("%05d" % i + "x" * 10_000)], events=10)
            outlet.flush()
        assert time.monotonic() - started < 5, "writes must not wait for the reader"
        assert outlet.dropped > 0 and outlet.dropped % 10 == 0
        got = [int(t[:5]) for t in _texts(_drain(client, outlet))]
        assert got == sorted(got) and got[-1] == 199, "order kept, the newest kept"
        assert len(got) * 10 + outlet.dropped == 2000, "every event is either delivered or counted as dropped"
    finally:
        server.close()
        client.close()


def test_a_client_that_takes_nothing_is_closed_after_the_send_timeout():
    server, client = _pair()
    outlet = SocketOutlet(types.SimpleNamespace(sock=server, ws=None), shared_frames=True,
                          send_timeout=0.3).install()
    try:
        for _ in range(100):
            outlet.put_frames([frame_text("y" * 10_000)], events=1)
            outlet.flush()
        assert outlet.pending
        deadline = time.monotonic() + 10
        while not outlet.check_stuck(time.monotonic()) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert outlet.closed and outlet.pending == 0
    finally:
        server.close()
        client.close()
