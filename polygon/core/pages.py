"""Aggregate pages to bar columns, without one Python object per bar (pure: no I/O).

:func:`decode_aggs_page` decodes a page body straight into columns when the bars have the provider's
plain shape (every bar a flat object of the same numeric fields in the same order): the ``results``
array is turned into one comma-separated list of numbers by a byte translation and read in one call: by
numpy's C parser (``numpy.fromstring``, never one Python float per number) with the standard library, by
orjson when installed; about 2x faster than building a dict per bar and reading it back. Anything else
(missing fields, nulls, strings, whitespace, unknown keys, a count that does not add up) is decoded the
ordinary way, so the result does not depend on which path ran (without orjson, number tokens JSON forbids,
such as ``01``, are read as numbers).
:func:`columns_from_pages` accepts pages of either kind.
"""

from operator import itemgetter
from typing import Any, Dict, Iterable, List, Optional, Tuple

import numpy as np

from polygon.core import json_codec
from polygon.core.http import decode_json
from polygon.exceptions import PolygonResponseError
from polygon.markets.frames import COLUMN_TO_WIRE, INDEX_NAME, OHLC_COLUMNS, WIRE_COLUMNS, WIRE_TO_COLUMN

__all__ = ["WIRE_COLUMNS", "PageColumns", "columns_from_pages", "decode_aggs_page"]

_RESULTS = b'"results":['
_NUMBER_BYTES = b"0123456789.+-eE"
_INT_KEYS = (COLUMN_TO_WIRE[INDEX_NAME], COLUMN_TO_WIRE["transactions"])
_REQUIRED = tuple(COLUMN_TO_WIRE[name] for name in (INDEX_NAME,) + OHLC_COLUMNS)
_EXACT_INT = 2.0 ** 53
_CHUNK_BYTES = 1 << 20
_MIN_FAST_BYTES = 4096  # below this (a few dozen bars) building dicts costs less than the checks


class PageColumns(dict):
    """``results`` of a page decoded straight into columns: ``{wire name: ndarray}`` (a distinct type, so a
    provider body whose ``results`` is a JSON object is never mistaken for it)."""


def _bar_keys(template: bytes) -> Optional[List[str]]:
    """Keys of a skeleton object ``{"o":,"h":,...}`` (numbers removed), or ``None`` when it is not one."""
    if len(template) < 2 or template[:1] != b"{" or template[-1:] != b"}":
        return None
    keys = []
    for item in template[1:-1].split(b","):
        if len(item) < 4 or item[:1] != b'"' or item[-2:] != b'":':
            return None
        key = item[1:-2].decode("ascii", "replace")
        if key not in WIRE_TO_COLUMN or key in keys:
            return None
        keys.append(key)
    return keys


def _orjson_numbers(body: bytes, table: bytes, size: int) -> np.ndarray:
    """The numbers of the blanked bars, decoded by orjson a slice of bars at a time (so the Python floats
    never exist for a whole page at once) into one float64 array; raises ``ValueError`` when they are not
    ``size`` JSON numbers."""
    flat = np.empty(size, np.float64)
    filled, start, stop = 0, 1, len(body) - 1
    while start < stop:
        cut = body.find(b"},{", start + _CHUNK_BYTES)  # between two bars: a flat bar holds no braces
        cut = stop if cut < 0 else cut + 1
        numbers = json_codec.loads(b"[" + body[start:cut].translate(table) + b"]")
        if not isinstance(numbers, list) or filled + len(numbers) > size:
            raise ValueError("not the expected numbers")
        flat[filled:filled + len(numbers)] = numbers
        filled += len(numbers)
        start = cut + 1
    if filled != size:
        raise ValueError("not the expected numbers")
    return flat


