"""The raw landing contract: layout, the classes of bad record, and the strict reader.

`<raw root>/<entity>/ingest_date=YYYY-MM-DD/<any name>.<ext>`; see the model for the columns.

The strict reader is the reference implementation of the contract: the generator's manifest is
checked against it and end-to-end tests compute their expectations with it, so every rule is
spelled out here.

Files
    UTF-8 (an initial BOM is ignored; undecodable bytes make their record `unparseable`). CSV
    files start with a header that must equal the model's column names in order; if it does not,
    every record of the file is `unparseable`. Records follow RFC 4180: fields may be quoted and
    then hold commas, doubled quotes and line breaks; a quote inside an unquoted field is an
    error. Blank lines carry no record and are skipped. Line numbers are 1-based physical lines
    (`\\n`, `\\r\\n` or a lone `\\r` ends one) where the record starts. JSONL files hold one
    JSON object per line; members are looked up by each column's source path (`method.type`),
    absent members and `null` are NULL, other members are ignored, and every present value must
    be a JSON string (the contract's text), else `wrong_type`. A string that escapes a lone
    surrogate (`"\\ud800"`) is valid JSON but not Unicode text (RFC 8259 section 8.2; I-JSON,
    RFC 7493 section 2.1, forbids it), and no UTF-8, so no Redshift VARCHAR, can hold it: like
    the bytes of a surrogate, which are not UTF-8, it makes its record `unparseable`.
Recovering from broken records
    A record with a quoting error (unclosed or stray quote) is one `unparseable` record made of
    its first physical line; reading resumes on the next line. A record that parses but has the
    wrong number of fields is one `unparseable` record spanning all its lines.
Values
    Empty (CSV) or empty string / null / absent (JSON) is NULL. Integers: optional `-`, digits,
    within the type's range. Decimals: `-?digits[.digits]`, no exponent; more decimals than the
    column's scale are accepted only if the extra digits are zeros (`12.300` in DECIMAL(18,2)),
    since rounding would silently change money, so `12.345` is `wrong_type`; values are returned
    at the column's scale. Booleans: `true` or `false` exactly. Dates: `YYYY-MM-DD`. Timestamps:
    `YYYY-MM-DDTHH:MM:SS[.f{1,6}][Z|+HH:MM|-HH:MM]`; no offset means UTC, an offset is converted
    to UTC; returned as naive UTC datetimes (Redshift TIMESTAMP). VARCHAR(n) holds at most n
    UTF-8 bytes and CHAR(n) at most n ASCII characters (Redshift's limits), else `wrong_type`.
One reason per record
    When a record breaks several rules the reason is the first that applies in this order,
    over all columns: missing_key, wrong_type, missing_value, unknown_value, invalid_format,
    out_of_range; then duplicate_key and orphan_reference, which need other records.
Batches, duplicates and references (`read_raw_tree`)
    Batches are read in date order; within a batch the entities in the model's dependency order
    and the files in name order. A key seen twice in one batch among records that passed the
    record rules keeps its first occurrence (file name, then line); later copies are
    `duplicate_key`. A parent key is known once a record carrying it is loaded. A child whose
    parent is not known when its own batch has been read is held: if the parent is loaded in a
    later batch, the child is a late arrival (loaded, reported apart, not a defect); if it never
    is, the child is `orphan_reference` in its own batch. This cascades: an order that is
    quarantined or orphaned is never loaded, so its lines and payments are orphans too (a defect
    injected into a parent record therefore also turns its children into orphans, unless a valid
    copy of the parent arrives). For every batch and entity, read = loaded + quarantined.
"""

from __future__ import annotations

import csv
import datetime as dt
import json
import re
from collections import defaultdict
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from enum import StrEnum
from functools import partial
from pathlib import Path
from typing import TextIO

from ecomdw.core.errors import UserError
from ecomdw.core.model import (
    RAW_ENTITIES,
    Column,
    DataType,
    Entity,
    FileFormat,
    Kind,
)

BATCH_PARTITION = "ingest_date"


