"""Sessions per market: crypto around the clock, the fx week, exchange sessions, option expiry."""

import datetime as dt

import pandas as pd

from polygon import markets


def _ms(text, tz="America/New_York"):
    return int(pd.Timestamp(text, tz=tz).value // 1_000_000)


def test_crypto_trades_every_minute_of_a_weekend():
    opens, closes = markets.session_bounds("X:BTCUSD", "2024-03-02", "2024-03-03")
    assert opens.tolist() == [_ms("2024-03-02", "UTC"), _ms("2024-03-03", "UTC")]
    assert (closes - opens).tolist() == [86_400_000] * 2
    assert len(markets.expected_minutes("X:BTCUSD", "2024-03-02", "2024-03-03")) == 2 * 1440
    start, end = _ms("2024-03-02 03:00"), _ms("2024-03-04")
    assert markets.trading_intervals("X:BTCUSD", start, end, True) == [(start, end)]


def test_fx_week_runs_sunday_17_to_friday_17_new_york():
    days = markets.trading_days("C:EURUSD", "2024-03-01", "2024-03-04")  # Fri, Sat, Sun, Mon
    assert days == [dt.date(2024, 3, 1), dt.date(2024, 3, 3), dt.date(2024, 3, 4)]  # no Saturday
    opens, closes = markets.session_bounds("C:EURUSD", "2024-03-01", "2024-03-03")
    assert closes[0] == _ms("2024-03-01 17:00") and opens[1] == _ms("2024-03-03 17:00")
    # a Saturday-only request has no trading time: nothing to fetch, nothing missing
    assert markets.trading_intervals("C:EURUSD", _ms("2024-03-02"), _ms("2024-03-03"), True) == []
    iv = markets.trading_intervals("C:EURUSD", _ms("2024-03-01"), _ms("2024-03-05"), True)
    assert iv == [(_ms("2024-03-01"), _ms("2024-03-01 17:00")), (_ms("2024-03-03 17:00"), _ms("2024-03-05"))]
    daily = markets.trading_intervals("C:EURUSD", _ms("2024-03-01", "UTC"), _ms("2024-03-04", "UTC"), False)
    assert daily == [(_ms("2024-03-01", "UTC"), _ms("2024-03-02", "UTC")),
                     (_ms("2024-03-03", "UTC"), _ms("2024-03-04", "UTC"))]


def test_exchange_markets_follow_the_calendar():
    for sym in ("AAPL", "I:SPX", "O:SPY251219C00500000"):
        assert dt.date(2023, 7, 4) not in markets.trading_days(sym, "2023-07-03", "2023-07-05")
    # extended hours only for stocks
    ext = markets.session_bounds("AAPL", "2023-07-05", "2023-07-05", extended=True)
    idx = markets.session_bounds("I:SPX", "2023-07-05", "2023-07-05", extended=True)
    assert ext[0][0] == _ms("2023-07-05 04:00") and idx[0][0] == _ms("2023-07-05 09:30")


def test_an_option_has_no_session_after_its_expiry():
    sym = "O:SPY230616C00400000"
    assert markets.contract_end_ms(sym) == _ms("2023-06-17")
    assert markets.trading_days(sym, "2023-06-14", "2023-06-23") == [dt.date(2023, 6, 14), dt.date(2023, 6, 15),
                                                                      dt.date(2023, 6, 16)]
    assert markets.trading_intervals(sym, _ms("2023-06-20"), _ms("2023-06-24"), True) == []
    assert markets.contract_end_ms("AAPL") is None


def test_day_zone_and_volume():
    assert markets.day_zone("crypto") == markets.day_zone("fx") == "UTC"
    assert markets.day_zone("stocks") == "America/New_York"
    assert not markets.has_volume("indices") and markets.has_volume("crypto")
