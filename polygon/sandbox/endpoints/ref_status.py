"""Market status and upcoming market holidays (``/v1/marketstatus/...``), from the calendar and the sandbox clock."""

from polygon.sandbox import reference
from polygon.sandbox.endpoints import Call
from polygon.sandbox.query import serves


@serves("/v1/marketstatus/now")
def market_status(call: Call) -> bytes:
    """``/v1/marketstatus/now``."""
    return reference.market_status(call.now_ms)


@serves("/v1/marketstatus/upcoming")
def market_holidays(call: Call) -> bytes:
    """``/v1/marketstatus/upcoming``."""
    return reference.market_holidays(call.now_ms)