class Defect(StrEnum):
    """Why a record went to quarantine (machine-readable, stable across releases)."""

    UNPARSEABLE = "unparseable"  # broken CSV row (field count, quoting) or invalid JSON
    WRONG_TYPE = "wrong_type"  # a value that does not parse as its column's type
    MISSING_KEY = "missing_key"  # a key column is empty
    MISSING_VALUE = "missing_value"  # a required non-key column is empty
    UNKNOWN_VALUE = "unknown_value"  # not one of the column's accepted values
    INVALID_FORMAT = "invalid_format"  # fails the column's pattern (country, currency, email)
    OUT_OF_RANGE = "out_of_range"  # negative quantity or amount, zero rate
    DUPLICATE_KEY = "duplicate_key"  # the key repeats inside one batch (later copies)
    ORPHAN_REFERENCE = "orphan_reference"  # parent unknown after every batch up to it is read


RECORD_RULE_ORDER = (
    Defect.MISSING_KEY,
    Defect.WRONG_TYPE,
    Defect.MISSING_VALUE,
    Defect.UNKNOWN_VALUE,
    Defect.INVALID_FORMAT,
    Defect.OUT_OF_RANGE,
)


def extension(entity: Entity) -> str:
    return "jsonl" if entity.file_format is FileFormat.JSONL else "csv"


def batch_dir(entity: Entity, batch_date: dt.date) -> str:
    """Relative folder of one entity's batch, joined onto a local or s3:// raw root."""
    return f"{entity.name}/{BATCH_PARTITION}={batch_date.isoformat()}"


class ContractLayoutError(UserError):
    """A raw tree holds something the layout does not allow, so it cannot be read safely."""


# ---------------------------------------------------------------- values

Value = str | int | Decimal | bool | dt.date | dt.datetime | None


class _RejectedError(Exception):
    def __init__(self, reason: Defect, detail: str) -> None:
        super().__init__(detail)
        self.reason = reason
        self.detail = detail


_INTEGER = re.compile(r"-?[0-9]+")
_DECIMAL = re.compile(r"-?[0-9]+(?:\.[0-9]+)?")
_DATE = re.compile(r"([0-9]{4})-([0-9]{2})-([0-9]{2})")
_TIMESTAMP = re.compile(
    r"[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}"
    r"(?:\.[0-9]{1,6})?(?:Z|[+-][0-9]{2}:[0-9]{2})?"
)
_INTEGER_BITS = {Kind.SMALLINT: 15, Kind.INTEGER: 31, Kind.BIGINT: 63}


def _wrong_type(column: Column, text: str, expected: str) -> _RejectedError:
    return _RejectedError(Defect.WRONG_TYPE, f"{column.name}={text!r} is not {expected}")


def _type_parser(column: Column) -> Callable[[str], Value]:
    """A function from non-empty contract text to the typed value; raises `_RejectedError`."""
    dtype = column.type
    kind = dtype.kind
    if kind is Kind.STRING:
        return _string_parser(column, dtype)
    if kind in _INTEGER_BITS:
        bound = 2 ** _INTEGER_BITS[kind]

        def parse_integer(text: str) -> Value:
            if _INTEGER.fullmatch(text):
                value = int(text)
                if -bound <= value < bound:
                    return value
            raise _wrong_type(column, text, f"a {kind.value}")

        return parse_integer
    if kind is Kind.DECIMAL:
        return _decimal_parser(column, dtype)
    if kind is Kind.BOOLEAN:

        def parse_boolean(text: str) -> Value:
            if text == "true":
                return True
            if text == "false":
                return False
            raise _wrong_type(column, text, "true or false")

        return parse_boolean
    if kind is Kind.DATE:

        def parse_date(text: str) -> Value:
            match = _DATE.fullmatch(text)
            try:
                if match:
                    return dt.date(*map(int, match.groups()))
            except ValueError:
                pass
            raise _wrong_type(column, text, "a date YYYY-MM-DD")

        return parse_date
    if kind is Kind.TIMESTAMP:
        return partial(_parse_timestamp, column)
    raise AssertionError(f"no parser for {kind}")


def _string_parser(column: Column, dtype: DataType) -> Callable[[str], Value]:
    length = dtype.length or 65535
    if dtype.fixed:

        def parse_char(text: str) -> Value:
            if len(text) > length or not text.isascii():
                raise _wrong_type(column, text, f"CHAR({length}) (at most {length} ASCII)")
            return text

        return parse_char

    def parse_varchar(text: str) -> Value:
        characters = len(text)
        if characters > length or (4 * characters > length and len(text.encode()) > length):
            raise _wrong_type(column, text, f"VARCHAR({length}) (at most {length} UTF-8 bytes)")
        return text

    return parse_varchar


