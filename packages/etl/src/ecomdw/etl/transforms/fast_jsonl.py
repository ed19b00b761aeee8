"""Vectorized reading of JSONL files in their canonical spelling, with the reference's verdicts.

The reference reader (`_iter_jsonl`) splits a file into physical lines, skips the blank ones
(`not line.strip()`: whitespace-only lines too), gives each other line to `json.loads` and looks
every column up by its source path. Nearly every line the sources send is spelled as the
generator spells it, `json.dumps(record, ensure_ascii=False)` of the record nested by source
path: members in model order, `": "` and `", "` between them, every value a string, null nested
members left out. When such a *canonical* line holds no `\\` (so no escape) and no control
character (which `json.loads` rejects), each value is exactly the text between two consecutive
quotes, and the document `json.loads` returns maps each member to that text. The column texts
of such lines are judged as a plain CSV's fields are (`fast_csv.certain_rows`): once every
present member is a string the record rules are the same, an empty string and an absent
member both being NULL.

A line is taken for canonical only when it *is* the canonical spelling of its values: they are
cut out at the positions of its quotes (found with NumPy over the whole file), the line is
spelled again from them with Arrow, and the two must be equal. Which members a line leaves out
(its *shape*) is told by its number of quotes. A member that may be NULL may be left out (absent
is NULL, as an empty string is), unless it opens its object, whose next member's separator would
then change; of shapes with as many quotes (for payments, a card brand without the last four
digits or the reverse, which the generator never writes) only the first is tried. A member
spelled `null` is never canonical: the generator writes one only at the top level, where no
member of a payment may be NULL (a defect).

A file qualifies when it is strict UTF-8 without CR (with `\\n` the only line end, its lines are
the reference's). Every non-blank line that is not canonical, or whose fields are not all
certainly valid, is a *slow line* for the reference reader, with its line number.
"""

from __future__ import annotations

import datetime as dt
import itertools
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt
import pyarrow as pa
import pyarrow.compute as pc

from ecomdw.core.model import Entity, FileFormat
from ecomdw.etl.transforms.fast_csv import FastRead, certain_rows

_QUOTE, _BACKSLASH, _SPACE = (ord(c) for c in '"\\ ')

_Positions = npt.NDArray[np.int64]


def jsonl_lines(entity: Entity, content: bytes) -> pa.StringArray | None:
    """The physical lines of a JSONL file of `entity` (a final empty string after the last `\\n`
    included: it is blank), or None when the file is not strict UTF-8 or holds a CR."""
    if entity.file_format is not FileFormat.JSONL or b"\r" in content:
        return None
    try:
        text = content.decode("utf-8")
    except UnicodeDecodeError:
        return None
    return pc.list_flatten(pc.split_pattern(pa.array([text], pa.string()), "\n"))


@dataclass(frozen=True)
class _Slot:
    """A value of a canonical line: its column, and the text from the previous value's closing
    quote (or the line's start) to its own opening quote, left out with it when optional."""

    column: int
    before: str
    optional: bool


@dataclass(frozen=True)
class _Shape:
    """A canonical line with some optional values left out."""

    quotes: int  # the number of `"` in such a line
    closing: tuple[int, ...]  # per slot: which of them closes its value; 0 when left out


def canonical_slots(entity: Entity) -> tuple[list[_Slot], str]:
    """The slots of the entity's canonical line in line order, and the text after the last."""
    tree: dict[str, Any] = {}  # column indices nested by source path, in model order
    for index, column in enumerate(entity.columns):
        *parents, leaf = column.source_path
        node = tree
        for name in parents:
            node = node.setdefault(name, {})
        node[leaf] = index
    slots: list[_Slot] = []
    return slots, _spell(entity, tree, "", slots) + "}"


def _spell(entity: Entity, node: dict[str, Any], text: str, slots: list[_Slot]) -> str:
    """Append the slots of one object (`json.dumps` spelling) and return the text after the
    last one, its closing brace left for the caller."""
    text += "{"
    for member, (name, child) in enumerate(node.items()):
        text += f'{", " if member else ""}"{name}": '
        if isinstance(child, dict):
            text = _spell(entity, child, text, slots) + "}"
            continue
        optional = member > 0 and entity.columns[child].nullable
        slots.append(_Slot(child, f'{text}"', optional))
        text = '"'
    return text


