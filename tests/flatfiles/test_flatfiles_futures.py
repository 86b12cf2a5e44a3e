"""Futures flat files from the sandbox's S3 (a real moto server on 127.0.0.1): per CME Group venue, the files hold
what the futures REST endpoints serve, a sync fills the cache (minute and session bars) and the tick store (trades,
quotes), and ``fetch_data`` then asks the REST API for nothing.

The provider documents the futures files' columns (https://massive.com/docs/flat-files/futures/minute-aggregates/
cbot.md, .../session-aggregates/cbot.md, .../trades/cbot.md, .../quotes/cbot.md, and the same for cme, nymex and
comex) but not their S3 object keys: ``us_futures_<venue>/<kind>_v1/YYYY/MM/YYYY-MM-DD.csv.gz`` is an ASSUMPTION
(:data:`polygon.flatfiles.layout.FUTURES_KEY_FORM`); the tests below pin that assumed form, so a change of it is
deliberate.
"""

import datetime as dt
import gzip
import io
import os
import zoneinfo

import numpy as np
import pandas as pd
import pytest

import polygon
from polygon.exceptions import InvalidParameterError, PolygonNotEntitledError
from polygon.flatfiles import FlatFilesSource, Manifest, TickStore, sync_flatfiles
from polygon.flatfiles.layout import (
    FUTURES_KEY_FORM,
    FUTURES_MARKETS,
    FUTURES_MINUTE_COLUMNS,
    FUTURES_QUOTE_COLUMNS,
    FUTURES_SESSION_COLUMNS,
    FUTURES_TRADE_COLUMNS,
    columns_of,
    day_bounds_ms,
    object_key,
    prefix,
)
from polygon.manager import PolygonDataManager
from polygon.sandbox import calendars
from polygon.storage import StorageManager

NY = zoneinfo.ZoneInfo("America/New_York")
#: the published week (bars of every venue) and the day whose trades and quotes are published
WEEK = ("2025-12-01", "2025-12-05")
TICK_DAY = dt.date(2025, 12, 3)
#: two products on two venues: the E-mini S&P 500 (CME) and crude oil (NYMEX)
CONTRACTS = {"ESZ5": "futures_cme", "CLF6": "futures_nymex"}
BAR_COLUMNS = ["open", "high", "low", "close", "volume", "vwap", "transactions"]


def _days(first, last):
    return calendars.market_days("futures", dt.date.fromisoformat(first), dt.date.fromisoformat(last))


@pytest.fixture(scope="module")
def fut_sandbox():
    from polygon.sandbox import Sandbox

    sb = Sandbox(port=0, flatfiles={"bucket": "ff-futures"})
    sb.start()
    try:
        sb.flatfiles.publish(*WEEK, kinds=("minute_aggs", "session_aggs"), market="futures")
        sb.flatfiles.publish(TICK_DAY, TICK_DAY, kinds=("trades", "quotes"), market="futures")
        yield sb
    finally:
        sb.stop()


@pytest.fixture
def fut_config(fut_sandbox, tmp_path):
    cache = tmp_path / "cache"
    cache.mkdir()
    return fut_sandbox.config(cache_dir=str(cache))


def _s3_requests(sandbox):
    """``(lists, gets)`` the S3 server answered since the last reset: bucket listings and object downloads."""
    lists = [r for r in sandbox.flatfiles.requests if r[0] == "GET" and "list-type=2" in r[2]]
    gets = [r for r in sandbox.flatfiles.requests if r[0] == "GET" and "list-type=2" not in r[2]]
    return lists, gets


def _file(config, key):
    source = FlatFilesSource.from_config(config)
    _info, stream = source.open(key)
    return pd.read_csv(io.BytesIO(gzip.decompress(b"".join(source.iter_chunks(stream)))), keep_default_na=False,
                       na_values=[""])


def _rest_frame(config, symbol, timeframe, start, end):
    return PolygonDataManager(config=config, storage=StorageManager(config.cache_dir + "-rest")).fetch_data(
        symbol, timeframe, start, end, use_cache=False, tz="America/New_York")