def _decimal_parser(column: Column, dtype: DataType) -> Callable[[str], Value]:
    precision, scale = dtype.precision or 18, dtype.scale or 0
    quantum = Decimal(1).scaleb(-scale)
    limit = Decimal(10) ** (precision - scale)
    expected = f"a DECIMAL({precision},{scale})"

    def parse_decimal(text: str) -> Value:
        if not _DECIMAL.fullmatch(text):
            raise _wrong_type(column, text, expected)
        exact = Decimal(text)
        try:
            value = exact.quantize(quantum)
        except InvalidOperation:
            raise _wrong_type(column, text, expected) from None
        if value != exact:
            raise _wrong_type(column, text, f"{expected}: more than {scale} decimals")
        if abs(value) >= limit:
            raise _wrong_type(column, text, f"{expected}: too many digits")
        return value if value else abs(value)  # no negative zero

    return parse_decimal


def _parse_timestamp(column: Column, text: str) -> dt.datetime:
    if _TIMESTAMP.fullmatch(text):
        if text[-1] == "Z":  # already UTC: the same naive value, without the offset arithmetic
            try:
                return dt.datetime.fromisoformat(text[:-1])
            except ValueError:
                raise _wrong_type(column, text, "an ISO 8601 timestamp") from None
        try:
            value = dt.datetime.fromisoformat(text)
            offset = value.utcoffset()
            return value if offset is None else (value - offset).replace(tzinfo=None)
        except (ValueError, OverflowError):
            pass
    raise _wrong_type(column, text, "an ISO 8601 timestamp")


def format_value(column: Column, value: Value) -> str:
    """The canonical contract text of a typed value (NULL is empty); the inverse of parsing."""
    if value is None:
        return ""
    kind = column.type.kind
    if kind is Kind.BOOLEAN:
        return "true" if value else "false"
    if kind is Kind.DECIMAL:
        assert isinstance(value, Decimal)
        return format(value.quantize(Decimal(1).scaleb(-(column.type.scale or 0))), "f")
    if isinstance(value, dt.date):  # dates and naive-UTC datetimes
        return value.isoformat()
    return str(value)


def _value_check(column: Column) -> Callable[[Value], None] | None:
    """Accepted values, pattern and range of a typed, non-null value (raises `_RejectedError`);
    None when the column has none of them."""
    name = column.name
    accepted = column.accepted_values
    pattern = re.compile(column.pattern) if column.pattern else None
    low, high, exclusive = column.min_value, column.max_value, column.min_exclusive
    ranged = low is not None or high is not None
    if not (accepted or pattern or ranged):
        return None

    def check(value: Value) -> None:
        if accepted and value not in accepted:
            raise _RejectedError(Defect.UNKNOWN_VALUE, f"{name}={value!r} is not accepted")
        if pattern and not pattern.fullmatch(str(value)):
            raise _RejectedError(Defect.INVALID_FORMAT, f"{name}={value!r} is malformed")
        if ranged:
            number = Decimal(value) if isinstance(value, int) else value
            assert isinstance(number, Decimal)
            if (low is not None and (number < low or (exclusive and number == low))) or (
                high is not None and number > high
            ):
                bound = f"{'>' if exclusive else '>='} {low}" if low is not None else ""
                above = f"<= {high}" if high is not None else ""
                wanted = " and ".join(b for b in (bound, above) if b)
                raise _RejectedError(Defect.OUT_OF_RANGE, f"{name}={value} is not {wanted}")

    return check


