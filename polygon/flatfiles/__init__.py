"""Bulk history from the provider's flat files (optional extra ``flatfiles``: boto3).

The provider publishes one gzipped CSV per trading day and dataset on an S3-compatible endpoint, with
S3 keys separate from the API key. :func:`sync_flatfiles` streams each day's file into the bar cache
(``minute_aggs`` -> ``1min``, ``day_aggs`` -> ``1day``, with coverage, so ``fetch_data`` then needs no
REST request for those days) or into the tick store (``trades``, ``quotes``)::

    from polygon.flatfiles import sync_flatfiles
    report = sync_flatfiles('stocks', 'minute_aggs', '2024-01-01', '2024-03-31')
    report.summary()   # '... 62 days synced (0 re-synced after republication), 0 already current ...'

Futures come per CME Group venue (``futures_cme``, ``futures_cbot``, ``futures_nymex``, ``futures_comex``;
``futures`` syncs all four), with ``session_aggs`` (one bar per Globex session) for the daily bars::

    sync_flatfiles('futures', 'session_aggs', '2025-12-01', '2025-12-05')   # then fetch_data('ESZ5', '1day', ...)

Their object keys are an assumption (see :mod:`polygon.flatfiles.layout`).

Configuration: ``POLYGON_S3_ACCESS_KEY_ID``, ``POLYGON_S3_SECRET_ACCESS_KEY`` (or ``s3_access_key_id`` /
``s3_secret_access_key`` in the config file), ``POLYGON_S3_ENDPOINT`` and ``POLYGON_S3_BUCKET``. The
files carry unadjusted prices and no VWAP (``vwap`` is NaN for bars that came from them; futures files carry the
dollar volume, so their bars have ``vwap`` as the futures REST bars do).
"""

import importlib
from typing import Any

__all__ = ["KINDS", "MARKET_PREFIXES", "FlatFilesSource", "Manifest", "SyncReport", "TickStore", "object_key",
           "sync_flatfiles"]

#: public name -> its module (imported on first use, so ``polygon.flatfiles.layout``, the pure vocabulary the
#: sandbox shares, loads without the sync machinery)
_HOMES = {"KINDS": "layout", "MARKET_PREFIXES": "layout", "object_key": "layout", "Manifest": "manifest",
          "FlatFilesSource": "s3", "SyncReport": "sync", "sync_flatfiles": "sync", "TickStore": "tickstore"}


def __getattr__(name: str) -> Any:
    home = _HOMES.get(name)
    if home is None:
        raise AttributeError("module 'polygon.flatfiles' has no attribute %r" % (name,))
    return getattr(importlib.import_module("polygon.flatfiles." + home), name)


def __dir__():
    return sorted(list(globals()) + list(_HOMES))
