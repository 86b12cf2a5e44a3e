"""The corpus of the provider's recorded responses (tests/recorded) and the checks the conformance tests run
over it: model types against JSON values, DataFrames against JSON values."""

import dataclasses
import json
import re
import typing
from pathlib import Path
from typing import Any, Dict, List

import pandas as pd

RECORDED = Path(__file__).resolve().parents[1] / "recorded"
_DAY = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_INSTANT = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})?$")
_UNIT_NS = {"timestamp_ns": 1, "timestamp_ms": 1_000_000, "timestamp_s": 1_000_000_000}


def sources() -> Dict[str, Dict[str, Any]]:
    """``{relative file: source record}`` of SOURCES.json (collect.py writes it)."""
    return json.loads((RECORDED / "SOURCES.json").read_text(encoding="utf-8"))


def rest_bodies() -> List[Any]:
    """``[(relative file, endpoint name)]`` of every recorded REST body."""
    return [(rel, meta["endpoint"]) for rel, meta in sorted(sources().items()) if rel.startswith("rest/")]


def stream_frames() -> List[Any]:
    """``[(relative file, market)]`` of every recorded stream frame (a list of wire events)."""
    return [(rel, meta["market"]) for rel, meta in sorted(sources().items()) if rel.startswith("stream/")]


def load(rel: str) -> Any:
    return json.loads((RECORDED / rel).read_text(encoding="utf-8"))


# ------------------------------------------------------------------------------------------------ types
def type_problems(model: Any, where: str = "") -> List[str]:
    """Fields of a parsed model whose JSON value does not fit the field's annotation (an integer-typed field
    holding 21321000000.0, a string where a list is declared...), as dotted paths."""
    out: List[str] = []
    _check_model(model, where, out)
    return out


def _check_model(model: Any, where: str, out: List[str]) -> None:
    hints = typing.get_type_hints(type(model))
    for field in dataclasses.fields(model):
        if field.name == "extra_fields":
            continue
        value = getattr(model, field.name)
        if value is not None:
            _check(value, hints[field.name], "%s.%s" % (where, field.name) if where else field.name, out)


def _check(value: Any, annotation: Any, where: str, out: List[str]) -> None:
    origin, args = typing.get_origin(annotation), typing.get_args(annotation)
    if origin is typing.Union:
        annotation = next(a for a in args if a is not type(None))
        origin, args = typing.get_origin(annotation), typing.get_args(annotation)
    if annotation is Any:
        return
    if origin is list:
        if not isinstance(value, list):
            out.append("%s: %r is not a list" % (where, value))
            return
        for i, item in enumerate(value):
            if item is not None:
                _check(item, args[0], "%s[%d]" % (where, i), out)
        return
    if origin is dict:
        if not isinstance(value, dict):
            out.append("%s: %r is not an object" % (where, value))
            return
        for key, item in value.items():
            if item is not None:
                _check(item, args[1], "%s.%s" % (where, key), out)
        return
    if dataclasses.is_dataclass(annotation):
        if isinstance(value, annotation):
            _check_model(value, where, out)
        else:
            out.append("%s: %r is not a %s" % (where, value, annotation.__name__))
        return
    ok = {
        int: lambda v: isinstance(v, int) and not isinstance(v, bool),
        float: lambda v: isinstance(v, (int, float)) and not isinstance(v, bool),
        bool: lambda v: isinstance(v, bool),
        str: lambda v: isinstance(v, str),
    }.get(annotation, lambda v: True)
    if not ok(value):
        out.append("%s: %r is not %s" % (where, value, getattr(annotation, "__name__", annotation)))


# ------------------------------------------------------------------------------------------------ frames
def records_at(body: Any, keys: typing.Sequence[str]) -> List[Dict[str, Any]]:
    for key in keys:
        body = body.get(key) if isinstance(body, dict) else None
    return body or []


def frame_problems(table: Any, records: List[Dict[str, Any]], frame: pd.DataFrame) -> List[str]:
    """Cells of ``frame`` (built by polygon.core.tables from ``records``) that differ from the JSON values, record
    keys without a column, and day / ISO-time text left in a text column."""
    out: List[str] = []
    columns = {spec.name: spec for spec in table.columns}
    covered = {spec.wire[0] for spec in table.columns}
    for key in sorted({k for record in records for k in record} - covered):
        out.append("record key %r has no column" % key)
    for name, spec in columns.items():
        if name not in frame.columns:
            out.append("column %r missing" % name)
            continue
        for row, record in enumerate(records):
            value = record
            for key in spec.wire:
                value = value.get(key) if isinstance(value, dict) else None
            problem = _cell_problem(spec.dtype, value, frame[name].iloc[row])
            if problem:
                out.append("%s[%d]: %s" % (name, row, problem))
        if spec.dtype == "items":
            out += _item_problems(name, spec, records, frame)
        texts = [record.get(spec.wire[0]) for record in records if len(spec.wire) == 1]
        texts = [t for t in texts if isinstance(t, str)]
        if spec.dtype == "str" and texts and all(_DAY.match(t) for t in texts):
            out.append("column %r holds days %r but is typed text (schema: format date)" % (name, texts[0]))
        if spec.dtype == "str" and texts and all(_INSTANT.match(t) for t in texts):
            out.append("column %r holds ISO times %r but is typed text (schema: format date-time)" % (name, texts[0]))
    return out


def _item_problems(name: str, spec: Any, records: List[Dict[str, Any]], frame: pd.DataFrame) -> List[str]:
    """A line-item map: a float column ``<name>_<key>`` per item present, holding each record's ``value``."""
    out = []
    for row, record in enumerate(records):
        items = record
        for key in spec.wire:
            items = items.get(key) if isinstance(items, dict) else None
        for key, item in (items or {}).items():
            column = "%s_%s" % (name, key)
            if column not in frame.columns:
                out.append("line item %r has no column %r" % (key, column))
            elif frame[column].dtype != "float64" or float(frame[column].iloc[row]) != float(item["value"]):
                out.append("%s[%d]: %r became %r" % (column, row, item["value"], frame[column].iloc[row]))
    return out


def _cell_problem(dtype: str, value: Any, cell: Any) -> str:
    if value is None:
        return "" if (cell is None or pd.isna(cell)) else "None became %r" % (cell,)
    if isinstance(value, (dict, list)) and dtype not in ("object", "items"):
        return "a nested %s in a %s column" % (type(value).__name__, dtype)
    if dtype in _UNIT_NS:
        return "" if pd.Timestamp(cell).value == int(value) * _UNIT_NS[dtype] else "%r became %r" % (value, cell)
    if dtype == "datetime":
        return "" if pd.Timestamp(cell) == pd.Timestamp(value) else "%r became %r" % (value, cell)
    if dtype == "date":
        return "" if pd.Timestamp(cell).strftime("%Y-%m-%d") == value else "%r became %r" % (value, cell)
    if dtype == "float":
        return "" if float(cell) == float(value) else "%r became %r" % (value, cell)
    if dtype in ("int", "bool", "str"):
        same = type(value) is type(cell.item() if hasattr(cell, "item") else cell) or dtype == "str"
        return "" if cell == value and same else "%r became %r" % (value, cell)
    return "" if cell == value else "%r became %r" % (value, cell)