class _RecordRules:
    """The record-level rules of one entity, compiled once from the model."""

    def __init__(self, entity: Entity) -> None:
        self.entity = entity
        # Per column: name, parser, whether it may be NULL, the reason when it is but may not
        # be, and its value check (None without one).
        self._columns = tuple(
            (
                column.name,
                _type_parser(column),
                column.nullable,
                Defect.MISSING_KEY if column.name in entity.key else Defect.MISSING_VALUE,
                _value_check(column),
            )
            for column in entity.columns
        )

    def apply(self, texts: list[str | _NotText | None]) -> dict[str, Value]:
        """Typed values by column name, or `_RejectedError` with the first reason in rule order."""
        values: dict[str, Value] = {}
        failures: dict[Defect, str] = {}
        for (name, parse, nullable, missing, check), text in zip(self._columns, texts, strict=True):
            if not text:  # NULL ("" or None; a `_NotText` is never false)
                values[name] = None
                if not nullable:
                    failures.setdefault(missing, f"{name} is empty")
                continue
            try:
                if isinstance(text, _NotText):
                    raise _RejectedError(Defect.WRONG_TYPE, f"{name}: {text.detail}")
                value = values[name] = parse(text)
                if check is not None:
                    check(value)
            except _RejectedError as rejected:
                failures.setdefault(rejected.reason, rejected.detail)
        if failures:
            reason = min(failures, key=RECORD_RULE_ORDER.index)
            raise _RejectedError(reason, failures[reason])
        return values


@dataclass(frozen=True)
class _NotText:
    """A JSON member present but not a string (a number, object, list or boolean)."""

    detail: str


# ---------------------------------------------------------------- reading one file


@dataclass(frozen=True)
class RawRecord:
    """A record that passed the record-level rules, typed (NULL is None)."""

    line_number: int
    raw_text: str
    values: dict[str, Value]


@dataclass(frozen=True)
class RecordDefect:
    """A quarantined record: where it came from, its text and why."""

    entity: str
    batch_date: dt.date | None
    source_file: str
    line_number: int
    raw_text: str
    reason: Defect
    detail: str


@dataclass
class FileResult:
    records: list[RawRecord] = field(default_factory=list)
    defects: list[RecordDefect] = field(default_factory=list)


_UNDECODABLE = re.compile("[\udc80-\udcff]")
_SURROGATE = re.compile("[\ud800-\udfff]")
_SURROGATE_ESCAPE = re.compile(r"\\u[dD][89a-fA-F]")  # lone, or half of a pair
_RFC4180_RECORD = re.compile(r'(?:"(?:[^"]|"")*"|[^,"]*)(?:,(?:"(?:[^"]|"")*"|[^,"]*))*')


def open_raw_text(path: str | Path) -> TextIO:
    """Open a raw file as the reader needs it: UTF-8, bad bytes kept, newlines untouched."""
    return open(path, encoding="utf-8", errors="surrogateescape", newline="")


def read_raw_file(
    entity: Entity,
    source: str | Path | TextIO,
    *,
    batch_date: dt.date | None = None,
    source_file: str | None = None,
) -> FileResult:
    """Parse one raw file (a path, or a text stream opened with `newline=""`) under the contract.

    Without `batch_date`, it is taken from an `ingest_date=YYYY-MM-DD` folder in the path.
    """
    if isinstance(source, str | Path):
        path = Path(source)
        if batch_date is None:
            batch_date = _batch_of(path.parent.name)
        with open_raw_text(path) as stream:
            return read_raw_file(
                entity, stream, batch_date=batch_date, source_file=source_file or str(path)
            )
    result = FileResult()
    for item in iter_raw_file(
        entity, source, source_file=source_file or "<stream>", batch_date=batch_date
    ):
        if isinstance(item, RawRecord):
            result.records.append(item)
        else:
            result.defects.append(item)
    return result


def iter_raw_file(
    entity: Entity, stream: TextIO, *, source_file: str, batch_date: dt.date | None
) -> Iterator[RawRecord | RecordDefect]:
    """Stream the records of one file in order: each typed, or a defect saying why not."""
    rules = _RecordRules(entity)
    parse = _iter_jsonl if entity.file_format is FileFormat.JSONL else _iter_csv
    for line_number, raw_text, texts in parse(entity, stream):
        try:
            if isinstance(texts, _RejectedError):
                raise texts
            values = rules.apply(texts)
        except _RejectedError as rejected:
            yield RecordDefect(
                entity.name,
                batch_date,
                source_file,
                line_number,
                raw_text,
                rejected.reason,
                rejected.detail,
            )
            continue
        yield RawRecord(line_number, raw_text, values)


_Fields = list[str | _NotText | None] | _RejectedError


