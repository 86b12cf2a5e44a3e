"""Symbol validation, applied wherever a symbol enters the library.

Accepted: provider tickers such as ``AAPL``, ``BRK.B``, ``X:BTCUSD``, ``C:EURUSD``, ``I:SPX``,
``O:AAPL230616C00150000`` and futures contracts ``ESZ5`` (product code, month code, year digits: the
exchanges' own tickers, which carry no prefix). Input is stripped and upper-cased. Nothing that could name another
directory (``/``, ``\\``, ``..``, NUL, leading dot) is ever accepted, and
:func:`symbol_to_filename` gives a reversible, file-system-safe form.

A symbol is checked once, where it enters: :func:`validate_symbol` returns a :class:`Symbol`, a ``str`` that
carries its market, and every later layer (the cache's file names, the market dispatch) trusts that value
instead of checking it again. Only this module makes a :class:`Symbol`.
"""

import re
from typing import Iterable, List

from polygon.exceptions import InvalidSymbolError

__all__ = [
    "FUTURES_PATTERN",
    "MARKET_PREFIXES",
    "Symbol",
    "filename_to_symbol",
    "is_valid_symbol",
    "market_of",
    "symbol_to_filename",
    "validate_symbol",
    "validate_symbols",
]

#: Ticker prefix -> market, as the provider uses them.
MARKET_PREFIXES = {"X": "crypto", "C": "fx", "I": "indices", "O": "options"}
#: a futures contract: product code, month code (F..Z), the year's last one or two digits (``ESZ5``, ``CLF26``)
FUTURES_PATTERN = re.compile(r"^[A-Z0-9][A-Z0-9]{0,3}[FGHJKMNQUVXZ][0-9]{1,2}$")
MAX_SYMBOL_LENGTH = 40
_BODY = r"[A-Z0-9](?:[A-Z0-9]|[.\-](?=[A-Z0-9]))*"
_PATTERN = re.compile(r"^(?:([XCIO]):)?(%s)$" % _BODY)
_ALLOWED = (
    "letters A-Z, digits, and '.' or '-' between them (e.g. AAPL, BRK.B), optionally with a "
    "market prefix X:, C:, I: or O: (e.g. X:BTCUSD, I:SPX); at most %d characters" % MAX_SYMBOL_LENGTH
)


class Symbol(str):
    """A validated, normalised ticker (a ``str``) that knows its market.

    Made only by :func:`validate_symbol` (constructing one directly raises ``TypeError``, so nothing can skip the
    check); layers that receive one trust it and do not check it again.
    """

    market: str

    def __new__(cls, text: str, market: str, _token: object = None) -> "Symbol":
        if _token is not _MINT:
            raise TypeError("a Symbol is made by polygon.markets.symbols.validate_symbol(), not directly")
        self = super().__new__(cls, text)
        self.market = market
        return self

    def __reduce__(self):
        return (_check, (str(self),))


_MINT = object()


def _market_of_text(norm: str) -> str:
    if len(norm) > 2 and norm[1] == ":":
        return MARKET_PREFIXES[norm[0]]
    if FUTURES_PATTERN.match(norm):
        return "futures"
    return "stocks"


def _check(symbol: object) -> Symbol:
    """The one check: type, emptiness, length, alphabet and shape; returns the :class:`Symbol`."""
    if not isinstance(symbol, str):
        raise InvalidSymbolError("invalid symbol %r: expected a string; %s" % (symbol, _ALLOWED))
    text = symbol.strip().upper()
    if not text:
        raise InvalidSymbolError("invalid symbol: empty; %s" % _ALLOWED)
    if len(text) > MAX_SYMBOL_LENGTH or not text.isascii() or _PATTERN.match(text) is None:
        shown = text if len(text) <= 60 else text[:57] + "..."
        raise InvalidSymbolError("invalid symbol %r: %s" % (shown, _ALLOWED))
    return Symbol(text, _market_of_text(text), _MINT)


def validate_symbol(symbol: object) -> Symbol:
    """Return the normalised (stripped, upper-case) symbol.

    A :class:`Symbol` (already validated) is returned as it is.

    :param symbol: the ticker as given by the caller.
    :returns: the normalised ticker, a :class:`Symbol`.
    :raises InvalidSymbolError: (also a ``ValueError``) naming what is allowed.
    """
    if type(symbol) is Symbol:
        return symbol
    return _check(symbol)


def is_valid_symbol(symbol: object) -> bool:
    """``True`` when :func:`validate_symbol` accepts ``symbol``."""
    try:
        validate_symbol(symbol)
    except InvalidSymbolError:
        return False
    return True


def validate_symbols(symbols: Iterable[object]) -> List[str]:
    """Validate a list of symbols; a lone string is treated as one symbol. Order kept, duplicates removed.

    :raises InvalidSymbolError: for the first invalid symbol, or for an empty list.
    """
    if isinstance(symbols, str):
        symbols = [symbols]
    out: List[str] = []
    seen = set()
    for item in symbols:
        norm = validate_symbol(item)
        if norm not in seen:
            seen.add(norm)
            out.append(norm)
    if not out:
        raise InvalidSymbolError("no symbols given: pass at least one symbol (%s)" % _ALLOWED)
    return out


def market_of(symbol: str) -> str:
    """Return the market of a symbol: ``stocks``, ``crypto``, ``fx``, ``indices``, ``options`` or
    ``futures`` (a contract ticker such as ``ESZ5``: no stock ticker ends in digits).

    :raises InvalidSymbolError: when ``symbol`` is not a valid symbol.
    """
    return validate_symbol(symbol).market


def symbol_to_filename(symbol: str) -> str:
    """Return a file-system-safe, reversible name for ``symbol`` (``X:BTCUSD`` -> ``X_BTCUSD``)."""
    return validate_symbol(symbol).replace(":", "_")


def filename_to_symbol(name: str) -> str:
    """Invert :func:`symbol_to_filename`."""
    if len(name) > 2 and name[1] == "_":
        name = name[0] + ":" + name[2:]
    return validate_symbol(name)
