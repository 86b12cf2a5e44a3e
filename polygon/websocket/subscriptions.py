"""Subscription bookkeeping of the stream: :class:`SubscriptionBook` (reference-counted ``(channel, symbol)``
subscriptions shared by named subscribers, with the routing snapshot the dispatcher reads) and
:func:`backoff_delays` (the guide's reconnect schedule).

Pure: no I/O, no threads; callers serialise access. :mod:`polygon.websocket` uses (and re-exports) it; the
relay server can reuse it.
"""

import logging
from typing import Any, Callable, Dict, Iterable, List, Optional, Sequence, Tuple, Union

from polygon.exceptions import InvalidSymbolError, SubscriptionError
from polygon.markets.symbols import market_of, validate_symbol

__all__ = [
    "CHANNEL_NAMES",
    "FUTURES_VENUES",
    "MARKETS",
    "MARKET_CHANNEL_NAMES",
    "SOCKETS",
    "SubscriptionBook",
    "WILDCARD",
    "backoff_delays",
    "canonical_symbol",
    "provider_param",
]

logger = logging.getLogger(__name__)

#: The provider's markets, one socket each (``ws_url + '/' + market``); stocks is the default.
MARKETS = ("stocks", "options", "forex", "crypto", "indices", "futures")
#: the futures sockets of one venue each (the official client's ``futures/cme``...); ``futures`` has them all
FUTURES_VENUES = ("futures/cme", "futures/cbot", "futures/nymex", "futures/comex")
#: every socket a stream client may open
SOCKETS = MARKETS + FUTURES_VENUES
#: Channels of each socket and what they carry (FMV is on the Business feed, LV and the crypto/forex AM on
#: Launchpad: the same paths on the provider's other hosts; the sandbox serves them all on one socket).
MARKET_CHANNEL_NAMES: Dict[str, Dict[str, str]] = {
    "stocks": {"T": "trades", "Q": "quotes", "A": "second aggregates", "AM": "minute aggregates",
               "LULD": "limit-up limit-down bands", "NOI": "imbalances", "FMV": "fair market value",
               "LV": "Launchpad value"},
    "options": {"T": "trades", "Q": "quotes", "A": "second aggregates", "AM": "minute aggregates",
                "FMV": "fair market value", "LV": "Launchpad value"},
    "forex": {"C": "quotes", "CA": "minute aggregates", "CAS": "second aggregates", "FMV": "fair market value",
              "AM": "Launchpad minute aggregates", "LV": "Launchpad value"},
    "crypto": {"XT": "trades", "XQ": "quotes", "XL2": "level-2 book", "XA": "minute aggregates",
               "XAS": "second aggregates", "FMV": "fair market value", "AM": "Launchpad minute aggregates",
               "LV": "Launchpad value"},
    "indices": {"V": "values", "A": "second aggregates", "AM": "minute aggregates"},
    "futures": {"T": "trades", "Q": "quotes", "A": "second aggregates", "AM": "minute aggregates"},
}
#: Channels of the stocks stream and what they carry.
CHANNEL_NAMES = dict(MARKET_CHANNEL_NAMES["stocks"])
#: The symbol that covers every symbol of a channel.
WILDCARD = "*"
_PREFIX = {"options": "O:", "forex": "C:", "crypto": "X:", "indices": "I:"}
_SYMBOL_MARKET = {"fx": "forex"}  # polygon.markets.symbols.market_of's names -> socket names


def canonical_symbol(symbol: str, market: str = "stocks") -> str:
    """The REST form of a ticker seen on ``market``'s socket: ``'BTC-USD'`` / ``'X:BTC-USD'`` -> ``'X:BTCUSD'``,
    ``'EUR/USD'`` / ``'C:EUR-USD'`` -> ``'C:EURUSD'``; other markets' tickers are returned unchanged.

    >>> canonical_symbol('BTC-USD', 'crypto'), canonical_symbol('EUR/USD', 'forex')
    ('X:BTCUSD', 'C:EURUSD')
    """
    if market == "crypto" or market == "forex":
        prefix = _PREFIX[market]
        body = symbol[2:] if symbol.startswith(prefix) else symbol
        return prefix + body.replace("-", "").replace("/", "")
    return symbol


def provider_param(param: str) -> str:
    """A subscription param in the provider's form: crypto and forex pairs are dashed (``'XT.X:BTCUSD'`` ->
    ``'XT.X:BTC-USD'``, ``'C.C:EURUSD'`` -> ``'C.C:EUR-USD'``); others unchanged."""
    channel, _, symbol = param.partition(".")
    if symbol[:2] in ("X:", "C:") and "-" not in symbol and len(symbol) > 5:
        return "%s.%s-%s" % (channel, symbol[:-3], symbol[-3:])
    return param


def backoff_delays(initial: float = 1.0, cap: float = 30.0, attempts: int = 5) -> List[float]:
    """Reconnect delays of the guide: ``initial * 2 ** (attempt - 1)`` capped at ``cap``.

    >>> backoff_delays()
    [1.0, 2.0, 4.0, 8.0, 16.0]
    """
    return [float(min(cap, initial * 2 ** (n - 1))) for n in range(1, attempts + 1)]