class _PhysicalLines:
    """Feeds csv.reader one physical line at a time and remembers the current record's lines,
    so a broken record can be cut back to its first line and the rest read again."""

    def __init__(self, stream: TextIO) -> None:
        self._stream = stream
        self._replay: list[str] = []
        self.consumed = 0
        self.record: list[str] = []

    def __iter__(self) -> _PhysicalLines:
        return self

    def __next__(self) -> str:
        line = self._replay.pop() if self._replay else next(self._stream)
        self.consumed += 1
        self.record.append(line)
        return line

    def start_record(self) -> int:
        self.record = []
        return self.consumed + 1

    def keep_first_line_only(self) -> str:
        rest = self.record[1:]
        self._replay.extend(reversed(rest))
        self.consumed -= len(rest)
        return self.record[0]


def _strip_line_end(text: str) -> str:
    if text.endswith("\r\n"):
        return text[:-2]
    return text[:-1] if text.endswith(("\n", "\r")) else text


def _iter_csv(entity: Entity, stream: TextIO) -> Iterator[tuple[int, str, _Fields]]:
    lines = _PhysicalLines(stream)
    reader = csv.reader(lines, strict=True)
    expected = list(entity.column_names)
    header_problem: str | None = None
    lines.start_record()
    try:
        header = next(reader)
    except StopIteration:
        return
    except csv.Error as error:
        header = []
        lines.keep_first_line_only()
        reader = csv.reader(lines, strict=True)
        header_problem = f"the header is not valid CSV ({error})"
    if header and header[0].startswith("\ufeff"):
        header[0] = header[0][1:]
    if header_problem is None and header != expected:
        header_problem = f"the header {header} is not the contract's {expected}"
    width = len(expected)
    while True:
        start = lines.start_record()
        try:
            fields = next(reader)
        except StopIteration:
            return
        except csv.Error as error:
            first = _strip_line_end(lines.keep_first_line_only())
            reader = csv.reader(lines, strict=True)
            yield start, first, _RejectedError(Defect.UNPARSEABLE, f"broken quoting ({error})")
            continue
        if not fields:
            continue
        raw = _strip_line_end("".join(lines.record))
        if header_problem:
            yield start, raw, _RejectedError(Defect.UNPARSEABLE, header_problem)
        elif _UNDECODABLE.search(raw):
            yield start, raw, _RejectedError(Defect.UNPARSEABLE, "not valid UTF-8")
        elif '"' in raw and not _RFC4180_RECORD.fullmatch(raw):
            first = _strip_line_end(lines.keep_first_line_only())
            reader = csv.reader(lines, strict=True)
            yield (
                start,
                first,
                _RejectedError(Defect.UNPARSEABLE, "a quote inside an unquoted field"),
            )
        elif len(fields) != width:
            detail = f"{len(fields)} fields where the contract has {width}"
            yield start, raw, _RejectedError(Defect.UNPARSEABLE, detail)
        else:
            yield start, raw, list(fields)


def _iter_jsonl(entity: Entity, stream: TextIO) -> Iterator[tuple[int, str, _Fields]]:
    paths = [column.source_path for column in entity.columns]
    for line_number, line in enumerate(stream, start=1):
        raw = _strip_line_end(line)
        if not raw.strip():
            continue
        if _UNDECODABLE.search(raw):
            yield line_number, raw, _RejectedError(Defect.UNPARSEABLE, "not valid UTF-8")
            continue
        try:
            document = json.loads(raw)
        except ValueError as error:
            yield line_number, raw, _RejectedError(Defect.UNPARSEABLE, f"invalid JSON ({error})")
            continue
        if not isinstance(document, dict):
            yield line_number, raw, _RejectedError(Defect.UNPARSEABLE, "not a JSON object")
            continue
        if _SURROGATE_ESCAPE.search(raw) and (lone := _lone_surrogate(document)):
            detail = f"\\u{ord(lone):04x}, a lone surrogate, is not Unicode text"
            yield line_number, raw, _RejectedError(Defect.UNPARSEABLE, detail)
            continue
        yield line_number, raw, [_member(document, path) for path in paths]


def _lone_surrogate(document: dict[str, object]) -> str | None:
    """The first surrogate `json.loads` left unpaired in a member name or string value."""
    found = _SURROGATE.search(json.dumps(document, ensure_ascii=False))
    return found.group() if found else None


