"""CME holidays in the sandbox, over real HTTP and WebSockets: the Thanksgiving 2025 session ends at the CME early
close (read from exchange_calendars' CMES, not typed in) and Christmas has no session, consistently in the bars,
trades, quotes, schedules, market status, snapshot, stream replay and the days the flat files are written for."""

import datetime as dt
import json
import time
import warnings
import zoneinfo

import exchange_calendars
import pytest
import websocket

from polygon.core import PolygonClient
from polygon.sandbox import calendars

NY = zoneinfo.ZoneInfo("America/New_York")
THANKSGIVING = dt.date(2025, 11, 27)
CHRISTMAS = dt.date(2025, 12, 25)


def cmes_sessions(first, last):
    """exchange_calendars' CMES sessions ``{date: close epoch ms}`` from ``first`` to ``last``."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        sched = exchange_calendars.get_calendar("CMES", start=str(first - dt.timedelta(days=7)),
                                                end=str(last + dt.timedelta(days=7))).schedule
    return {d.date(): int(c.timestamp() * 1000) for d, c in zip(sched.index, sched["close"])
            if first <= d.date() <= last}


EARLY_CLOSE_MS = cmes_sessions(THANKSGIVING, THANKSGIVING)[THANKSGIVING]


def _ms(*args):
    return int(dt.datetime(*args, tzinfo=NY).timestamp() * 1000)


@pytest.fixture(scope="module")
def client(sandbox):
    with PolygonClient(config=sandbox.config()) as c:
        yield c


@pytest.mark.parametrize("ticker", ["ESZ5", "CLF6"])
def test_the_thanksgiving_session_stops_at_the_early_close(client, ticker):
    bars = list(client.list_futures_aggregates(ticker, resolution="1min",
                                               window_start_gte=_ms(2025, 11, 26, 18) * 10**6,
                                               window_start_lt=_ms(2025, 11, 27, 18) * 10**6))
    starts = [b.window_start // 10**6 for b in bars]
    assert bars and {b.session_end_date for b in bars} == {"2025-11-27"}
    assert starts[0] == _ms(2025, 11, 26, 18) and starts[-1] == EARLY_CLOSE_MS - 60_000
    assert len(bars) == (EARLY_CLOSE_MS - _ms(2025, 11, 26, 18)) // 60_000  # the front month trades every minute
    after = dict(timestamp_gte=EARLY_CLOSE_MS * 10**6, timestamp_lt=_ms(2025, 11, 27, 18) * 10**6)
    assert list(client.list_futures_trades(ticker, **after)) == []
    assert list(client.list_futures_quotes(ticker, **after)) == []
    before = dict(timestamp_gte=(EARLY_CLOSE_MS - 60_000) * 10**6, timestamp_lt=EARLY_CLOSE_MS * 10**6)
    trades = list(client.list_futures_trades(ticker, **before))
    assert trades and sum(t.size for t in trades) == bars[-1].volume


@pytest.mark.parametrize("ticker", ["ESH6", "CLG6"])  # months that trade through Christmas
def test_session_bars_of_the_holiday_weeks_are_the_cme_sessions(client, ticker):
    sessions = list(client.list_futures_aggregates(ticker, resolution="1session", window_start_gte="2025-11-23",
                                                   window_start_lt="2025-12-28"))
    expected = cmes_sessions(dt.date(2025, 11, 24), dt.date(2025, 12, 26))
    assert [s.session_end_date for s in sessions] == [d.isoformat() for d in sorted(expected)]
    assert CHRISTMAS.isoformat() not in {s.session_end_date for s in sessions}
    minutes = list(client.list_futures_aggregates(ticker, resolution="1min", window_start_gte=_ms(2025, 11, 26, 18)
                                                  * 10**6, window_start_lt=_ms(2025, 11, 27, 18) * 10**6))
    day = [s for s in sessions if s.session_end_date == THANKSGIVING.isoformat()][0]
    assert (day.close, day.volume) == (minutes[-1].close, sum(m.volume for m in minutes))
    assert list(client.list_futures_trades(ticker, session_end_date=CHRISTMAS.isoformat())) == []


def test_schedules_give_the_early_close_and_nothing_on_christmas(client):
    rows = list(client.list_futures_schedules(product_code="ES", session_end_date=THANKSGIVING.isoformat()))
    close = [r.timestamp for r in rows if r.event == "close"]
    assert close == [dt.datetime.fromtimestamp(EARLY_CLOSE_MS / 1000, dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")]
    assert list(client.list_futures_schedules(session_end_date=CHRISTMAS.isoformat())) == []


def test_flat_file_days_and_bounds_follow_the_cme_calendar():
    days = calendars.market_days("futures", dt.date(2025, 11, 24), dt.date(2025, 12, 31))
    assert days == sorted(cmes_sessions(dt.date(2025, 11, 24), dt.date(2025, 12, 31)))
    opens, closes = calendars.bounds("futures", [THANKSGIVING, dt.date(2025, 12, 26)])
    assert closes.tolist() == [EARLY_CLOSE_MS, _ms(2025, 12, 26, 17)]
    assert opens.tolist() == [_ms(2025, 11, 26, 18), _ms(2025, 12, 25, 18)]  # reopens on Christmas evening


def test_after_the_early_close_status_and_snapshot_say_closed(make_sandbox):
    sb = make_sandbox(clock="2025-11-27T15:00:00-05:00")
    with PolygonClient(config=sb.config()) as client:
        statuses = list(client.list_futures_market_statuses(product_code="ES"))
        assert [(s.market_event, s.session_end_date) for s in statuses] == [("closed", "2025-11-28")]
        snap = [s for s in client.get_futures_snapshot(ticker="ESZ5").results][0]
        assert snap.last_trade.last_updated < EARLY_CLOSE_MS * 10**6
        assert snap.last_minute.last_updated == EARLY_CLOSE_MS * 10**6  # the last minute ended at the close
        bars = list(client.list_futures_aggregates("ESZ5", resolution="1min",
                                                   window_start_gte=(EARLY_CLOSE_MS - 600_000) * 10**6))
        assert bars and bars[-1].window_start == (EARLY_CLOSE_MS - 60_000) * 10**6


def test_an_early_close_settles_at_the_close_not_at_the_usual_settlement_time(make_sandbox):
    """ES settles at 16:15 New York on a normal day; on Thanksgiving the session ends first, so the settlement is
    there as soon as the session closed: the last minute's close before the early close."""
    sb = make_sandbox(clock="2025-11-27T15:00:00-05:00")  # after the early close, before 16:15
    assert EARLY_CLOSE_MS < _ms(2025, 11, 27, 15, 0)
    with PolygonClient(config=sb.config()) as client:
        snap = [s for s in client.get_futures_snapshot(ticker="ESZ5").results][0]
        minutes = list(client.list_futures_aggregates("ESZ5", resolution="1min",
                                                      window_start_gte=(EARLY_CLOSE_MS - 600_000) * 10**6))
        assert snap.session.settlement_price == minutes[-1].close
        sessions = list(client.list_futures_aggregates("ESZ5", resolution="1session",
                                                       window_start_gte=(EARLY_CLOSE_MS - 86_400_000) * 10**6))
        assert [(s.session_end_date, s.settlement_price) for s in sessions] == [("2025-11-27", minutes[-1].close)]
    sb = make_sandbox(clock="2025-11-26T15:00:00-05:00")  # a normal day before 16:15: not settled yet
    with PolygonClient(config=sb.config()) as client:
        snap = [s for s in client.get_futures_snapshot(ticker="ESZ5").results][0]
        assert snap.session.settlement_price is None


def test_the_stream_replay_goes_quiet_at_the_early_close(make_sandbox):
    start = EARLY_CLOSE_MS - 120_000  # two minutes before the close, replayed 120 times faster
    sb = make_sandbox(clock=dt.datetime.fromtimestamp(start / 1000, dt.timezone.utc).isoformat(), speed=120)
    ws = websocket.create_connection(sb.ws_url + "/futures/cme", timeout=2, skip_utf8_validation=True)
    trades = []
    try:
        assert json.loads(ws.recv())[0]["status"] == "connected"
        ws.send(json.dumps({"action": "auth", "params": sb.api_key}))
        assert json.loads(ws.recv())[0]["status"] == "auth_success"
        ws.send(json.dumps({"action": "subscribe", "params": "T.ESZ5"}))
        deadline = time.monotonic() + 6.0  # 12 replayed minutes: well past the close
        while time.monotonic() < deadline:
            try:
                frame = ws.recv()
            except websocket.WebSocketTimeoutException:
                continue
            trades.extend(e for e in json.loads(frame) if e.get("ev") == "T")
    finally:
        ws.close()
    assert trades, "the replay streamed the last minutes before the close"
    assert max(e["t"] for e in trades) < EARLY_CLOSE_MS
