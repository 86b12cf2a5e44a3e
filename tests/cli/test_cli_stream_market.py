"""``polygon stream`` reads the socket of the tickers' market (issue 21 item 5): the prefix decides (``X:``
crypto, ``C:`` forex, ``I:`` indices, ``O:`` options), ``--market`` says it outright, and each market's
default channel is its trades (forex: quotes, indices: values). Against a sandbox replaying a session."""

import json

from cli_helpers import STREAM_OPTIONS, stream_summary


def test_crypto_ticker_streams_from_the_crypto_socket(make_sandbox, cli_for):
    sb = make_sandbox(**STREAM_OPTIONS)
    out = cli_for(sb)("stream", "X:BTCUSD", "--channels", "XT", "--json", "--count", "3", "--seconds", "30")
    events = [json.loads(line) for line in out.stdout.splitlines()]
    assert len(events) == 3
    assert {(e["symbol"], e["channel"], e["event_type"]) for e in events} == {("X:BTCUSD", "XT", "crypto_trade")}
    assert stream_summary(out.stderr)[0] == 3
    assert sb.stats()["ws_connections"] == 1


def test_default_channel_is_the_markets_trades_and_lines_are_readable(make_sandbox, cli_for):
    sb = make_sandbox(**STREAM_OPTIONS)
    out = cli_for(sb)("stream", "X:ETHUSD", "--count", "2", "--seconds", "30")
    lines = out.stdout.splitlines()
    assert len(lines) == 2
    for line in lines:
        channel, symbol, _when, size, at, price = line.split()
        assert (channel, symbol, at) == ("XT", "X:ETHUSD", "@")
        assert float(size) > 0 and float(price) > 0


def test_market_option_and_index_values(make_sandbox, cli_for):
    sb = make_sandbox(**STREAM_OPTIONS)
    out = cli_for(sb)("stream", "I:SPX", "--market", "indices", "--json", "--count", "2", "--seconds", "30")
    events = [json.loads(line) for line in out.stdout.splitlines()]
    assert [e["event_type"] for e in events] == ["index_value", "index_value"]
    assert all(e["symbol"] == "I:SPX" and e["value"] > 0 for e in events)


def test_tickers_of_several_markets_or_a_contradicting_market_exit_2(make_sandbox, cli_for):
    sb = make_sandbox(**STREAM_OPTIONS)
    run = cli_for(sb)
    out = run("stream", "AAPL", "X:BTCUSD", "--count", "1", code=2)
    assert out.stderr.startswith("error: tickers of several markets (crypto, stocks)")
    assert len(out.stderr.strip().splitlines()) == 1
    out = run("stream", "X:BTCUSD", "--market", "stocks", "--channels", "T", "--count", "1", code=2)
    assert "X:BTCUSD" in out.stderr and len(out.stderr.strip().splitlines()) == 1
    assert sb.stats()["ws_connections"] == 0  # rejected before connecting
