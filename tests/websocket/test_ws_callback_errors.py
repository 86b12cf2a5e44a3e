"""A callback that raises is reported once per callback and channel, with the channel named; the stream goes on
(issue 21 item 9: the guide's block subscribed quotes to a trade handler, ``KeyError: 'price'`` on every quote).
"""

import asyncio
import logging

from ws_helpers import Collector, wait_until

DISPATCH = "polygon.websocket.dispatch"


def _errors(caplog):
    return [r for r in caplog.records if r.name == DISPATCH and r.levelno >= logging.ERROR]


def test_guide_block_quotes_to_a_trade_handler_is_reported_once(stream_env, make_client, caplog):
    """The guide's block, as written: ``handle_trade`` reads ``data['price']`` and gets quotes too."""
    caplog.set_level(logging.DEBUG, logger=DISPATCH)
    trades, quotes = Collector(n=20), Collector(n=10)

    async def handle_trade(data):
        (quotes if data["event_type"] == "quote" else trades)(data)
        print(f"Trade: {data['symbol']} @ ${data['price']}")

    async def main():
        async with make_client() as client:
            await client.subscribe(symbols=["AAPL"], channels=["T", "Q"], callback=handle_trade)
            for _ in range(300):  # bounded: 30 s
                if trades.reached.is_set() and quotes.reached.is_set():
                    break
                await asyncio.sleep(0.1)
            return client.get_status()

    status = asyncio.run(main())
    assert trades.count() >= 20 and quotes.count() >= 10  # the trades kept coming after the quotes' errors
    assert status["callback_errors"] >= quotes.count() - 1 >= 9  # every failure counted
    errors = _errors(caplog)
    assert len(errors) == 1, [r.getMessage() for r in errors]
    message = errors[0].getMessage()
    assert "handle_trade" in message and "channel Q" in message
    assert errors[0].exc_info[0] is KeyError and errors[0].exc_info[1].args == ("price",)
    repeats = [r for r in caplog.records if r.name == DISPATCH and r.levelno == logging.DEBUG and "again" in
               r.getMessage()]
    assert len(repeats) >= 9


def test_each_failing_callback_and_channel_is_reported_once(stream_sandbox, make_client, caplog):
    """Plain callbacks: two failing ones on the same channel, one on two channels; each pair once."""
    caplog.set_level(logging.INFO, logger=DISPATCH)
    seen = Collector(n=30)

    def bad_price(data):
        seen(data)
        return data["price"] * 0  # quotes have no price

    def always_fails(data):
        raise RuntimeError("user bug")

    client = make_client(stream_sandbox.config())
    client.subscribe(["MSFT"], ["T", "Q"], bad_price)
    client.subscribe(["MSFT"], ["Q"], always_fails)
    client.connect()
    try:
        assert seen.wait(20)
        assert wait_until(lambda: {e["event_type"] for e in seen.events} >= {"trade", "quote"}, 10)
        assert client.get_status()["running"]
    finally:
        client.disconnect()
    reported = sorted((r.getMessage().split()[1].rsplit(".", 1)[-1], r.getMessage().split("channel ")[1][0])
                      for r in _errors(caplog))
    assert reported == [("always_fails", "Q"), ("bad_price", "Q")]
    assert client.get_status()["callback_errors"] > 2
