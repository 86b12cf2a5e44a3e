"""Splits and cash dividends per symbol, and the price adjustment applied when cached bars are read.

The cache stores bars as traded (unadjusted): the provider never revises those for corporate actions, so a
split announced after bars were cached cannot leave a cliff between old and new bars. The adjustment is applied
when a frame is built, from the symbol's splits and dividends (``/v3/reference/splits`` and
``/v3/reference/dividends``), vectorised over the bars:

- **split-adjusted** (``adjusted=True``, the provider's adjusted bars): a bar of day ``d`` is multiplied by
  ``S(d) = prod(split_from / split_to)`` over the splits executed after ``d`` (and by today); volume is divided
  by ``S(d)``, the trade count is left alone;
- **total return** (``adjusted='total_return'``): prices are also multiplied by
  ``D(d) = prod(1 - cash_amount / close_before_ex)`` over the cash dividends whose ex-date is after ``d`` (and by
  today), ``close_before_ex`` being the as-traded close of the last trading day before the ex-date. These are
  backward multiplicative factors, as in CRSP's cumulative adjustment factors and yfinance's "Adj Close": the
  newest prices are unchanged and a buy-and-hold return that reinvests dividends is the ratio of two prices;
- **raw** (``adjusted=False``): as traded.

Splits are learned market-wide and kept on disk with a checksum (:class:`CorporateActionsStore`): at most one
market-wide splits request per day serves every symbol, plus one request per symbol, once, for its older
history. A split applies when its execution date has come on the provider's day (the caller passes it), and
adjusted prices are rounded to the decimals the exact quotient needs (:func:`split_price_decimals`), so they equal
the provider's adjusted bars without float noise (``42.01``, not ``42.010000000000005``). Only stocks have
actions; other markets read as traded whatever ``adjusted`` says.
"""

import datetime as _dt
import hashlib
import json
import logging
import math
import os
import threading
import time
from fractions import Fraction
from typing import Any, Callable, Dict, Iterable, List, Optional, Tuple

import numpy as np

from polygon.core import json_codec
from polygon.core.ticker_reference import as_dict, results_of
from polygon.exceptions import InvalidParameterError, PolygonError
from polygon.markets.dates import get_zone
from polygon.markets.symbols import FUTURES_PATTERN, validate_symbol

__all__ = [
    "ACTIONS_TTL_MS",
    "ADJUST_MODES",
    "AuxiliaryDataError",
    "CorporateActions",
    "CorporateActionsStore",
    "MARGIN_DAYS",
    "MARKET_WINDOW_DAYS",
    "adjust_mode",
    "clean_splits",
    "cutoff_ms",
    "get_actions_store",
    "split_price_decimals",
    "suffix_factors",
]

logger = logging.getLogger(__name__)

#: How long fetched actions are trusted (ms).
ACTIONS_TTL_MS = 86_400_000
#: ``adjusted`` values -> mode name.
ADJUST_MODES = {True: "splits", False: "raw", "splits": "splits", "raw": "raw", "total_return": "total_return"}
#: Market-wide requests ask from this many days before the last one (late or corrected listings).
MARGIN_DAYS = 7
#: A range starting at most this many days ago is served by a market-wide request, older ones by the symbol's
#: history request.
MARKET_WINDOW_DAYS = 45
#: After a failed reference request, the endpoint is not asked again for this long (seconds).
FAILURE_COOLDOWN_S = 120.0
_EXCHANGE_TZ = "America/New_York"
_DIR = os.path.join(".reference", "actions")
_MARKET = "_market-splits"  # never a symbol's file name: symbols are upper case
_FORMAT = 3
_ENDPOINTS = {"list_splits": "/v3/reference/splits", "list_dividends": "/v3/reference/dividends"}


def adjust_mode(adjusted: Any) -> str:
    """``'splits'``, ``'raw'`` or ``'total_return'`` for an ``adjusted`` argument.

    :raises InvalidParameterError: for anything else.
    """
    try:
        return ADJUST_MODES[adjusted]
    except (KeyError, TypeError):
        raise InvalidParameterError("invalid adjusted %r: use True (split-adjusted, the default), False (as traded) "
                                    "or 'total_return' (splits and dividends)" % (adjusted,)) from None


