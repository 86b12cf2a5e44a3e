"""The sandbox's /stocks WebSocket: handshake, auth, subscriptions, events, limits and faults."""

import json
import time

import pytest
import requests
import websocket

REPLAY = {"clock": "2023-03-01", "speed": 120}


def connect(sb, auth=True, timeout=5.0):
    ws = websocket.create_connection(sb.ws_url + "/stocks", timeout=timeout, skip_utf8_validation=True)
    assert json.loads(ws.recv()) == [{"ev": "status", "status": "connected", "message": "Connected Successfully"}]
    if auth:
        ws.send(json.dumps({"action": "auth", "params": sb.api_key}))
        assert json.loads(ws.recv())[0]["status"] == "auth_success"
    return ws


def subscribe(ws, params, action="subscribe"):
    ws.send(json.dumps({"action": action, "params": params}))
    return json.loads(ws.recv())


def collect(ws, until, seconds=10.0):
    """Receive event frames until ``until(events)`` or ``seconds`` pass; returns all events."""
    events, deadline = [], time.monotonic() + seconds
    while time.monotonic() < deadline and not until(events):
        events.extend(json.loads(ws.recv()))
    return events


def test_auth_subscribe_unsubscribe_acks(make_sandbox):
    sb = make_sandbox(**REPLAY)
    ws = connect(sb)
    acks = subscribe(ws, "T.AAPL,AM.MSFT")
    assert acks == [{"ev": "status", "status": "success", "message": "subscribed to: T.AAPL"},
                    {"ev": "status", "status": "success", "message": "subscribed to: AM.MSFT"}]
    acks = subscribe(ws, "T.AAPL", action="unsubscribe")
    assert acks == [{"ev": "status", "status": "success", "message": "unsubscribed to: T.AAPL"}]
    ws.close()


def test_wrong_key_gets_auth_failed_then_close(sandbox):
    ws = connect(sandbox, auth=False)
    ws.send(json.dumps({"action": "auth", "params": "wrong"}))
    assert json.loads(ws.recv()) == [{"ev": "status", "status": "auth_failed", "message": "authentication failed"}]
    opcode, _ = ws.recv_data()
    assert opcode == websocket.ABNF.OPCODE_CLOSE
    ws.close()


def test_auth_timeout(make_sandbox):
    sb = make_sandbox(auth_timeout=0.3)
    ws = connect(sb, auth=False)
    msg = json.loads(ws.recv())
    assert msg == [{"ev": "status", "status": "auth_timeout", "message": "No authentication request received."}]
    ws.close()


def _wait_active(sb, n, seconds=5.0):
    deadline = time.monotonic() + seconds
    while sb.stats()["ws_active"] != n and time.monotonic() < deadline:
        time.sleep(0.02)
    return sb.stats()["ws_active"] == n


def test_max_connections_per_key(make_sandbox):
    sb = make_sandbox()
    first = connect(sb)
    second = connect(sb, auth=False)
    second.send(json.dumps({"action": "auth", "params": sb.api_key}))
    assert json.loads(second.recv())[0]["status"] == "max_connections"
    second.close()
    first.close()
    assert _wait_active(sb, 0)
    connect(sb).close()  # the slot is free again
    sb.configure(max_connections=2)
    a, b = connect(sb), connect(sb)
    a.close()
    b.close()