def _member(document: dict[str, object], path: tuple[str, ...]) -> str | _NotText | None:
    node: object
    if len(path) == 1:  # a top-level member: the loop below, unrolled
        node = document.get(path[0])
    else:
        node = document
        for depth, name in enumerate(path):
            if node is None:
                return None
            if not isinstance(node, dict):
                return _NotText(f"{'.'.join(path[:depth])} is not a JSON object")
            node = node.get(name)
    if node is None or isinstance(node, str):
        return node
    return _NotText(f"{'.'.join(path)} is {json.dumps(node)}, not a JSON string")


# ---------------------------------------------------------------- reading a tree

_BATCH_FOLDER = re.compile(rf"{BATCH_PARTITION}=([0-9]{{4}}-[0-9]{{2}}-[0-9]{{2}})")


def _batch_of(folder_name: str) -> dt.date | None:
    match = _BATCH_FOLDER.fullmatch(folder_name)
    if not match:
        return None
    try:
        return dt.date.fromisoformat(match.group(1))
    except ValueError:
        return None


@dataclass
class BatchCounts:
    """Records of one entity in one batch; `late_arrivals` are part of `loaded`."""

    read: int = 0
    loaded: int = 0
    quarantined: int = 0
    late_arrivals: int = 0


@dataclass(frozen=True)
class LateArrival:
    """A child read before its parent was loaded, loaded in the parent's batch."""

    entity: str
    batch_date: dt.date
    source_file: str
    line_number: int
    key: tuple[Value, ...]
    resolved_batch: dt.date


@dataclass(frozen=True)
class LoadedRecord:
    batch_date: dt.date
    values: dict[str, Value]


@dataclass
class ContractReport:
    """What the strict reader found in a raw tree, per batch and entity."""

    counts: dict[tuple[dt.date, str], BatchCounts] = field(default_factory=dict)
    defects: list[RecordDefect] = field(default_factory=list)
    late_arrivals: list[LateArrival] = field(default_factory=list)
    loaded: dict[str, list[LoadedRecord]] = field(default_factory=dict)  # when kept

    def defect_counts(self) -> dict[tuple[str, Defect], int]:
        """Quarantined records by (entity, reason)."""
        totals: dict[tuple[str, Defect], int] = defaultdict(int)
        for defect in self.defects:
            totals[defect.entity, defect.reason] += 1
        return dict(totals)

    def totals(self, entity: str) -> BatchCounts:
        summed = BatchCounts()
        for (_, name), counts in self.counts.items():
            if name == entity:
                summed.read += counts.read
                summed.loaded += counts.loaded
                summed.quarantined += counts.quarantined
                summed.late_arrivals += counts.late_arrivals
        return summed


@dataclass
class _Held:
    """A valid record and where it was read: a child waiting for its parent, or a duplicate."""

    batch_date: dt.date
    source_file: str
    record: RawRecord
    key: tuple[Value, ...]


def _discover(root: Path) -> dict[dt.date, dict[str, list[Path]]]:
    """Files by batch and entity name, each list in file-name order."""
    batches: dict[dt.date, dict[str, list[Path]]] = defaultdict(dict)
    for entity in RAW_ENTITIES:
        folder = root / entity.name
        if not folder.is_dir():
            continue
        suffix = f".{extension(entity)}"
        for batch_folder in folder.iterdir():
            if batch_folder.name.startswith((".", "_")):
                continue
            batch = _batch_of(batch_folder.name)
            if batch is None or not batch_folder.is_dir():
                raise ContractLayoutError(
                    f"{batch_folder} is not a batch folder ({BATCH_PARTITION}=YYYY-MM-DD)"
                )
            files = []
            for path in batch_folder.iterdir():
                if path.name.startswith((".", "_")):
                    continue
                if path.suffix != suffix or not path.is_file():
                    raise ContractLayoutError(f"{path} is not a {suffix} file of {entity.name}")
                files.append(path)
            batches[batch][entity.name] = sorted(files, key=lambda p: p.name)
    return dict(batches)


def read_raw_tree(root: str | Path, *, keep_records: bool = False) -> ContractReport:
    """Read every batch of a local raw tree under the contract (see the module's rules).

    With `keep_records`, the report also holds every loaded record (for reconciliation tests).
    """
    return _TreeReader(Path(root), keep_records).read()