def cutoff_ms(day: str) -> int:
    """New York midnight (UTC ms) of ``'YYYY-MM-DD'``: bars before it get the factor of an action that day."""
    d = _dt.date.fromisoformat(day[:10])
    return int(_dt.datetime(d.year, d.month, d.day, tzinfo=get_zone(_EXCHANGE_TZ)).timestamp() * 1000)


def suffix_factors(t_ms: np.ndarray, cutoffs: np.ndarray, factors: np.ndarray) -> np.ndarray:
    """For each time in ``t_ms``, the product of ``factors`` whose cutoff is after it (vectorised).

    :param cutoffs: ascending UTC ms; :param factors: one per cutoff.
    """
    if not len(cutoffs):
        return np.ones(len(t_ms))
    suffix = np.ones(len(cutoffs) + 1)
    suffix[:-1] = np.cumprod(factors[::-1])[::-1]
    return suffix[np.searchsorted(cutoffs, t_ms, side="right")]


def split_price_decimals(price_factor: Fraction) -> int:
    """Decimals an adjusted price keeps: 4 (sub-penny prices) plus those the exact decimal expansion of the
    factor needs (``1/10`` -> 1, ``1/4`` -> 2), 4 more when it has none (``1/3``)."""
    den = price_factor.denominator
    twos = fives = 0
    while den % 2 == 0:
        den //= 2
        twos += 1
    while den % 5 == 0:
        den //= 5
        fives += 1
    return 4 + (min(max(twos, fives), 6) if den == 1 else 4)


class CorporateActions:
    """One symbol's splits and dividends as known.

    :ivar splits: ``[(execution_date 'YYYY-MM-DD', split_from, split_to)]`` ascending, each split once.
    :ivar dividends: ``[(ex_dividend_date, cash_amount)]`` ascending (cash dividends).
    :ivar refreshed_ms: when the splits were last known complete (the manager's clock).
    :ivar dividends_refreshed_ms: when the dividends were fetched (``None``: never; they are fetched only for
        total-return frames).
    """

    __slots__ = ("symbol", "splits", "dividends", "refreshed_ms", "dividends_refreshed_ms")

    def __init__(self, symbol: str, splits: Iterable[Any], dividends: Iterable[Any], refreshed_ms: int,
                 dividends_refreshed_ms: Optional[int] = None) -> None:
        self.symbol, self.refreshed_ms = symbol, int(refreshed_ms)
        self.dividends_refreshed_ms = None if dividends_refreshed_ms is None else int(dividends_refreshed_ms)
        self.splits = clean_splits(splits, symbol)
        self.dividends = _clean_dividends(dividends, symbol)

    def to_dict(self) -> Dict[str, Any]:
        return {"symbol": self.symbol, "splits": self.splits, "dividends": self.dividends,
                "refreshed_ms": self.refreshed_ms, "dividends_refreshed_ms": self.dividends_refreshed_ms}

    def split_segments(self, today: str) -> Tuple[np.ndarray, List[Fraction]]:
        """Cutoffs (ascending UTC ms) of the splits executed by ``today`` and, for the bars before each cutoff
        and after the previous one, the exact price factor ``prod(split_from / split_to)`` (the last factor, 1,
        is for the bars after every cutoff)."""
        done = [(cutoff_ms(d), Fraction(str(f)) / Fraction(str(t))) for d, f, t in self.splits if d <= today]
        factors = [Fraction(1)]
        for _, ratio in reversed(done):
            factors.append(factors[-1] * ratio)
        return np.array([c for c, _ in done], dtype=np.int64), factors[::-1]

    def adjust_splits(self, t_ms: np.ndarray, values: np.ndarray, today: str) -> np.ndarray:
        """Split-adjust as-traded ``values`` (rows open, high, low, close, volume, vwap) of bars starting at
        ``t_ms``: prices divided by the exact ratio and rounded to :func:`split_price_decimals`, volume
        multiplied by it. Returns ``values`` itself when no split applies."""
        cutoffs, factors = self.split_segments(today)
        if not len(cutoffs):
            return values
        segment = np.searchsorted(cutoffs, t_ms, side="right")
        out = values.copy()
        for i, factor in enumerate(factors[:-1]):
            rows = segment == i
            if not rows.any():
                continue
            num, den = factor.numerator, factor.denominator
            decimals = split_price_decimals(factor)
            for row in (0, 1, 2, 3, 5):
                out[row, rows] = np.round(values[row, rows] * num / den, decimals)
            out[4, rows] = np.round(values[4, rows] * den / num, split_price_decimals(1 / factor))
        return out

    def split_factors(self, t_ms: np.ndarray, today: str) -> np.ndarray:
        """``S`` of each bar start (see the module docstring), counting splits executed by ``today``."""
        cutoffs, factors = self.split_segments(today)
        return np.array([float(f) for f in factors])[np.searchsorted(cutoffs, t_ms, side="right")]

    def split_volume_factors(self, t_ms: np.ndarray, today: str) -> np.ndarray:
        """``1 / S`` of each bar start, computed as ``prod(split_to / split_from)`` (exact for whole ratios)."""
        cutoffs, factors = self.split_segments(today)
        return np.array([float(1 / f) for f in factors])[np.searchsorted(cutoffs, t_ms, side="right")]

    def dividend_factors(self, t_ms: np.ndarray, today: str, close_before: Callable[[str], Optional[float]]
                         ) -> np.ndarray:
        """``D`` of each bar start; ``close_before(ex_date)`` gives the as-traded close before an ex-date."""
        cutoffs, factors = [], []
        first = int(t_ms.min()) if len(t_ms) else 0
        for ex, cash in self.dividends:
            if ex > today or cutoff_ms(ex) <= first:
                continue  # not yet effective, or before every bar (factor 1 for all of them)
            close = close_before(ex)
            if close is None or not close > cash:
                logger.warning("%s: no usable close before the %s dividend; it is left out of the total return",
                               self.symbol, ex)
                continue
            cutoffs.append(cutoff_ms(ex))
            factors.append(1.0 - cash / close)
        return suffix_factors(t_ms, np.array(cutoffs, dtype=np.int64), np.array(factors, dtype=float))


