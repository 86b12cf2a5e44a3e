"""Technical indicators over the sandbox's own bars: ``/v1/indicators/{sma,ema,rsi,macd}/{ticker}``.

The values are computed from the same aggregates ``/v2/aggs`` serves (``multiplier`` 1 of
``timespan``, ``adjusted`` as asked, up to the sandbox clock). ``expand_underlying=true`` returns
those bars, so a client can recompute every value:

- SMA: the mean of the last ``window`` values of ``series_type``;
- EMA: ``pandas.Series.ewm(span=window, adjust=False).mean()``;
- RSI: Wilder's smoothing, ``ewm(alpha=1/window, adjust=False)`` of the gains and of the losses,
  ``100 - 100 / (1 + gain / loss)``;
- MACD: ``EMA(short_window) - EMA(long_window)``, its signal ``EMA(signal_window)`` of the MACD line,
  histogram = MACD - signal.

The recursions start on the first bar of the underlying aggregates: :data:`WARMUP` x the window
bars before the first value returned (fewer only at the symbol's listing), so a value agrees
across requests far beyond the printed precision.
"""

import datetime as _dt
from typing import Any, Dict, List, Optional, Tuple

import numpy as np

from polygon.sandbox.endpoints import Call
from polygon.sandbox.endpoints.market_aggs import clock_day
from polygon.sandbox.market import Bars, MarketModel
from polygon.sandbox.query import effective, next_url, ns_bounds, order_limit, serves, ticker_of, to_bool
from polygon.sandbox.wire import WireError

__all__ = ["WARMUP", "ema", "get_ema", "get_macd", "get_rsi", "get_sma", "macd", "rsi", "sma"]

WARMUP = 10  # bars of warm-up per window length for the recursive indicators
MAX_WARMUP = 2000
TIMESPANS = ("minute", "hour", "day", "week", "month", "quarter", "year")
SERIES = {"open": "o", "high": "h", "low": "l", "close": "c"}
_BAR_MS = {"minute": 60_000, "hour": 3_600_000, "day": 86_400_000, "week": 7 * 86_400_000,
           "month": 31 * 86_400_000, "quarter": 92 * 86_400_000, "year": 366 * 86_400_000}


# -- the arithmetic (pure numpy) -------------------------------------------------------------------
def sma(x: np.ndarray, window: int) -> np.ndarray:
    """Simple moving average; NaN before ``window`` values."""
    out = np.full(len(x), np.nan)
    if len(x) >= window:
        c = np.cumsum(np.r_[0.0, x])
        out[window - 1:] = (c[window:] - c[:-window]) / window
    return out


def _ewm(x: np.ndarray, alpha: float) -> np.ndarray:
    out = np.empty(len(x))
    acc = 0.0
    for i, value in enumerate(x.tolist()):
        acc = value if i == 0 else alpha * value + (1.0 - alpha) * acc
        out[i] = acc
    return out


def ema(x: np.ndarray, window: int) -> np.ndarray:
    """``ewm(span=window, adjust=False)``; NaN before ``window`` values."""
    out = _ewm(np.asarray(x, dtype=np.float64), 2.0 / (window + 1.0))
    out[: window - 1] = np.nan
    return out


def rsi(x: np.ndarray, window: int) -> np.ndarray:
    """Wilder's RSI; NaN for the first ``window`` values."""
    out = np.full(len(x), np.nan)
    if len(x) < 2:
        return out
    diff = np.diff(np.asarray(x, dtype=np.float64))
    gain = _ewm(np.clip(diff, 0, None), 1.0 / window)
    loss = _ewm(np.clip(-diff, 0, None), 1.0 / window)
    with np.errstate(divide="ignore", invalid="ignore"):
        value = np.where(loss == 0, 100.0, 100.0 - 100.0 / (1.0 + gain / np.where(loss == 0, 1, loss)))
    out[1:] = value
    out[:window] = np.nan
    return out