def test_the_assumed_keys_and_the_documented_columns():
    day = dt.date(2025, 12, 3)
    # ASSUMPTION (not documented by the provider): the key form; the venues' folders come from one string
    assert FUTURES_KEY_FORM == "us_futures_%s"
    assert object_key("futures_cbot", "minute_aggs", day) == "us_futures_cbot/minute_aggs_v1/2025/12/2025-12-03.csv.gz"
    assert [object_key(m, "session_aggs", day).split("/")[0] for m in FUTURES_MARKETS] == [
        "us_futures_cme", "us_futures_cbot", "us_futures_nymex", "us_futures_comex"]
    # the documented columns (massive.com/docs/flat-files/futures/...)
    assert columns_of("futures_cme", "minute_aggs") == FUTURES_MINUTE_COLUMNS
    assert {"dollar_volume", "exchange", "session_end_date"} <= set(FUTURES_MINUTE_COLUMNS)
    assert "settlement_price" in columns_of("futures_nymex", "session_aggs") == FUTURES_SESSION_COLUMNS
    assert columns_of("futures_comex", "trades") == FUTURES_TRADE_COLUMNS
    assert columns_of("futures_cbot", "quotes") == FUTURES_QUOTE_COLUMNS


def test_bad_venue_or_kind_is_a_typed_error_naming_the_allowed_values(fut_sandbox, fut_config):
    fut_sandbox.flatfiles.reset_requests()
    with pytest.raises(InvalidParameterError, match="futures_cme.*futures_comex.*futures") as bad_venue:
        sync_flatfiles("futures_ice", "minute_aggs", *WEEK, config=fut_config)
    assert "futures_ice" in str(bad_venue.value)
    with pytest.raises(InvalidParameterError, match="session_aggs") as bad_kind:
        sync_flatfiles("futures", "day_aggs", *WEEK, config=fut_config)
    assert "minute_aggs, session_aggs, trades, quotes" in str(bad_kind.value)
    with pytest.raises(InvalidParameterError, match="session_aggs"):
        sync_flatfiles("futures_cme", "day_aggs", *WEEK, config=fut_config)
    with pytest.raises(InvalidParameterError, match="stocks"):
        sync_flatfiles("stocks", "session_aggs", *WEEK, config=fut_config)
    with pytest.raises(InvalidParameterError, match="futures_cme, futures_cbot"):
        prefix("futures", "minute_aggs")  # four folders: one must be named
    with pytest.raises(InvalidParameterError, match="futures_ice"):
        fut_sandbox.flatfiles.publish(TICK_DAY, kinds=("minute_aggs",), market="futures_ice")
    assert fut_sandbox.flatfiles.requests == []  # rejected before any request


@pytest.mark.parametrize("ticker", sorted(CONTRACTS))
def test_the_files_hold_what_the_rest_endpoints_serve(fut_sandbox, fut_config, ticker):
    venue = CONTRACTS[ticker]
    day = TICK_DAY
    lo, hi = day_bounds_ms(day, venue)
    with polygon.PolygonClient(config=fut_config) as client:
        minutes = [b.to_dict() for b in client.list_futures_aggregates(
            ticker, resolution="1min", window_start_gte=lo * 1_000_000, window_start_lt=hi * 1_000_000, limit=50000)]
        session = [b.to_dict() for b in client.list_futures_aggregates(
            ticker, resolution="1session", window_start_gte=lo * 1_000_000, window_start_lt=hi * 1_000_000)]
        trades = [t.to_dict() for t in client.list_futures_trades(ticker, session_end_date=day.isoformat(),
                                                                    sort="timestamp.asc", limit=50000)]
        quotes = [q.to_dict() for q in client.list_futures_quotes(ticker, session_end_date=day.isoformat(),
                                                                    sort="timestamp.asc", limit=50000)]
    assert len(minutes) > 1000 and len(session) == 1 and len(trades) > 1000 and len(quotes) == len(trades)
    for kind, rest in (("minute_aggs", minutes), ("session_aggs", session), ("trades", trades), ("quotes", quotes)):
        frame = _file(fut_config, object_key(venue, kind, day))
        assert tuple(frame.columns) == columns_of(venue, kind)
        mine = frame[frame["ticker"] == ticker].to_dict("records")
        assert len(mine) == len(rest), kind
        # every documented column is compared (the bar's venue id is the file's own: REST bars carry none)
        assert set(columns_of(venue, kind)) - {"exchange"} <= {k for k, v in rest[0].items() if v is not None}
        for row, wire in zip(mine, rest):
            shared = {k: v for k, v in wire.items() if v is not None}
            assert set(shared) <= set(row), (kind, set(shared) - set(row))  # nothing REST says is missing
            assert {k: row[k] for k in shared} == shared, kind
    file_session = _file(fut_config, object_key(venue, "session_aggs", day))
    settle = file_session.loc[file_session["ticker"] == ticker, "settlement_price"].item()
    assert settle == session[0]["settlement_price"] and not np.isnan(settle)
    assert session[0]["session_end_date"] == day.isoformat()


