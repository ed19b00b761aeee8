"""Render columns as the landing contract's text, vectorised with pyarrow compute.

Every value is rendered exactly once, here, so that the CSV and JSON the generator writes are
byte-identical across machines: integers are cents, timestamps are epoch seconds, nothing goes
through locale- or time-zone-dependent formatting. The single-row functions at the bottom render
hand-made (defective) records with the same rules as the vectorised ones.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import numpy.typing as npt
import pyarrow as pa
import pyarrow.compute as pc

from ecomdw.core.model import Entity, Kind

IntArray = npt.NDArray[np.int64]
NEEDS_QUOTES = r'[",\r\n]'


def padded_ids(prefix: str, numbers: IntArray, width: int) -> Any:
    """`P000042`: fixed width so ids sort like their numbers."""
    digits = pc.utf8_lpad(pc.cast(pa.array(numbers, type=pa.int64()), pa.string()), width, "0")
    return pc.binary_join_element_wise(prefix, digits, "")


def money(cents: IntArray) -> Any:
    """Non-negative cents as a decimal string with two decimals: 1230 -> "12.30"."""
    return decimals(cents, 2)


def decimals(scaled: IntArray, scale: int) -> Any:
    """Non-negative integers holding value * 10**scale as decimal strings with `scale` places."""
    unit = 10**scale
    whole = pc.cast(pa.array(scaled // unit, type=pa.int64()), pa.string())
    fraction = pc.cast(pa.array(scaled % unit, type=pa.int64()), pa.string())
    return pc.binary_join_element_wise(whole, pc.utf8_lpad(fraction, scale, "0"), ".")


def timestamps(epoch_seconds: IntArray, offset_minutes: npt.NDArray[np.int16] | None = None) -> Any:
    """ISO 8601 in UTC with `Z`, or in local time with its `+hh:mm` offset where one is given."""
    if offset_minutes is None:
        return pc.strftime(_as_timestamp(epoch_seconds), format="%Y-%m-%dT%H:%M:%SZ")
    local = epoch_seconds + offset_minutes.astype(np.int64) * 60
    text = pc.strftime(_as_timestamp(local), format="%Y-%m-%dT%H:%M:%S")
    return pc.binary_join_element_wise(text, _offset_suffixes(offset_minutes), "")


def dates(epoch_days: IntArray) -> Any:
    return pc.strftime(
        pa.array(epoch_days.astype("datetime64[D]").astype("datetime64[s]")), format="%Y-%m-%d"
    )


def booleans(values: npt.NDArray[np.bool_]) -> Any:
    return pc.take(pa.array(["false", "true"]), pa.array(values.astype(np.int8)))


def pick(labels: Sequence[str | None], codes: npt.NDArray[np.integer[Any]]) -> Any:
    """Labels by integer code (dictionary decode); a negative code is NULL."""
    table = pa.array([*labels, None], type=pa.string())
    return pc.take(table, pa.array(np.where(codes < 0, len(labels), codes)))


def csv_lines(entity: Entity, columns: Mapping[str, Any]) -> Any:
    """One `...\\n` string per record, fields in the model's column order, quoted when needed."""
    fields = []
    for column in entity.columns:
        values = columns[column.name]
        if column.type.kind is Kind.STRING:
            values = _quote_where_needed(values)
        fields.append(values)
    line = pc.binary_join_element_wise(*fields, ",", null_handling="replace", null_replacement="")
    return pc.binary_join_element_wise(line, "", "\n")


def jsonl_lines(entity: Entity, columns: Mapping[str, Any]) -> Any:
    """One JSON object per line shaped by each column's source path; null nested fields omitted.

    Produces exactly what `json_line` (json.dumps) produces for the same record, only vectorised;
    values are plain ASCII codes and numbers rendered above, so nothing needs escaping.
    """
    members: list[Any] = []
    for top, nested in _json_layout(entity):
        if not nested:
            value = columns[top]
            rendered = pc.binary_join_element_wise('"', value, '"', "")
            members.append(pc.if_else(pc.is_null(value), "null", rendered))
            continue
        parts = []
        for position, (field, column_name) in enumerate(nested):
            value = columns[column_name]
            lead = "" if position == 0 else ", "
            part = pc.binary_join_element_wise(f'{lead}"{field}": "', value, '"', "")
            parts.append(pc.if_else(pc.is_null(value), "", part))
        members.append(pc.binary_join_element_wise("{", *parts, "}", ""))
    pieces: list[Any] = []
    for position, ((top, _), member) in enumerate(zip(_json_layout(entity), members, strict=True)):
        lead = "{" if position == 0 else ", "
        pieces.extend([f'{lead}"{top}": ', member])
    return pc.binary_join_element_wise(*pieces, "}\n", "")


def lines_bytes(lines: Any) -> bytes:
    """The concatenated UTF-8 bytes of a string array without copying row by row."""
    if len(lines) == 0:
        return b""
    lines = pa.concat_arrays([lines])
    offsets = np.frombuffer(lines.buffers()[1], dtype=np.int32)
    first, last = offsets[lines.offset], offsets[lines.offset + len(lines)]
    return bytes(lines.buffers()[2])[first:last]


# ---------------------------------------------------------------- single records


def csv_header(entity: Entity) -> str:
    return csv_line(list(entity.column_names))


def csv_line(values: Sequence[str | None]) -> str:
    return ",".join(_quote(v) for v in values) + "\n"


def json_record(entity: Entity, values: Mapping[str, str | None]) -> dict[str, Any]:
    """A record as the payments API nests it; null nested fields are left out."""
    record: dict[str, Any] = {}
    for top, nested in _json_layout(entity):
        if not nested:
            record[top] = values[top]
            continue
        record[top] = {field: values[c] for field, c in nested if values[c] is not None}
    return record


def json_line(record: Mapping[str, Any]) -> str:
    return json.dumps(record, ensure_ascii=False) + "\n"


def _quote(value: str | None) -> str:
    if value is None:
        return ""
    if any(ch in value for ch in '",\r\n'):
        return '"' + value.replace('"', '""') + '"'
    return value


def _quote_where_needed(values: Any) -> Any:
    quoted = pc.binary_join_element_wise('"', pc.replace_substring(values, '"', '""'), '"', "")
    return pc.if_else(pc.match_substring_regex(values, NEEDS_QUOTES), quoted, values)


def _json_layout(entity: Entity) -> list[tuple[str, list[tuple[str, str]]]]:
    """Top-level JSON members in column order; nested ones carry (field, column name) pairs."""
    layout: dict[str, list[tuple[str, str]]] = {}
    for column in entity.columns:
        path = column.source_path
        children = layout.setdefault(path[0], [])
        if len(path) == 2:
            children.append((path[1], column.name))
    return list(layout.items())


def _as_timestamp(epoch_seconds: IntArray) -> Any:
    return pa.array(epoch_seconds.astype("datetime64[s]"))


def _offset_suffixes(offset_minutes: npt.NDArray[np.int16]) -> Any:
    distinct = np.unique(offset_minutes)
    labels = [_offset_text(int(m)) for m in distinct]
    return pick(labels, np.searchsorted(distinct, offset_minutes))


def _offset_text(minutes: int) -> str:
    if minutes == 0:
        return "Z"
    sign = "+" if minutes > 0 else "-"
    hours, rest = divmod(abs(minutes), 60)
    return f"{sign}{hours:02d}:{rest:02d}"
