"""Exchanges and trade/quote conditions (static tables of :mod:`polygon.sandbox.refdata`)."""

from typing import Any, Dict

from polygon.sandbox.endpoints import Call
from polygon.sandbox.listing import effective_query, filter_rows, list_body
from polygon.sandbox.query import serves
from polygon.sandbox.refdata import CONDITIONS, EXCHANGES


@serves("/v3/reference/exchanges")
def exchanges(call: Call) -> Dict[str, Any]:
    """``/v3/reference/exchanges``: filters ``asset_class`` and ``locale``."""
    rows = filter_rows(list(EXCHANGES), call.args, {"asset_class": lambda r: r["asset_class"],
                                                     "locale": lambda r: r["locale"]})
    return {"results": rows, "status": "OK", "request_id": call.rid, "count": len(rows)}


@serves("/v3/reference/conditions")
def conditions(call: Call) -> Dict[str, Any]:
    """``/v3/reference/conditions``: filters ``asset_class``, ``data_type``, ``id``, ``sip``; pages."""
    query = effective_query(call)
    rows = filter_rows(list(CONDITIONS), query, {"asset_class": lambda r: r["asset_class"],
                                                  "id": lambda r: r["id"]})
    if query.get("data_type"):
        rows = [r for r in rows if query["data_type"] in r["data_types"]]
    if query.get("sip"):
        rows = [r for r in rows if query["sip"] in r["sip_mapping"]]
    keys = {"data_types": lambda r: ",".join(r["data_types"]), "asset_class": lambda r: (r["asset_class"], r["id"])}
    return list_body(call, rows, query, "asset_class", keys=keys)