def test_each_venue_holds_its_products_on_trading_dates_only(fut_sandbox, fut_config):
    from polygon.sandbox.universe import FUTURES_PRODUCTS, futures_contracts

    source = FlatFilesSource.from_config(fut_config)
    days = _days(*WEEK)
    for market, mic in zip(FUTURES_MARKETS, ("XCME", "XCBT", "XNYM", "XCEC")):
        keys = source.list_days(prefix(market, "session_aggs") + "2025/12/")
        assert sorted(keys) == [object_key(market, "session_aggs", d) for d in days]  # trading dates only
        frame = _file(fut_config, object_key(market, "session_aggs", TICK_DAY))
        expected = {c.ticker for p in FUTURES_PRODUCTS if p.venue == mic for c in futures_contracts(p, TICK_DAY,
                                                                                                     TICK_DAY)}
        assert set(frame["ticker"]) == expected and len(expected) >= 4
        assert frame["settlement_price"].notna().all()


def test_sync_fills_the_cache_and_fetch_data_makes_no_rest_request(fut_sandbox, fut_config):
    fut_sandbox.flatfiles.reset_requests()
    minute = sync_flatfiles("futures", "minute_aggs", *WEEK, config=fut_config, progress=False)
    lists, gets = _s3_requests(fut_sandbox)
    days = [d.isoformat() for d in _days(*WEEK)]
    assert minute.days_synced == days and minute.days_missing == {}
    assert sorted(minute.parts) == sorted(FUTURES_MARKETS)
    assert all(part.days_synced == days for part in minute.parts.values())
    # one listing per venue (the week is one month) and one download per venue and day file, nothing more
    assert len(lists) == len(FUTURES_MARKETS) and len(gets) == len(FUTURES_MARKETS) * len(days)
    assert sorted(path.split("/", 2)[2] for _m, path, _q in gets) == sorted(
        object_key(m, "minute_aggs", dt.date.fromisoformat(d)) for m in FUTURES_MARKETS for d in days)
    session = sync_flatfiles("futures", "session_aggs", *WEEK, config=fut_config, progress=False)
    assert session.days_synced == days and set(CONTRACTS) <= session.symbols

    fut_sandbox.reset_stats()
    manager = PolygonDataManager(config=fut_config, storage=StorageManager(fut_config.cache_dir))
    frames = {(t, tf): manager.fetch_data(t, tf, *WEEK, tz="America/New_York") for t in CONTRACTS
              for tf in ("1min", "1day")}
    assert fut_sandbox.stats()["requests_total"] == 0, fut_sandbox.stats()["requests"]
    for (ticker, timeframe), frame in frames.items():
        assert frame.attrs["source"] == "cache"
        rest = _rest_frame(fut_config, ticker, timeframe, *WEEK)
        assert len(frame) == len(rest) > (len(days) * 1000 if timeframe == "1min" else len(days) - 1)
        pd.testing.assert_frame_equal(frame[BAR_COLUMNS], rest[BAR_COLUMNS], check_freq=False)
        assert frame["vwap"].notna().all()  # futures files carry dollar volume: vwap as the REST bars have it
    daily = frames[("CLF6", "1day")]
    assert [t.strftime("%a %H:%M") for t in daily.index] == [
        (dt.date.fromisoformat(d) - dt.timedelta(days=1)).strftime("%a") + " 18:00" for d in days]


