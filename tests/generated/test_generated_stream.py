"""polygon._generated.stream: event classes, the guide's callback dicts, client actions."""

import json
import os

import pytest

from polygon._generated import stream

TESTS = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
FIXTURE = os.path.join(TESTS, "codegen", "data", "fixtures", "stream_events.json")


@pytest.fixture(scope="module")
def events():
    with open(FIXTURE, encoding="utf-8") as fh:
        return json.load(fh)


def test_tables():
    assert stream.CHANNELS == ("T", "Q", "A", "AM", "LULD", "NOI", "FMV", "LV")
    assert stream.EVENT_CLASSES == {
        "status": stream.StatusMessage, "T": stream.TradeEvent, "Q": stream.QuoteEvent,
        "A": stream.AggregateEvent, "AM": stream.MinuteAggregateEvent, "LULD": stream.LimitUpLimitDownEvent,
        "NOI": stream.ImbalanceEvent, "FMV": stream.FairMarketValueEvent, "LV": stream.ValueEvent,
    }
    assert set(stream.NORMALIZERS) == set(stream.CHANNELS)
    assert sorted(stream.MARKET_NORMALIZERS) == ["crypto", "forex", "futures", "indices", "options", "stocks"]
    assert sum(len(table) for table in stream.MARKET_NORMALIZERS.values()) == 35  # + launchpad AM: 37 feeds
    for market, table in stream.MARKET_EVENT_CLASSES.items():
        assert table["status"] is stream.StatusMessage
        assert set(table) - {"status"} == set(stream.MARKET_NORMALIZERS[market]) == set(stream.SYMBOL_FIELDS[market])


def test_fixture_events_round_trip(events):
    for message in events:
        event = stream.parse_event(message)
        assert isinstance(event, stream.EVENT_CLASSES[message["ev"]])
        assert event.ev == message["ev"]
        assert event.to_wire() == message
    assert stream.parse_event({"ev": "XT", "pair": "BTC-USD"}) is None  # not on the stocks socket
    assert isinstance(stream.parse_event({"ev": "XT", "pair": "BTC-USD"}, "crypto"), stream.CryptoTradeEvent)
    assert stream.parse_event({}) is None


def test_trade_callback_dict(events):
    assert stream.NORMALIZERS["T"](events[2]) == {
        "event_type": "trade", "channel": "T", "symbol": "AAPL", "timestamp": 1701439845000,
        "price": 175.5, "size": 100, "conditions": [12, 37], "exchange": 11, "trade_id": "1234567",
        "tape": 3, "sequence_number": 42, "fractional_size": None, "trf_id": None, "trf_timestamp": None,
    }  # every wire field under a documented name (the guide's keys first)
    assert stream.NORMALIZERS["T"](events[3])["conditions"] is None


def test_quote_callback_dict(events):
    assert stream.NORMALIZERS["Q"](events[4]) == {
        "event_type": "quote", "channel": "Q", "symbol": "AAPL", "timestamp": 1701439845000,
        "bid_price": 175.45, "bid_size": 200, "ask_price": 175.5, "ask_size": 300, "exchange": 11,
        "ask_exchange": 12, "condition": 1, "indicators": [604], "sequence_number": 7, "tape": 3,
    }


@pytest.mark.parametrize("index, channel", [(5, "A"), (6, "AM")])
def test_aggregate_callback_dict(events, index, channel):
    wire = events[index]
    data = stream.NORMALIZERS[channel](wire)
    assert data == {
        "event_type": "aggregate", "channel": channel, "symbol": "AAPL", "timestamp": wire["s"],
        "end_timestamp": wire["e"], "open": wire["o"], "high": wire["h"], "low": wire["l"], "close": wire["c"],
        "volume": wire["v"], "vwap": wire["vw"],
        "transactions": None,  # the provider sends no count on stock aggregates (wire z is an average size)
        "accumulated_volume": wire["av"], "official_open": wire["op"], "day_vwap": wire["a"],
        "average_size": wire["z"], "otc": wire.get("otc"), "fractional_volume": None,
        "fractional_accumulated_volume": None,
    }
    assert stream.NORMALIZERS[channel](dict(wire, n=17))["transactions"] is None


def test_event_python_names(events):
    agg = stream.parse_event(events[6])
    assert (agg.start_timestamp, agg.end_timestamp, agg.average_size, agg.accumulated_volume) == (
        1701439800000, 1701439860000, 200, 1050000,
    )
    assert agg.official_open == 174.0 and agg.day_vwap == 174.95 and agg.otc is True
    quote = stream.parse_event(events[4])
    assert (quote.bid_exchange, quote.ask_exchange, quote.indicators) == (11, 12, [604])
    assert stream.TradeEvent().ev == "T" and stream.StatusMessage().ev == "status"


def test_actions():
    assert stream.auth_message("secret") == {"action": "auth", "params": "secret"}
    assert stream.subscribe_message(["T.AAPL", "Q.AAPL"]) == {"action": "subscribe", "params": "T.AAPL,Q.AAPL"}
    assert stream.subscribe_message(("AM.*",)) == {"action": "subscribe", "params": "AM.*"}
    assert stream.unsubscribe_message("T.AAPL,Q.AAPL") == {"action": "unsubscribe", "params": "T.AAPL,Q.AAPL"}
