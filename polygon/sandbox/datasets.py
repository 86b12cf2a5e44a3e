"""The list grammar of the provider's newer datasets (``/stocks/v1``, ``/stocks/financials/v1``, filings vX,
``/fed/v1``, the partner datasets), over :mod:`polygon.sandbox.listing`.

Those endpoints sort by ``sort=column.asc|desc`` (a comma separated list; the first column decides here)
instead of ``sort=column&order=...``, page up to ``limit=50000`` rows, and filter list-valued fields
(``tickers``) by membership (``tickers=AAPL``, ``tickers.any_of=AAPL,MSFT``, ``tickers.all_of=...``).
:func:`page` turns such a query into what :func:`~polygon.sandbox.listing.list_body` pages: a cursor's
``next_url`` carries the column and direction as ``sort`` and ``order``, which :func:`page` reads back.
"""

import datetime as _dt
from typing import Any, Callable, Dict, Iterable, List, Mapping, Optional, Tuple

from polygon.sandbox.listing import effective_query, filter_rows, list_body
from polygon.sandbox.wire import WireError

__all__ = ["page", "quarter_ends", "round_money", "sort_of", "today"]

_QUARTER_ENDS = ((3, 31), (6, 30), (9, 30), (12, 31))


def today(call: Any) -> _dt.date:
    """The sandbox clock's date (UTC) for ``call``."""
    return _dt.datetime.fromtimestamp(call.now_ms / 1000.0, _dt.timezone.utc).date()


def quarter_ends(first_year: int, last: _dt.date) -> List[Tuple[int, int, _dt.date]]:
    """``(fiscal year, quarter, period end)`` of every calendar quarter from ``first_year`` ending by ``last``."""
    out = []
    for year in range(first_year, last.year + 1):
        for quarter, (month, day) in enumerate(_QUARTER_ENDS, 1):
            end = _dt.date(year, month, day)
            if end <= last:
                out.append((year, quarter, end))
    return out


def round_money(value: float) -> float:
    """An amount in whole currency units, as the statements report them."""
    return float(round(value))


def sort_of(query: Mapping[str, str], default: str) -> Tuple[str, bool]:
    """``(column, descending)`` of the query's ``sort`` (``col.desc``, ``col.asc``, or a bare column with
    ``order``); ``default`` is in the same notation."""
    text = (query.get("sort") or default).split(",")[0].strip()
    column, _, direction = text.partition(".")
    if direction and direction not in ("asc", "desc"):
        raise WireError(400, "Invalid sort '%s': a column followed by '.asc' or '.desc'." % text)
    if not direction:
        direction = query.get("order") or (default.partition(".")[2] or "asc")
    return column, direction == "desc"


def _membership(rows: List[Dict[str, Any]], query: Mapping[str, str], name: str,
                get: Callable[[Dict[str, Any]], Iterable[str]]) -> List[Dict[str, Any]]:
    """Rows whose list field ``name`` contains the wanted values (equal: one, any_of: any, all_of: all)."""
    one = query.get(name)
    if one:
        rows = [r for r in rows if one in get(r)]
    anyof = query.get(name + ".any_of")
    if anyof:
        wanted = set(anyof.split(","))
        rows = [r for r in rows if wanted & set(get(r))]
    allof = query.get(name + ".all_of")
    if allof:
        wanted = set(allof.split(","))
        rows = [r for r in rows if wanted <= set(get(r))]
    return rows


def page(call: Any, rows: List[Dict[str, Any]], default_sort: str, fields: Mapping[str, Callable],
         times: tuple = (), lists: Optional[Mapping[str, Callable]] = None,
         render: Optional[Callable[[Dict[str, Any]], Dict[str, Any]]] = None, limit: int = 10,
         max_limit: int = 50000, query: Optional[Dict[str, str]] = None) -> Dict[str, Any]:
    """One page of ``rows`` filtered by the request's query.

    :param default_sort: ``'column.asc'`` or ``'column.desc'``; the column must be a key of the rows (or
        of ``fields``).
    :param fields: query name -> getter of a row's scalar value (equality, ranges, ``any_of``).
    :param lists: query name -> getter of a row's list value (membership filters).
    :param render: the wire dict of a row of the page (rows can be cheap stubs until then).
    """
    query = dict(effective_query(call) if query is None else query)
    rows = filter_rows(rows, query, fields, times)
    for name, get in (lists or {}).items():
        rows = _membership(rows, query, name, get)
    column, descending = sort_of(query, default_sort)
    query["sort"], query["order"] = column, "desc" if descending else "asc"
    return list_body(call, rows, query, column, order=query["order"], limit=limit, max_limit=max_limit,
                     keys=fields, render=render)
