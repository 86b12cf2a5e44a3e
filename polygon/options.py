"""Options contract tickers (OCC symbology): parse and build ``O:SPY251219C00500000``.

The provider's option ticker is ``O:`` + the OCC symbol: the underlying root (1-6 letters/digits, a '.' allowed
as in ``BRK.B``), the expiry as ``YYMMDD``, ``C`` (call) or ``P`` (put), and the strike times 1000 as 8 digits
(``00500000`` = 500.000). Pure functions, no I/O::

    from polygon.options import build_option_ticker, parse_option_ticker

    parse_option_ticker('O:SPY251219C00500000')
    # OptionContract(underlying='SPY', expiry=datetime.date(2025, 12, 19), right='call', strike=500.0)
    build_option_ticker('SPY', '2025-12-19', 'call', 500)   # -> 'O:SPY251219C00500000'
"""

import datetime as _dt
import re
from typing import Any, NamedTuple

from polygon.exceptions import InvalidParameterError, InvalidSymbolError

__all__ = ["OptionContract", "build_option_ticker", "is_option_ticker", "parse_option_ticker"]

_OCC = re.compile(r"^(?:O:)?([A-Z0-9.]{1,6})(\d{6})([CP])(\d{8})$")
_ROOT = re.compile(r"^[A-Z0-9](?:[A-Z0-9]|\.(?=[A-Z0-9])){0,5}$")
_FORM = ("an option ticker is 'O:' + underlying (1-6 letters/digits) + expiry YYMMDD + C or P + strike x 1000 "
         "as 8 digits, e.g. O:SPY251219C00500000 (SPY, 2025-12-19, call, 500.0)")
_RIGHTS = {"C": "call", "P": "put", "CALL": "call", "PUT": "put"}


class OptionContract(NamedTuple):
    """One options contract: ``underlying``, ``expiry`` (date), ``right`` (``'call'``/``'put'``), ``strike``."""

    underlying: str
    expiry: _dt.date
    right: str
    strike: float

    @property
    def ticker(self) -> str:
        """The provider's ticker, ``O:`` + OCC symbol."""
        return build_option_ticker(self.underlying, self.expiry, self.right, self.strike)


def is_option_ticker(symbol: Any) -> bool:
    """``True`` when ``symbol`` parses as an option ticker."""
    try:
        parse_option_ticker(symbol)
    except InvalidSymbolError:
        return False
    return True


def parse_option_ticker(ticker: Any) -> OptionContract:
    """Split an option ticker into its parts.

    :param ticker: ``'O:SPY251219C00500000'`` (the ``O:`` prefix is optional; case-insensitive).
    :returns: an :class:`OptionContract`.
    :raises InvalidSymbolError: naming the part that is wrong and the expected form.
    """
    if not isinstance(ticker, str):
        raise InvalidSymbolError("invalid option ticker %r: expected a string; %s" % (ticker, _FORM))
    text = ticker.strip().upper()
    match = _OCC.match(text)
    if match is None:
        body = text[2:] if text.startswith("O:") else text
        why = "does not have the OCC form"
        if len(body) < 16:
            why = "is too short (%d characters after 'O:'; at least 16)" % len(body)
        elif not re.search(r"\d{6}[CP]\d{8}$", body):
            why = "does not end in YYMMDD + C/P + 8 strike digits"
        elif len(body) - 15 > 6:
            why = "has an underlying longer than 6 characters"
        raise InvalidSymbolError("invalid option ticker %r: it %s; %s" % (ticker, why, _FORM))
    root, yymmdd, right, strike = match.groups()
    if not _ROOT.match(root):
        raise InvalidSymbolError("invalid option ticker %r: underlying %r is not a ticker root; %s"
                                 % (ticker, root, _FORM))
    try:
        expiry = _dt.date(2000 + int(yymmdd[:2]), int(yymmdd[2:4]), int(yymmdd[4:]))
    except ValueError:
        raise InvalidSymbolError("invalid option ticker %r: expiry %s is not a real date (YYMMDD); %s"
                                 % (ticker, yymmdd, _FORM)) from None
    value = int(strike)
    if value == 0:
        raise InvalidSymbolError("invalid option ticker %r: the strike is zero; %s" % (ticker, _FORM))
    return OptionContract(root, expiry, _RIGHTS[right], value / 1000.0)


def build_option_ticker(underlying: str, expiry: Any, right: str, strike: Any) -> str:
    """Build the provider's option ticker.

    :param underlying: the root, e.g. ``'SPY'`` (1-6 letters/digits).
    :param expiry: a :class:`datetime.date` or ``'YYYY-MM-DD'`` (years 2000-2099).
    :param right: ``'call'``/``'put'`` (or ``'C'``/``'P'``).
    :param strike: positive, at most 3 decimals, below 100,000.
    :returns: e.g. ``'O:SPY251219C00500000'``.
    :raises InvalidParameterError: naming the bad part and what is allowed.
    """
    root = underlying.strip().upper() if isinstance(underlying, str) else underlying
    if not isinstance(root, str) or not _ROOT.match(root):
        raise InvalidParameterError("invalid underlying %r: 1-6 letters or digits (a '.' between them), e.g. 'SPY'"
                                    % (underlying,))
    if isinstance(expiry, str):
        try:
            expiry = _dt.date.fromisoformat(expiry.strip())
        except ValueError:
            raise InvalidParameterError("invalid expiry %r: use a date or 'YYYY-MM-DD'" % (expiry,)) from None
    if isinstance(expiry, _dt.datetime):
        expiry = expiry.date()
    if not isinstance(expiry, _dt.date) or not 2000 <= expiry.year <= 2099:
        raise InvalidParameterError("invalid expiry %r: use a date or 'YYYY-MM-DD' in 2000-2099" % (expiry,))
    side = _RIGHTS.get(right.strip().upper()) if isinstance(right, str) else None
    if side is None:
        raise InvalidParameterError("invalid right %r: use 'call' or 'put' ('C' or 'P')" % (right,))
    try:
        thousandths = round(float(strike) * 1000)
        exact = abs(float(strike) * 1000 - thousandths) < 1e-6
    except (TypeError, ValueError):
        thousandths, exact = -1, False
    if isinstance(strike, bool) or not exact or not 0 < thousandths < 100_000_000:
        raise InvalidParameterError("invalid strike %r: a positive price below 100000 with at most 3 decimals"
                                    % (strike,))
    return "O:%s%s%s%08d" % (root, expiry.strftime("%y%m%d"), side[0].upper(), thousandths)