def _day_of(ms: int) -> str:
    """The New York day of epoch ``ms``, ``'YYYY-MM-DD'``."""
    return _dt.datetime.fromtimestamp(ms / 1000, get_zone(_EXCHANGE_TZ)).date().isoformat()


def _shift(day: str, days: int) -> str:
    return (_dt.date.fromisoformat(day) + _dt.timedelta(days=days)).isoformat()


def clean_splits(rows: Iterable[Any], where: str) -> List[Tuple[str, float, float]]:
    """Valid, distinct splits ``(execution_date, split_from, split_to)`` of ``rows`` (lists or provider dicts).

    A row without a real date or with a ratio that is not a positive finite number is left out with a warning
    (it would raise or corrupt prices later); a split listed twice counts once.
    """
    out = set()
    for row in rows:
        try:
            if isinstance(row, dict):
                day, frm, to = row.get("execution_date"), row.get("split_from"), row.get("split_to")
            else:
                day, frm, to = row
            day = _dt.date.fromisoformat(str(day)[:10]).isoformat()
            frm, to = float(frm), float(to)
            if not (math.isfinite(frm) and math.isfinite(to) and frm > 0 and to > 0):
                raise ValueError("ratio %r:%r" % (frm, to))
        except (TypeError, ValueError) as exc:
            logger.warning("%s: split row %r left out (%s)", where, row, exc)
            continue
        out.add((day, frm, to))
    return sorted(out)


def _clean_dividends(rows: Iterable[Any], where: str) -> List[Tuple[str, float]]:
    out = set()
    for row in rows:
        try:
            day, cash = row
            day = _dt.date.fromisoformat(str(day)[:10]).isoformat()
            cash = float(cash)
            if not (math.isfinite(cash) and cash > 0):
                raise ValueError("cash amount %r" % cash)
        except (TypeError, ValueError) as exc:
            logger.warning("%s: dividend row %r left out (%s)", where, row, exc)
            continue
        out.add((day, cash))
    return sorted(out)


def _checksum(data: Dict[str, Any]) -> str:
    return hashlib.sha256(json.dumps(data, sort_keys=True, separators=(",", ":")).encode("utf-8")).hexdigest()