def test_trades_quotes_and_minute_aggs_are_consistent(make_sandbox):
    sb = make_sandbox(**REPLAY)
    ws = connect(sb)
    subscribe(ws, "T.AAPL,Q.AAPL,AM.AAPL")
    events = collect(ws, lambda evs: sum(e["ev"] == "AM" for e in evs) >= 3)
    ws.close()
    trades = [e for e in events if e["ev"] == "T"]
    quotes = {e["q"]: e for e in events if e["ev"] == "Q"}
    aggs = [e for e in events if e["ev"] == "AM"]
    assert len(aggs) >= 3 and trades
    for trade in trades:
        quote = quotes.get(trade["q"])
        if quote is not None:
            assert quote["bp"] <= trade["p"] <= quote["ap"]
    for am in aggs[1:]:  # the first minute may have begun before the subscription
        minute = [t for t in trades if am["s"] <= t["t"] < am["e"]]
        assert minute
        assert am["o"] == minute[0]["p"] and am["c"] == minute[-1]["p"]
        assert am["h"] == max(t["p"] for t in minute) and am["l"] == min(t["p"] for t in minute)
        assert am["v"] == sum(t["s"] for t in minute)
    # and the minute aggregate equals the REST minute bar (as traded)
    am = aggs[1]
    bar = requests.get(sb.base_url + "/v2/aggs/ticker/AAPL/range/1/minute/%d/%d" % (am["s"], am["s"]),
                       headers={"Authorization": "Bearer " + sb.api_key}, params={"adjusted": "false"},
                       timeout=10).json()["results"][0]
    assert (bar["o"], bar["h"], bar["l"], bar["c"], bar["v"]) == (am["o"], am["h"], am["l"], am["c"], am["v"])


def test_wildcard_subscription_streams_many_symbols(make_sandbox):
    sb = make_sandbox(**REPLAY)
    ws = connect(sb)
    subscribe(ws, "T.*")
    events = collect(ws, lambda evs: len({e["sym"] for e in evs}) >= 20)
    ws.close()
    assert len({e["sym"] for e in events}) >= 20 and {e["ev"] for e in events} == {"T"}
    assert sb.stats()["ws_events_sent"] >= len(events)


def test_drop_after_messages(make_sandbox):
    sb = make_sandbox(ws_drop_after_messages=3, **REPLAY)
    ws = connect(sb)  # frames 1 and 2
    subscribe(ws, "T.AAPL")  # frame 3, then the server drops the socket
    with pytest.raises((websocket.WebSocketConnectionClosedException, ConnectionError)):
        for _ in range(100):
            ws.recv()
    ws.close()


def test_drop_after_seconds(make_sandbox):
    sb = make_sandbox(ws_drop_after_seconds=0.5)
    ws = connect(sb)
    start = time.monotonic()
    with pytest.raises((websocket.WebSocketConnectionClosedException, ConnectionError)):
        for _ in range(100):
            ws.recv()
    assert 0.4 <= time.monotonic() - start < 5
    ws.close()


def test_stall_sends_no_frames_and_no_pongs(make_sandbox):
    sb = make_sandbox(**REPLAY)
    ws = connect(sb)
    ws.ping(b"alive")
    frame = ws.recv_data_frame(control_frame=True)[1]
    assert frame.opcode == websocket.ABNF.OPCODE_PONG
    ws.close()
    assert _wait_active(sb, 0)
    sb.configure(ws_stall=True)
    ws = connect(sb)
    ws.send(json.dumps({"action": "subscribe", "params": "T.AAPL"}))
    ws.ping(b"alive")
    ws.settimeout(0.7)
    with pytest.raises(websocket.WebSocketTimeoutException):
        ws.recv_data_frame(control_frame=True)
    ws.close()


def test_stream_rate_firehose(make_sandbox):
    sb = make_sandbox(stream_rate=20000, **REPLAY)
    ws = connect(sb)
    subscribe(ws, "T.*,Q.*")
    start = time.monotonic()
    events = collect(ws, lambda evs: len(evs) >= 10000, seconds=10)
    ws.close()
    elapsed = time.monotonic() - start
    assert len(events) >= 10000
    assert len(events) <= 20000 * elapsed * 1.2 + 2000  # paced, not unthrottled
    assert {e["ev"] for e in events} <= {"T", "Q"} and all(e["t"] > 1.6e12 for e in events)


