"""Does the provider know a ticker? Cached reference lookups and near-miss suggestions.

This is the network half of symbol validation (the syntax half, without I/O, is :mod:`polygon.markets.symbols`).
It sits on the client layer: it talks to a :class:`polygon.core.PolygonClient` and nothing above it.

- :class:`TickerReference` answers "known / unknown / could not ask" for a ticker from the provider's ticker
  details (``/v3/reference/tickers/{ticker}``), cached in memory for the process and on disk
  (``<cache dir>/.reference/tickers.json``) for :data:`REFERENCE_TTL_S` (a day: a typo stays a typo, but a new
  listing shows up by tomorrow). Answers that could not be had (network, plan, rate limit) are never cached.
- :func:`suggest` finds near misses with the provider's ticker search (difflib over tickers and names).
- :func:`check_symbol` is the whole check behind :func:`polygon.validators.validate_symbol_detailed`.

The manager asks only when a range comes back empty, so a batch of symbols that all have bars sends no
reference request at all.
"""

import difflib
import logging
import os
import threading
import time
from collections import abc
from typing import Any, Callable, Dict, List, Optional

from polygon.core import json_codec
from polygon.exceptions import PolygonError, PolygonNotFoundError
from polygon.markets.symbols import market_of, validate_symbol

__all__ = [
    "REFERENCE_TTL_S",
    "TickerReference",
    "TickerStatus",
    "check_symbol",
    "get_ticker_reference",
    "suggest",
]

logger = logging.getLogger(__name__)

#: How long (seconds) a known/unknown answer is trusted.
REFERENCE_TTL_S = 86_400.0
DETAIL_FIELDS = ("name", "market", "type", "active", "primary_exchange", "currency_name", "locale", "list_date",
                 "delisted_utc")
_FILE = os.path.join(".reference", "tickers.json")


def as_dict(obj: Any) -> Dict[str, Any]:
    """A plain dict of a generated model, a dict, or an object's public attributes."""
    if obj is None:
        return {}
    if isinstance(obj, dict):
        return obj
    to_dict = getattr(obj, "to_dict", None)
    if callable(to_dict):
        try:
            out = to_dict()
            if isinstance(out, dict):
                return out
        except Exception:
            pass
    return {k: v for k, v in getattr(obj, "__dict__", {}).items() if not k.startswith("_")}


def results_of(response: Any) -> Any:
    """The ``results`` member of a response model or dict; a list, or the record iterator that the client's
    ``list_*`` methods return, is its own results."""
    if isinstance(response, abc.Iterator):
        response = list(response)
    data = as_dict(response) if not isinstance(response, list) else {"results": response}
    return data.get("results", response if isinstance(response, list) else None)


class TickerStatus:
    """What the provider said about one ticker.

    :ivar symbol: the normalised ticker.
    :ivar known: ``True``, ``False`` (the provider answered 404 / no such ticker) or ``None`` (could not ask).
    :ivar details: :data:`DETAIL_FIELDS` of the provider's answer (empty unless known).
    :ivar checked_at: epoch seconds of the answer.
    :ivar reason: why ``known`` is ``None`` (the error), else ``None``.
    """

    __slots__ = ("symbol", "known", "details", "checked_at", "reason", "suggestions")

    def __init__(self, symbol: str, known: Optional[bool], details: Optional[Dict[str, Any]] = None,
                 checked_at: float = 0.0, reason: Optional[str] = None,
                 suggestions: Optional[List[Dict[str, Any]]] = None) -> None:
        self.symbol, self.known, self.details = symbol, known, dict(details or {})
        self.checked_at, self.reason = checked_at, reason
        self.suggestions = suggestions  # None = not searched yet

    def to_dict(self) -> Dict[str, Any]:
        return {"known": self.known, "details": self.details, "checked_at": self.checked_at,
                "suggestions": self.suggestions}

    def __repr__(self) -> str:
        return "TickerStatus(%r, known=%r)" % (self.symbol, self.known)


def _search_tickers(client: Any, term: str) -> List[Dict[str, Any]]:
    try:
        try:
            response = client.list_tickers(search=term, limit=100, max_pages=1)
        except TypeError:
            response = client.list_tickers(search=term, limit=100)
        if not isinstance(response, (list, dict)) and hasattr(response, "__next__"):
            response = list(response)  # PolygonClient.list_* iterate their records (requests happen here)
    except PolygonError as exc:
        logger.debug("ticker search %r failed: %s", term, exc)
        return []
    items = results_of(response) or []
    return [as_dict(item) for item in list(items)[:1000]]  # a search answers one page of at most 100