def test_second_sync_lists_and_downloads_nothing_more_and_one_venue_syncs_alone(fut_sandbox, fut_config):
    first = sync_flatfiles("futures_nymex", "session_aggs", *WEEK, config=fut_config, progress=False)
    days = [d.isoformat() for d in _days(*WEEK)]
    assert first.market == "futures_nymex" and first.days_synced == days and first.parts == {}
    assert {s[:2] for s in first.symbols} == {"CL"}  # the venue's products only
    assert sorted(Manifest(fut_config.cache_dir, "futures_nymex", "session_aggs").days) == days
    fut_sandbox.flatfiles.reset_requests()
    again = sync_flatfiles("futures_nymex", "session_aggs", *WEEK, config=fut_config, progress=False)
    lists, gets = _s3_requests(fut_sandbox)
    assert again.days_synced == [] and again.days_skipped == days and again.bytes == 0
    assert len(lists) == 1 and gets == []


def test_a_republished_session_file_is_synced_again(fut_sandbox, fut_config):
    day = dt.date(2025, 12, 2)
    sync_flatfiles("futures_cme", "session_aggs", day, day, config=fut_config, progress=False)
    key = object_key("futures_cme", "session_aggs", day)
    flat = fut_sandbox.flatfiles
    original = flat.futures_file("futures_cme", "session_aggs", day, flat.futures_tickers("futures_cme", day))
    frame = pd.read_csv(io.BytesIO(gzip.decompress(original)))
    frame.loc[frame["ticker"] == "ESZ5", "close"] = 6000.25  # the provider corrects the session bar
    try:
        flat.put(key, gzip.compress(frame.to_csv(index=False, lineterminator="\n").encode()))
        again = sync_flatfiles("futures_cme", "session_aggs", day, day, config=fut_config, progress=False)
        assert again.days_resynced == [day.isoformat()]
        bars = StorageManager(fut_config.cache_dir).read("ESZ5", "1day", "2025-12-01", "2025-12-03")
        assert bars["close"].tolist() == [6000.25]
    finally:
        flat.put(key, original)


def test_trades_and_quotes_land_in_the_tick_store_as_rest_serves_them(fut_sandbox, fut_config):
    pytest.importorskip("pyarrow")
    for kind in ("trades", "quotes"):
        report = sync_flatfiles("futures", kind, TICK_DAY, TICK_DAY, config=fut_config, progress=False)
        assert report.days_synced == [TICK_DAY.isoformat()] and sorted(report.parts) == sorted(FUTURES_MARKETS)
    store = TickStore(fut_config.cache_dir)
    assert store.has("futures", "trades", TICK_DAY) and store.days("futures", "quotes") == [TICK_DAY]
    with polygon.PolygonClient(config=fut_config) as client:
        for ticker, venue in CONTRACTS.items():
            trades = store.read("futures", "trades", TICK_DAY, ticker)  # 'futures' spans the venues
            assert trades.equals(store.read(venue, "trades", TICK_DAY, ticker))
            assert tuple(trades.columns) == FUTURES_TRADE_COLUMNS and trades["timestamp"].dtype == np.int64
            rest = [t.to_dict() for t in client.list_futures_trades(ticker, session_end_date=TICK_DAY.isoformat(),
                                                                    sort="timestamp.asc", limit=50000)]
            assert len(trades) == len(rest) > 1000
            assert trades.to_dict("records") == [{c: r.get(c) for c in FUTURES_TRADE_COLUMNS} for r in rest]
            quotes = store.read("futures", "quotes", TICK_DAY, ticker)
            rest = [q.to_dict() for q in client.list_futures_quotes(ticker, session_end_date=TICK_DAY.isoformat(),
                                                                    sort="timestamp.asc", limit=50000)]
            assert quotes.to_dict("records") == [{c: r.get(c) for c in FUTURES_QUOTE_COLUMNS} for r in rest]
    with pytest.raises(InvalidParameterError, match="futures_cme"):
        store.path("futures", "trades", TICK_DAY)  # stored per venue


