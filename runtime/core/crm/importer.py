"""Records from a CSV or JSON file, typed, ready for SqliteCRM.upsert: what `ccf crm import` reads.

Writes nothing: docs/crm.md "`ccf crm`" says how cells are typed.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
from pathlib import Path
from typing import Any

from ccdsl.runtime.core.crm.codec import is_name, number_problem
from ccdsl.types import BUILTIN_RECORDS

COLUMN_TYPES = ("text", "number", "bool", "date", "datetime", "list", "json")


class ImportFileError(ValueError):
    """A file that cannot be imported; the message names the file and the
    place in it."""


def read_records(path: str | Path, record_type: str) -> list[dict[str, Any]]:
    """The records in a .csv or .json file, as field -> value dicts."""
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix not in (".csv", ".json"):
        raise ImportFileError(f"{path}: expected a .csv or .json file")
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        raise ImportFileError(f"{path}: no such file") from None
    except IsADirectoryError:
        raise ImportFileError(f"{path}: is a directory, not a file") from None
    except OSError as exc:
        raise ImportFileError(f"{path}: cannot be read: {exc.strerror}") from None
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise ImportFileError(f"{path}: not UTF-8 text (byte {exc.start})") from None
    if not text.strip():
        raise ImportFileError(f"{path}: the file is empty")
    typed = _builtin_types(record_type)
    if suffix == ".csv":
        return _read_csv(path, text, typed)
    return _read_json(path, text, typed)


def _builtin_types(record_type: str) -> dict[str, str]:
    """field -> column type of the built-in record type of this name."""
    known = BUILTIN_RECORDS.get(record_type)
    if known is None or not known.crm:
        return {}
    return {f.name: f.type.kind for f in known.fields if f.type.kind in COLUMN_TYPES}


def _read_csv(path: Path, text: str, typed: dict[str, str]) -> list[dict[str, Any]]:
    reader = csv.reader(io.StringIO(text, newline=""), strict=True)
    try:
        header = next(reader)
        columns = _columns(path, header, typed)
        records = []
        for row in reader:
            if not any(cell.strip() for cell in row):
                continue  # a blank line
            line = reader.line_num
            if len(row) > len(columns):
                raise ImportFileError(f"{path}, line {line}: {len(row)} values, but the header "
                                      f"has {len(columns)} columns")
            record: dict[str, Any] = {}
            for (name, kind), cell in zip(columns, row + [""] * (len(columns) - len(row)),
                                          strict=True):
                record[name] = _cell(path, line, name, kind, cell)
            records.append(record)
    except csv.Error as exc:
        raise ImportFileError(f"{path}, line {reader.line_num}: not valid CSV: {exc}") from None
    if not records:
        raise ImportFileError(f"{path}: a header row but no records")
    return records


def _columns(path: Path, header: list[str], typed: dict[str, str]) -> list[tuple[str, str]]:
    columns: list[tuple[str, str]] = []
    for title in header:
        name, _, kind = title.strip().partition(":")
        name, kind = name.strip(), kind.strip().lower()
        if not is_name(name):
            raise ImportFileError(
                f"{path}, line 1: the column {title!r} is not a field name: use letters, "
                "digits and _, not starting with a digit (and `:TYPE` to give its type)")
        if kind and kind not in COLUMN_TYPES:
            raise ImportFileError(f"{path}, line 1: the column {title!r} has an unknown type "
                                  f"{kind!r}; expected one of {', '.join(COLUMN_TYPES)}")
        if any(name == seen for seen, _ in columns):
            raise ImportFileError(f"{path}, line 1: the column {name!r} appears twice")
        columns.append((name, kind or typed.get(name, "text")))
    return columns


def _cell(path: Path, line: int, name: str, kind: str, cell: str) -> Any:
    value = cell.strip()
    if value == "":
        return None
    try:
        converted = _convert(kind, value)
    except ValueError:
        raise ImportFileError(
            f"{path}, line {line}, column {name}: {value!r} is not a {kind}") from None
    problem = number_problem(converted, "; give the column the type text if it is a code")
    if problem:
        raise ImportFileError(f"{path}, line {line}, column {name}: {problem}")
    return converted


def _convert(kind: str, value: str) -> Any:
    if kind == "number":
        try:
            return int(value)
        except ValueError:
            return float(value)
    if kind == "bool":
        lowered = value.lower()
        if lowered in ("true", "yes", "1"):
            return True
        if lowered in ("false", "no", "0"):
            return False
        raise ValueError(value)
    if kind == "date":
        return dt.date.fromisoformat(value)
    if kind == "datetime":
        return dt.datetime.fromisoformat(value)
    if kind == "list":
        if value.startswith("["):
            items = json.loads(value)
            if not isinstance(items, list):
                raise ValueError(value)
            return items
        return [item.strip() for item in value.split(";") if item.strip()]
    if kind == "json":
        return json.loads(value)
    return value


def _read_json(path: Path, text: str, typed: dict[str, str]) -> list[dict[str, Any]]:
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ImportFileError(f"{path}, line {exc.lineno}: not valid JSON: {exc.msg}") from None
    if not isinstance(data, list):
        raise ImportFileError(f"{path}: expected a list of objects (records), "
                              f"found a JSON {_json_kind(data)}")
    if not data:
        raise ImportFileError(f"{path}: the list is empty: no records")
    records = []
    for index, item in enumerate(data):
        if not isinstance(item, dict):
            raise ImportFileError(f"{path}: item {index} is a JSON {_json_kind(item)}, "
                                  "not an object")
        record = {}
        for name, value in item.items():
            if not is_name(name):
                raise ImportFileError(f"{path}: item {index}: {name!r} is not a field name: "
                                      "use letters, digits and _, not starting with a digit")
            kind = typed.get(name)
            if kind in ("date", "datetime") and isinstance(value, str) and value:
                try:
                    value = _convert(kind, value)
                except ValueError:
                    raise ImportFileError(f"{path}: item {index}, field {name}: {value!r} is "
                                          f"not a {kind}") from None
            problem = number_problem(value)
            if problem:
                raise ImportFileError(f"{path}: item {index}{_id_of(item)}, field {name}: "
                                      f"{problem}")
            record[name] = value
        records.append(record)
    return records


def _id_of(item: dict) -> str:
    return f" (id {item['id']!r})" if isinstance(item.get("id"), (str, int)) else ""


def _json_kind(value: Any) -> str:
    if isinstance(value, dict):
        return "object"
    if isinstance(value, list):
        return "list"
    if isinstance(value, str):
        return "string"
    if isinstance(value, bool):
        return "boolean"
    if value is None:
        return "null"
    return "number"
