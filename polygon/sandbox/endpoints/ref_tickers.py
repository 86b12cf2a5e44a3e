"""Ticker reference data: the ticker list (cursor pages) and ticker details."""

from polygon.sandbox import reference
from polygon.sandbox.endpoints import Call, handles


@handles("list_tickers")
def list_tickers(call: Call) -> bytes:
    """``/v3/reference/tickers``."""
    return reference.list_tickers(call.state.model.universe, call.args, call.base_url, call.rid)


@handles("get_ticker_details")
def ticker_details(call: Call) -> bytes:
    """``/v3/reference/tickers/{ticker}``."""
    return reference.ticker_details(call.state.model, call.params["ticker"], call.rid, call.wall_ms)