class _TreeReader:
    def __init__(self, root: Path, keep_records: bool) -> None:
        self.root = root
        self.keep_records = keep_records
        self.report = ContractReport()
        if keep_records:
            self.report.loaded = {entity.name: [] for entity in RAW_ENTITIES}
        referenced = {fk.references for e in RAW_ENTITIES for fk in e.foreign_keys}
        self.known: dict[str, set[tuple[Value, ...]]] = {name: set() for name in referenced}
        self.held: dict[str, list[_Held]] = {entity.name: [] for entity in RAW_ENTITIES}

    def read(self) -> ContractReport:
        batches = _discover(self.root)
        for batch in sorted(batches):
            for entity in RAW_ENTITIES:
                self._release_held(entity, batch)
                self._read_batch(entity, batch, batches[batch].get(entity.name, []))
        for entity in RAW_ENTITIES:
            for orphan in self.held[entity.name]:
                detail = self._unknown_parents(entity, orphan)
                self._quarantine(entity, orphan, Defect.ORPHAN_REFERENCE, detail)
        order = {entity.name: index for index, entity in enumerate(RAW_ENTITIES)}
        self.report.defects.sort(
            key=lambda d: (
                d.batch_date or dt.date.min,
                order[d.entity],
                d.source_file,
                d.line_number,
            )
        )
        return self.report

    def _read_batch(self, entity: Entity, batch: dt.date, files: list[Path]) -> None:
        counts = self.report.counts.setdefault((batch, entity.name), BatchCounts())
        seen: set[tuple[Value, ...]] = set()
        for path in files:
            source_file = path.relative_to(self.root).as_posix()
            with open_raw_text(path) as stream:
                for parsed in iter_raw_file(
                    entity, stream, source_file=source_file, batch_date=batch
                ):
                    counts.read += 1
                    if isinstance(parsed, RecordDefect):
                        counts.quarantined += 1
                        self.report.defects.append(parsed)
                        continue
                    key = tuple(parsed.values[c] for c in entity.key)
                    if key in seen:
                        duplicate = _Held(batch, source_file, parsed, key)
                        detail = f"key {key} already read in this batch"
                        self._quarantine(entity, duplicate, Defect.DUPLICATE_KEY, detail)
                    elif self._parents_known(entity, parsed.values):
                        self._load(entity, batch, key, parsed.values)
                    else:
                        self.held[entity.name].append(_Held(batch, source_file, parsed, key))
                    seen.add(key)

    def _release_held(self, entity: Entity, batch: dt.date) -> None:
        """Load the held children whose parents are loaded by now, as late arrivals."""
        still_held = []
        for held in self.held[entity.name]:
            if not self._parents_known(entity, held.record.values):
                still_held.append(held)
                continue
            self._load(entity, held.batch_date, held.key, held.record.values)
            self.report.counts[held.batch_date, entity.name].late_arrivals += 1
            self.report.late_arrivals.append(
                LateArrival(
                    entity.name,
                    held.batch_date,
                    held.source_file,
                    held.record.line_number,
                    held.key,
                    batch,
                )
            )
        self.held[entity.name] = still_held

    def _parents_known(self, entity: Entity, values: dict[str, Value]) -> bool:
        return all(
            tuple(values[c] for c in fk.columns) in self.known[fk.references]
            for fk in entity.foreign_keys
        )

    def _unknown_parents(self, entity: Entity, held: _Held) -> str:
        values = held.record.values
        unknown = [
            f"{fk.references} "
            + ", ".join(
                f"{parent}={values[child]!r}"
                for parent, child in zip(fk.referenced_columns, fk.columns, strict=True)
            )
            for fk in entity.foreign_keys
            if tuple(values[c] for c in fk.columns) not in self.known[fk.references]
        ]
        return f"not loaded by the last batch: {'; '.join(unknown)}"

    def _load(
        self, entity: Entity, batch: dt.date, key: tuple[Value, ...], values: dict[str, Value]
    ) -> None:
        self.report.counts[batch, entity.name].loaded += 1
        if entity.name in self.known:
            self.known[entity.name].add(key)
        if self.keep_records:
            self.report.loaded[entity.name].append(LoadedRecord(batch, values))

    def _quarantine(self, entity: Entity, held: _Held, reason: Defect, detail: str) -> None:
        record = held.record
        self.report.counts[held.batch_date, entity.name].quarantined += 1
        self.report.defects.append(
            RecordDefect(
                entity.name,
                held.batch_date,
                held.source_file,
                record.line_number,
                record.raw_text,
                reason,
                detail,
            )
        )