def test_the_day_boundary_is_the_globex_session(fut_sandbox, fut_config):
    """A trading date runs from 18:00 New York the evening before to 18:00 on it (the session closes at 17:00,
    then the maintenance break): a bar at 17:59 still belongs to the trading date it ends, one at 18:00 to the
    next session_end_date."""
    day = TICK_DAY
    lo, hi = day_bounds_ms(day, "futures_cme")
    eve = day - dt.timedelta(days=1)
    assert lo == int(dt.datetime(eve.year, eve.month, eve.day, 18, tzinfo=NY).timestamp() * 1000)
    assert hi == int(dt.datetime(day.year, day.month, day.day, 18, tzinfo=NY).timestamp() * 1000)
    at_1759 = int(dt.datetime(eve.year, eve.month, eve.day, 17, 59, tzinfo=NY).timestamp() * 1000)
    assert day_bounds_ms(eve, "futures_cme")[0] <= at_1759 < day_bounds_ms(eve, "futures_cme")[1] == lo
    # across the switch to winter time (Sunday 2025-11-02): the Monday session still opens at 18:00 New York
    monday = dt.date(2025, 11, 3)
    assert day_bounds_ms(monday, "futures")[0] == int(dt.datetime(2025, 11, 2, 18, tzinfo=NY).timestamp() * 1000)

    frame = _file(fut_config, object_key("futures_cme", "minute_aggs", day))
    es = frame[frame["ticker"] == "ESZ5"]
    assert set(es["session_end_date"]) == {day.isoformat()}
    assert es["window_start"].min() == lo * 1_000_000  # the session's first bar: 18:00 the evening before
    assert (es["window_start"] < hi * 1_000_000).all()
    # hand-made files: the 17:59 bar of the evening before in that trading date's file, the 18:00 bar in the next
    assert calendars.market_days("futures", eve, eve) == [eve]
    flat = fut_sandbox.flatfiles
    keys = {d: object_key("futures_comex", "minute_aggs", d) for d in (eve, day)}
    originals = {d: flat.futures_file("futures_comex", "minute_aggs", d, flat.futures_tickers("futures_comex", d))
                 for d in keys}
    for d, start_ms in ((eve, at_1759), (day, lo)):
        row = es.iloc[:1].assign(ticker="GCG6", window_start=start_ms * 1_000_000, session_end_date=d.isoformat())
        flat.put(keys[d], gzip.compress(row.to_csv(index=False, lineterminator="\n").encode()))
    try:
        sync_flatfiles("futures_comex", "minute_aggs", eve, day, symbols=["GCG6"], config=fut_config, progress=False)
    finally:
        for d, key in keys.items():
            flat.put(key, originals[d])
    fut_sandbox.reset_stats()
    manager = PolygonDataManager(config=fut_config, storage=StorageManager(fut_config.cache_dir))
    on_eve = manager.fetch_data("GCG6", "1min", eve, eve, tz="America/New_York")
    on_day = manager.fetch_data("GCG6", "1min", day, day, tz="America/New_York")
    assert fut_sandbox.stats()["requests_total"] == 0  # both trading dates are covered by their files
    assert [t.strftime("%H:%M") for t in on_eve.index] == ["17:59"] and on_eve.index[0].date() == eve
    assert [t.strftime("%H:%M") for t in on_day.index] == ["18:00"] and on_day.index[0].date() == eve


def test_a_plan_without_futures_is_refused_with_a_clear_403(fut_sandbox, tmp_path):
    from polygon.sandbox import Sandbox

    sb = Sandbox(port=0, flatfiles={"bucket": "ff-futures-plan", "plan": ["stocks"]})
    sb.start()
    try:
        sb.flatfiles.publish(TICK_DAY, kinds=("session_aggs",), market="futures_cme")
        config = sb.config(cache_dir=str(tmp_path / "c"))
        with pytest.raises(PolygonNotEntitledError, match="us_futures_cme"):
            sync_flatfiles("futures_cme", "session_aggs", TICK_DAY, config=config, progress=False)
    finally:
        sb.stop()