def suggest(client: Any, symbol: str, limit: int = 5) -> List[Dict[str, Any]]:
    """Near misses for ``symbol`` from the provider's ticker search (difflib over tickers and names).

    Searches for the symbol, then without its last character, then its first two characters, and stops at
    the first search that yields a close match (at most three requests: rate limits).

    :returns: ``[{'ticker', 'name', 'active'}]``, best first (empty when nothing is close).
    """
    core = symbol.split(":", 1)[-1]
    seen: Dict[str, Dict[str, Any]] = {}
    close: List[str] = []
    for term in dict.fromkeys(t for t in (core, core[:-1], core[:2]) if t):
        for item in _search_tickers(client, term):
            ticker = item.get("ticker")
            if isinstance(ticker, str) and ticker != symbol:
                seen.setdefault(ticker, item)
        close = difflib.get_close_matches(symbol, list(seen), n=limit, cutoff=0.6)
        if len(close) < limit:  # e.g. a company name typed instead of its ticker
            names = {str(v.get("name") or "").upper(): k for k, v in seen.items() if v.get("name")}
            for name in difflib.get_close_matches(core, list(names), n=limit, cutoff=0.6):
                if names[name] not in close:
                    close.append(names[name])
        if close:
            break
    return [{"ticker": t, "name": seen[t].get("name"), "active": seen[t].get("active")} for t in close[:limit]]


def _ask(client: Any, symbol: str) -> TickerStatus:
    """One reference request: ticker details (options contracts when the client has that endpoint)."""
    now = time.time()
    if market_of(symbol) == "options":
        method = getattr(client, "get_options_contract", None)
        if method is None:
            return TickerStatus(symbol, None, reason="this client has no options contract reference endpoint")
    else:
        method = client.get_ticker_details
    try:
        response = method(symbol)
    except PolygonNotFoundError as exc:
        if isinstance(exc.body, dict):  # the API's own answer: it does not know the ticker
            return TickerStatus(symbol, False, checked_at=now)
        # a 404 that is not the API's JSON (a gateway, an endpoint not served): nothing was learned
        return TickerStatus(symbol, None, checked_at=now, reason=str(exc))
    except PolygonError as exc:
        return TickerStatus(symbol, None, checked_at=now, reason=str(exc))
    results = as_dict(results_of(response))
    if results.get("ticker") or results.get("name"):
        return TickerStatus(symbol, True, {k: results.get(k) for k in DETAIL_FIELDS}, now)
    return TickerStatus(symbol, False, checked_at=now)


