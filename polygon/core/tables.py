"""DataFrames of tabular endpoint results (trades, quotes, tickers, splits, dividends, contracts, news...).

``client.<endpoint>_df(...)`` (e.g. :meth:`~polygon.core.PolygonClient.list_trades_df`) requests every page
and hands the raw records to :func:`records_frame`, which lays them out by the endpoint's generated
:class:`~polygon._generated.endpoints.TableSpec` (from ``x-endpoint.table`` in schema/rest):

* one column per field of a record, in schema order; a nested object is flattened one level
  (``day.close`` -> ``day_close``); lists and deeper objects stay python objects (dtype ``object``);
* a map of line items (``financials.balance_sheet``: ``{assets: {value, unit, label, order}, ...}``, dtype
  ``items``) keeps its object column and adds one ``float64`` column per line item present in any record,
  ``<column>_<key>`` (``financials_balance_sheet_assets``), holding the items' ``value``;
* integers -> ``Int64`` (nullable), numbers -> ``float64``, booleans -> ``boolean``, text -> pandas'
  string dtype of the installed pandas (``object`` before pandas 3);
* epoch fields (``x-unit`` ns/ms/s: ``sip_timestamp``, indicator ``timestamp``...) -> ``datetime64[ns, tz]``
  in the configured timezone, built from the integers (nanoseconds stay exact: never through float);
* ISO date-times (``published_utc``) -> ``datetime64[ns, tz]``; calendar days (``ex_dividend_date``) ->
  ``datetime64[ns]`` at midnight (no zone);
* missing values are ``<NA>`` / ``NaN`` / ``NaT``. No records: the same columns, no rows.

A value the schema types one way and the body sends another (a string in a timestamp column) is a
:class:`~polygon.exceptions.PolygonResponseError`, not a silently wrong column.
"""

from typing import Any, Dict, List, Sequence

import numpy as np
import pandas as pd

from polygon.exceptions import PolygonResponseError

__all__ = ["column_dtypes", "records_frame"]

_NAT = np.iinfo(np.int64).min
_UNIT_NS = {"timestamp_ns": 1, "timestamp_ms": 1_000_000, "timestamp_s": 1_000_000_000}
_PANDAS_2 = int(pd.__version__.split(".")[0]) >= 2


def _value(record: Any, wire: Sequence[str]) -> Any:
    for key in wire:
        if not isinstance(record, dict):
            return None
        record = record.get(key)
    return record


def _epoch(values: List[Any], dtype: str, tz: str, column: str) -> pd.Series:
    scale = _UNIT_NS[dtype]
    ints = np.empty(len(values), dtype=np.int64)
    for i, value in enumerate(values):
        if value is None:
            ints[i] = _NAT
        elif isinstance(value, (int, np.integer)) and not isinstance(value, bool):
            ints[i] = int(value) * scale
        elif isinstance(value, float) and value.is_integer():
            ints[i] = int(value) * scale  # a float epoch (some feeds send 1.7e12): exact for whole numbers
        else:
            raise PolygonResponseError("column %r: expected epoch integers, got %r" % (column, value))
    stamps = pd.DatetimeIndex(ints.view("datetime64[ns]")).tz_localize("UTC").tz_convert(tz)
    return pd.Series(stamps, name=column)


def _iso(values: List[Any], tz: str, column: str) -> pd.Series:
    try:
        kwargs = {"format": "ISO8601"} if _PANDAS_2 else {}
        stamps = pd.to_datetime(pd.Series(values, dtype=object), utc=True, **kwargs)
    except (ValueError, TypeError) as exc:
        raise PolygonResponseError("column %r: not ISO-8601 date-times: %s" % (column, exc)) from None
    return stamps.dt.tz_convert(tz).astype(pd.DatetimeTZDtype("ns", tz)).rename(column)


def _day(values: List[Any], column: str) -> pd.Series:
    try:
        days = pd.to_datetime(pd.Series(values, dtype=object), format="%Y-%m-%d")
        return days.astype("datetime64[ns]").rename(column)
    except (ValueError, TypeError) as exc:
        raise PolygonResponseError("column %r: not YYYY-MM-DD days: %s" % (column, exc)) from None


def _typed(values: List[Any], dtype: str, column: str) -> pd.Series:
    try:
        if dtype == "int":
            return pd.Series(pd.array(values, dtype="Int64"), name=column)
        if dtype == "float":
            return pd.Series(np.array([np.nan if v is None else v for v in values], dtype=np.float64), name=column)
        if dtype == "bool":
            return pd.Series(pd.array(values, dtype="boolean"), name=column)
    except (ValueError, TypeError) as exc:
        raise PolygonResponseError("column %r: values are not %s: %s" % (column, dtype, exc)) from None
    if dtype == "str":
        return pd.Series(values, name=column, dtype=None if values else object)
    return pd.Series(values, name=column, dtype=object)


def records_frame(table: Any, records: List[Dict[str, Any]], tz: str) -> pd.DataFrame:
    """A DataFrame of ``records`` (wire dicts) laid out by ``table`` (a generated ``TableSpec``).

    :param table: the endpoint's ``ENDPOINTS[name].table``.
    :param records: decoded records, e.g. every page's ``results`` concatenated.
    :param tz: IANA timezone of the datetime columns.
    :returns: one row per record, the columns of :func:`column_dtypes`.
    :raises PolygonResponseError: a value that does not fit its column's type.
    """
    columns = {}
    for spec in table.columns:
        values = [_value(record, spec.wire) for record in records]
        if spec.dtype in _UNIT_NS:
            columns[spec.name] = _epoch(values, spec.dtype, tz, spec.name)
        elif spec.dtype == "datetime":
            columns[spec.name] = _iso(values, tz, spec.name)
        elif spec.dtype == "date":
            columns[spec.name] = _day(values, spec.name)
        else:
            columns[spec.name] = _typed(values, spec.dtype, spec.name)
        if spec.dtype == "items":
            columns.update(_line_items(values, spec.name))
    return pd.DataFrame(columns, index=pd.RangeIndex(len(records)))


def _line_items(maps: List[Any], column: str) -> Dict[str, pd.Series]:
    """One float column ``<column>_<key>`` per line item present in any record (first-seen order): the items'
    ``value`` (``NaN`` where a record lacks the item)."""
    keys: Dict[str, None] = {}
    for items in maps:
        if isinstance(items, dict):
            keys.update(dict.fromkeys(items))
    out = {}
    for key in keys:
        values = [((items or {}).get(key) or {}).get("value") if isinstance(items, dict) else None for items in maps]
        out["%s_%s" % (column, key)] = _typed(values, "float", "%s_%s" % (column, key))
    return out


def column_dtypes(table: Any, tz: str = "America/New_York") -> Dict[str, str]:
    """``{column: dtype}`` of the frames built for ``table`` (what the ``*_df`` docstrings list)."""
    frame = records_frame(table, [], tz)
    return {name: str(dtype) for name, dtype in frame.dtypes.items()}
