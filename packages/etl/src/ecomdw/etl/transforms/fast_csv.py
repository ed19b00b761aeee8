"""Vectorized reading of plain CSV files, with the verdicts and values of the contract's reader.

A CSV file is *plain* when it is strict UTF-8 without a quote, CR, NUL or BOM and its first line
is exactly the contract's header. On such a file the reference reader (`_iter_csv`: csv.reader
in strict mode over physical lines) has nothing to do but split: every non-empty line is one
record whose fields are `line.split(",")`, an empty line carries no record, and a record's
verdict depends on its own line only (the header is right, no byte is undecodable, there is no
quote to resynchronise on). So the records can be judged column by column with Arrow.

A row takes the fast way only when every field is certainly valid and its value certain;
anything else is a *slow row*, which the caller hands to the reference reader with its line
number. Per column, "certain" means one of:

- the reference's own parser and value check, run once per distinct text (exact by
  construction): columns with accepted values, a pattern or a range, CHARs, and integers,
  decimals, dates and booleans, which repeat (at 1M orders the most varied, an order's
  discount, has about 4k distinct texts in a file of 100k lines);
- a VARCHAR without checks: the reference's length rule, measured in UTF-8 bytes by Arrow;
- a timestamp without checks, in the one spelling the sources use (`YYYY-MM-DDTHH:MM:SS` then
  nothing, `Z` or `±HH:MM`, years 1000-2999, far from datetime's limits): Arrow's `strptime`,
  kept only when Arrow's formatting of it gives the text again (so `2026-02-30` or `23:59:60`,
  which `strptime` rolls over, are slow rows), minus the offset.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import pyarrow as pa
import pyarrow.compute as pc

from ecomdw.core.contract import _RejectedError, _type_parser, _value_check
from ecomdw.core.model import Column, Entity, FileFormat, Kind

_NOT_PLAIN = (b'"', b"\r", b"\x00", "\ufeff".encode())
_TIMESTAMP = (
    r"^[12][0-9]{3}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}"
    r"(?:Z|[+-](?:[01][0-9]|2[0-3]):[0-5][0-9])?$"
)
_LOCAL = "%Y-%m-%dT%H:%M:%S"
_LOCAL_WIDTH = 19  # len("YYYY-MM-DDTHH:MM:SS")
_PLACEHOLDER = "2000-01-01T00:00:00Z"  # parsed in place of texts already known to be slow


def plain_lines(entity: Entity, content: bytes) -> pa.StringArray | None:
    """The physical lines of a plain CSV file of `entity` (header included; a final empty
    string after the last `\\n` is not a line), or None when the file is not plain."""
    if entity.file_format is not FileFormat.CSV or any(b in content for b in _NOT_PLAIN):
        return None
    try:
        text = content.decode("utf-8")
    except UnicodeDecodeError:
        return None
    lines = pc.list_flatten(pc.split_pattern(pa.array([text], pa.string()), "\n"))
    if lines[0].as_py() != ",".join(entity.column_names):
        return None
    return lines[:-1] if text.endswith("\n") else lines


@dataclass(frozen=True)
class FastRead:
    """A file's rows: those read the fast way, and the lines left to the reference."""

    fast: pa.Table  # `parsed_schema` rows in file order, every one valid
    slow_lines: list[str]
    slow_line_numbers: list[int]


def read_plain_csv(
    entity: Entity,
    lines: pa.StringArray,
    schema: pa.Schema,
    batch_date: dt.date,
    source_file: str,
) -> FastRead:
    """Split `plain_lines` into fast rows (as `schema`, Arrow's `parsed_schema`) and slow ones."""
    numbers = pc.add(pc.indices_nonzero(pc.not_equal(lines, "")), 1).cast(pa.int32())
    numbers = numbers[1:]  # the header is line 1 and never empty
    records = lines.take(pc.subtract(numbers, 1))
    width = len(entity.columns)
    fields = pc.split_pattern(records, ",")
    whole = pc.equal(pc.list_value_length(fields), width)
    fields = fields.filter(whole)
    texts = [pc.list_element(fields, index) for index in range(width)]
    fast = certain_rows(
        entity,
        texts,
        numbers.filter(whole),
        records.filter(whole),
        schema=schema,
        batch_date=batch_date,
        source_file=source_file,
    )
    slow = pc.invert(pc.is_in(numbers, fast.column(2)))
    return FastRead(fast, records.filter(slow).to_pylist(), numbers.filter(slow).to_pylist())


