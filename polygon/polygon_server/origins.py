"""Parsing the ``Host`` and ``Origin`` headers the local server checks (pure, standard-library URL parsing).

A name is only what :func:`urllib.parse.urlsplit` says it is, and a port must be a number in range:
``localhost:x.evil.com``, ``127.0.0.1:8200.evil.com`` and ``localhost:@evil.com`` are malformed, not
``localhost``; nothing may follow a bracketed IPv6 literal but a port (``[::1].evil.com`` is malformed), and
the brackets must hold an IPv6 address. IPv6 literals come back bracketed (``[::1]``), names lower-cased.
"""

import ipaddress
from typing import Optional, Tuple
from urllib.parse import urlsplit

__all__ = ["parse_host", "parse_origin", "same_origin"]

_DEFAULT_PORTS = {"http": 80, "https": 443, "ws": 80, "wss": 443}


def parse_host(value: Optional[str]) -> Tuple[str, Optional[int]]:
    """``'localhost:8200'`` -> ``('localhost', 8200)``; ``'[::1]'`` -> ``('[::1]', None)``.

    :raises ValueError: empty, user info (``a@b``), a path, or a port that is not a number from 0 to 65535.
    """
    if not value or any(c in value for c in "/?#@\\ \t") or not value.isprintable():
        raise ValueError("malformed host %r" % (value,))
    return _host_port(urlsplit("//" + value))


def parse_origin(value: Optional[str]) -> Tuple[str, str, Optional[int]]:
    """``'http://localhost:8200'`` -> ``('http', 'localhost', 8200)`` (a trailing ``/`` is tolerated).

    :raises ValueError: not ``scheme://host[:port]`` (``null`` included), user info, a path or query, or a
        port that is not a number.
    """
    if not value or not value.isprintable() or "\\" in value or "@" in value:
        raise ValueError("malformed origin %r" % (value,))
    parts = urlsplit(value)
    if parts.scheme not in _DEFAULT_PORTS or parts.path not in ("", "/") or parts.query or parts.fragment:
        raise ValueError("malformed origin %r" % (value,))
    host, port = _host_port(parts)
    return parts.scheme, host, port


def same_origin(origin: str, host_header: Optional[str]) -> bool:
    """Whether a browser page at ``origin`` is served by the server answering ``host_header`` (same name and
    port, default ports filled in); ``False`` when either is malformed."""
    try:
        scheme, host, port = parse_origin(origin)
        own_host, own_port = parse_host(host_header)
    except ValueError:
        return False
    default = _DEFAULT_PORTS[scheme]
    return host == own_host and (port or default) == (own_port or default)


def _host_port(parts) -> Tuple[str, Optional[int]]:  # type: ignore[no-untyped-def]
    if parts.username is not None or parts.password is not None:
        raise ValueError("user info is not allowed in a host")
    _check_brackets(parts.netloc)
    host = parts.hostname
    port = parts.port  # ValueError for a non-numeric or out-of-range port
    if not host:
        raise ValueError("no host name")
    if ":" in host:
        host = "[%s]" % host
    return host, port


def _check_brackets(netloc: str) -> None:
    """``urlsplit`` reads ``[::1].evil.com`` as the host ``::1``: brackets must hold an IPv6 address and be
    followed by nothing or ``:port``."""
    if "[" not in netloc and "]" not in netloc:
        return
    inside, close, rest = netloc.partition("]")
    if not inside.startswith("[") or not close or "[" in inside[1:] or "]" in rest or rest[:1] not in ("", ":"):
        raise ValueError("malformed bracketed host %r" % (netloc,))
    try:
        ipaddress.IPv6Address(inside[1:].split("%", 1)[0])
    except ValueError:
        raise ValueError("brackets must hold an IPv6 address: %r" % (netloc,)) from None