def test_stream_rate_firehose_interleaves_symbols_and_channels(make_sandbox):
    """Regression (issue 14): the rate-limited firehose played every event of the first symbol before any
    other, so a multi-symbol subscription saw only the first symbol."""
    sb = make_sandbox(stream_rate=200000, **REPLAY)  # 1,000 events per frame
    ws = connect(sb)
    subscribe(ws, "T.AAPL,T.MSFT,Q.AAPL,Q.MSFT,T.SPY")
    events = collect(ws, lambda evs: len(evs) >= 1000, seconds=10)
    ws.close()
    pairs = [(e["ev"], e["sym"]) for e in events]
    wanted = {("T", "AAPL"), ("T", "MSFT"), ("Q", "AAPL"), ("Q", "MSFT"), ("T", "SPY")}
    assert set(pairs[:10]) == wanted  # every symbol and channel within the first few events
    for start in range(0, 1000, 100):  # and throughout the frame, not in blocks
        assert set(pairs[start:start + 100]) == wanted


def test_client_close_gets_a_close_frame_even_mid_stream(make_sandbox):
    # regression: the session used to cut the socket before simple-websocket sent the close reply,
    # which the official client took for an abnormal closure (and reconnected)
    sb = make_sandbox(stream_rate=200000, max_connections=5, **REPLAY)
    for _ in range(5):
        ws = connect(sb)
        subscribe(ws, "T.*")
        ws.recv()
        ws.send_close()
        opcode = None
        for _ in range(10000):
            frame = ws.recv_data_frame(control_frame=True)[1]
            if frame.opcode == websocket.ABNF.OPCODE_CLOSE:
                opcode = frame.opcode
                break
        assert opcode == websocket.ABNF.OPCODE_CLOSE
        ws.shutdown()


def _auth_until_closed(sb, close_at_once=False):
    """Authenticate a raw socket; read until the server drops it (bounded), or close at once."""
    ws = connect(sb, auth=False)
    ws.send(json.dumps({"action": "auth", "params": sb.api_key}))
    if close_at_once:
        ws.close()
        return []
    statuses = []
    try:
        for _ in range(20):
            frame = ws.recv()
            if not frame:
                break
            statuses.extend(e["status"] for e in json.loads(frame))
    except (websocket.WebSocketException, ConnectionError):
        pass
    ws.close()
    return statuses


def test_socket_dying_during_auth_releases_its_slot(make_sandbox):
    # regression: the max_connections slot was claimed during auth and never released when the
    # socket died while auth_success was being sent, so the key was locked out for good
    sb = make_sandbox(ws_drop_after_messages=2)  # frame 2 is auth_success: dropped right after it
    for _ in range(3):
        assert "max_connections" not in _auth_until_closed(sb)
    assert _wait_active(sb, 0)
    sb.configure(ws_drop_after_messages=None)
    connect(sb).close()  # raises (max_connections) if a slot leaked


def test_clients_closing_right_after_auth_release_their_slots(make_sandbox):
    sb = make_sandbox()
    for _ in range(15):
        _auth_until_closed(sb, close_at_once=True)
    assert _wait_active(sb, 0)
    ws = connect(sb)  # raises (max_connections) if a slot leaked
    ws.close()


def test_every_market_socket_checks_channels_and_spells_pairs_the_providers_way(sandbox):
    for market, good, bad in (("crypto", "XT.X:BTC-USD", "T.X:BTCUSD"), ("forex", "C.C:EUR-USD", "XT.C:EURUSD"),
                              ("indices", "V.I:SPX", "T.I:SPX"), ("options", "T.O:SPY240315C00500000", "V.O:X"),
                              ("stocks", "LULD.AAPL", "XT.AAPL")):
        ws = websocket.create_connection("%s/%s" % (sandbox.ws_url, market), timeout=5, skip_utf8_validation=True)
        try:
            assert json.loads(ws.recv())[0]["status"] == "connected"
            ws.send(json.dumps({"action": "auth", "params": sandbox.api_key}))
            assert json.loads(ws.recv())[0]["status"] == "auth_success"
            acks = subscribe(ws, "%s,%s" % (good, bad))
            assert [a["status"] for a in acks] == ["success", "error"], (market, acks)
            assert acks[1]["message"] == "invalid subscription: %s" % bad
        finally:
            ws.close()