def test_a_staged_futures_day_keeps_its_vwap_through_a_takeover(tmp_path):
    """Runs of files with a dollar volume stage a vwap column (others stay without one); a run taken over from a
    killed sync's stage reads back the same bars, vwap included."""
    from polygon.flatfiles.parse import parse_day_bars
    from polygon.flatfiles.staging import Stage

    text = ("ticker,session_end_date,window_start,open,high,low,close,volume,dollar_volume,transactions,exchange\n"
            "ESZ5,2025-12-03,1764716400000000000,10.0,11.0,9.0,10.5,4,42.5,2,1\n"
            "ESZ5,2025-12-03,1764716460000000000,10.5,10.5,10.0,10.0,0,0,0,1\n").encode()
    futures = parse_day_bars(text, compressed=False, engine="pandas")
    assert futures.values[5].tolist()[0] == 10.625 and np.isnan(futures.values[5][1])  # no volume: no vwap
    stocks = parse_day_bars(b"ticker,volume,open,close,high,low,window_start,transactions\n"
                            b"AAPL,5,1.0,1.0,1.0,1.0,1704205800000000000,1\n", compressed=False, engine="pandas")
    dead = Stage(str(tmp_path / "stocks-minute_aggs-1-1"))
    dead.add("2025-12-03", futures, {"etag": "e"})
    dead.add("2024-01-02", stocks, {"etag": "f"})
    sizes = {name: os.path.getsize(os.path.join(dead.root, name)) for name in os.listdir(dead.root)
             if name.endswith(".run")}
    assert sizes == {"2025-12-03.run": 2 * 65, "2024-01-02.run": 57}
    alive = Stage(str(tmp_path / "alive"))
    assert alive.adopt(dead.root) == ["2024-01-02", "2025-12-03"]
    bars = {symbol: arrays for symbol, arrays, _days in alive.bars()}
    np.testing.assert_array_equal(bars["ESZ5"].values, futures.values)
    assert np.isnan(bars["AAPL"].values[5]).all()


def test_clearing_daily_bars_forgets_the_synced_sessions(fut_sandbox, fut_config):
    first = sync_flatfiles("futures_cme", "session_aggs", *WEEK, config=fut_config, progress=False)
    assert len(first.days_synced) == len(_days(*WEEK))
    StorageManager(fut_config.cache_dir).clear(timeframe="1min")  # another timeframe: the sessions stay known
    kept = sync_flatfiles("futures_cme", "session_aggs", *WEEK, config=fut_config, progress=False)
    assert kept.days_synced == [] and len(kept.days_skipped) == len(_days(*WEEK))
    StorageManager(fut_config.cache_dir).clear(timeframe="1day")
    again = sync_flatfiles("futures_cme", "session_aggs", *WEEK, config=fut_config, progress=False)
    assert again.days_skipped == [] and len(again.days_synced) == len(_days(*WEEK))


def test_the_cli_syncs_and_reports_all_four_venues(fut_sandbox, tmp_path):
    """``polygon flatfiles sync --market futures`` (a subprocess, as a user runs it) and ``status`` per venue."""
    from test_flatfiles_cli import _env, _run

    env = _env(fut_sandbox, tmp_path)
    days = _days(*WEEK)
    out = _run(env, "flatfiles", "sync", "--market", "futures", "--kind", "session_aggs", "--start", WEEK[0],
               "--end", WEEK[1], "--no-progress")
    assert "%d days synced" % len(days) in out.stdout, out.stdout
    status = _run(env, "flatfiles", "status", "--market", "futures", "--kind", "session_aggs")
    lines = status.stdout.strip().splitlines()
    assert [line.split()[0] for line in lines] == list(FUTURES_MARKETS)
    assert all("%d days synced, %s .. %s" % (len(days), days[0], days[-1]) in line for line in lines), lines
    bad = _run(env, "flatfiles", "status", "--market", "futures", "--kind", "day_aggs", code=2)
    assert "session_aggs" in bad.stderr and "Traceback" not in bad.stderr