class AuxiliaryDataError(PolygonError):
    """A reference request that adjusting bars needs (splits, dividends) failed; names the endpoint.

    :ivar endpoint: the path asked (``/v3/reference/splits``). :ivar reason: the failure, short.
    :ivar cause: the original :class:`~polygon.exceptions.PolygonError`.
    """

    def __init__(self, endpoint: str, cause: PolygonError) -> None:
        self.endpoint, self.cause = endpoint, cause
        status = getattr(cause, "status_code", None)
        self.reason = ("HTTP %d" % status) if status else type(cause).__name__
        super().__init__("%s failed (%s): %s" % (endpoint, self.reason, cause))


class CorporateActionsStore:
    """Splits and dividends per symbol with as few requests as the provider allows (thread-safe).

    Splits are learned market-wide: one request (``execution_date.gt`` = a week before the last refresh) per
    day brings every symbol's new splits at once; a symbol's older splits come from one request for its whole
    history, asked at most once (later days are bridged by the market-wide requests). A batch, or a flat-file
    sync, asks the market-wide question for its whole range in one request (:meth:`prefetch_splits`).
    Dividends (total return only) are asked per symbol, at most once a day.

    Files (``<cache>/.reference/actions/``): ``<SYMBOL>.json`` per symbol and ``_market-splits.json``, each with
    a SHA-256 of its content: a file that does not match (a flipped bit), cannot be parsed or holds an invalid
    row is moved aside (``.corrupt-<ns>``) with a warning and asked again.

    :param cache_dir: the cache directory, or ``None`` for memory only.
    :param ttl_ms: how long an answer is trusted at most (and never past the New York day it was fetched on).
    """

    def __init__(self, cache_dir: Optional[str] = None, ttl_ms: int = ACTIONS_TTL_MS) -> None:
        self.directory = os.path.join(cache_dir, _DIR) if cache_dir else None
        self.ttl_ms = int(ttl_ms)
        self._lock = threading.RLock()
        self._symbols: Dict[str, Dict[str, Any]] = {}
        self._market: Optional[Dict[str, Any]] = None
        self._names: Dict[Any, str] = {}  # symbols as given -> validated (each checked once)
        self._failed: Dict[str, Tuple[float, AuxiliaryDataError]] = {}  # endpoint -> (monotonic time, error)
        self.requests = 0  # reference requests sent, for measurements

    # -- files ----------------------------------------------------------------------------------------------

    def _valid(self, symbol: Any) -> str:
        """``validate_symbol(symbol)``, once per distinct value: the callers pass values checked already."""
        try:
            return self._names[symbol]
        except (KeyError, TypeError):
            sym = validate_symbol(symbol)
            if len(self._names) < 100_000:
                self._names[symbol] = sym
            return sym

    def _path(self, name: str) -> Optional[str]:
        return os.path.join(self.directory, name + ".json") if self.directory else None

    def _read(self, name: str) -> Optional[Dict[str, Any]]:
        path = self._path(name)
        if path is None:
            return None
        try:
            with open(path, "rb") as handle:
                raw = handle.read()
        except FileNotFoundError:
            return None
        except OSError as exc:
            logger.warning("corporate actions file %s unreadable (%s); asking the provider again", path, exc)
            return None
        try:
            doc = json_codec.loads(raw)
            data = doc["data"] if isinstance(doc, dict) and doc.get("format") == _FORMAT else None
            if data is None:
                logger.info("corporate actions file %s has an older format; asking the provider again", path)
                return None
            if doc.get("sha256") != _checksum(data):
                raise ValueError("checksum mismatch")
            return data
        except (ValueError, KeyError, TypeError) as exc:
            self._quarantine(path, str(exc))
            return None

    def _quarantine(self, path: str, why: str) -> None:
        logger.warning("corporate actions file %s is corrupt (%s); moved aside, asking the provider again", path,
                       why)
        try:
            os.replace(path, "%s.corrupt-%d" % (path, time.time_ns()))
        except OSError as exc:
            logger.debug("could not move %s aside: %r", path, exc)

    def _write(self, name: str, data: Dict[str, Any]) -> None:
        path = self._path(name)
        if path is None:
            return
        tmp = "%s.%d.%d.tmp" % (path, os.getpid(), threading.get_ident())
        try:
            os.makedirs(os.path.dirname(path), exist_ok=True)
            with open(tmp, "wb") as handle:
                handle.write(json_codec.dumps({"format": _FORMAT, "sha256": _checksum(data), "data": data}))
            os.replace(tmp, path)
        except (OSError, TypeError, ValueError) as exc:
            logger.debug("corporate actions not persisted to %s: %r", path, exc)
            try:
                os.unlink(tmp)
            except OSError:
                pass

    def _symbol(self, sym: str) -> Optional[Dict[str, Any]]:
        with self._lock:
            rec = self._symbols.get(sym)
            if rec is None:
                data = self._read(sym.replace(":", "_"))
                if data is not None:
                    try:
                        rec = {"history_ms": _opt_int(data.get("history_ms")),
                               "splits": clean_splits(data["splits"], sym),
                               "dividends": _clean_dividends(data["dividends"], sym),
                               "dividends_ms": _opt_int(data.get("dividends_ms"))}
                        if len(rec["splits"]) != len(data["splits"]):
                            raise ValueError("invalid split rows")
                    except (KeyError, TypeError, ValueError) as exc:
                        self._quarantine(self._path(sym.replace(":", "_")) or "", str(exc))
                        rec = None
                if rec is not None:
                    self._symbols[sym] = rec
            return rec

    def _save_symbol(self, sym: str, rec: Dict[str, Any]) -> None:
        self._symbols[sym] = rec
        self._write(sym.replace(":", "_"), {"symbol": sym, "history_ms": rec["history_ms"],
                                              "splits": [list(x) for x in rec["splits"]],
                                              "dividends": [list(x) for x in rec["dividends"]],
                                              "dividends_ms": rec["dividends_ms"]})

    def _load_market(self) -> Dict[str, Any]:
        with self._lock:
            if self._market is None:
                market = {"since": None, "refreshed_ms": None, "pending": None, "rows": {}}
                data = self._read(_MARKET)
                if data is not None:
                    try:
                        rows = {t: clean_splits(r, "market splits") for t, r in data["rows"].items()}
                        if any(len(rows[t]) != len(data["rows"][t]) for t in rows):
                            raise ValueError("invalid split rows")
                        market = {"since": data["since"], "refreshed_ms": _opt_int(data["refreshed_ms"]),
                                  "pending": data.get("pending"), "rows": rows}
                    except (KeyError, TypeError, ValueError, AttributeError) as exc:
                        self._quarantine(self._path(_MARKET) or "", str(exc))
                self._market = market
            return self._market

    def _save_market(self) -> None:
        market = self._market
        if market is not None:
            self._write(_MARKET, {"since": market["since"], "refreshed_ms": market["refreshed_ms"],
                                  "pending": market["pending"],
                                  "rows": {t: [list(x) for x in r] for t, r in sorted(market["rows"].items())}})

    # -- freshness (pure) -----------------------------------------------------------------------------------

    def _fresh(self, ms: Optional[int], now_ms: int) -> bool:
        """Asked today (New York day of the manager's clock) and within the TTL."""
        return ms is not None and now_ms - ms < self.ttl_ms and _day_of(ms) >= _day_of(now_ms)

    def _known_ms(self, rec: Optional[Dict[str, Any]], market: Dict[str, Any], from_day: str) -> Optional[int]:
        """When the splits that move bars from ``from_day`` on were last known complete (``None``: never)."""
        best = None
        since, refreshed = market["since"], market["refreshed_ms"]
        if refreshed is not None and since is not None and since <= from_day:
            best = refreshed
        history = rec["history_ms"] if rec is not None else None
        if history is not None:
            known = history
            if refreshed is not None and since is not None and refreshed > history and \
                    since <= _shift(_day_of(history), -MARGIN_DAYS):
                known = refreshed  # the market-wide requests since the history bridge it to their day
            best = known if best is None else max(best, known)
        return best

    def needs_request(self, symbol: str, now_ms: int, from_day: str, dividends: bool = False) -> bool:
        """``True`` when :meth:`get` for a range starting on ``from_day`` would ask the provider."""
        sym = self._valid(symbol)
        if _market(sym) != "stocks":
            return False
        with self._lock:
            rec = self._symbol(sym)
            if not self._fresh(self._known_ms(rec, self._load_market(), from_day), now_ms):
                return True
            return dividends and not self._fresh(rec["dividends_ms"] if rec else None, now_ms)

    def _actions(self, sym: str, rec: Optional[Dict[str, Any]], market: Dict[str, Any], from_day: str
                 ) -> "CorporateActions":
        splits = list(rec["splits"]) if rec else []
        splits += market["rows"].get(sym, [])
        known = self._known_ms(rec, market, from_day) or 0
        return CorporateActions(sym, splits, rec["dividends"] if rec else [], known,
                                rec["dividends_ms"] if rec else None)

    def cached(self, symbol: str) -> Optional["CorporateActions"]:
        """What is held for ``symbol`` (memory, else disk), fresh or not; never asks the provider."""
        sym = self._valid(symbol)
        with self._lock:
            rec, market = self._symbol(sym), self._load_market()
            if rec is None and sym not in market["rows"] and market["refreshed_ms"] is None:
                return None
            return self._actions(sym, rec, market, "")

    # -- requests -------------------------------------------------------------------------------------------

    def _records(self, client: Any, name: str, **params: Any) -> List[Dict[str, Any]]:
        endpoint = _ENDPOINTS[name]
        failed = self._failed.get(endpoint)
        if failed is not None and time.monotonic() - failed[0] < FAILURE_COOLDOWN_S:
            raise failed[1]  # it just failed: do not spend more requests (and retries) on it for a while
        try:
            real = client() if callable(client) and not hasattr(client, name) else client
            with self._lock:
                self.requests += 1
            records = getattr(real, "iter_records", None)
            if records is not None:
                return [as_dict(r) for r in records(name, page_size=1000, **params)]
            return [as_dict(item) for item in (results_of(getattr(real, name)(**params)) or [])]
        except PolygonError as exc:
            err = AuxiliaryDataError(endpoint, exc)
            self._failed[endpoint] = (time.monotonic(), err)
            raise err from exc

    def _market_refresh(self, client: Any, anchor: str, now_ms: int) -> None:
        """One market-wide splits request (execution dates after ``anchor``), merged into the market record."""
        market = self._load_market()
        rows = self._records(client, "list_splits", execution_date_gt=anchor)
        by_ticker: Dict[str, List[Any]] = {}
        for r in rows:
            if r.get("ticker"):
                by_ticker.setdefault(str(r["ticker"]), []).append(r)
        merged = {t: [x for x in kept if x[0] <= anchor] for t, kept in market["rows"].items()}
        for ticker, found in by_ticker.items():
            merged[ticker] = sorted(set(merged.get(ticker, [])) | set(clean_splits(found, ticker)))
        market["rows"] = {t: r for t, r in merged.items() if r}
        market["since"] = anchor if market["since"] is None else min(market["since"], anchor)
        market["refreshed_ms"] = now_ms
        market["pending"] = None
        self._save_market()

    def _history(self, client: Any, sym: str, rec: Optional[Dict[str, Any]], now_ms: int) -> None:
        """The one request for a symbol's whole split history; the next market-wide request bridges it."""
        rows = [r for r in self._records(client, "list_splits", ticker=sym) if r.get("ticker", sym) == sym]
        fresh = dict(rec) if rec else {"dividends": [], "dividends_ms": None}
        fresh.update(history_ms=now_ms, splits=clean_splits(rows, sym))
        self._save_symbol(sym, fresh)
        market = self._load_market()
        floor = _shift(_day_of(now_ms), -MARGIN_DAYS)
        market["pending"] = floor if market["pending"] is None else min(market["pending"], floor)
        self._save_market()

    def _refresh_splits(self, client: Any, sym: str, from_day: str, now_ms: int) -> None:
        rec, market = self._symbol(sym), self._load_market()
        history = rec["history_ms"] if rec else None
        # the market-wide anchor that would cover this symbol: its range, or the day its history was asked
        needed = from_day if history is None else max(from_day, _shift(_day_of(history), -MARGIN_DAYS))
        today = _day_of(now_ms)
        if not self._fresh(market["refreshed_ms"], now_ms):
            covered = market["since"] is not None and market["since"] <= needed
            if covered or needed >= _shift(today, -MARKET_WINDOW_DAYS):
                anchors = [] if covered else [needed]
                if market["refreshed_ms"] is not None:
                    anchors.append(_shift(_day_of(market["refreshed_ms"]), -MARGIN_DAYS))
                if market["pending"]:
                    anchors.append(market["pending"])
                self._market_refresh(client, min(anchors) if anchors else needed, now_ms)
                if self._fresh(self._known_ms(rec, market, from_day), now_ms):
                    return
        self._history(client, sym, rec, now_ms)

    def _refresh_dividends(self, client: Any, sym: str, now_ms: int) -> None:
        rows = self._records(client, "list_dividends", ticker=sym)
        divs = [[r.get("ex_dividend_date"), r.get("cash_amount")] for r in rows
                if r.get("ticker", sym) == sym and r.get("dividend_type", "CD") in ("CD", "SC", "LT", "ST")]
        rec = dict(self._symbol(sym) or {"history_ms": None, "splits": []})
        rec.update(dividends=_clean_dividends(divs, sym), dividends_ms=now_ms)
        self._save_symbol(sym, rec)

    def prefetch_splits(self, client: Any, symbols: List[str], from_day: str, now_ms: int, until_ms: int = 0) -> int:
        """One market-wide splits request (``execution_date > from_day``) for the symbols whose splits are not
        known for the range: a batch or a flat-file sync pays one request instead of one per symbol.

        :returns: how many symbols it covered (0 when all were known, or only one was not: no request).
        :raises AuxiliaryDataError: when the request fails.
        """
        with self._lock:
            market = self._load_market()
            wanted = [s for s in dict.fromkeys(self._valid(x) for x in symbols) if _market(s) == "stocks"
                      and not self._fresh(self._known_ms(self._symbol(s), market, from_day), now_ms)]
            if len(wanted) < 2:
                return 0  # one symbol: get() asks the cheapest question for it
            anchors = [from_day]
            if market["refreshed_ms"] is not None:
                anchors.append(_shift(_day_of(market["refreshed_ms"]), -MARGIN_DAYS))
            if market["pending"]:
                anchors.append(market["pending"])
            self._market_refresh(client, min(anchors), now_ms)
            return len(wanted)

    def get(self, client: Any, symbol: str, now_ms: int, until_ms: int = 0, dividends: bool = False,
            from_day: str = "") -> Optional["CorporateActions"]:
        """The actions that adjust ``symbol``'s bars from ``from_day`` on (``None`` for markets without them),
        asking the provider only what is not known today (see the class docstring).

        :param client: a :class:`polygon.core.PolygonClient`, or a callable returning one (called only when a
            request is needed).
        :param now_ms: the manager's "now"; ``until_ms``: unused (kept for callers).
        :param dividends: also the dividends (total return).
        :param from_day: the range's first New York day (``''``: the whole history).
        :raises AuxiliaryDataError: when a needed request fails (it names the endpoint); the caller decides how
            to serve the bars without it.
        """
        sym = self._valid(symbol)
        if _market(sym) != "stocks":
            return None
        with self._lock:
            if not self._fresh(self._known_ms(self._symbol(sym), self._load_market(), from_day), now_ms):
                self._refresh_splits(client, sym, from_day, now_ms)
            rec = self._symbol(sym)
            if dividends and not self._fresh(rec["dividends_ms"] if rec else None, now_ms):
                self._refresh_dividends(client, sym, now_ms)
            return self._actions(sym, self._symbol(sym), self._load_market(), from_day)

    def forget(self, symbol: Optional[str] = None) -> None:
        """Drop what is held in memory (one symbol, or all including the market-wide splits)."""
        with self._lock:
            if symbol is None:
                self._symbols.clear()
                self._market = None
            else:
                self._symbols.pop(self._valid(symbol), None)


def _market(sym: str) -> str:
    """``'stocks'`` for a validated stock ticker (the only market with corporate actions), else ``'other'``."""
    return "stocks" if (len(sym) < 3 or sym[1] != ":") and not FUTURES_PATTERN.match(sym) else "other"


def _opt_int(value: Any) -> Optional[int]:
    return None if value is None else int(value)


_registry_lock = threading.Lock()
_registry: Dict[str, CorporateActionsStore] = {}


def get_actions_store(cache_dir: Optional[str]) -> CorporateActionsStore:
    """The process-wide :class:`CorporateActionsStore` of a cache directory."""
    key = os.path.abspath(cache_dir) if cache_dir else ""
    with _registry_lock:
        store = _registry.get(key)
        if store is None:
            store = _registry[key] = CorporateActionsStore(cache_dir or None)
        return store