def macd(x: np.ndarray, short: int, long: int, signal: int) -> Tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``(macd, signal, histogram)``; NaN until the signal line has ``signal`` MACD values."""
    x = np.asarray(x, dtype=np.float64)
    line = _ewm(x, 2.0 / (short + 1.0)) - _ewm(x, 2.0 / (long + 1.0))
    sig = np.full(len(x), np.nan)
    if len(x) >= long:
        sig[long - 1:] = _ewm(line[long - 1:], 2.0 / (signal + 1.0))
    line = np.where(np.arange(len(x)) >= long - 1, line, np.nan)
    first = long + signal - 2
    sig[:first] = np.nan
    line = np.where(np.arange(len(x)) >= first, line, np.nan)
    return line, sig, line - sig


# -- the handlers ---------------------------------------------------------------------------------------
def _int(params: Dict[str, Any], name: str, default: int) -> int:
    raw = params.get(name, default)
    try:
        value = int(raw)
    except (TypeError, ValueError):
        raise WireError(400, "Invalid value for '%s': must be an integer." % name) from None
    if value < 1:
        raise WireError(400, "Invalid value for '%s': must be greater than 0." % name)
    return value


def _bars(model: MarketModel, ticker: str, timespan: str, lo: Optional[int], hi: int, asc: bool, want: int,
          warm: int, adjusted: bool, now_ms: int, as_of: _dt.date) -> Bars:
    """Aggregates covering ``want`` values in ``[lo, hi]`` (in ``asc`` order) plus ``warm`` bars before."""
    sec = model.universe.get(ticker)
    # the data starts at the listing, and never before the Unix epoch (an index listed in 1957 included): a
    # cursor past the first bar would need a negative timestamp, which no request can send
    listed = max(0, model.day_start(ticker, _dt.date.fromisoformat(sec.list_date)))
    per_bar = _BAR_MS[timespan] * (5 if timespan in ("minute", "hour") else 2)
    back = (want + warm + 2) * per_bar
    forward = (want + 2) * per_bar
    for _ in range(24):
        if asc:
            start = lo if lo is not None else listed
            a, b = max(listed, start - back), min(hi, start + forward)
        else:
            a, b = max(listed, hi - back), hi
        bars = model.aggregates(ticker, 1, timespan, a, b, adjusted, now_ms, as_of)
        inside = np.flatnonzero((bars.t >= (lo if lo is not None else a)) & (bars.t <= hi))
        if not len(inside):
            first, enough = len(bars), (b >= hi or not asc)
        elif asc:
            first, enough = int(inside[0]), len(inside) > want or b >= hi
        else:
            first, enough = max(int(inside[-1]) - want + 1, int(inside[0])), True
        warm_ok = first >= warm or a <= listed
        if enough and warm_ok:
            return bars.take(slice(max(0, first - warm), None))
        if not warm_ok:
            back *= 2
        if not enough:
            forward *= 2
    return bars


def _indicator(call: Call, kind: str) -> Dict[str, Any]:
    params = effective(call)
    ticker = ticker_of(params)
    model: MarketModel = call.state.model
    if ticker not in model.universe:
        raise WireError(404, "Ticker not found.", "NOT_FOUND", "message")
    timespan = str(params.get("timespan") or "day")
    if timespan not in TIMESPANS:
        raise WireError(400, "Invalid value for 'timespan': must be one of %s." % ", ".join(TIMESPANS))
    series = str(params.get("series_type") or "close")
    if series not in SERIES:
        raise WireError(400, "Invalid value for 'series_type': must be one of open, high, low, close.")
    adjusted = to_bool(params.get("adjusted"), "adjusted", True)
    expand = to_bool(params.get("expand_underlying"), "expand_underlying", False)
    order, limit, _ = order_limit(params, "desc", 10, 5000, ("timestamp",))
    if kind == "macd":
        windows = (_int(params, "short_window", 12), _int(params, "long_window", 26),
                   _int(params, "signal_window", 9))
        if windows[0] >= windows[1]:
            raise WireError(400, "Invalid windows: 'short_window' must be less than 'long_window'.")
        warm = min(MAX_WARMUP, WARMUP * (windows[1] + windows[2]))
    else:
        windows = (_int(params, "window", 14 if kind == "rsi" else 50),)
        warm = windows[0] if kind == "sma" else min(MAX_WARMUP, WARMUP * windows[0])
    lo_ns, hi_ns = ns_bounds(params)
    lo = None if lo_ns is None else lo_ns // 1_000_000
    hi = call.now_ms if hi_ns is None else min(hi_ns // 1_000_000, call.now_ms)
    asc = order == "asc"
    as_of = clock_day(call, model.market(ticker))
    bars = _bars(model, ticker, timespan, lo, hi, asc, limit + 1, warm, adjusted, call.now_ms, as_of)
    x = getattr(bars, SERIES[series]).astype(np.float64)
    if kind == "sma":
        cols = {"value": sma(x, windows[0])}
    elif kind == "ema":
        cols = {"value": ema(x, windows[0])}
    elif kind == "rsi":
        cols = {"value": rsi(x, windows[0])}
    else:
        line, sig, hist = macd(x, *windows)
        cols = {"value": line, "signal": sig, "histogram": hist}
    ok = ~np.isnan(cols["value"]) & (bars.t <= hi)
    if lo is not None:
        ok &= bars.t >= lo
    if kind == "macd":
        ok &= ~np.isnan(cols["signal"])
    idx = np.flatnonzero(ok)
    if not asc:
        idx = idx[::-1]
    more = len(idx) > limit
    idx = idx[:limit]
    values: List[Dict[str, Any]] = []
    for i in idx.tolist():
        row: Dict[str, Any] = {"timestamp": int(bars.t[i]), "value": float(cols["value"][i])}
        if kind == "macd":
            row.update(signal=float(cols["signal"][i]), histogram=float(cols["histogram"][i]))
        values.append(row)
    url = "%s/v2/aggs/ticker/%s/range/1/%s/%d/%d?adjusted=%s&sort=asc&limit=50000" % (
        call.base_url, ticker, timespan, int(bars.t[0]) if len(bars) else hi, hi, "true" if adjusted else "false")
    underlying: Dict[str, Any] = {"url": url}
    if expand:
        underlying["aggregates"] = [
            {"o": float(bars.o[i]), "h": float(bars.h[i]), "l": float(bars.l[i]), "c": float(bars.c[i]),
             "v": int(bars.v[i]), "vw": float(bars.vw[i]), "n": int(bars.n[i]), "t": int(bars.t[i])}
            for i in range(len(bars))]
    body: Dict[str, Any] = {"results": {"underlying": underlying, "values": values}, "status": "OK",
                            "request_id": call.rid}
    if more and values:
        cursor = {k: v for k, v in params.items() if k in ("timespan", "adjusted", "window", "series_type",
                                                         "expand_underlying", "short_window", "long_window",
                                                         "signal_window")}
        cursor.update(order=order, limit=limit)
        last = values[-1]["timestamp"]
        if lo is not None:
            cursor["timestamp.gte"] = lo
        cursor["timestamp.lte"] = hi
        cursor["timestamp.gt" if asc else "timestamp.lt"] = last
        body["next_url"] = next_url(call.base_url, "/v1/indicators/%s/%s" % (kind, ticker), cursor)
    return body


@serves("/v1/indicators/sma/*")
def get_sma(call: Call) -> Dict[str, Any]:
    """``/v1/indicators/sma/{ticker}``."""
    return _indicator(call, "sma")


@serves("/v1/indicators/ema/*")
def get_ema(call: Call) -> Dict[str, Any]:
    """``/v1/indicators/ema/{ticker}``."""
    return _indicator(call, "ema")


@serves("/v1/indicators/rsi/*")
def get_rsi(call: Call) -> Dict[str, Any]:
    """``/v1/indicators/rsi/{ticker}``."""
    return _indicator(call, "rsi")


@serves("/v1/indicators/macd/*")
def get_macd(call: Call) -> Dict[str, Any]:
    """``/v1/indicators/macd/{ticker}``."""
    return _indicator(call, "macd")
