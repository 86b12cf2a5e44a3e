"""Events of every channel of the sandbox's sockets (five markets and the futures venues), in the provider's
wire shapes, built from the tapes.

One builder per ``(market, channel)``: ``builder(symbol, tape, lo, hi)`` returns the events of one
symbol-minute whose time falls in ``(lo, hi]`` (per-minute events count at the minute's end, LULD and NOI at
its start). Trades, quotes and the aggregates all come from the same :class:`~polygon.sandbox.tape.MinuteTape`,
so they agree with each other and with the bars of that ticker.

Tickers are kept in their REST form inside the sandbox (``X:BTCUSD``, ``C:EURUSD``); the wire spells pairs
the provider's way (``BTC-USD`` in crypto events, ``EUR/USD`` in forex ones, ``X:BTC-USD`` in FMV / Launchpad
events) and subscriptions accept either (:func:`canonical`).

A ticker the market model has no series for (an unknown pair, an option that is not listed) gets no events,
as on the provider.
"""

from typing import Callable, Dict, List, Optional, Tuple

import numpy as np

from polygon._generated import stream as _stream
from polygon.sandbox.market import MINUTE_MS
from polygon.sandbox.tape import MinuteTape, minute_aggregate, quote_events, second_aggregates, trade_events

__all__ = ["BUILDERS", "DELAYED_MS", "FEEDS", "FUTURES_SOCKETS", "MARKETS", "STREAM_MARKETS", "canonical",
           "feed_delay_ms", "index_minute", "market_channels", "split_stream_path"]

MARKETS = ("stocks", "options", "forex", "crypto", "indices", "futures")
_PREFIX = {"options": "O:", "forex": "C:", "crypto": "X:", "indices": "I:"}
#: the futures sockets (the official stream client's markets): path market -> the MIC of the venue it serves
#: (``None``: every venue)
FUTURES_SOCKETS = {"futures": None, "futures/cme": "XCME", "futures/cbot": "XCBT", "futures/nymex": "XNYM",
                   "futures/comex": "XCEC"}
#: WebSocket path -> the market socket it serves
STREAM_MARKETS = {"/" + m: m for m in ("stocks", "options", "forex", "crypto", "indices") + tuple(FUTURES_SOCKETS)}
#: the provider's feeds (the official client's ``Feed`` hosts, ``<feed>.massive.com``): one server here, so a
#: feed is a path prefix (``/delayed/stocks``); the real-time feed ``socket`` is also served without a prefix
FEEDS = ("socket", "delayed", "nasdaqfeed", "polyfeed", "polyfeedplus", "starterfeed", "launchpad", "business",
         "edgx-business", "iex-business", "delayed-business", "delayed-edgx-business",
         "delayed-nasdaq-last-sale-business", "delayed-nasdaq-basic-business", "delayed-fullmarket-business",
         "fullmarket-business", "nasdaq-last-sale-business", "nasdaq-basic-business")
#: how far a delayed feed runs behind: 15 minutes (the provider's delayed stock data), 10 for futures (its
#: futures plans' "10-minute delayed")
DELAYED_MS = {"default": 15 * 60_000, "futures": 10 * 60_000}


def split_stream_path(path: str) -> Tuple[Optional[str], Optional[str]]:
    """``(feed, market)`` of a WebSocket path (``/delayed/futures/cme`` -> ``('delayed', 'futures/cme')``,
    ``/stocks`` -> ``('socket', 'stocks')``); ``(None, None)`` for any other path."""
    path = "/" + path.strip("/")
    market = STREAM_MARKETS.get(path)
    if market is not None:
        return "socket", market
    feed, _, rest = path[1:].partition("/")
    market = STREAM_MARKETS.get("/" + rest)
    if feed in FEEDS and market is not None:
        return feed, market
    return None, None


def feed_delay_ms(feed: str, market: str) -> int:
    """Milliseconds a ``feed`` runs behind real time on ``market``'s socket (0 for real-time feeds)."""
    if not feed.startswith("delayed"):
        return 0
    return DELAYED_MS.get(market.split("/")[0], DELAYED_MS["default"])


def market_channels(market: str) -> Tuple[str, ...]:
    """The channels of ``market``'s socket (from the generated stream tables; a futures venue's are futures')."""
    return tuple(_stream.MARKET_NORMALIZERS[market.split("/")[0]])