class TickerReference:
    """Known/unknown answers per ticker, cached in memory and on disk with a TTL (thread-safe).

    :param cache_dir: the cache directory (the file is ``<cache_dir>/.reference/tickers.json``); ``None`` keeps
        answers in memory only.
    :param ttl: seconds an answer is trusted (default :data:`REFERENCE_TTL_S`).
    :param clock: returns epoch seconds (tests).
    """

    def __init__(self, cache_dir: Optional[str] = None, ttl: float = REFERENCE_TTL_S,
                 clock: Callable[[], float] = time.time) -> None:
        self.path = os.path.join(cache_dir, _FILE) if cache_dir else None
        self.ttl = float(ttl)
        self._clock = clock
        self._lock = threading.Lock()
        self._memory: Dict[str, TickerStatus] = {}
        self._loaded = False
        self.requests = 0  # reference requests sent (details and searches), for measurements

    def _read_file(self) -> Dict[str, Any]:
        if self.path is None:
            return {}
        try:
            with open(self.path, "rb") as handle:
                data = json_codec.loads(handle.read())
            return data if isinstance(data, dict) else {}
        except FileNotFoundError:
            return {}
        except (OSError, ValueError) as exc:
            logger.debug("ticker reference file %s unreadable (%r); starting afresh", self.path, exc)
            return {}

    def _load(self) -> None:
        if self._loaded:
            return
        self._loaded = True
        for sym, row in self._read_file().items():
            if isinstance(row, dict) and row.get("known") in (True, False):
                self._memory.setdefault(sym, TickerStatus(sym, row["known"], row.get("details"),
                                                          float(row.get("checked_at") or 0.0),
                                                          suggestions=row.get("suggestions")))

    def _persist(self, status: TickerStatus) -> None:
        if self.path is None:
            return
        data = self._read_file()  # merge: other processes may have written since
        data[status.symbol] = status.to_dict()
        tmp = "%s.%d.%d.tmp" % (self.path, os.getpid(), threading.get_ident())
        try:
            os.makedirs(os.path.dirname(self.path), exist_ok=True)
            with open(tmp, "wb") as handle:
                handle.write(json_codec.dumps(data))
            os.replace(tmp, self.path)
        except OSError as exc:  # a read-only cache only costs a request next time
            logger.debug("ticker reference not persisted to %s: %r", self.path, exc)
            try:
                os.unlink(tmp)
            except OSError:
                pass

    def cached(self, symbol: str) -> Optional[TickerStatus]:
        """The fresh cached answer for ``symbol``, or ``None`` (never asks the provider)."""
        sym = validate_symbol(symbol)
        with self._lock:
            self._load()
            status = self._memory.get(sym)
        if status is not None and self._clock() - status.checked_at < self.ttl:
            return status
        return None

    def lookup(self, client: Any, symbol: str) -> TickerStatus:
        """Whether the provider knows ``symbol`` (from the cache when fresh, else one request).

        :param client: a :class:`polygon.core.PolygonClient` (or a callable returning one, called only when a
            request is needed; a :class:`~polygon.exceptions.PolygonError` from it gives ``known=None``).
        """
        sym = validate_symbol(symbol)
        status = self.cached(sym)
        if status is not None:
            return status
        try:
            real = client() if callable(client) and not hasattr(client, "get_ticker_details") else client
        except PolygonError as exc:
            return TickerStatus(sym, None, reason=str(exc))
        status = _ask(real, sym)
        with self._lock:
            self.requests += 1
        if status.known is not None:
            status.checked_at = self._clock()
            with self._lock:
                self._memory[sym] = status
            self._persist(status)
        return status

    def suggestions(self, client: Any, status: TickerStatus, limit: int = 5) -> List[Dict[str, Any]]:
        """Near misses for an unknown ticker (searched once, then kept with its cached answer)."""
        if status.suggestions is None:
            status.suggestions = suggest(client, status.symbol, limit)
            with self._lock:
                self.requests += 1
            if status.known is not None:
                self._persist(status)
        return list(status.suggestions)

    def forget(self, symbol: Optional[str] = None) -> None:
        """Drop the in-memory answers (one symbol or all); the file keeps them until their TTL ends."""
        with self._lock:
            if symbol is None:
                self._memory.clear()
            else:
                self._memory.pop(validate_symbol(symbol), None)


_registry_lock = threading.Lock()
_registry: Dict[str, TickerReference] = {}


def get_ticker_reference(cache_dir: Optional[str]) -> TickerReference:
    """The process-wide :class:`TickerReference` of a cache directory (one per directory)."""
    key = os.path.abspath(cache_dir) if cache_dir else ""
    with _registry_lock:
        ref = _registry.get(key)
        if ref is None:
            ref = _registry[key] = TickerReference(cache_dir or None)
        return ref


def check_symbol(symbol: Any, client: Any = None) -> Dict[str, Any]:
    """Check a symbol's syntax and ask the provider whether it knows it (see
    :func:`polygon.validators.validate_symbol_detailed`, its public name)."""
    report: Dict[str, Any] = {
        "symbol": symbol if isinstance(symbol, str) else repr(symbol),
        "normalized": None, "valid": False, "syntax_valid": False, "exists": None, "active": None,
        "market": None, "details": {}, "suggestions": [], "reason": None,
    }
    try:
        norm = validate_symbol(symbol)
    except PolygonError as exc:
        report["reason"] = str(exc)
        return report
    report.update(normalized=norm, syntax_valid=True, market=market_of(norm))
    own = client is None
    if own:
        try:
            from polygon.core import PolygonClient

            client = PolygonClient()
        except PolygonError as exc:
            report["reason"] = "syntax is valid but the provider could not be asked: %s" % exc
            return report
    try:
        status = _ask(client, norm)
        if status.known is None:
            report["reason"] = "syntax is valid but the provider could not be asked: %s" % status.reason
            return report
        if status.known:
            details = {k: status.details.get(k) for k in DETAIL_FIELDS[:7]}
            report.update(exists=True, details=details, active=details.get("active"))
            if details.get("active") is False:
                report["reason"] = "%s is known to the provider but no longer active (delisted)" % norm
            else:
                report["valid"] = True
        else:
            report["exists"] = False
        if not report["valid"]:
            report["suggestions"] = suggest(client, norm)
        if report["exists"] is False:
            hint = ", ".join(s["ticker"] for s in report["suggestions"])
            report["reason"] = "the provider does not know %s%s" % (norm, "; did you mean %s?" % hint if hint else "")
    finally:
        if own:
            client.close()
    return report