def _shapes(slots: list[_Slot], end: str) -> list[_Shape]:
    """Every choice of optional values present, the first of each number of quotes."""
    shapes: dict[int, _Shape] = {}
    choices = [(True, False) if slot.optional else (True,) for slot in slots]
    for present in itertools.product(*choices):
        quotes = 0
        closing = []
        for slot, here in zip(slots, present, strict=True):
            quotes += slot.before.count('"') if here else 0
            closing.append(quotes if here else 0)
        shape = _Shape(quotes + end.count('"'), tuple(closing))
        shapes.setdefault(shape.quotes, shape)
    return list(shapes.values())


def read_jsonl(
    entity: Entity,
    lines: pa.StringArray,
    schema: pa.Schema,
    batch_date: dt.date,
    source_file: str,
) -> FastRead:
    """Split `jsonl_lines` into fast rows (as `schema`, Arrow's `parsed_schema`) and slow lines;
    blank lines are neither."""
    rows, records, texts = _canonical_lines(entity, lines)
    numbers = pa.array(rows + 1, pa.int32())
    fast = certain_rows(
        entity,
        texts,
        numbers,
        records,
        schema=schema,
        batch_date=batch_date,
        source_file=source_file,
    )
    slow = pc.not_equal(lines, "").to_numpy(zero_copy_only=False)
    slow[fast.column(2).to_numpy() - 1] = False
    left = np.flatnonzero(slow)
    kept = [
        (line, int(index) + 1)
        for line, index in zip(lines.take(left).to_pylist(), left, strict=True)
        if line.strip()  # a whitespace-only line carries no record (`_iter_jsonl`)
    ]
    return FastRead(fast, [line for line, _ in kept], [number for _, number in kept])


def _canonical_lines(
    entity: Entity, lines: pa.StringArray
) -> tuple[_Positions, pa.StringArray, list[pa.StringArray]]:
    """The canonical lines: their indices, their texts, and their texts of each column."""
    slots, end = canonical_slots(entity)
    shapes = _shapes(slots, end)
    # The lines lie end to end in one buffer, without their `\n`: positions are in it.
    bounds = np.frombuffer(lines.buffers()[1], np.int32)[
        lines.offset : lines.offset + len(lines) + 1
    ]
    data = lines.buffers()[2].slice(int(bounds[0]), int(bounds[-1] - bounds[0]))
    starts, ends = bounds[:-1] - bounds[0], bounds[1:] - bounds[0]
    byte = np.frombuffer(data, np.uint8)
    quotes = np.flatnonzero(byte == _QUOTE)
    first = np.searchsorted(quotes, starts)
    count = np.searchsorted(quotes, ends) - first
    unsafe = np.flatnonzero((byte < _SPACE) | (byte == _BACKSLASH))  # controls, escapes
    clean = np.ones(len(lines), bool)
    clean[np.searchsorted(ends, unsafe, side="right")] = False
    shape_of = np.full(len(lines), -1)
    for number, shape in enumerate(shapes):
        shape_of[clean & (count == shape.quotes)] = number
    rows = np.flatnonzero(shape_of >= 0)
    # Per row and slot, which of the line's quotes closes the value (0: left out).
    closing = np.array([shape.closing for shape in shapes])[shape_of[rows]]
    first, line_start = first[rows], starts[rows]
    texts: dict[int, pa.StringArray] = {}
    pieces: list[pa.Array | str] = []
    for at, slot in enumerate(slots):
        close = first + np.maximum(closing[:, at], 1)  # the first quote when left out
        value_start, value_end = quotes[close - 1] + 1, quotes[close]
        before: pa.Array | str = slot.before
        if slot.optional:
            present = closing[:, at] > 0
            value_start = np.where(present, value_start, line_start)
            value_end = np.where(present, value_end, line_start)
            before = pc.if_else(pa.array(present), slot.before, "")
        texts[slot.column] = _slices(data, value_start, value_end)
        pieces += [before, texts[slot.column]]
    records = lines.take(rows)
    spelled = pc.binary_join_element_wise(*pieces, end, "")
    canonical = pc.equal(spelled, records).to_numpy(zero_copy_only=False)
    return (
        rows[canonical],
        records.filter(canonical),
        [texts[index].filter(canonical) for index in range(len(entity.columns))],
    )


def _slices(data: pa.Buffer, starts: _Positions, ends: _Positions) -> pa.StringArray:
    """The texts `data[starts[i]:ends[i]]`, ascending and apart, on character boundaries."""
    if not len(starts):
        return pa.array([], pa.string())
    bounds = np.stack([starts, ends], axis=1).reshape(-1).astype(np.int32)
    spans = pa.StringArray.from_buffers(len(bounds) - 1, pa.py_buffer(bounds), data)
    return spans.take(np.arange(0, len(bounds) - 1, 2))