def canonical(symbol: str, market: str) -> str:
    """REST form of a subscribed ticker: ``X:BTC-USD`` / ``BTC-USD`` -> ``X:BTCUSD``; ``C:EUR-USD`` /
    ``EUR/USD`` -> ``C:EURUSD``; others unchanged."""
    if market in ("crypto", "forex"):
        prefix = _PREFIX[market]
        body = symbol[2:] if symbol.startswith(prefix) else symbol
        return prefix + body.replace("-", "").replace("/", "")
    return symbol


def _pair(symbol: str, sep: str) -> str:
    body = symbol[2:]
    return body[:-3] + sep + body[-3:]


# ---------------------------------------------------------------------------------------------- builders
def _window(tape: MinuteTape, lo: int, hi: int, times: Optional[np.ndarray] = None) -> List[int]:
    t = tape.t if times is None else times
    return np.flatnonzero((t > lo) & (t <= hi)).tolist()


def _minute_in(tape: MinuteTape, lo: int, hi: int) -> bool:
    return lo < tape.start + MINUTE_MS <= hi


def _start_in(tape: MinuteTape, lo: int, hi: int) -> bool:
    return lo < tape.start <= hi


def _plain_aggs(events: List[Dict[str, object]], ev: str, key: str, sym: str, keep: Tuple[str, ...]) -> List[dict]:
    out = []
    for agg in events:
        item = {"ev": ev, key: sym}
        item.update((k, agg[k]) for k in keep if k in agg)
        out.append(item)
    return out


def _stock_like(kind: str) -> Callable[..., List[dict]]:
    """T, Q, A, AM of stocks (and of options, without the stock-only fields)."""
    options = kind.startswith("option_")
    kind = kind.replace("option_", "")

    def build(sym: str, tape: MinuteTape, lo: int, hi: int) -> List[dict]:
        if kind == "T":
            evs = trade_events(sym, tape, lo, hi)
            return [{k: v for k, v in e.items() if k not in ("i", "z")} for e in evs] if options else evs
        if kind == "Q":
            evs = quote_events(sym, tape, lo, hi)
            return [{k: v for k, v in e.items() if k not in ("c", "i", "z")} for e in evs] if options else evs
        if kind == "A":
            return second_aggregates(sym, tape, lo, hi)
        return [minute_aggregate(sym, tape)] if _minute_in(tape, lo, hi) else []

    return build


def _luld(sym: str, tape: MinuteTape, lo: int, hi: int) -> List[dict]:
    if not _start_in(tape, lo, hi):
        return []
    ref = float(tape.p[0])
    return [{"ev": "LULD", "T": sym, "h": round(ref * 1.05, 2), "l": round(ref * 0.95, 2), "i": [], "z": tape.tape,
             "t": tape.start, "q": tape.seq0}]


