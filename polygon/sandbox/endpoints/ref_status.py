"""Market status and upcoming market holidays (``/v1/marketstatus/...``), from the calendar and the sandbox clock."""

from polygon.sandbox import reference
from polygon.sandbox.endpoints import Call, handles


@handles("get_market_status")
def market_status(call: Call) -> bytes:
    """``/v1/marketstatus/now``."""
    return reference.market_status(call.now_ms)


@handles("get_market_holidays")
def market_holidays(call: Call) -> bytes:
    """``/v1/marketstatus/upcoming``."""
    return reference.market_holidays(call.now_ms)