class _Routes:
    """Immutable snapshot: (channel, symbol) -> tuple of targets, resolved lazily and cached."""

    __slots__ = ("cache", "plans", "_exact", "_wild")

    def __init__(self, exact: Dict[Tuple[str, str], list], wild: Dict[str, list]) -> None:
        self._exact = exact
        self._wild = wild
        self.cache: Dict[Tuple[str, str], tuple] = {}
        self.plans: Dict[Tuple[str, str], Any] = {}  # free for the owner's per-snapshot derived data

    def resolve(self, key: Tuple[str, str]) -> tuple:
        found = list(self._exact.get(key, ()))
        for target in self._wild.get(key[0], ()):
            if target not in found:
                found.append(target)
        result = tuple(found)
        self.cache[key] = result
        return result


class SubscriptionBook:
    """Reference-counted ``(channel, symbol)`` subscriptions shared by named subscribers.

    Each named subscription holds a target (a callback, a relay client...) and a set of pairs. The
    provider needs a pair while at least one subscription holds it; ``'*'`` covers every symbol of a
    channel (individual symbols of that channel are then not sent to the provider). :meth:`add` and
    :meth:`remove` return the provider changes as ``(subscribe_params, unsubscribe_params)`` such as
    ``['T.AAPL', 'Q.AAPL']``. Targets are compared with ``==``: a target held by two subscriptions
    receives each event once. Not thread-safe: the owner locks.

    :param channels: the allowed channels.
    :param market: the socket's market: symbols of other markets (``X:BTCUSD`` on stocks) and channels of
        other sockets are refused; crypto and forex pairs are kept in their REST form (``X:BTCUSD``).
    """

    def __init__(self, channels: Sequence[str] = tuple(CHANNEL_NAMES), market: str = "stocks") -> None:
        self.channels = tuple(channels)
        self.market = market
        self._subs: Dict[str, Tuple[Any, set]] = {}
        self._counts: Dict[Tuple[str, str], int] = {}
        self._serial = 0
        self.routes = _Routes({}, {})

    # -- validation
    def normalise_channels(self, channels: Union[str, Iterable[str], None]) -> List[str]:
        names = MARKET_CHANNEL_NAMES.get(self.market, CHANNEL_NAMES)
        allowed = ", ".join("%s (%s)" % (c, names.get(c, c)) for c in self.channels)
        if isinstance(channels, str):
            channels = [channels]
        out: List[str] = []
        for ch in channels or ():
            norm = ch.strip().upper() if isinstance(ch, str) else ch
            if norm not in self.channels:
                elsewhere = [m for m, table in MARKET_CHANNEL_NAMES.items() if norm in table]
                if elsewhere:
                    raise SubscriptionError(
                        "channel %r is not on the %s stream (it is on %s: PolygonWebSocketClient(market=%r)); "
                        "allowed here: %s" % (ch, self.market, ", ".join(elsewhere), elsewhere[0], allowed))
                raise SubscriptionError("unknown channel %r on the %s stream; allowed: %s" % (ch, self.market, allowed))
            if norm not in out:
                out.append(norm)
        if not out:
            raise SubscriptionError("no channels given; allowed: %s" % allowed)
        return out

    def normalise_symbols(self, symbols: Union[str, Iterable[str], None]) -> List[str]:
        if isinstance(symbols, str):
            symbols = [symbols]
        out: List[str] = []
        for sym in symbols or ():
            if isinstance(sym, str) and sym.strip() == WILDCARD:
                norm = WILDCARD
            else:
                try:
                    norm = validate_symbol(sym)
                except InvalidSymbolError as exc:
                    raise SubscriptionError("%s, or '*' for every symbol" % exc) from None
                market = market_of(norm)
                market = _SYMBOL_MARKET.get(market, market)
                if market != self.market:
                    example = {"stocks": "'AAPL'", "options": "'O:SPY251219C00500000'", "forex": "'C:EURUSD'",
                               "crypto": "'X:BTCUSD'", "indices": "'I:SPX'"}.get(self.market, "")
                    raise SubscriptionError(
                        "symbol %r belongs to the %s market, this stream is %s (tickers like %s; or "
                        "PolygonWebSocketClient(market=%r))" % (norm, market, self.market, example, market))
                norm = canonical_symbol(norm, market)
            if norm not in out:
                out.append(norm)
        if not out:
            raise SubscriptionError("no symbols given: pass a list of tickers such as ['AAPL'] or ['*']")
        return out

    # -- changes
    def provider_params(self) -> List[str]:
        """The provider subscriptions the current book needs, sorted (``['Q.AAPL', 'T.*']``)."""
        wild = {ch for (ch, sym) in self._counts if sym == WILDCARD}
        return sorted("%s.%s" % (ch, sym) for (ch, sym) in self._counts if sym == WILDCARD or ch not in wild)

    def _apply(self, mutate: Callable[[], Any]) -> Tuple[Any, List[str], List[str]]:
        before = set(self.provider_params())
        result = mutate()
        after = set(self.provider_params())
        self._rebuild()
        return result, sorted(after - before), sorted(before - after)

    def add(
        self,
        symbols: Union[str, Iterable[str]],
        channels: Union[str, Iterable[str]],
        target: Any,
        subscription_id: Optional[str] = None,
    ) -> Tuple[str, List[str], List[str]]:
        """Add pairs to a (new or existing) named subscription.

        :returns: ``(subscription_id, subscribe_params, unsubscribe_params)``.
        :raises SubscriptionError: bad symbols or channels.
        """
        chans = self.normalise_channels(channels)
        syms = self.normalise_symbols(symbols)
        if subscription_id is not None and not isinstance(subscription_id, str):
            raise SubscriptionError("subscription_id must be a string, got %r" % (subscription_id,))

        def mutate() -> str:
            sub_id = subscription_id
            if sub_id is None:
                self._serial += 1
                sub_id = "sub_%d" % self._serial
                while sub_id in self._subs:
                    self._serial += 1
                    sub_id = "sub_%d" % self._serial
            pairs = self._subs[sub_id][1] if sub_id in self._subs else set()
            for ch in chans:
                for sym in syms:
                    if (ch, sym) not in pairs:
                        pairs.add((ch, sym))
                        self._counts[(ch, sym)] = self._counts.get((ch, sym), 0) + 1
            self._subs[sub_id] = (target, pairs)
            return sub_id

        return self._apply(mutate)

    def remove(
        self,
        symbols: Union[str, Iterable[str], None],
        channels: Union[str, Iterable[str], None] = None,
        subscription_id: Optional[str] = None,
    ) -> Tuple[List[Tuple[str, str]], List[str], List[str]]:
        """Remove pairs: ``symbols`` (``None`` = all) x ``channels`` (``None`` = all), from one named
        subscription or (``subscription_id=None``) from all. Empty subscriptions are dropped.

        :returns: ``(removed_pairs, subscribe_params, unsubscribe_params)``.
        :raises SubscriptionError: unknown ``subscription_id`` or bad symbols/channels.
        """
        syms = None if symbols is None else set(self.normalise_symbols(symbols))
        chans = None if channels is None else set(self.normalise_channels(channels))
        if subscription_id is not None and subscription_id not in self._subs:
            known = ", ".join(sorted(self._subs)) or "none"
            raise SubscriptionError("unknown subscription_id %r; active: %s" % (subscription_id, known))

        def mutate() -> List[Tuple[str, str]]:
            removed = []
            ids = [subscription_id] if subscription_id is not None else list(self._subs)
            for sub_id in ids:
                target, pairs = self._subs[sub_id]
                for pair in sorted(pairs):
                    if (syms is None or pair[1] in syms) and (chans is None or pair[0] in chans):
                        pairs.discard(pair)
                        removed.append(pair)
                        left = self._counts[pair] - 1
                        if left:
                            self._counts[pair] = left
                        else:
                            del self._counts[pair]
                if not pairs:
                    del self._subs[sub_id]
            return removed

        return self._apply(mutate)

    def _rebuild(self) -> None:
        exact: Dict[Tuple[str, str], list] = {}
        wild: Dict[str, list] = {}
        for target, pairs in self._subs.values():
            for ch, sym in sorted(pairs):
                bucket = wild.setdefault(ch, []) if sym == WILDCARD else exact.setdefault((ch, sym), [])
                if target not in bucket:
                    bucket.append(target)
        self.routes = _Routes(exact, wild)

    # -- views
    def targets_for(self, channel: str, symbol: str) -> tuple:
        """Targets that receive an event of ``channel`` for ``symbol`` (each once)."""
        routes = self.routes
        found = routes.cache.get((channel, symbol))
        return found if found is not None else routes.resolve((channel, symbol))

    def symbols_map(self) -> Dict[str, List[str]]:
        """``{symbol: [channels]}`` of everything subscribed (channels in stream order)."""
        out: Dict[str, List[str]] = {}
        for ch, sym in self._counts:
            out.setdefault(sym, []).append(ch)
        order = {c: i for i, c in enumerate(self.channels)}
        return {sym: sorted(chs, key=order.get) for sym, chs in sorted(out.items())}

    def subscriptions(self) -> Dict[str, Dict[str, List[str]]]:
        """``{subscription_id: {symbol: [channels]}}``."""
        out = {}
        for sub_id, (_target, pairs) in self._subs.items():
            view: Dict[str, List[str]] = {}
            for ch, sym in sorted(pairs):
                view.setdefault(sym, []).append(ch)
            out[sub_id] = view
        return out

    def refcount(self, channel: str, symbol: str) -> int:
        return self._counts.get((channel, symbol), 0)

    def __len__(self) -> int:
        return len(self._subs)
