"""The options chain of an underlying as one tidy DataFrame, filtered by expiry, strike range and type.

A thin layer over the generated ``list_snapshot_options_chain_df`` (every page of the provider's chain
snapshot): the filters are sent to the provider (``expiration_date``, ``strike_price.gte/lte``,
``contract_type``), and the flattened snapshot columns are renamed to the names people use::

    from polygon.chain import options_chain
    chain = options_chain('SPY', strike_min=500, strike_max=560, contract_type='call')  # or expiration='YYYY-MM-DD'
    chain[['strike', 'bid', 'ask', 'implied_volatility', 'delta']]

Columns: ``ticker, underlying, expiration`` (a date), ``type`` (``call``/``put``), ``strike, bid, ask, mid,
last, last_size, volume, open_interest, implied_volatility, delta, gamma, theta, vega, underlying_price,
break_even_price``; rows sorted by expiration, strike, type. Values the provider does not send (no quote yet,
greeks of an expired contract) are missing (``NaN``), never zero.
"""

from typing import Any, Optional

import pandas as pd

from polygon.exceptions import InvalidParameterError

__all__ = ["CHAIN_COLUMNS", "options_chain"]

#: our column <- the generated table's flattened column
_RENAME = {
    "details_ticker": "ticker", "underlying_asset_ticker": "underlying", "details_expiration_date": "expiration",
    "details_contract_type": "type", "details_strike_price": "strike", "last_quote_bid": "bid",
    "last_quote_ask": "ask", "last_quote_midpoint": "mid", "last_trade_price": "last", "last_trade_size": "last_size",
    "day_volume": "volume", "open_interest": "open_interest", "implied_volatility": "implied_volatility",
    "greeks_delta": "delta", "greeks_gamma": "gamma", "greeks_theta": "theta", "greeks_vega": "vega",
    "underlying_asset_price": "underlying_price", "break_even_price": "break_even_price",
}
CHAIN_COLUMNS = tuple(_RENAME.values())


def options_chain(underlying: str, expiration: Any = None, expiration_gte: Any = None, expiration_lte: Any = None,
                  strike_min: Optional[float] = None, strike_max: Optional[float] = None,
                  contract_type: Optional[str] = None, client: Any = None, config: Any = None) -> pd.DataFrame:
    """The chain snapshot of ``underlying`` as a DataFrame (see the module docstring for the columns).

    :param expiration: one expiry day; or a range with ``expiration_gte`` / ``expiration_lte``.
    :param strike_min: lowest strike (inclusive). :param strike_max: highest strike (inclusive).
    :param contract_type: ``'call'`` or ``'put'`` (default both).
    :raises InvalidParameterError: for a bad filter (before any request).
    """
    if contract_type not in (None, "call", "put"):
        raise InvalidParameterError("contract_type must be 'call' or 'put', got %r" % (contract_type,))
    if strike_min is not None and strike_max is not None and strike_min > strike_max:
        raise InvalidParameterError("strike_min %s is above strike_max %s" % (strike_min, strike_max))
    if expiration is not None and (expiration_gte is not None or expiration_lte is not None):
        raise InvalidParameterError("give expiration, or a range with expiration_gte / expiration_lte, not both")
    if client is None:
        from polygon.core import PolygonClient

        client = PolygonClient(config=config)
    filters = {"expiration_date": expiration, "expiration_date_gte": expiration_gte,
               "expiration_date_lte": expiration_lte, "strike_price_gte": strike_min, "strike_price_lte": strike_max,
               "contract_type": contract_type}
    raw = client.list_snapshot_options_chain_df(underlying, **{k: v for k, v in filters.items() if v is not None})
    frame = pd.DataFrame({ours: raw[theirs] if theirs in raw else pd.Series([float("nan")] * len(raw))
                          for theirs, ours in _RENAME.items()})
    if len(frame):
        frame["expiration"] = pd.to_datetime(frame["expiration"]).dt.date
        frame = frame.sort_values(["expiration", "strike", "type"], kind="stable").reset_index(drop=True)
    frame.attrs.update({"underlying": underlying, "filters": {k: v for k, v in filters.items() if v is not None}})
    return frame