def _fast_columns(content: bytes) -> Optional[Tuple[Dict[str, Any], Dict[str, np.ndarray]]]:
    """``(page without results, columns)`` for a plain page, else ``None`` (decode it the ordinary way)."""
    at = content.find(_RESULTS)
    if at < 0 or content.find(_RESULTS, at + 1) >= 0:
        return None
    start = at + len(_RESULTS) - 1
    end = content.find(b"]", start)
    if end < 0:
        return None
    body = content[start:end + 1]
    try:
        meta = json_codec.loads(content[:start] + b"[]" + content[end + 1:])
    except ValueError:
        return None
    if not isinstance(meta, dict) or meta.get("results") != []:
        return None
    if body == b"[]":
        return meta, {}
    skeleton = body.translate(None, _NUMBER_BYTES)
    close = skeleton.find(b"}")
    template = skeleton[1:close + 1]
    keys = _bar_keys(template)
    if keys is None or any(k not in keys for k in _REQUIRED):
        return None
    count, rest = divmod(len(skeleton) - 1, len(template) + 1)  # "[" + n * (template + ",") minus one "," + "]"
    if rest or skeleton != b"[" + b",".join([template] * count) + b"]":
        return None
    # the same object shape on every bar: blank the keys and braces, and the bars are one comma-separated list
    # of numbers that numpy's C parser reads straight into float64 (no Python number is ever made); every value
    # holds only number characters (the skeleton check), and a count that is not bars x fields (a value that is
    # not one JSON number) sends the page down the ordinary path
    letters = bytes(sorted(set("".join(keys).encode("ascii"))))
    table = bytes.maketrans(b'{}":' + letters, b" " * (4 + len(letters)))
    width = len(keys)
    try:
        if json_codec.BACKEND == "orjson":  # orjson's number parser is faster still than numpy's
            flat = _orjson_numbers(body, table, count * width)
        else:
            flat = np.fromstring(body[1:-1].translate(table), dtype=np.float64, sep=",")
    except (ValueError, TypeError, OverflowError, DeprecationWarning):  # numpy: "could not be read to its end"
        return None  # (an error under -W error)
    if flat.size != count * width or not np.isfinite(flat).all():
        return None
    table2d = flat.reshape(count, width)
    columns: Dict[str, np.ndarray] = {}
    for i, key in enumerate(keys):
        column = np.ascontiguousarray(table2d[:, i])
        if key in _INT_KEYS:
            # whole numbers that float64 holds exactly, else the ordinary path decides; 2**53 itself is out:
            # 2**53 + 1 reads as the same float, so a value there may not be the one the provider sent
            if not (np.abs(column) < _EXACT_INT).all():
                return None
            as_int = column.astype(np.int64)
            if not np.array_equal(as_int, column):
                return None
            column = as_int
        columns[key] = column
    return meta, columns


def decode_aggs_page(content: bytes, url: Optional[str] = None, status: Optional[int] = None) -> Any:
    """Decode one aggregates page; ``results`` comes back as columns (``{wire name: ndarray}``) when the
    bars have the plain shape, else as the ordinary list of bar dicts.

    :raises PolygonResponseError: for a body that is not JSON (as :func:`polygon.core.http.decode_json`).
    """
    fast = _fast_columns(content) if content and len(content) >= _MIN_FAST_BYTES else None
    if fast is None:
        return decode_json(content, url, status)
    meta, columns = fast
    meta["results"] = PageColumns(columns)
    return meta


def _column(results: List[dict], key: str, dtype: Any) -> np.ndarray:
    count = len(results)
    try:
        return np.fromiter(map(itemgetter(key), results), dtype=dtype, count=count)
    except (KeyError, TypeError, ValueError):
        pass
    # a field missing (or null) on some bars: slow path, missing -> NaN
    try:
        return np.array([np.nan if v is None else v for v in (row.get(key) for row in results)], dtype=np.float64)
    except (AttributeError, TypeError, ValueError):
        raise PolygonResponseError("aggregates page has a malformed bar (field %r)" % key) from None


def _page_columns(results: Any) -> Dict[str, np.ndarray]:
    if isinstance(results, PageColumns):  # decoded straight into columns
        size = len(results["t"]) if results else 0
        return {key: results[key] if key in results else np.full(size, np.nan) for key in WIRE_COLUMNS}
    if not isinstance(results, list):
        raise PolygonResponseError("aggregates page has non-list results (%s)" % type(results).__name__)
    out = {}
    for key in WIRE_COLUMNS:
        column = _column(results, key, np.int64 if key in _INT_KEYS else np.float64)
        if key in _REQUIRED and column.dtype == np.float64 and np.isnan(column).any():
            raise PolygonResponseError("aggregates page has bars without %r" % key)
        if key == "t" and column.dtype != np.int64:
            column = column.astype(np.int64)
        out[key] = column
    return out


def columns_from_pages(pages: Iterable[Any]) -> Dict[str, np.ndarray]:
    """Turn aggregate pages into numpy columns without one Python object per bar.

    :param pages: iterable of decoded page dicts whose ``results`` is a list of wire bars, or columns as
        :func:`decode_aggs_page` returns them.
    :returns: ``{'t': int64 ms, 'o','h','l','c','v','vw': float64, 'n': int64}``; ``vw``/``n`` missing
        on some bars come out as NaN (``n`` is then float64).
    :raises PolygonResponseError: when a bar lacks a timestamp or a price.
    """
    parts: Dict[str, List[np.ndarray]] = {key: [] for key in WIRE_COLUMNS}
    for page in pages:
        results = page.get("results") or []
        if len(results) == 0:
            continue
        for key, column in _page_columns(results).items():
            if len(column):
                parts[key].append(column)
    out = {}
    for key in WIRE_COLUMNS:
        chunks = parts[key]
        if not chunks:
            out[key] = np.empty(0, dtype=np.int64 if key in _INT_KEYS else np.float64)
        elif len(chunks) == 1:
            out[key] = chunks[0]
        else:  # int64 and float64 (NaN for missing) pages concatenate to float64
            out[key] = np.concatenate(chunks)
    return out