def _noi(sym: str, tape: MinuteTape, lo: int, hi: int) -> List[dict]:
    if not _start_in(tape, lo, hi):
        return []
    size = int(tape.s.sum())
    return [{"ev": "NOI", "T": sym, "t": tape.start, "at": 1600, "a": "C", "i": tape.seq0, "x": int(tape.x[0]),
             "o": size // 10, "p": size // 2, "b": float(tape.p[-1])}]


def _per_trade(ev: str, value_key: str, sym_of: Callable[[str], str]) -> Callable[..., List[dict]]:
    """FMV / LV / V: one value per trade of the tape (the trade price)."""
    key = "T" if ev == "V" else "sym"

    def build(sym: str, tape: MinuteTape, lo: int, hi: int) -> List[dict]:
        name = sym_of(sym)
        return [{"ev": ev, value_key: float(tape.p[j]), key: name, "t": int(tape.t[j])} for j in _window(tape, lo, hi)]

    return build


def _forex_quotes(sym: str, tape: MinuteTape, lo: int, hi: int) -> List[dict]:
    pair = _pair(sym, "/")
    qt = tape.t - 1
    return [{"ev": "C", "p": pair, "x": 48, "a": float(tape.ask[j]), "b": float(tape.bid[j]), "t": int(qt[j])}
            for j in _window(tape, lo, hi, qt)]


def _crypto_trades(sym: str, tape: MinuteTape, lo: int, hi: int) -> List[dict]:
    pair = _pair(sym, "-")
    return [{"ev": "XT", "pair": pair, "p": float(tape.p[j]), "t": int(tape.t[j]), "s": float(tape.s[j]),
             "c": [1 + j % 2], "i": tape.seq0 + j, "x": 1, "r": int(tape.t[j]) + 7} for j in _window(tape, lo, hi)]


def _crypto_quotes(sym: str, tape: MinuteTape, lo: int, hi: int) -> List[dict]:
    pair = _pair(sym, "-")
    qt = tape.t - 1
    return [{"ev": "XQ", "pair": pair, "bp": float(tape.bid[j]), "bs": float(tape.bid_size[j]),
             "ap": float(tape.ask[j]), "as": float(tape.ask_size[j]), "t": int(qt[j]), "x": 1,
             "r": int(qt[j]) + 7} for j in _window(tape, lo, hi, qt)]


def _crypto_book(sym: str, tape: MinuteTape, lo: int, hi: int) -> List[dict]:
    pair = _pair(sym, "-")
    qt = tape.t - 1
    out = []
    for j in _window(tape, lo, hi, qt):
        bid, ask = float(tape.bid[j]), float(tape.ask[j])
        tick = round(max(ask - bid, 0.01), 4)
        bs, asz = float(tape.bid_size[j]), float(tape.ask_size[j])
        out.append({"ev": "XL2", "pair": pair, "t": int(qt[j]), "r": int(qt[j]) + 7, "x": 1,
                    "b": [[bid, bs], [round(bid - tick, 4), bs * 2]],
                    "a": [[ask, asz], [round(ask + tick, 4), asz * 2]]})
    return out


def _pair_aggs(ev: str, key: str, sep: str, minute: bool, keep: Tuple[str, ...]):
    """CA / CAS (forex) and XA / XAS (crypto): the stock aggregates re-keyed by pair."""

    def build(sym: str, tape: MinuteTape, lo: int, hi: int) -> List[dict]:
        if minute:
            aggs = [minute_aggregate(sym, tape)] if _minute_in(tape, lo, hi) else []
        else:
            aggs = second_aggregates(sym, tape, lo, hi)
        out = _plain_aggs(aggs, ev, key, _pair(sym, sep), keep)
        if ev in ("CA", "CAS"):
            for item, agg in zip(out, aggs):
                item["v"] = int(agg["v"]) // max(int(agg["z"]), 1)  # forex volume is a tick count
        else:
            for item in out:
                item["v"] = float(item["v"])  # crypto volumes are decimal
        return out

    return build


def _launchpad_am(sym_of: Callable[[str], str]) -> Callable[..., List[dict]]:
    def build(sym: str, tape: MinuteTape, lo: int, hi: int) -> List[dict]:
        if not _minute_in(tape, lo, hi):
            return []
        agg = minute_aggregate(sym, tape)
        agg["sym"] = sym_of(sym)
        agg.pop("otc", None)
        return [agg]

    return build


def index_minute(sym: str, bar: Tuple[float, float, float, float], day_open: float, tape: MinuteTape, lo: int,
                 hi: int) -> List[dict]:
    """The indices ``AM`` event: the minute bar itself (an index's tape holds too few values to rebuild it)."""
    if not _minute_in(tape, lo, hi):
        return []
    o, h, low, c = bar
    return [{"ev": "AM", "sym": sym, "op": day_open, "o": o, "c": c, "h": h, "l": low, "s": tape.start,
             "e": tape.start + MINUTE_MS}]


def _index_aggs(minute: bool) -> Callable[..., List[dict]]:
    keep = ("op", "o", "c", "h", "l", "s", "e")

    def build(sym: str, tape: MinuteTape, lo: int, hi: int) -> List[dict]:
        if minute:
            aggs = [minute_aggregate(sym, tape)] if _minute_in(tape, lo, hi) else []
        else:
            aggs = second_aggregates(sym, tape, lo, hi)
        return _plain_aggs(aggs, "AM" if minute else "A", "sym", sym, keep)

    return build


def _same(sym: str) -> str:
    return sym


def _dashed(sym: str) -> str:
    return sym[:2] + _pair(sym, "-")


def _futures(kind: str) -> Callable[..., List[dict]]:
    """T, Q, A, AM of the futures sockets, in the official stream client's futures shapes."""

    def build(sym: str, tape: MinuteTape, lo: int, hi: int) -> List[dict]:
        if kind == "T":
            return [{"ev": "T", "sym": sym, "p": e["p"], "s": e["s"], "t": e["t"], "q": e["q"]}
                    for e in trade_events(sym, tape, lo, hi)]
        if kind == "Q":
            return [{"ev": "Q", "sym": sym, "bp": e["bp"], "bs": e["bs"], "bt": e["t"], "ap": e["ap"], "as": e["as"],
                     "at": e["t"], "t": e["t"]} for e in quote_events(sym, tape, lo, hi)]
        if kind == "AM":
            aggs = [minute_aggregate(sym, tape)] if _minute_in(tape, lo, hi) else []
        else:
            aggs = second_aggregates(sym, tape, lo, hi)
        out = []
        for a in aggs:
            inside = (tape.t >= a["s"]) & (tape.t < a["e"])
            out.append({"ev": kind, "sym": sym, "v": a["v"], "dv": round(float((tape.p * tape.s)[inside].sum()), 2),
                        "o": a["o"], "c": a["c"], "h": a["h"], "l": a["l"], "n": int(inside.sum()), "s": a["s"],
                        "e": a["e"]})
        return out

    return build


_AGG_KEEP = ("o", "c", "h", "l", "v", "s", "e")
_CRYPTO_AGG_KEEP = ("o", "c", "h", "l", "v", "s", "e", "vw", "z")

#: ``(market, channel) -> builder(symbol, tape, lo, hi)``: every channel of the five sockets.
BUILDERS: Dict[Tuple[str, str], Callable[[str, MinuteTape, int, int], List[dict]]] = {
    ("stocks", "T"): _stock_like("T"),
    ("stocks", "Q"): _stock_like("Q"),
    ("stocks", "A"): _stock_like("A"),
    ("stocks", "AM"): _stock_like("AM"),
    ("stocks", "LULD"): _luld,
    ("stocks", "NOI"): _noi,
    ("stocks", "FMV"): _per_trade("FMV", "fmv", _same),
    ("stocks", "LV"): _per_trade("LV", "val", _same),
    ("options", "T"): _stock_like("option_T"),
    ("options", "Q"): _stock_like("option_Q"),
    ("options", "A"): _stock_like("option_A"),
    ("options", "AM"): _stock_like("option_AM"),
    ("options", "FMV"): _per_trade("FMV", "fmv", _same),
    ("options", "LV"): _per_trade("LV", "val", _same),
    ("forex", "C"): _forex_quotes,
    ("forex", "CA"): _pair_aggs("CA", "pair", "/", True, _AGG_KEEP),
    ("forex", "CAS"): _pair_aggs("CAS", "pair", "/", False, _AGG_KEEP),
    ("forex", "FMV"): _per_trade("FMV", "fmv", _same),
    ("forex", "AM"): _launchpad_am(_dashed),
    ("forex", "LV"): _per_trade("LV", "val", _same),
    ("crypto", "XT"): _crypto_trades,
    ("crypto", "XQ"): _crypto_quotes,
    ("crypto", "XL2"): _crypto_book,
    ("crypto", "XA"): _pair_aggs("XA", "pair", "-", True, _CRYPTO_AGG_KEEP),
    ("crypto", "XAS"): _pair_aggs("XAS", "pair", "-", False, _CRYPTO_AGG_KEEP),
    ("crypto", "FMV"): _per_trade("FMV", "fmv", _dashed),
    ("crypto", "AM"): _launchpad_am(_dashed),
    ("crypto", "LV"): _per_trade("LV", "val", _dashed),
    ("futures", "T"): _futures("T"),
    ("futures", "Q"): _futures("Q"),
    ("futures", "A"): _futures("A"),
    ("futures", "AM"): _futures("AM"),
    ("indices", "V"): _per_trade("V", "val", _same),
    ("indices", "A"): _index_aggs(False),
    ("indices", "AM"): _index_aggs(True),
}