def certain_rows(
    entity: Entity,
    texts: list[pa.StringArray],
    numbers: pa.Int32Array,
    records: pa.StringArray,
    *,
    schema: pa.Schema,
    batch_date: dt.date,
    source_file: str,
) -> pa.Table:
    """The records whose every field is certainly valid, as rows of `schema`.

    `texts` holds each column's field texts, aligned with the records' line `numbers` and raw
    `records`; a record not kept is for the reference reader.
    """
    typed_fields = list(schema)[len(schema) - len(entity.columns) :]
    certain = pa.repeat(True, len(records))
    values = []
    for column, arrow_field, column_texts in zip(entity.columns, typed_fields, texts, strict=True):
        ok, value = _read_column(column, column_texts, arrow_field.type)
        certain = pc.and_(certain, ok)
        values.append(value)
    fast_numbers = numbers.filter(certain)
    rows = len(fast_numbers)
    return pa.Table.from_arrays(
        [
            pa.repeat(pa.scalar(batch_date, schema[0].type), rows),
            pa.repeat(pa.scalar(source_file, schema[1].type), rows),
            fast_numbers,
            records.filter(certain),
            pa.nulls(rows, schema[4].type),
            pa.nulls(rows, schema[5].type),
            *(value.filter(certain) for value in values),
        ],
        schema=schema,
    )


def _read_column(
    column: Column, texts: pa.StringArray, arrow_type: pa.DataType
) -> tuple[pa.BooleanArray, pa.Array]:
    """Per field: whether it is certainly valid, and its value (NULL where it is empty)."""
    kind = column.type.kind
    varchar = kind is Kind.STRING and not column.type.fixed
    if _value_check(column) is None and (varchar or kind is Kind.TIMESTAMP):
        empty = pc.equal(texts, "")
        if varchar:
            ok, value = _varchar(column, texts), texts
        else:
            ok, value = _timestamp(texts, arrow_type)
        ok = pc.if_else(empty, column.nullable, ok)
        return ok, pc.if_else(empty, pa.scalar(None, arrow_type), value)
    return _each_distinct(column, texts, arrow_type)


def _each_distinct(
    column: Column, texts: pa.StringArray, arrow_type: pa.DataType
) -> tuple[pa.BooleanArray, pa.Array]:
    """The reference's parser and check, once per distinct text, mapped back to every row."""
    parse, check = _type_parser(column), _value_check(column)
    distinct = pc.unique(texts)
    oks: list[bool] = []
    parsed: list[object] = []
    for text in distinct.to_pylist():
        value = None
        if text:
            try:
                value = parse(text)
                if check is not None:
                    check(value)
            except _RejectedError:
                value = None
                oks.append(False)
            else:
                oks.append(True)
        else:
            oks.append(column.nullable)
        parsed.append(value)
    where = pc.index_in(texts, distinct)
    return pa.array(oks, pa.bool_()).take(where), pa.array(parsed, arrow_type).take(where)


def _varchar(column: Column, texts: pa.StringArray) -> pa.BooleanArray:
    """`_string_parser`'s rule for VARCHAR(n): at most n UTF-8 bytes (its test of the number of
    characters first only saves encoding)."""
    return pc.less_equal(pc.binary_length(texts), column.type.length or 65535)


def _timestamp(texts: pa.StringArray, arrow_type: pa.DataType) -> tuple[pa.BooleanArray, pa.Array]:
    """Canonical timestamps (see the module's docstring) as UTC instants of `arrow_type`."""
    spelled = pc.match_substring_regex(texts, _TIMESTAMP)
    texts = pc.if_else(spelled, texts, _PLACEHOLDER)
    local = pc.utf8_slice_codeunits(texts, 0, _LOCAL_WIDTH)
    seconds = pc.strptime(local, format=_LOCAL, unit="s", error_is_null=True)
    shown = pc.cast(seconds, pa.string())  # "YYYY-MM-DD HH:MM:SS": a space, not a T
    same_date, same_time = (
        pc.equal(pc.utf8_slice_codeunits(shown, *at), pc.utf8_slice_codeunits(local, *at))
        for at in ((0, 10), (11, _LOCAL_WIDTH))
    )
    again = pc.fill_null(pc.and_(same_date, same_time), False)
    offset = pc.utf8_slice_codeunits(texts, _LOCAL_WIDTH, _LOCAL_WIDTH + 6)
    signed = pc.equal(pc.utf8_length(offset), 6)
    offset = pc.if_else(signed, offset, "+00:00")
    minutes = pc.add(
        pc.multiply(pc.cast(pc.utf8_slice_codeunits(offset, 1, 3), pa.int64()), 60),
        pc.cast(pc.utf8_slice_codeunits(offset, 4, 6), pa.int64()),
    )
    minutes = pc.if_else(pc.starts_with(offset, "-"), pc.negate(minutes), minutes)
    utc = pc.subtract(pc.cast(pc.fill_null(seconds, 0), pa.int64()), pc.multiply(minutes, 60))
    value = pc.cast(pc.multiply(utc, 1_000_000), arrow_type)
    return pc.and_(spelled, again), value
