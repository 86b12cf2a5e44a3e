"""Name conversions shared by the loader and the OpenAPI importer."""

import keyword
import re

_CAMEL_1 = re.compile(r"([A-Z]+)([A-Z][a-z])")
_CAMEL_2 = re.compile(r"([a-z0-9])([A-Z])")
_NON_WORD = re.compile(r"[^0-9a-zA-Z_]+")


def snake_case(name):
    """``queryCount`` -> ``query_count``, ``ticker.gte`` -> ``ticker_gte``, ``from`` -> ``from_``.

    Single upper-case letters stay as they are (``T`` is not ``t``) so distinct wire keys keep
    distinct python names; give those an explicit ``x-python-name``.
    """
    if len(name) > 1:
        name = _CAMEL_2.sub(r"\1_\2", _CAMEL_1.sub(r"\1_\2", name)).lower()
    name = _NON_WORD.sub("_", name).strip("_") or "field"
    if name[0].isdigit():
        name = "_" + name
    if keyword.iskeyword(name):
        name += "_"
    return name


def camel_case(name):
    """``snapshot_ticker`` / ``lastQuote`` -> ``SnapshotTicker`` / ``LastQuote``."""
    parts = [p for p in _NON_WORD.sub("_", snake_case(name)).split("_") if p]
    return "".join(p[:1].upper() + p[1:] for p in parts)


def is_identifier(name):
    """True when ``name`` can be a python attribute / keyword argument."""
    return name.isidentifier() and not keyword.iskeyword(name)
